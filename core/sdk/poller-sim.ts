import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeText, type SupportedCharset } from './charset';
import { compareCursor, type CursorKey } from './poller';

/**
 * A simulated legacy listing API for pull connectors' tests and the `npm start` demo. It follows
 * the listing protocol of `core/sdk/poller.ts` (`since` inclusive, ordered by (time, id), 1-based
 * pages) and injects faults on demand: HTTP 5xx, a hang (headers never sent), an oversized body,
 * a slow body (one chunk, then silence). It counts requests and the connections the client
 * closed before the response was complete, so tests can prove a request was really aborted.
 */
export type SimFault =
  | { kind: '5xx'; status?: number }
  | { kind: 'hang' }
  | { kind: 'oversized'; bytes: number }
  | { kind: 'slow'; chunkDelayMs: number };

export interface ListingSimOptions<R> {
  port?: number;
  host?: string;
  /** Listing path, e.g. /api/gd/list. */
  path: string;
  records: R[];
  /** Cursor position of a record (the same one the connector computes). */
  key: (r: R) => CursorKey | null;
  /** Parses the `since` query value into epoch ms; null for an unparseable value (→ 400). */
  parseSince: (s: string) => number | null;
  /** The response document of one page. */
  envelope: (rows: R[], page: number, size: number, total: number) => unknown;
  charset?: SupportedCharset;
  /** Declared charset label in Content-Type (defaults to `charset`); 'none' sends no parameter. */
  declaredCharset?: string;
  fault?: SimFault | null;
  /** Required `authorization` header value, if any. */
  token?: string | null;
  /** Called for every request (tests see who polls: e.g. by its authorization header). */
  onRequest?: (req: IncomingMessage) => void;
}

export interface ListingSim<R> {
  readonly url: string;
  readonly port: number;
  readonly stats: { requests: number; served: number; clientAborts: number; faults: number };
  readonly records: R[];
  setFault(f: SimFault | null): void;
  add(...records: R[]): void;
  /** Resolves when the simulated upstream has seen `n` client aborts (or rejects after `timeoutMs`). */
  waitForAborts(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const MAX_SIZE = 1000;

export async function startListingSim<R>(o: ListingSimOptions<R>): Promise<ListingSim<R>> {
  let fault: SimFault | null = o.fault ?? null;
  const records = [...o.records];
  const stats = { requests: 0, served: 0, clientAborts: 0, faults: 0 };
  const charset = o.charset ?? 'utf-8';
  const declared = o.declaredCharset ?? charset;
  const contentType = declared === 'none' ? 'application/json' : `application/json; charset=${declared.toUpperCase()}`;
  const timers = new Set<NodeJS.Timeout>();
  let abortWaiters: { n: number; resolve: () => void }[] = [];

  const noteAbort = (): void => {
    stats.clientAborts++;
    abortWaiters = abortWaiters.filter((w) => {
      if (stats.clientAborts >= w.n) w.resolve();
      return stats.clientAborts < w.n;
    });
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    stats.requests++;
    o.onRequest?.(req);
    res.on('close', () => {
      if (!res.writableFinished) noteAbort();
    });
    const u = new URL(req.url ?? '/', 'http://sim');
    if (u.pathname !== o.path || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    if (o.token && req.headers.authorization !== o.token) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    if (fault) {
      stats.faults++;
      const f = fault;
      if (f.kind === '5xx') {
        res.writeHead(f.status ?? 503, { 'content-type': 'application/json' }).end('{"error":"upstream unavailable"}');
        return;
      }
      if (f.kind === 'hang') return; // never answer; the client must give up and close
      if (f.kind === 'oversized') {
        res.writeHead(200, { 'content-type': contentType });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = (): void => {
          while (sent < f.bytes && !res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
          if (!res.destroyed) res.end();
        };
        pump();
        return;
      }
      res.writeHead(200, { 'content-type': contentType });
      res.write('{"rows":[');
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) res.end(']}');
      }, f.chunkDelayMs);
      timers.add(t);
      return;
    }
    const sinceRaw = u.searchParams.get('since');
    const since = sinceRaw === null || sinceRaw === '' ? null : o.parseSince(sinceRaw);
    const page = Number(u.searchParams.get('page') ?? '1');
    const size = Number(u.searchParams.get('size') ?? '20');
    if ((sinceRaw && since === null) || !Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > MAX_SIZE) {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad query"}');
      return;
    }
    const keyed = records.map((r) => ({ r, k: o.key(r) }));
    const matching = keyed.filter((x) => x.k !== null && (since === null || x.k.t >= since)).sort((a, b) => compareCursor(a.k as CursorKey, b.k as CursorKey));
    const rows = matching.slice((page - 1) * size, page * size).map((x) => x.r);
    const body = encodeText(JSON.stringify(o.envelope(rows, page, size, matching.length)), charset);
    stats.served++;
    res.writeHead(200, { 'content-type': contentType, 'content-length': String(body.length) }).end(body);
  };

  const server: Server = createServer(handler);
  server.keepAliveTimeout = 2000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${o.host ?? '127.0.0.1'}:${addr.port}`;
  return {
    url,
    port: addr.port,
    stats,
    records,
    setFault(f) {
      fault = f;
    },
    add(...rs) {
      records.push(...rs);
    },
    waitForAborts(n, timeoutMs = 10000) {
      if (stats.clientAborts >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`simulated upstream saw ${stats.clientAborts} client aborts, expected ${n}`)), timeoutMs);
        abortWaiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
