/**
 * The example connector: copy this folder to start a new channel (see docs/connectors/adding-a-connector.md).
 *
 * It accepts unsigned JSON `{ "id": "...", "text": "...", "phone": "..." }` on
 * POST /intake/<connector id>. The four parts every connector has:
 *   1. a config schema (descriptions, defaults, examples) — validated at load, errors name the path;
 *   2. a pure `normalize` (raw bytes → ticket draft, no I/O);
 *   3. a transport (here the shared webhook transport; pollers and subscriptions own a loop);
 *   4. a lifecycle with a health snapshot (start/stop/pause/resume, all idempotent).
 */
import type { ConnectorContext, ConnectorSpec, RawInput } from '../../core/sdk/connector';
import { compilePayloadSchema, decodeUtf8, parseJson } from '../../core/sdk/decode';
import type { TicketDraft } from '../../core/sdk/draft';
import { PushConnector } from '../../core/sdk/push-connector';
import { registerWebhook } from '../../core/sdk/webhook';

export interface ExampleConfig {
  maxBodyBytes: number;
}

interface ExamplePayload {
  id: string;
  text: string;
  phone?: string;
}

const parse = compilePayloadSchema<ExamplePayload>({
  type: 'object',
  additionalProperties: false,
  required: ['id', 'text'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64 },
    text: { type: 'string', minLength: 1, maxLength: 20000 },
    phone: { type: 'string', maxLength: 32 },
  },
});

export function normalizeExample(raw: RawInput): TicketDraft {
  const p = parse(parseJson(decodeUtf8(raw.body)));
  return {
    sourceId: p.id,
    occurredAt: null,
    reporter: { name: null, phone: p.phone ?? null, userId: null, anonymous: p.phone === undefined, role: 'resident' },
    title: null,
    text: p.text,
    appealType: 'unknown',
    location: { address: null, point: null, district: null, street: null, community: null, grid: null },
    channelCategory: null,
    urgency: 'normal',
    attachments: [],
    channelFields: {},
    mappingVersion: 'example/1',
  };
}

export const exampleSpec: ConnectorSpec<ExampleConfig> = {
  type: '_example',
  channel: 'resident-app',
  kind: 'webhook',
  stability: 'experimental',
  summary: 'Template connector: unsigned JSON {id, text, phone} webhook. Copy it to add a channel.',
  fixturesDir: 'connectors/_example/fixtures',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      maxBodyBytes: { type: 'integer', minimum: 1024, maximum: 1048576, default: 65536, description: 'Largest accepted body.' },
    },
  },
  normalize: (raw) => normalizeExample(raw),
  create: (config, ctx) => new ExampleConnector(config, ctx),
};

class ExampleConnector extends PushConnector {
  constructor(config: ExampleConfig, ctx: ConnectorContext) {
    super(exampleSpec as ConnectorSpec<never>, ctx);
    registerWebhook(
      ctx,
      { path: `/intake/${ctx.id}`, maxBodyBytes: config.maxBodyBytes, contentTypes: ['application/json'], secrets: null, toleranceSeconds: 300, keepHeaders: ['content-type'] },
      this.tracker,
      this.accepting,
    );
  }
}
