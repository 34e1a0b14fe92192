import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBody, type SupportedCharset } from '../../core/sdk/charset';
import { startListingSim, type ListingSim, type SimFault } from '../../core/sdk/poller-sim';
import { packageRoot } from '../../core/util/paths';
import { parseBeijingTime, type HotlineRecord } from './normalize';

export interface HotlineSimOptions {
  port?: number;
  host?: string;
  /** Work orders to serve; defaults to the valid fixtures. */
  records?: HotlineRecord[];
  /** Charset of the listing bodies (the legacy system's default is GBK). */
  charset?: SupportedCharset;
  /** Charset label declared in Content-Type; 'none' declares nothing. Defaults to `charset`. */
  declaredCharset?: string;
  faults?: SimFault | null;
  /** Required Authorization header, if any. */
  token?: string | null;
  /** Called for every request (tests see which instance polls). */
  onRequest?: (req: import('node:http').IncomingMessage) => void;
}

/** The valid fixtures of this connector as records (GBK fixtures decoded), in file order. */
export function hotlineFixtureRecords(): HotlineRecord[] {
  const dir = join(packageRoot(), 'connectors', 'hotline-12345', 'fixtures');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.includes('.invalid.'))
    .sort()
    .map((f) => JSON.parse(decodeBody(readFileSync(join(dir, f)), f.includes('.gbk.') ? 'application/json; charset=gbk' : 'application/json')) as HotlineRecord);
}

/**
 * A simulated legacy 12345 work-order system: `GET /api/gd/list?since=YYYY-MM-DD HH:mm:ss&page=&size=`
 * answering `{ code: 0, msg, total, page, size, rows }` (GBK by default), with fault injection
 * (`sim.setFault({ kind: '5xx' | 'hang' | 'oversized' | 'slow', … })`).
 */
export function startHotlineSim(o: HotlineSimOptions = {}): Promise<ListingSim<HotlineRecord>> {
  return startListingSim<HotlineRecord>({
    port: o.port,
    host: o.host,
    path: '/api/gd/list',
    records: o.records ?? hotlineFixtureRecords(),
    key: (r) => {
      const t = parseBeijingTime(r.GXSJ);
      return t === null ? null : { t, id: r.GDBH };
    },
    parseSince: parseBeijingTime,
    envelope: (rows, page, size, total) => ({ code: 0, msg: '成功', total, page, size, rows }),
    charset: o.charset ?? 'gbk',
    declaredCharset: o.declaredCharset,
    fault: o.faults ?? null,
    token: o.token ?? null,
    ...(o.onRequest ? { onRequest: o.onRequest } : {}),
  });
}
