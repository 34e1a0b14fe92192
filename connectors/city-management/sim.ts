import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startListingSim, type ListingSim, type SimFault } from '../../core/sdk/poller-sim';
import { packageRoot } from '../../core/util/paths';
import type { CityCase } from './normalize';

export interface CitySimOptions {
  port?: number;
  host?: string;
  /** Cases to serve; defaults to the valid fixtures. */
  records?: CityCase[];
  faults?: SimFault | null;
  token?: string | null;
}

/** The valid fixtures of this connector as cases, in file order. */
export function cityFixtureRecords(): CityCase[] {
  const dir = join(packageRoot(), 'connectors', 'city-management', 'fixtures');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.includes('.invalid.'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as CityCase);
}

/**
 * A simulated 数字城管 platform: `GET /api/cases?since=<ISO 8601>&page=&size=` answering
 * `{ result: 0, message, data: { total, page, size, cases } }` (UTF-8), with fault injection.
 */
export function startCityManagementSim(o: CitySimOptions = {}): Promise<ListingSim<CityCase>> {
  return startListingSim<CityCase>({
    port: o.port,
    host: o.host,
    path: '/api/cases',
    records: o.records ?? cityFixtureRecords(),
    key: (r) => {
      const t = Date.parse(r.updateTime);
      return Number.isFinite(t) ? { t, id: r.caseNo } : null;
    },
    parseSince: (s) => {
      const t = Date.parse(s);
      return Number.isFinite(t) ? t : null;
    },
    envelope: (cases, page, size, total) => ({ result: 0, message: 'ok', data: { total, page, size, cases } }),
    charset: 'utf-8',
    fault: o.faults ?? null,
    token: o.token ?? null,
  });
}
