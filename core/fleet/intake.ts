import { createHash } from 'node:crypto';
import type { Clock } from '../clock';
import { IntakeError, PayloadError, SinkError, isIntakeError } from '../errors';
import { ulid } from '../ids';
import type { Logger } from '../logger';
import type { HubMetrics } from '../metrics';
import { partitionFor } from '../kafka/partitioner';
import type { OutRecord, RecordLog } from '../outputs/output';
import { HEADER, type Topics } from '../outputs/topics';
import type { RawSealer } from '../pii/raw-seal';
import { assembleTicket } from '../pipeline/enrich';
import { firstErrorPath, formatAjvErrors } from '../schema/ajv';
import type { CanonicalTicket, Channel, DeadLetter, RawEnvelope } from '../schema/types';
import { validateTicket } from '../schema/validators';
import type { ConnectorSpec, RawInput, SubmitResult } from '../sdk/connector';
import type { TicketDraft } from '../sdk/draft';
import type { LocalityResolver } from './locality';
import type { IntakeReport } from './records';

/** Who is submitting: a configured connector instance. */
export interface Source {
  connectorId: string;
  channel: Channel;
  spec: ConnectorSpec<never>;
  config: unknown;
  /** Namespace of its source ids in the dedup key; the connector id unless configured. */
  dedupScope: string;
}

export interface IntakeDeps {
  log: RecordLog;
  topics: Topics;
  metrics: HubMetrics;
  clock: Clock;
  logger: Logger;
  tokenSecret: string;
  locality: LocalityResolver;
  /** Seals raw bodies at rest (pii.rawKeyId); null keeps them in the clear. */
  rawSealer?: RawSealer | null;
}

/** What one delivery becomes at intake: the records to make durable, and the answer once they are. */
export interface Prepared {
  records: OutRecord[];
  result: SubmitResult;
}

const DROP_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization', 'x-api-key']);
const MAX_HEADERS = 32;

/**
 * The intake tier's work on one delivery, stateless: normalize (the connector's pure function) →
 * assemble (mask, tokenise, convert coordinates) → validate against the ticket schema → one record
 * on intake.reports.v1, partitioned by the dedup key, carrying the raw envelope (the archive) and
 * the masked draft ticket. Bad input becomes a dead letter instead. Nothing here depends on what
 * other deliveries this or another instance saw: dedup, clustering, classification and routing
 * happen in the processor (`core/fleet/tasks.ts`).
 */
export class IntakePipeline {
  constructor(private readonly d: IntakeDeps) {}

  /** Normalises and checks one delivery without writing anything (pollers commit a page at once). */
  prepare(src: Source, raw: RawInput, opts: { replayOf?: string | null } = {}): Prepared {
    const replayOf = opts.replayOf ?? null;
    const receivedAt = raw.receivedAt ?? this.d.clock.now();
    this.d.metrics.received.inc({ connector: src.connectorId, channel: src.channel });
    const env = this.envelope(src, raw, receivedAt);
    let draft: TicketDraft;
    try {
      draft = this.timed('normalize', () => src.spec.normalize(raw, src.config as never));
    } catch (e) {
      return this.deadLetter(src, env, asPayloadError(e), 'normalize', replayOf);
    }
    let ticket: CanonicalTicket;
    try {
      ticket = this.timed('enrich', () =>
        assembleTicket(draft, {
          channel: src.channel,
          connectorId: src.connectorId,
          dedupScope: src.dedupScope,
          receivedAt,
          rawTopic: this.d.topics.reports,
          envelopeId: env.id,
          sha256: env.sha256,
          tokenSecret: this.d.tokenSecret,
        }),
      );
    } catch (e) {
      return this.deadLetter(src, env, asPayloadError(e), 'enrich', replayOf);
    }
    const valid = this.timed('validate', () => validateTicket(ticket));
    if (!valid) {
      const errs = validateTicket.errors;
      const err = new PayloadError('INTAKE_ERR_TICKET_INVALID', `normalised ticket is invalid: ${formatAjvErrors(errs, '/ticket')}`, { dataPath: firstErrorPath(errs) });
      return this.deadLetter(src, env, err, 'validate', replayOf);
    }
    ticket.trace.stages.push('validate');
    const report: IntakeReport = { schemaVersion: 'intake-report/v1', dedupKey: ticket.dedup.key, localityKey: this.d.locality.keyOf(ticket), ticket, raw: env, replayOf };
    const record: OutRecord = {
      topic: this.d.topics.reports,
      partition: partitionFor(report.dedupKey, this.d.log.partitions),
      key: report.dedupKey,
      value: JSON.stringify(report),
      headers: { [HEADER.channel]: src.channel, [HEADER.connector]: src.connectorId, [HEADER.schema]: 'intake-report/v1' },
    };
    return { records: [record], result: { outcome: 'accepted', ticketId: ticket.id, sourceId: ticket.source.sourceId } };
  }

  /**
   * Prepares and writes one delivery. Resolves once its record (or its dead letter) is durable;
   * rejects with a retriable `SinkError` when the log cannot make it durable in time (the source
   * must not be acknowledged).
   */
  async submit(src: Source, raw: RawInput, opts: { replayOf?: string | null } = {}): Promise<SubmitResult> {
    const p = this.prepare(src, raw, opts);
    await this.write(p.records);
    return p.result;
  }

  /** Dead-letters a delivery the transport refused before normalisation (size, media type, signature). */
  async reject(src: Source, raw: RawInput, error: IntakeError, stage: DeadLetter['stage'], archiveLimit = 65536): Promise<string> {
    const receivedAt = raw.receivedAt ?? this.d.clock.now();
    this.d.metrics.received.inc({ connector: src.connectorId, channel: src.channel });
    const env = this.envelope(src, raw, receivedAt, archiveLimit);
    const p = this.deadLetter(src, env, error, stage, null);
    await this.write(p.records);
    return (p.result as { deadLetterId: string }).deadLetterId;
  }

  private async write(records: OutRecord[]): Promise<void> {
    const started = process.hrtime.bigint();
    await this.d.log.write(records);
    this.d.metrics.stageDuration.observe({ stage: 'publish' }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  envelope(src: Source, raw: RawInput, receivedAt: number, bodyLimitForArchive = Infinity): RawEnvelope {
    const headers: Record<string, string> = {};
    let n = 0;
    for (const [k, v] of Object.entries(raw.headers)) {
      const key = k.toLowerCase();
      if (DROP_HEADERS.has(key) || n >= MAX_HEADERS) continue;
      headers[key.slice(0, 64)] = String(v).slice(0, 1024);
      n++;
    }
    const body = raw.body.length > bodyLimitForArchive ? raw.body.subarray(0, bodyLimitForArchive) : raw.body;
    const sealed = this.d.rawSealer ? this.d.rawSealer.seal(body) : null;
    return {
      schemaVersion: 'raw/v1',
      id: ulid(receivedAt),
      connectorId: src.connectorId,
      channel: src.channel,
      transport: raw.transport,
      sourceId: raw.sourceId ? raw.sourceId.slice(0, 128) : null,
      receivedAt: new Date(receivedAt).toISOString(),
      contentType: raw.contentType.slice(0, 128),
      headers,
      body: sealed ? sealed.body : body.toString('base64'),
      ...(sealed ? { bodyEncryption: sealed.bodyEncryption } : {}),
      sha256: createHash('sha256').update(raw.body).digest('hex'),
    };
  }

  private deadLetter(src: Source, env: RawEnvelope, error: IntakeError, stage: DeadLetter['stage'], replayOf: string | null): Prepared {
    const now = this.d.clock.now();
    const dl: DeadLetter = {
      schemaVersion: 'dead-letter/v1',
      id: ulid(now),
      at: new Date(now).toISOString(),
      connectorId: src.connectorId,
      channel: src.channel,
      stage,
      error: { code: error.code, message: error.message.slice(0, 2000), dataPath: error.dataPath ? error.dataPath.slice(0, 500) : null, httpStatus: error.httpStatus },
      raw: env,
      replayOf,
    };
    const record: OutRecord = {
      topic: this.d.topics.dlq,
      partition: partitionFor(src.connectorId, this.d.log.partitions),
      key: src.connectorId,
      value: JSON.stringify(dl),
      headers: { [HEADER.channel]: src.channel, [HEADER.connector]: src.connectorId, [HEADER.schema]: 'dead-letter/v1' },
    };
    this.d.metrics.rejected.inc({ connector: src.connectorId, reason: error.code });
    return { records: [record], result: { outcome: 'rejected', error, deadLetterId: dl.id } };
  }

  private timed<T>(stage: string, f: () => T): T {
    const started = process.hrtime.bigint();
    try {
      return f();
    } finally {
      this.d.metrics.stageDuration.observe({ stage }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
}

function asPayloadError(e: unknown): IntakeError {
  if (isIntakeError(e) && !e.retriable) return e;
  if (e instanceof SinkError) throw e;
  return new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', `normalize failed: ${e instanceof Error ? e.message : String(e)}`);
}
