import type { ConnectorContext, ConnectorSpec } from '../../core/sdk/connector';
import { PushConnector } from '../../core/sdk/push-connector';
import { registerWebhook } from '../../core/sdk/webhook';
import { normalizeResidentApp } from './normalize';

export interface ResidentAppConfig {
  path?: string;
  secrets: string[] | null;
  toleranceSeconds: number;
  maxBodyBytes: number;
}

/**
 * Resident app / WeChat mini-program (随手拍) reports, pushed by the app gateway as signed JSON
 * webhooks (Standard Webhooks). The source is acknowledged (2xx) only after the ticket is durable.
 */
export const residentAppSpec: ConnectorSpec<ResidentAppConfig> = {
  type: 'resident-app',
  channel: 'resident-app',
  kind: 'webhook',
  stability: 'beta',
  summary: 'Resident app / WeChat mini-program reports (随手拍) as signed JSON webhooks.',
  fixturesDir: 'connectors/resident-app/fixtures',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['secrets'],
    properties: {
      path: { type: 'string', pattern: '^/[A-Za-z0-9/_-]*$', maxLength: 200, description: 'Route path; defaults to /intake/<connector id>.' },
      secrets: {
        description: 'Standard Webhooks signing secrets (whsec_<base64>); several during key rotation. null disables signature checks (testing only).',
        anyOf: [{ type: 'array', minItems: 1, maxItems: 4, items: { type: 'string', minLength: 16, maxLength: 256 } }, { type: 'null' }],
        'x-secret': true,
        examples: [['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']],
      },
      toleranceSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 300, description: 'Accepted clock skew of webhook-timestamp, both ways.' },
      maxBodyBytes: { type: 'integer', minimum: 1024, maximum: 10485760, default: 262144, description: 'Largest accepted body; larger ones get 413 and are dead-lettered with their first maxBodyBytes bytes.' },
    },
  },
  normalize: (raw) => normalizeResidentApp(raw),
  create: (config, ctx) => new ResidentAppConnector(config, ctx),
};

class ResidentAppConnector extends PushConnector {
  constructor(
    config: ResidentAppConfig,
    ctx: ConnectorContext,
  ) {
    super(residentAppSpec as ConnectorSpec<never>, ctx);
    registerWebhook(
      ctx,
      {
        path: config.path ?? `/intake/${ctx.id}`,
        maxBodyBytes: config.maxBodyBytes,
        contentTypes: ['application/json'],
        secrets: config.secrets,
        toleranceSeconds: config.toleranceSeconds,
        keepHeaders: ['content-type', 'webhook-id', 'webhook-timestamp', 'user-agent', 'x-request-id'],
      },
      this.tracker,
      this.accepting,
    );
  }
}
