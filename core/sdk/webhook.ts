import type { FastifyReply, FastifyRequest } from 'fastify';
import { IntakeError, PayloadError, SinkError, isIntakeError } from '../errors';
import type { RawBody } from '../server/raw-body';
import type { ConnectorContext, RawInput, SubmitResult } from './connector';
import type { HealthTracker } from './health';
import { verifySignature } from './signature';

export interface WebhookOptions {
  /** Route path, e.g. /intake/resident-app. */
  path: string;
  maxBodyBytes: number;
  /** Accepted media types (without parameters). */
  contentTypes: string[];
  /** Standard Webhooks secrets (several during rotation); null disables verification. */
  secrets: string[] | null;
  toleranceSeconds: number;
  /** Headers kept in the raw archive. */
  keepHeaders: string[];
  /**
   * Replaces the Standard Webhooks check (give `secrets: null` with it): throws a `PayloadError`
   * (INTAKE_ERR_SIGNATURE / INTAKE_ERR_STALE → 401, dead-lettered at stage 'auth') to refuse.
   */
  authenticate?: (req: FastifyRequest, body: Buffer, nowMs: number) => void;
  /**
   * Runs after the transport checks and before `submit`; may answer the request itself (e.g. the
   * 110 hand-over bounces a police matter) and resolve true, or resolve false to go on. (A boolean,
   * not the reply: a FastifyReply is thenable.) It must only answer after whatever it recorded is
   * durable; a SinkError it throws becomes a 503.
   */
  intercept?: (raw: RawInput, reply: FastifyReply) => Promise<boolean>;
  /** How answers are written (XML receipts, Open311 bodies…); defaults to the JSON answers. */
  respond?: Partial<WebhookResponder>;
}

/**
 * The three kinds of answer a webhook gives. The status codes are the transport's contract and the
 * same for every responder; only the body (and its content type) differs.
 */
export interface WebhookResponder {
  /** The report is durable on intake.reports.v1 (202 by default, with its ticket id). */
  durable(reply: FastifyReply, r: Extract<SubmitResult, { outcome: 'accepted' }>, raw: RawInput): FastifyReply;
  /**
   * Refused for good: bad input (4xx) or an internal error (5xx). `deadLetterId` is the record's
   * id when the sender may know it; null for refusals before authentication (an unauthenticated
   * sender learns no internal id) and for internal errors.
   */
  refused(reply: FastifyReply, e: IntakeError, deadLetterId: string | null, raw: RawInput): FastifyReply;
  /** Not durable now, retry: 503; Retry-After is already set. */
  unavailable(reply: FastifyReply, e: IntakeError): FastifyReply;
}

export const JSON_RESPONDER: WebhookResponder = {
  durable: (reply, r) => reply.code(202).send({ ticketId: r.ticketId }),
  refused: (reply, e, deadLetterId) => (deadLetterId === null ? reply.code(e.httpStatus >= 400 ? e.httpStatus : 500).send({ error: e.toJSON() }) : sendError(reply, e, deadLetterId)),
  unavailable: (reply, e) => reply.code(503).send({ error: e.toJSON() }),
};

export const RETRY_AFTER_SECONDS = 5;

/**
 * The push transport shared by webhook connectors. Order of checks: running → size (413) →
 * media type (415) → signature and freshness (401) → submit (400 for bad content). Every rejection
 * is dead-lettered with its reason and raw bytes before the 4xx is sent; when the output is down,
 * nothing is acknowledged: 503 with Retry-After, never a 2xx.
 */
export function registerWebhook(ctx: ConnectorContext, opts: WebhookOptions, health: HealthTracker, accepting: () => boolean): void {
  const respond: WebhookResponder = { ...JSON_RESPONDER, ...opts.respond };
  ctx.http.post(opts.path, { config: { maxBodyBytes: opts.maxBodyBytes } }, async (req: FastifyRequest, reply: FastifyReply) => {
    if (!accepting()) {
      reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
      if (opts.respond?.unavailable) return opts.respond.unavailable(reply, new IntakeError('INTAKE_ERR_SINK_UNAVAILABLE', `connector ${ctx.id} is not running`, true));
      return reply.send({ error: { code: 'INTAKE_ERR_CONNECTOR_UNAVAILABLE', message: `connector ${ctx.id} is not running`, retriable: true } });
    }
    health.received();
    const body = (req.body as RawBody | undefined) ?? { buf: Buffer.alloc(0), size: 0, truncated: false };
    const headers: Record<string, string> = {};
    for (const h of opts.keepHeaders) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const contentType = String(req.headers['content-type'] ?? '');
    const raw: RawInput = { transport: 'webhook', body: body.buf, contentType, headers, sourceId: null, receivedAt: ctx.clock.now() };
    try {
      const early = precheck(body, contentType, req, opts, ctx.clock.now());
      if (early) {
        const stage = early.code === 'INTAKE_ERR_SIGNATURE' || early.code === 'INTAKE_ERR_STALE' ? 'auth' : 'transport';
        // the sender is not authenticated: a bounded record, and no internal id in the answer
        const id = ctx.rejectUnauthenticated ? await ctx.rejectUnauthenticated(raw, early, stage, req.ip) : await ctx.reject(raw, early, stage);
        health.outcome({ outcome: 'rejected', error: early, deadLetterId: id ?? '' });
        // an oversized body may not have been read to its end: close the connection after answering
        if (body.truncated) reply.header('connection', 'close');
        return respond.refused(reply, early, null, raw);
      }
      if (opts.intercept) {
        if (await opts.intercept(raw, reply)) return reply;
      }
      const r: SubmitResult = await ctx.submit(raw);
      health.outcome(r);
      if (r.outcome === 'rejected') return respond.refused(reply, r.error, r.deadLetterId, raw);
      return respond.durable(reply, r, raw);
    } catch (e) {
      health.failure(e);
      if (e instanceof SinkError || (isIntakeError(e) && e.retriable)) {
        return respond.unavailable(reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)), e as IntakeError);
      }
      ctx.logger.error('webhook submit failed', { err: e });
      const err = isIntakeError(e) ? e : new IntakeError('INTAKE_ERR_INTERNAL', 'internal error', false, { httpStatus: 500 });
      return respond.refused(reply, err, null, raw);
    }
  });
}

function precheck(body: RawBody, contentType: string, req: FastifyRequest, opts: WebhookOptions, now: number): IntakeError | null {
  if (body.truncated) return new PayloadError('INTAKE_ERR_PAYLOAD_TOO_LARGE', `body of ${body.size} bytes exceeds the limit of ${opts.maxBodyBytes} bytes`);
  const media = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!opts.contentTypes.includes(media)) {
    return new PayloadError('INTAKE_ERR_UNSUPPORTED_MEDIA_TYPE', `content-type must be one of ${opts.contentTypes.join(', ')}`);
  }
  if (opts.authenticate) {
    try {
      opts.authenticate(req, body.buf, now);
    } catch (e) {
      if (isIntakeError(e)) return e;
      throw e;
    }
  } else if (opts.secrets) {
    try {
      verifySignature(opts.secrets, { id: header(req, 'webhook-id'), timestamp: header(req, 'webhook-timestamp'), signature: header(req, 'webhook-signature') }, body.buf, now, opts.toleranceSeconds);
    } catch (e) {
      if (isIntakeError(e)) return e;
      throw e;
    }
  }
  return null;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

function sendError(reply: FastifyReply, e: IntakeError, deadLetterId: string): FastifyReply {
  return reply.code(e.httpStatus).send({ error: { ...e.toJSON(), deadLetterId } });
}
