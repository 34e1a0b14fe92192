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
}

export const RETRY_AFTER_SECONDS = 5;

/**
 * The push transport shared by webhook connectors. Order of checks: running → size (413) →
 * media type (415) → signature and freshness (401) → submit (400 for bad content). Every rejection
 * is dead-lettered with its reason and raw bytes before the 4xx is sent; when the output is down,
 * nothing is acknowledged: 503 with Retry-After, never a 2xx.
 */
export function registerWebhook(ctx: ConnectorContext, opts: WebhookOptions, health: HealthTracker, accepting: () => boolean): void {
  ctx.http.post(opts.path, { config: { maxBodyBytes: opts.maxBodyBytes } }, async (req: FastifyRequest, reply: FastifyReply) => {
    if (!accepting()) {
      return reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send({ error: { code: 'INTAKE_ERR_CONNECTOR_UNAVAILABLE', message: `connector ${ctx.id} is not running`, retriable: true } });
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
        const id = await ctx.reject(raw, early, stage);
        health.outcome({ outcome: 'rejected', error: early, deadLetterId: id });
        return sendError(reply, early, id);
      }
      const r: SubmitResult = await ctx.submit(raw);
      health.outcome(r);
      if (r.outcome === 'rejected') return sendError(reply, r.error, r.deadLetterId);
      return reply.code(r.outcome === 'accepted' ? 202 : 200).send({ ticketId: r.ticketId, duplicate: r.outcome === 'duplicate' });
    } catch (e) {
      health.failure(e);
      if (e instanceof SinkError || (isIntakeError(e) && e.retriable)) {
        return reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send({ error: (e as IntakeError).toJSON() });
      }
      ctx.logger.error('webhook submit failed', { err: e });
      const err = isIntakeError(e) ? e : new IntakeError('INTAKE_ERR_INTERNAL', 'internal error', false, { httpStatus: 500 });
      return reply.code(err.httpStatus >= 500 ? err.httpStatus : 500).send({ error: err.toJSON() });
    }
  });
}

function precheck(body: RawBody, contentType: string, req: FastifyRequest, opts: WebhookOptions, now: number): IntakeError | null {
  if (body.truncated) return new PayloadError('INTAKE_ERR_PAYLOAD_TOO_LARGE', `body of ${body.size} bytes exceeds the limit of ${opts.maxBodyBytes} bytes`);
  const media = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!opts.contentTypes.includes(media)) {
    return new PayloadError('INTAKE_ERR_UNSUPPORTED_MEDIA_TYPE', `content-type must be one of ${opts.contentTypes.join(', ')} (got "${media || 'none'}")`);
  }
  if (opts.secrets) {
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
