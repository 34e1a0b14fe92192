import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Body limit of the route (see installRawBodyParser); default 1 MiB. */
    maxBodyBytes?: number;
  }
}

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
 * never holds more than the route's limit in memory. An oversized body is never an error here: it
 * is marked truncated (its first `limit` bytes kept) so the route answers 413 and dead-letters it
 * like any other bad input. Bytes past the limit are drained up to 16x the limit; beyond that (or,
 * when Content-Length announces more, right after the first `limit` bytes) the rest is not read —
 * the route still answers 413 and the connection is closed after the response.
 */
export function installRawBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req, payload, done) => {
    const limit = routeLimit(req);
    const hardCap = limit * DRAIN_FACTOR;
    const announced = Number(req.headers['content-length'] ?? '0');
    const chunks: Buffer[] = [];
    let kept = 0;
    let size = 0;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      const body: RawBody = { buf: Buffer.concat(chunks, kept), size: Math.max(size, announced), truncated: Math.max(size, announced) > limit };
      done(null, body);
    };
    const giveUp = (): void => {
      // stop reading; the 413 response closes the connection (the client may still be sending)
      payload.removeAllListeners('data');
      payload.pause();
      finish();
    };
    // announced far too large: keep the first `limit` bytes for the dead letter, read no further
    const refuseEarly = announced > hardCap;
    payload.on('data', (c: Buffer) => {
      size += c.length;
      if (kept < limit) {
        const take = Math.min(c.length, limit - kept);
        chunks.push(take === c.length ? c : c.subarray(0, take));
        kept += take;
      }
      if (size > hardCap || (refuseEarly && kept >= limit)) giveUp();
    });
    payload.on('end', finish);
    payload.on('error', (e: Error) => {
      if (finished) return;
      finished = true;
      done(e, undefined);
    });
  });
}
