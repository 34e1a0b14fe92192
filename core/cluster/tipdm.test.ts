import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterCommand } from '../cli/commands/cluster';
import { sharedDataDir, sharedDataFile } from '../util/shared-data';
import {
  clusterTipdm,
  evaluateTipdm,
  readJsonl,
  type SilverConsensusRow,
  type SilverTeamRow,
  type TipdmMessage,
} from './tipdm';

const dir = join(sharedDataDir(), 'tipdm2020c');
// The data is read from ../shared/data at run time: without it these tests fail, never skip.
beforeAll(() => {
  sharedDataFile('tipdm2020c', 'messages_with_votes.jsonl');
});

describe('clustering the TipDM message board (silver hot-issue labels)', () => {
  let ev: ReturnType<typeof evaluateTipdm>;
  beforeAll(() => {
    const messages = readJsonl<TipdmMessage>(join(dir, 'messages_with_votes.jsonl'));
    const byTeam = readJsonl<SilverTeamRow>(join(dir, 'hot_issues_silver_by_team.jsonl'));
    const consensus = readJsonl<SilverConsensusRow>(join(dir, 'hot_issues_silver_consensus.jsonl'));
    const out = clusterTipdm(messages);
    ev = evaluateTipdm(messages, new Map([...out].map(([k, o]) => [k, o.clusterId])), byTeam, consensus);
  }, 120_000);

  it('always puts exact duplicate texts in one cluster', () => {
    expect(ev.exactDuplicates.pairs).toBeGreaterThan(100);
    expect(ev.exactDuplicates.consistency).toBe(1);
  });

  it('reaches pairwise recall >= 0.85 on the consensus hot issues', () => {
    expect(ev.consensusRecall.recall).toBeGreaterThanOrEqual(0.85);
  });

  it('reaches pairwise precision >= 0.90 judged within each team', () => {
    expect(ev.teamPrecision.precision).toBeGreaterThanOrEqual(0.9);
  });
});

describe('intake-hub cluster (CLI)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cluster-cli-'));
  const msgs = [
    { msg_id: '1', user: 'u1', title: '丽发新城附近建搅拌站噪音扰民', time: '2019-11-13 11:20:21', detail: '丽发新城小区附近建搅拌站，噪音扰民，粉尘严重。' },
    { msg_id: '2', user: 'u2', title: '丽发新城小区旁建搅拌站严重扰民', time: '2019-11-15 09:17:35', detail: '丽发新城小区附近修建搅拌站，每天噪音很大，粉尘污染。' },
    { msg_id: '3', user: 'u3', title: '咨询人才购房补贴', time: '2019-11-16 10:00:00', detail: '请问人才购房补贴如何申请？' },
  ];

  it('writes one line per message with a cluster and role', async () => {
    const input = join(tmp, 'in.jsonl');
    const output = join(tmp, 'out.jsonl');
    writeFileSync(input, msgs.map((m) => JSON.stringify(m)).join('\n'));
    const rc = await clusterCommand(['--input', input, '--format', 'tipdm', '--output', output]);
    expect(rc).toBe(0);
    const rows = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({ msg_id: '1', cluster: 'cl_1', role: 'primary', repeatOf: null });
    expect(rows[1]).toMatchObject({ msg_id: '2', cluster: 'cl_1', role: 'member' });
    expect(rows[2]).toMatchObject({ msg_id: '3', cluster: 'cl_3', role: 'primary' });
  });

  it('fails clearly on bad arguments and bad input', async () => {
    expect(await clusterCommand(['--format', 'tipdm'])).toBe(2);
    expect(await clusterCommand(['--input', join(tmp, 'missing.jsonl'), '--output', join(tmp, 'x')])).toBe(2);
    const bad = join(tmp, 'bad.jsonl');
    writeFileSync(bad, '{"msg_id": 1}\nnot json\n');
    expect(await clusterCommand(['--input', bad, '--format', 'tipdm', '--output', join(tmp, 'y')])).toBe(2);
    expect(await clusterCommand(['--input', bad, '--format', 'xml', '--output', join(tmp, 'y')])).toBe(2);
  });
});
