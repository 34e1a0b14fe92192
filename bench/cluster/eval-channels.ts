/**
 * Duplicates, repeats and staff reports on cross-channel traffic built from real resident texts
 * (issue 13): each of 200 message-board messages (../shared/data/tipdm2020c, read at run time)
 * becomes a resident's 12345 call; every second one is also handed over by 110 twelve minutes
 * later with the same caller (title = the 110 category name, the text re-worded by the
 * operator: the message title and its first clause); every fifth caller calls again four days
 * later (a repeat); 20 inspectors each file two cases 100 m and 30 minutes apart (other
 * problems: never a repeat); every third message also gets an unrelated 110 hand-over elsewhere
 * whose title is a common category name. Ground truth is known by construction.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/cluster/eval-channels.js ['{"duplicateSameReporterHours":1}']
 */
import { sharedDataFile } from '../../core/util/shared-data';
import type { ClusterConfigInput } from '../../core/cluster/config';
import { ClusterEngine, type ClusterInput, type ClusterOutcome } from '../../core/cluster/engine';
import { MergeMap, readJsonl, tipdmTime, type TipdmMessage } from '../../core/cluster/tipdm';

interface Truth {
  input: ClusterInput;
  incident: string;
  duplicateOf: string | null;
  repeatOf: string | null;
  staff: boolean;
}

const CATEGORIES = ['噪音扰民', '其他', '纠纷', '市政设施', '环境污染'];
const INSPECTOR_CASES: [string, string][] = [
  ['占道经营', '商户占道经营堆放货物'],
  ['暴露垃圾', '路边垃圾堆积无人清运'],
  ['井盖', '人行道井盖破损缺失'],
  ['乱贴广告', '电线杆上乱贴小广告'],
];
const MIN = 60_000;

function firstClause(s: string): string {
  const t = s.replace(/\s+/g, '');
  const m = /^(.{8,40}?)[，。,；;！!？?]/.exec(t);
  return m !== null ? (m[1] as string) : t.slice(0, 30);
}

function build(messages: TipdmMessage[]): Truth[] {
  const usable = messages.filter((m) => (m.detail ?? '').length >= 60 && (m.title ?? '').length >= 6);
  const picked = usable.slice(0, 200);
  // Unrelated hand-overs tell messages of their own, outside the 200.
  const unrelated = usable.slice(200, 400);
  const base = tipdmTime('2019-06-01 08:00:00');
  const out: Truth[] = [];
  const at = (k: number): { lon: number; lat: number } => ({ lon: 112.9 + (k % 20) * 0.03, lat: 28.1 + Math.floor(k / 20) * 0.03 });
  const mk = (id: string, t: number, channel: string, title: string | null, text: string, token: string | null, point: { lon: number; lat: number }, role: string, categoryName: string | null): ClusterInput => ({
    ticketId: id,
    timeMs: t,
    title,
    text,
    contactToken: token,
    channel,
    sourceId: id,
    jurisdiction: null,
    point,
    categoryFamily: null,
    appealType: 'complaint',
    reporterRole: role,
    categoryName,
  });
  picked.forEach((m, k) => {
    const t = base + k * 37 * MIN;
    const p = at(k);
    const call = mk(`c${k}`, t, 'hotline-12345', null, `市民来电反映：${(m.detail ?? '').slice(0, 160)}`, `r${k}`, p, 'resident', null);
    out.push({ input: call, incident: `i${k}`, duplicateOf: null, repeatOf: null, staff: false });
    if (k % 2 === 0) {
      const cat = CATEGORIES[k % CATEGORIES.length] as string;
      const text = `报警人称：${m.title}，${firstClause(m.detail ?? '')}。经研判属非警务警情，转12345处置。`;
      const hp = { lon: p.lon + 0.0012, lat: p.lat - 0.0008 };
      out.push({ input: mk(`h${k}`, t + 12 * MIN, 'police-110', cat, text, `r${k}`, hp, 'resident', cat), incident: `i${k}`, duplicateOf: call.ticketId, repeatOf: null, staff: false });
    }
    if (k % 5 === 0) {
      const text = `市民来电反映：之前反映过${m.title}，至今没有解决，${firstClause(m.detail ?? '')}。`;
      out.push({ input: mk(`r${k}`, t + 4 * 24 * 60 * MIN, 'hotline-12345', null, text, `r${k}`, p, 'resident', null), incident: `i${k}`, duplicateOf: null, repeatOf: call.ticketId, staff: false });
    }
    if (k % 3 === 1) {
      const other = unrelated[k % unrelated.length] as TipdmMessage;
      const cat = CATEGORIES[(k + 1) % CATEGORIES.length] as string;
      const far = { lon: p.lon + 0.015, lat: p.lat + 0.015 };
      const text = `报警人称：${firstClause(other.detail ?? '')}。经研判属非警务警情，转12345处置。`;
      out.push({ input: mk(`u${k}`, t + 5 * MIN, 'police-110', cat, text, `x${k}`, far, 'resident', cat), incident: `u${k}`, duplicateOf: null, repeatOf: null, staff: false });
    }
  });
  for (let j = 0; j < 20; j++) {
    const t = base + j * 311 * MIN + 7 * MIN;
    const p = { lon: 113.6 + (j % 5) * 0.03, lat: 28.5 + Math.floor(j / 5) * 0.03 };
    const a = INSPECTOR_CASES[j % INSPECTOR_CASES.length] as [string, string];
    const b = INSPECTOR_CASES[(j + 1) % INSPECTOR_CASES.length] as [string, string];
    const road = `${'芙蓉五一韶山劳动人民'.slice((j % 5) * 2, (j % 5) * 2 + 2)}路`;
    out.push({ input: mk(`s${j}a`, t, 'city-management', a[0], `监督员巡查上报：${road}${a[1]}。`, `staff${j}`, p, 'inspector', a[0]), incident: `s${j}a`, duplicateOf: null, repeatOf: null, staff: true });
    const q = { lon: p.lon + 0.001, lat: p.lat };
    out.push({ input: mk(`s${j}b`, t + 30 * MIN, 'city-management', b[0], `监督员巡查上报：${road}${b[1]}。`, `staff${j}`, q, 'inspector', b[0]), incident: `s${j}b`, duplicateOf: null, repeatOf: null, staff: true });
  }
  return out.sort((x, y) => x.input.timeMs - y.input.timeMs || (x.input.ticketId < y.input.ticketId ? -1 : 1));
}

function main(): void {
  const overlay = process.argv[2] !== undefined ? (JSON.parse(process.argv[2]) as ClusterConfigInput) : {};
  const truth = build(readJsonl<TipdmMessage>(sharedDataFile('tipdm2020c', 'messages_with_votes.jsonl')));
  const engine = new ClusterEngine(overlay);
  const merges = new MergeMap();
  const out = new Map<string, ClusterOutcome>();
  for (const x of truth) {
    const o = engine.process(x.input);
    merges.apply(o.events);
    out.set(x.input.ticketId, o);
  }
  for (const o of out.values()) o.clusterId = merges.resolve(o.clusterId);
  const f = (a: number, b: number): number => (b === 0 ? 1 : Math.round((a / b) * 1000) / 1000);
  let dT = 0, dP = 0, dC = 0, rT = 0, rP = 0, rC = 0, staffRepeats = 0;
  const wrong: string[] = [];
  for (const x of truth) {
    const o = out.get(x.input.ticketId) as ClusterOutcome;
    if (x.duplicateOf !== null) dT++;
    if (o.duplicateOf !== null) {
      dP++;
      if (o.duplicateOf === x.duplicateOf) dC++;
    }
    if (x.repeatOf !== null) rT++;
    if (o.repeatOf !== null) {
      rP++;
      if (o.repeatOf === x.repeatOf) rC++;
      if (x.staff) staffRepeats++;
    }
    if (x.duplicateOf !== null && o.duplicateOf !== x.duplicateOf) wrong.push(`${x.input.ticketId}: duplicate missed (${o.repeatOf !== null ? 'made a repeat' : 'no link'})`);
  }
  let together = 0;
  let correct = 0;
  let positives = 0;
  for (let i = 0; i < truth.length; i++) {
    for (let j = i + 1; j < truth.length; j++) {
      const a = truth[i] as Truth;
      const b = truth[j] as Truth;
      const same = a.incident === b.incident;
      const tog = out.get(a.input.ticketId)?.clusterId === out.get(b.input.ticketId)?.clusterId;
      if (same) positives++;
      if (tog) together++;
      if (same && tog) correct++;
      if (tog && !same) wrong.push(`${a.input.ticketId} ~ ${b.input.ticketId}: one cluster`);
    }
  }
  console.log(
    JSON.stringify(
      {
        config: overlay,
        reports: truth.length,
        duplicate: { truth: dT, predicted: dP, correct: dC, precision: f(dC, dP), recall: f(dC, dT) },
        repeat: { truth: rT, predicted: rP, correct: rC, precision: f(rC, rP), recall: f(rC, rT) },
        staffRepeats,
        cluster: { positives, together, correct, precision: f(correct, together), recall: f(correct, positives) },
        errors: wrong.slice(0, 30),
      },
      null,
      2,
    ),
  );
}

main();
