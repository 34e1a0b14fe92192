import type { ConnectorSpec } from '../../core/sdk/connector';
import { normalizeGridWorker } from './normalize';
import { GridWorkerConnector } from './subscription';

/** `connectors[].config` of a grid-worker connector, after defaults (see `configSchema`). */
export interface GridWorkerConfig {
  servers: string[];
  token: string | null;
  tokenFile: string | null;
  user: string | null;
  pass: string | null;
  passFile: string | null;
  credsFile: string | null;
  tls: { caFile: string | null; certFile: string | null; keyFile: string | null };
  stream: string;
  subjects: string[];
  createStream: boolean;
  duplicateWindowMs: number;
  durable: string;
  filterSubject: string | null;
  ackWaitMs: number;
  maxDeliver: number;
  batch: number;
  concurrency: number;
  fetchExpiresMs: number;
  nakDelayMs: number;
  maxBodyBytes: number;
  connectTimeoutMs: number;
  reconnectWaitMs: number;
  codeTable: Record<string, string>;
}

const SUBJECT = '^[A-Za-z0-9_$-]+(\\.([A-Za-z0-9_$-]+|\\*))*(\\.>)?$|^>$';
const NAME = '^[A-Za-z0-9_-]+$';

/**
 * Grid worker (网格员) terminal reports, consumed from NATS JetStream.
 *
 * Transport contract (a durable pull consumer with explicit acks):
 * - a message is acked only after `ctx.submit` resolved, i.e. after its ticket (or its dead-letter
 *   record) is durable on the output; bad payloads are dead-lettered and then acked, so they are
 *   never redelivered;
 * - when the output is down (`SinkError`) the message is nak'ed with `nakDelayMs`, JetStream
 *   redelivers it later, and fetching pauses for `nakDelayMs`;
 * - a redelivery, a republish with another `Nats-Msg-Id`, or a replay from a new durable never
 *   makes a second ticket: the hub dedups exactly on (channel, reportId);
 * - while a submission is in flight the message's ack deadline is extended (`working()`), so a
 *   slow output does not cause a redelivery storm; a crashed hub's un-acked messages come back
 *   after `ackWaitMs`.
 */
export const gridWorkerSpec: ConnectorSpec<GridWorkerConfig> = {
  type: 'grid-worker',
  channel: 'grid-worker',
  kind: 'subscription',
  stability: 'beta',
  summary: 'Grid worker (网格员) terminal reports consumed from NATS JetStream (grid.reports.<district>), acked after the Kafka write.',
  fixturesDir: 'connectors/grid-worker/fixtures',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      servers: {
        type: 'array',
        minItems: 1,
        maxItems: 16,
        items: { type: 'string', minLength: 1, maxLength: 256 },
        default: ['nats://127.0.0.1:4222'],
        description: 'NATS server URLs (host:port or nats://host:port); the client reconnects to any of them.',
        examples: [['nats://nats-1:4222', 'nats://nats-2:4222']],
      },
      token: { type: ['string', 'null'], maxLength: 512, default: null, 'x-secret': true, description: 'NATS auth token, if the server requires one.' },
      user: { type: ['string', 'null'], maxLength: 128, default: null, description: 'NATS user name (with pass), if the server requires one.' },
      pass: { type: ['string', 'null'], maxLength: 512, default: null, 'x-secret': true, description: 'NATS password for user (prefer passFile).' },
      tokenFile: { type: ['string', 'null'], maxLength: 1024, default: null, description: 'File holding the NATS auth token (a Kubernetes secret volume); read at start, never logged.' },
      passFile: { type: ['string', 'null'], maxLength: 1024, default: null, description: 'File holding the password for user; read at start, never logged.' },
      credsFile: { type: ['string', 'null'], maxLength: 1024, default: null, description: 'NATS credentials file (.creds: user JWT + nkey seed) for decentralised auth; read at start.' },
      tls: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'TLS to the NATS servers (use tls:// URLs; the system CAs unless caFile is set); mTLS with certFile and keyFile.',
        properties: {
          caFile: { type: ['string', 'null'], maxLength: 1024, default: null, description: 'PEM CA bundle that signs the servers\' certificates.' },
          certFile: { type: ['string', 'null'], maxLength: 1024, default: null, description: 'Client certificate (PEM) for mTLS.' },
          keyFile: { type: ['string', 'null'], maxLength: 1024, default: null, description: 'Client private key (PEM) for mTLS.' },
        },
      },
      stream: { type: 'string', minLength: 1, maxLength: 64, pattern: NAME, default: 'GRID_REPORTS', description: 'JetStream stream holding the reports.' },
      subjects: {
        type: 'array',
        minItems: 1,
        maxItems: 16,
        items: { type: 'string', minLength: 1, maxLength: 200, pattern: SUBJECT },
        default: ['grid.reports.>'],
        description: 'Subjects of the stream when the connector creates it (terminals publish to grid.reports.<district>).',
      },
      createStream: { type: 'boolean', default: true, description: 'Create the stream (file storage, limits retention) when it does not exist. Existing streams are never changed.' },
      duplicateWindowMs: {
        type: 'integer',
        minimum: 1000,
        maximum: 604800000,
        default: 120000,
        description: 'duplicate_window of a created stream: JetStream drops a publish whose Nats-Msg-Id it has seen within this window. Redeliveries outside it are still deduplicated by the hub on reportId.',
      },
      durable: { type: 'string', minLength: 1, maxLength: 64, pattern: NAME, default: 'intake-hub-grid-worker', description: 'Durable pull consumer name; all hub instances share it (work queue), and its ack floor survives restarts.' },
      filterSubject: { type: ['string', 'null'], maxLength: 200, pattern: SUBJECT, default: null, description: 'Consume only this subject of the stream (e.g. grid.reports.510114); null for every subject.' },
      ackWaitMs: { type: 'integer', minimum: 1000, maximum: 3600000, default: 30000, description: 'ack_wait of the consumer: an un-acked delivery is redelivered after this long (the connector extends it while a submission is in flight).' },
      maxDeliver: { type: 'integer', minimum: -1, maximum: 1000000, default: -1, description: 'max_deliver of the consumer; -1 (default) redelivers until acked, which the durability guarantee needs. Bounded values drop messages JetStream gave up on (it publishes a MAX_DELIVERIES advisory).' },
      batch: { type: 'integer', minimum: 1, maximum: 1000, default: 64, description: 'Messages pulled per fetch (max_messages).' },
      concurrency: { type: 'integer', minimum: 1, maximum: 256, default: 16, description: 'Messages submitted to the pipeline at the same time.' },
      fetchExpiresMs: { type: 'integer', minimum: 1000, maximum: 30000, default: 5000, description: 'How long one pull request waits for messages; also bounds how long pause/stop wait for an idle fetch.' },
      nakDelayMs: { type: 'integer', minimum: 100, maximum: 600000, default: 5000, description: 'Redelivery delay of a message nak\'ed because the output was unavailable; fetching pauses as long.' },
      maxBodyBytes: { type: 'integer', minimum: 1024, maximum: 8388608, default: 262144, description: 'Largest accepted message; larger ones are dead-lettered (first maxBodyBytes bytes kept) and acked.' },
      connectTimeoutMs: { type: 'integer', minimum: 100, maximum: 60000, default: 5000, description: 'Timeout of one connection attempt.' },
      reconnectWaitMs: { type: 'integer', minimum: 100, maximum: 60000, default: 2000, description: 'Wait between reconnection attempts (the client reconnects forever; the connector stays degraded meanwhile).' },
      codeTable: {
        type: 'object',
        maxProperties: 100000,
        propertyNames: { pattern: '^([0-9]{6}|[0-9]{9}|[0-9]{12})$' },
        additionalProperties: { type: 'string', minLength: 1, maxLength: 64 },
        default: {},
        description: 'Jurisdiction names by grid-code prefix: 6 digits → district, 9 → street, 12 → community. Unknown prefixes leave that level null; the grid code is always kept.',
        examples: [{ '510114': '新都区', '510114001': '新都街道', '510114001001': '桂湖社区' }],
      },
    },
  },
  normalize: (raw, config) => normalizeGridWorker(raw, config),
  create: (config, ctx) => new GridWorkerConnector(config, ctx, gridWorkerSpec as ConnectorSpec<never>),
};
