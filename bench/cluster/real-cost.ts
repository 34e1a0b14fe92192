/**
 * Clustering cost per real long text (issue 13, item 5): the TipDM message-board texts (never the
 * holdout) read as one stream in time order, unique texts only, through one `ClusterEngine` with
 * the hub's default configuration, one report per 10 s (so the whole stream fits in the window). Prints the median and p99 of the CPU time of `process()` per
 * report over the second half of the stream (the window then holds the first half), and the
 * window's vocabulary.
 *
 *   npm run build && node --expose-gc dist/bench/cluster/real-cost.js ['{"candidates":{"maxScored":32}}']
 */
import type { ClusterConfigInput } from '../../core/cluster/config';
import { ClusterEngine } from '../../core/cluster/engine';
import { readJsonl, timeOrder, tipdmToInput, type TipdmMessage } from '../../core/cluster/tipdm';
import { sharedDataFile } from '../../core/util/shared-data';

function main(): void {
  const texts = new Set<string>();
  const ids = new Set<string>();
  const inputs = [];
  for (const f of ['messages_with_votes.jsonl', 'messages_with_replies.jsonl', 'unlabeled.jsonl', 'train.jsonl']) {
    for (const m of readJsonl<TipdmMessage>(sharedDataFile('tipdm2020c', f))) {
      const text = (m.detail ?? '').trim();
      const id = String(m.msg_id);
      if (text.length < 6 || texts.has(text) || ids.has(id)) continue;
      texts.add(text);
      ids.add(id);
      inputs.push(tipdmToInput(m));
    }
  }
  // Their order kept, the reports arrive one per 10 s (as in the fleet bench's burst of unique texts):
  // the TipDM messages span years, so by their own times the window would hold only a few days of them.
  const t0 = Date.UTC(2026, 10, 20);
  const ordered = timeOrder(inputs).map((x, i) => ({ ...x, timeMs: t0 + i * 10_000 }));
  const engine = new ClusterEngine(process.argv[2] !== undefined ? (JSON.parse(process.argv[2]) as ClusterConfigInput) : {});
  const half = Math.floor(ordered.length / 2);
  const us: number[] = [];
  let chars = 0;
  for (let i = 0; i < ordered.length; i++) {
    const input = ordered[i] as (typeof ordered)[number];
    const c0 = process.cpuUsage();
    engine.process(input);
    const c = process.cpuUsage(c0);
    if (i >= half) {
      us.push(c.user + c.system);
      chars += input.text.length;
    }
  }
  us.sort((a, b) => a - b);
  const q = (p: number): number => us[Math.min(us.length - 1, Math.floor(us.length * p))] as number;
  process.stdout.write(
    JSON.stringify({ figure: 'clustering CPU per real text', reports: ordered.length, measured: us.length, avgChars: Math.round(chars / us.length), medianUs: q(0.5), p90Us: q(0.9), p99Us: q(0.99), vocabulary: engine.stats().vocabulary, window: engine.stats().reports }) + '\n',
  );
}

main();
