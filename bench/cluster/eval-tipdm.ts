/**
 * Evaluate the clustering engine on the TipDM message-board set (messages_with_votes.jsonl)
 * against the silver hot-issue labels; prints JSON.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/cluster/eval-tipdm.js ['{"linkThreshold":0.5}']
 *
 * The optional argument is a JSON config overlay on TIPDM_CONFIG (for tuning experiments).
 */
import { sharedDataFile } from '../../core/util/shared-data';
import type { ClusterConfigInput } from '../../core/cluster/config';
import {
  TIPDM_CONFIG,
  clusterTipdm,
  evaluateTipdm,
  readJsonl,
  type SilverConsensusRow,
  type SilverTeamRow,
  type TipdmMessage,
} from '../../core/cluster/tipdm';

function main(): void {
  const overlay = process.argv[2] !== undefined ? (JSON.parse(process.argv[2]) as ClusterConfigInput) : {};
  const config: ClusterConfigInput = { ...TIPDM_CONFIG, ...overlay };
  const messages = readJsonl<TipdmMessage>(sharedDataFile('tipdm2020c', 'messages_with_votes.jsonl'));
  const byTeam = readJsonl<SilverTeamRow>(sharedDataFile('tipdm2020c', 'hot_issues_silver_by_team.jsonl'));
  const consensus = readJsonl<SilverConsensusRow>(sharedDataFile('tipdm2020c', 'hot_issues_silver_consensus.jsonl'));
  const t0 = process.hrtime.bigint();
  const outcomes = clusterTipdm(messages, config);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const clusterOf = new Map([...outcomes].map(([k, o]) => [k, o.clusterId] as [string, string]));
  const ev = evaluateTipdm(messages, clusterOf, byTeam, consensus);
  const repeats = [...outcomes.values()].filter((o) => o.repeatOf !== null).length;
  const hot = [...outcomes.values()].reduce((n, o) => n + o.events.filter((e) => e.type === 'hot').length, 0);
  console.log(JSON.stringify({ config: overlay, elapsedMs: Math.round(ms), repeats, hotEvents: hot, ...ev }, null, 2));
}

main();
