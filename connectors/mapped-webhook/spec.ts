import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { DataValidateFunction } from 'ajv/dist/types';
import { PayloadError } from '../../core/errors';
import { configAjv } from '../../core/schema/ajv';
import type { ConnectorContext, ConnectorSpec } from '../../core/sdk/connector';
import { PushConnector } from '../../core/sdk/push-connector';
import { registerWebhook } from '../../core/sdk/webhook';
import { isJsonPointer, normalizeMapped, type MappedConfigCore } from './mapping';

/**
 * `x-json-pointer: true` on a string schema: the config error reads
 * "/connectors/2/config/mapping/text must be a JSON Pointer". Registered once on the config ajv.
 */
if (!configAjv.getKeyword('x-json-pointer')) {
  const validatePointer: DataValidateFunction = (_schema: unknown, data: unknown) => {
    const ok = typeof data === 'string' && isJsonPointer(data);
    if (!ok) validatePointer.errors = [{ keyword: 'x-json-pointer', message: 'must be a JSON Pointer (e.g. /content/body)', params: {} }];
    return ok;
  };
  configAjv.addKeyword({ keyword: 'x-json-pointer', schemaType: 'boolean', type: 'string', errors: true, validate: validatePointer });
}

export type SignatureScheme = 'standard-webhooks' | 'hmac-sha256-hex' | 'none';

export interface MappedWebhookConfig extends MappedConfigCore {
  path?: string;
  maxBodyBytes: number;
  signature: { scheme: SignatureScheme; secrets?: string[]; header: string; prefix: string; toleranceSeconds: number };
}

const APPEALS = ['consult', 'help', 'complaint', 'report', 'suggestion', 'praise', 'unknown'];
const URGENCIES = ['normal', 'urgent', 'critical'];
const CRSS = ['WGS-84', 'GCJ-02', 'BD-09', 'CGCS2000'];
const pointer = { type: 'string', maxLength: 256, 'x-json-pointer': true };
const pointerField = (description: string) => ({ ...pointer, description });

export const mappedWebhookSpec: ConnectorSpec<MappedWebhookConfig> = {
  type: 'mapped-webhook',
  channel: 'resident-app',
  kind: 'webhook',
  stability: 'experimental',
  summary: 'Declarative JSON webhook: a new JSON channel needs only YAML (JSON Pointer field mapping, code tables, charset, signature scheme).',
  fixturesDir: 'connectors/mapped-webhook/fixtures',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['mapping', 'signature'],
    properties: {
      path: { type: 'string', pattern: '^/[A-Za-z0-9/_-]*$', maxLength: 200, description: 'Route path; defaults to /intake/<connector id>.', examples: ['/intake/district-app'] },
      maxBodyBytes: { type: 'integer', minimum: 1024, maximum: 10485760, default: 262144, description: 'Largest accepted body; larger ones get 413 and are dead-lettered with their first maxBodyBytes bytes.' },
      maxDepth: { type: 'integer', minimum: 2, maximum: 64, default: 16, description: 'Deepest JSON nesting accepted (counted before parsing).' },
      charset: { enum: ['utf-8', 'gbk', 'gb18030'], default: 'utf-8', description: 'Charset of the body; decoded strictly (undecodable bytes are a 400).' },
      categoryScheme: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9.-]*$', default: 'mapped', description: 'Code scheme written on channelCategory.scheme, e.g. the channel name.', examples: ['district-app'] },
      mappingVersion: { type: 'string', minLength: 1, maxLength: 64, description: 'Version stamped on tickets (trace.mappingVersion); defaults to mapped/<hash of charset, mapping, tables and defaults>.', examples: ['district-app/3'] },
      personal: {
        description: 'Source values that identify a person (an openid or phone used as the report id, a user id kept in channelFields): the hub publishes keyed tokens (HMAC with pii.tokenSecret) in their place. A source id holding a phone, ID number or e-mail is tokenised without this.',
        type: 'object',
        additionalProperties: false,
        properties: {
          sourceId: { type: 'boolean', default: false, description: 'The report id is personal (e.g. the sender\'s openid plus a counter).' },
          channelFields: { type: 'array', maxItems: 20, items: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' }, default: [], description: 'Keys of mapping.channelFields whose values are personal ids.' },
        },
      },
      signature: {
        description: 'How requests are authenticated: standard-webhooks (webhook-id/-timestamp/-signature), hmac-sha256-hex (hex HMAC-SHA256 of the body in one header, no timestamp), or none (testing only).',
        type: 'object',
        additionalProperties: false,
        required: ['scheme'],
        properties: {
          scheme: { enum: ['standard-webhooks', 'hmac-sha256-hex', 'none'], description: 'Signature scheme.' },
          secrets: { type: 'array', minItems: 1, maxItems: 4, items: { type: 'string', minLength: 16, maxLength: 256 }, 'x-secret': true, description: 'Signing secrets (several during rotation). Required unless scheme is none.' },
          header: { type: 'string', pattern: '^[a-z0-9-]{1,64}$', default: 'x-signature', description: 'hmac-sha256-hex: the header carrying the signature (lower case).' },
          prefix: { type: 'string', maxLength: 16, default: '', description: 'hmac-sha256-hex: text before the hex digest, e.g. "sha256=".' },
          toleranceSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 300, description: 'standard-webhooks: accepted clock skew.' },
        },
        if: { properties: { scheme: { enum: ['standard-webhooks', 'hmac-sha256-hex'] } } },
        then: { properties: { secrets: true }, required: ['secrets'] },
      },
      mapping: {
        description: 'Where each ticket field is in the payload, as JSON Pointers. sourceId and text are required; a pointer that finds nothing (absent, null, "") uses `defaults`.',
        type: 'object',
        additionalProperties: false,
        required: ['sourceId', 'text'],
        properties: {
          sourceId: pointerField('The channel\'s own report id, stable across redeliveries (deduplication key).'),
          text: pointerField('The report text.'),
          title: pointerField('Title.'),
          occurredAt: pointerField('When it was reported: ISO 8601, "YYYY-MM-DD HH:mm:ss" (defaults.utcOffset) or epoch s/ms.'),
          name: pointerField('Reporter name (masked by the hub).'),
          phone: pointerField('Reporter phone (masked by the hub).'),
          userId: pointerField('Channel user id, for the contact token when there is no phone.'),
          anonymous: pointerField('Anonymity flag: JSON true, or a value listed in tables.anonymousValues.'),
          appealType: pointerField('Native appeal type, translated by tables.appealType.'),
          category: pointerField('Native category code, translated by tables.category.'),
          categoryName: pointerField('Native category name (when tables.category has none).'),
          urgency: pointerField('Native urgency, translated by tables.urgency.'),
          address: pointerField('Address text.'),
          district: pointerField('District.'),
          street: pointerField('Street / sub-district.'),
          community: pointerField('Community.'),
          grid: pointerField('Grid code.'),
          point: {
            type: 'object',
            additionalProperties: false,
            required: ['lon', 'lat'],
            description: 'Coordinates: lon/lat pointers, and the datum fixed (crs) or read from the payload (crsFrom via tables.crs).',
            properties: { lon: pointerField('Longitude.'), lat: pointerField('Latitude.'), crs: { enum: CRSS, description: 'Fixed datum.' }, crsFrom: pointerField('Pointer to a native datum name.') },
          },
          attachments: pointerField('A URL or an array of URLs (photos).'),
          channelFields: { type: 'object', maxProperties: 20, propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' }, additionalProperties: pointer, description: 'Extra scalar fields kept on the ticket (masked by the hub).' },
        },
      },
      tables: {
        description: 'Value and code tables translating native values into canonical ones.',
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          appealType: { type: 'object', maxProperties: 100, additionalProperties: { enum: APPEALS }, description: 'Native appeal type → consult | help | complaint | report | suggestion | praise | unknown.' },
          category: {
            type: 'object',
            maxProperties: 2000,
            additionalProperties: { type: 'object', additionalProperties: false, required: ['code'], properties: { code: { type: 'string', minLength: 1, maxLength: 64 }, name: { type: ['string', 'null'], maxLength: 128 } } },
            description: 'Native category code → {code, name} written on channelCategory.',
          },
          urgency: { type: 'object', maxProperties: 50, additionalProperties: { enum: URGENCIES }, description: 'Native urgency → normal | urgent | critical.' },
          crs: { type: 'object', maxProperties: 20, additionalProperties: { enum: CRSS }, description: 'Native datum names → WGS-84 | GCJ-02 | BD-09 | CGCS2000.' },
          anonymousValues: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 32 }, description: 'Values of mapping.anonymous meaning anonymous (e.g. "1", "是").' },
        },
      },
      defaults: {
        description: 'Values used when the payload has none.',
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          appealType: { enum: APPEALS, description: 'Default appeal type.' },
          urgency: { enum: URGENCIES, description: 'Default urgency.' },
          crs: { enum: CRSS, description: 'Datum when neither point.crs nor point.crsFrom says.' },
          district: { type: 'string', maxLength: 64, description: 'Default district.' },
          street: { type: 'string', maxLength: 64, description: 'Default street.' },
          category: { type: 'string', maxLength: 64, description: 'Default native category code.' },
          utcOffset: { type: 'string', pattern: '^[+-]\\d{2}:\\d{2}$', description: 'Offset of times written without one (default +08:00).' },
        },
      },
    },
  },
  normalize: (raw, config) => normalizeMapped(raw, config),
  create: (config, ctx) => new MappedWebhookConnector(config, ctx),
};

/** hmac-sha256-hex: `<header>: <prefix><hex HMAC-SHA256(secret, body)>`. No timestamp, so no freshness check: redeliveries dedup on the source id. */
export function verifyHexSignature(secrets: string[], header: string | undefined, prefix: string, body: Buffer): void {
  if (!header) throw new PayloadError('INTAKE_ERR_SIGNATURE', 'missing signature header');
  const hex = header.startsWith(prefix) ? header.slice(prefix.length).trim() : '';
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new PayloadError('INTAKE_ERR_SIGNATURE', `signature header must be ${prefix}<64 hex digits>`);
  const given = Buffer.from(hex, 'hex');
  for (const s of secrets) {
    if (timingSafeEqual(given, createHmac('sha256', s).update(body).digest())) return;
  }
  throw new PayloadError('INTAKE_ERR_SIGNATURE', 'signature does not match the body');
}

class MappedWebhookConnector extends PushConnector {
  constructor(config: MappedWebhookConfig, ctx: ConnectorContext) {
    super(mappedWebhookSpec as ConnectorSpec<never>, ctx);
    const sig = config.signature;
    const hex = sig.scheme === 'hmac-sha256-hex';
    registerWebhook(
      ctx,
      {
        path: config.path ?? `/intake/${ctx.id}`,
        maxBodyBytes: config.maxBodyBytes,
        contentTypes: ['application/json'],
        secrets: sig.scheme === 'standard-webhooks' ? (sig.secrets ?? []) : null,
        toleranceSeconds: sig.toleranceSeconds,
        keepHeaders: ['content-type', 'webhook-id', 'webhook-timestamp', 'user-agent', 'x-request-id'],
        ...(hex ? { authenticate: (req: FastifyRequest, body: Buffer) => verifyHexSignature(sig.secrets ?? [], headerOf(req, sig.header), sig.prefix, body) } : {}),
      },
      this.tracker,
      this.accepting,
    );
  }
}

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}
