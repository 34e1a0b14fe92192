import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PayloadError } from '../errors';

/** The body as the intake routes see it: raw bytes, bounded. */
export interface RawBody {
  buf: Buffer;
  /** Total bytes the client sent (may exceed buf.length when truncated). */
  size: number;
  /** True when the body was larger than the route's limit; buf then holds only the first bytes. */
  truncated: boolean;
}

export const DEFAULT_MAX_BODY = 1024 * 1024;
/** Bytes we read (and discard) past the limit before giving up on the connection. */
const DRAIN_FACTOR = 16;

function routeLimit(req: FastifyRequest): number {
  const cfg = req.routeOptions?.config as { maxBodyBytes?: number } | undefined;
  return cfg?.maxBodyBytes ?? DEFAULT_MAX_BODY;
}

/**
 * Replaces fastify's parsers with one that keeps raw bytes (signatures are computed over them) and
 * never holds more than the route's limit in memory: an oversized body is drained and marked
 * truncated so the route can answer 413 and dead-letter its first bytes. Past 16x the limit (or a
 * Content-Length announcing that) the request is refused outright.
 */
export function installRawBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req, payload, done) => {
    const limit = routeLimit(req);
    const hardCap = limit * DRAIN_FACTOR;
    const announced = Number(req.headers['content-length'] ?? '0');
    if (announced > hardCap) {
      done(new PayloadError('INTAKE_ERR_PAYLOAD_TOO_LARGE', `body of ${announced} bytes exceeds the limit of ${limit} bytes`), undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let kept = 0;
    let size = 0;
    let finished = false;
    payload.on('data', (c: Buffer) => {
      size += c.length;
      if (kept < limit) {
        const take = Math.min(c.length, limit - kept);
        chunks.push(take === c.length ? c : c.subarray(0, take));
        kept += take;
      }
      if (size > hardCap && !finished) {
        finished = true;
        payload.removeAllListeners('data');
        done(new PayloadError('INTAKE_ERR_PAYLOAD_TOO_LARGE', `body exceeds the limit of ${limit} bytes`), undefined);
      }
    });
    payload.on('end', () => {
      if (finished) return;
      finished = true;
      const body: RawBody = { buf: Buffer.concat(chunks, kept), size, truncated: size > limit };
      done(null, body);
    });
    payload.on('error', (e: Error) => {
      if (finished) return;
      finished = true;
      done(e, undefined);
    });
  });
}
