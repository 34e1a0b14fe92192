import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startListingSim, type ListingSim, type SimFault } from '../../core/sdk/poller-sim';
import { packageRoot } from '../../core/util/paths';
import type { BoardPost } from './normalize';

export interface BoardSimOptions {
  port?: number;
  host?: string;
  /** Posts to serve; defaults to the valid fixtures. */
  records?: BoardPost[];
  faults?: SimFault | null;
  token?: string | null;
}

/** The valid fixtures of this connector as posts, in file order. */
export function boardFixtureRecords(): BoardPost[] {
  const dir = join(packageRoot(), 'connectors', 'message-board', 'fixtures');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.includes('.invalid.'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as BoardPost);
}

/**
 * A simulated leadership message board: `GET /api/messages?since=<epoch ms>&page=&size=` answering
 * `{ status: 'success', data: { total, page, size, list } }`, with fault injection.
 */
export function startMessageBoardSim(o: BoardSimOptions = {}): Promise<ListingSim<BoardPost>> {
  return startListingSim<BoardPost>({
    port: o.port,
    host: o.host,
    path: '/api/messages',
    records: o.records ?? boardFixtureRecords(),
    key: (p) => ({ t: p.createdAt, id: p.tid }),
    parseSince: (s) => (/^[0-9]{1,15}$/.test(s) ? Number(s) : null),
    envelope: (list, page, size, total) => ({ status: 'success', data: { total, page, size, list } }),
    charset: 'utf-8',
    fault: o.faults ?? null,
    token: o.token ?? null,
  });
}
