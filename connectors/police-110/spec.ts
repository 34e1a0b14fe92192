import type { FastifyReply } from 'fastify';
import { IntakeError } from '../../core/errors';
import type { ConnectorContext, ConnectorSpec, RawInput } from '../../core/sdk/connector';
import { PushConnector } from '../../core/sdk/push-connector';
import { registerWebhook, type WebhookResponder } from '../../core/sdk/webhook';
import { flatXml } from '../../core/sdk/xml';
import type { Crs } from '../../core/schema/types';
import { POLICE_MATTER_CODES } from './codes';
import { isPoliceMatter, normalizePolice110 } from './normalize';

export interface Police110Config {
  path?: string;
  secrets: string[] | null;
  toleranceSeconds: number;
  maxBodyBytes: number;
  bounceCategories: string[];
  bounceReason: string;
  defaultCrs: Crs;
}

/** Receipt results (结果, <JG>): 签收, 退回, 错误. */
export type ReceiptResult = 'QS' | 'TH' | 'CW';

/**
 * 110 non-police calls (非警务警情) handed over by the police dispatch system as signed XML pushes
 * (双向转接). Every request gets an XML receipt (<QSHZ>):
 * - 签收 (JG=QS, HTTP 200) with the hub ticket id (GDBH), only once the ticket is durable;
 * - 退回 (JG=TH, HTTP 200) for a police matter (category in `bounceCategories`): no ticket is made;
 *   the bounce is recorded durably on the dead-letter topic with code INTAKE_ERR_BOUNCED, stage
 *   'transport' and httpStatus 200 — an outcome of the hand-over protocol, not an input error —
 *   so it can be audited, and replayed into a ticket if the policy was wrong;
 * - 错误 (JG=CW) with the HTTP status of the error: 4xx for bad input (dead-lettered first), 503 +
 *   Retry-After when the output cannot make the ticket durable (the dispatch system retries; the
 *   same 警情编号 never makes a second ticket).
 */
export const police110Spec: ConnectorSpec<Police110Config> = {
  type: 'police-110',
  channel: 'police-110',
  kind: 'webhook',
  stability: 'beta',
  summary: '110 non-police calls (非警务警情) handed over as signed XML; answers with an XML receipt (签收 / 退回).',
  fixturesDir: 'connectors/police-110/fixtures',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['secrets'],
    properties: {
      path: { type: 'string', pattern: '^/[A-Za-z0-9/_-]*$', maxLength: 200, description: 'Route path; defaults to /intake/<connector id>.', examples: ['/intake/police-110'] },
      secrets: {
        description: 'Standard Webhooks signing secrets shared with the dispatch system gateway (whsec_<base64>); several during key rotation. null disables signature checks (testing only; mTLS in front of the hub is the alternative, see the docs).',
        anyOf: [{ type: 'array', minItems: 1, maxItems: 4, items: { type: 'string', minLength: 16, maxLength: 256 } }, { type: 'null' }],
        'x-secret': true,
        examples: [['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']],
      },
      toleranceSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 300, description: 'Accepted clock skew of webhook-timestamp, both ways.' },
      maxBodyBytes: { type: 'integer', minimum: 1024, maximum: 1048576, default: 65536, description: 'Largest accepted body; larger ones get 413 and are dead-lettered with their first maxBodyBytes bytes.' },
      bounceCategories: {
        type: 'array',
        maxItems: 200,
        uniqueItems: true,
        items: { type: 'string', minLength: 1, maxLength: 16, pattern: '^[0-9A-Za-z]+$' },
        default: [...POLICE_MATTER_CODES],
        description: 'Police-matter category codes (JQLB) bounced back to 110 instead of ticketed; a code matches itself and every code it prefixes ("02" bounces "0201").',
        examples: [['01', '02', '03', '04', '05']],
      },
      bounceReason: { type: 'string', minLength: 1, maxLength: 200, default: '属于警务事项，退回110', description: 'Reason written in the refusal receipt (THYY).' },
      defaultCrs: { enum: ['WGS-84', 'GCJ-02', 'BD-09', 'CGCS2000'], default: 'CGCS2000', description: 'Datum of JD/WD when the hand-over has no ZBX.' },
    },
  },
  normalize: (raw, config) => normalizePolice110(raw, config),
  create: (config, ctx) => new Police110Connector(config, ctx),
};

/** Best effort: the 警情编号 of a body, for receipts of reports that could not be parsed. */
function jqbhOf(raw: RawInput): string | null {
  return /<JQBH>\s*([A-Za-z0-9_.:-]{1,64})\s*<\/JQBH>/.exec(raw.body.subarray(0, 4096).toString('latin1'))?.[1] ?? null;
}

const XML_TYPE = 'application/xml; charset=utf-8';

class Police110Connector extends PushConnector {
  /** Receipts answer with the 警情编号; the transport parses it once per request. */
  private readonly jqbh = new WeakMap<RawInput, string>();

  constructor(
    private readonly config: Police110Config,
    ctx: ConnectorContext,
  ) {
    super(police110Spec as ConnectorSpec<never>, ctx);
    const now = (): string => new Date(ctx.clock.now()).toISOString();
    const receipt = (reply: FastifyReply, status: number, fields: Record<string, string | null>): FastifyReply => reply.code(status).header('content-type', XML_TYPE).send(flatXml('QSHZ', fields));
    const respond: WebhookResponder = {
      durable: (reply, r, raw) => receipt(reply, 200, { JQBH: this.jqbh.get(raw) ?? jqbhOf(raw), JG: 'QS', GDBH: r.ticketId, QSSJ: now() }),
      refused: (reply, e, deadLetterId, raw) =>
        receipt(reply, e.httpStatus >= 400 ? e.httpStatus : 500, { JQBH: jqbhOf(raw), JG: 'CW', CWDM: e.code, CWXX: e.message.slice(0, 500), SJWZ: e.dataPath, JLBH: deadLetterId, QSSJ: now() }),
      unavailable: (reply, e) => receipt(reply, 503, { JG: 'CW', CWDM: e.code, CWXX: e.message.slice(0, 500), QSSJ: now() }),
    };
    registerWebhook(
      ctx,
      {
        path: config.path ?? `/intake/${ctx.id}`,
        maxBodyBytes: config.maxBodyBytes,
        contentTypes: ['application/xml', 'text/xml'],
        secrets: config.secrets,
        toleranceSeconds: config.toleranceSeconds,
        keepHeaders: ['content-type', 'webhook-id', 'webhook-timestamp', 'user-agent', 'x-request-id'],
        intercept: (raw, reply) => this.screen(raw, reply, receipt, now),
        respond,
      },
      this.tracker,
      this.accepting,
    );
  }

  /**
   * Police matters are bounced before any ticket is made. The report is normalised here only to
   * read its category (normalize is pure); a report that does not normalise goes on to `submit`,
   * which dead-letters it and answers 4xx.
   */
  private async screen(raw: RawInput, reply: FastifyReply, receipt: (reply: FastifyReply, status: number, fields: Record<string, string | null>) => FastifyReply, now: () => string): Promise<boolean> {
    let draft;
    try {
      draft = normalizePolice110(raw, this.config);
    } catch {
      return false;
    }
    this.jqbh.set(raw, draft.sourceId);
    const code = draft.channelCategory?.code ?? '';
    if (!isPoliceMatter(code, this.config.bounceCategories)) return false;
    const bounce = new IntakeError('INTAKE_ERR_BOUNCED', `警情类别 ${code} ${this.config.bounceReason}`, false, { httpStatus: 200, dataPath: '/JQLB' });
    const recordId = await this.ctx.reject({ ...raw, sourceId: draft.sourceId }, bounce, 'transport');
    this.tracker.success();
    receipt(reply, 200, { JQBH: draft.sourceId, JG: 'TH', THYY: this.config.bounceReason, JLBH: recordId, QSSJ: now() });
    return true;
  }
}
