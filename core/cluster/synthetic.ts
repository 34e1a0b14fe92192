/**
 * A synthetic multi-channel city with ground truth, for tests and benchmarks: incidents (one
 * problem at one place) reported by several residents through different channels with operator
 * templates, paraphrases and coordinate jitter, cross-channel copies (a 110 hand-over also called
 * in to 12345, an app report mirrored into city management) and repeat callers. Seeded: the same
 * options give the same reports.
 */
import type { ClusterInput } from './engine';

export interface SyntheticReport {
  input: ClusterInput;
  /** Ground truth: the incident (true cluster). */
  incident: string;
  /** Ground truth: the report this one copies through another channel, or null. */
  duplicateOf: string | null;
  /** Ground truth: this reporter's earlier report on the same incident, or null. */
  repeatOf: string | null;
}

export interface SyntheticOptions {
  seed?: number;
  /** Number of incidents. Default 200. */
  incidents?: number;
  /** Simulated span (hours) over which incidents start. Default 24 * 14. */
  spanHours?: number;
  /** Estates (specific places) in the city. Default 300. */
  estates?: number;
  /** Probability a report is copied into a second channel. Default 0.08. */
  copyRate?: number;
  /** Probability a reporter calls again about the same incident. Default 0.1. */
  repeatRate?: number;
  /** Probability a reporter later reports a different problem at the same estate. Default 0.03. */
  otherIssueRate?: number;
  /** Start time (ms). Default 2026-01-05T00:00:00Z. */
  startMs?: number;
}

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = Array.from('金阳光华明翠景春秋东西南北新锦绣龙凤桂兰梅竹松柏星月湖山河海湾泉林森荷桃李枫云天福瑞祥和康宁安泰');
const ESTATE_SUFFIX = ['小区', '花园', '家园', '苑', '新村', '公寓'];
const ROADS = Array.from({ length: 40 }, (_, i) => `${'长江黄河淮河巢湖徽州宿松望江繁华合作芙蓉'.slice(i % 10, (i % 10) + 2)}${['路', '大道', '街'][i % 3]}`);

/** Problem types, each with paraphrases residents and operators use for it. */
const PROBLEMS: string[][] = [
  ['路灯不亮', '路灯坏了晚上一片漆黑', '路灯损坏好几天不亮', '晚上路灯全灭了'],
  ['井盖缺失', '井盖丢了很危险', '窨井盖不见了', '下水道井盖破损缺失'],
  ['垃圾堆积没人清运', '垃圾好几天没有清理', '生活垃圾堆满发臭', '垃圾桶满了没人收'],
  ['施工噪音扰民', '工地夜间施工噪音很大', '晚上施工吵得睡不着', '工地半夜还在施工扰民'],
  ['下水道堵塞污水外溢', '下水道堵了污水冒出来', '污水管道堵塞外溢', '化粪池堵塞污水横流'],
  ['停水', '家里突然停水没有通知', '自来水停了一整天', '小区停水很久没来'],
  ['违章停车堵塞通道', '车辆乱停堵住消防通道', '违停车辆占用人行道', '乱停车把路堵了'],
  ['广场舞音响扰民', '广场舞声音太大', '跳广场舞音响噪音扰民', '晚上广场舞吵得厉害'],
  ['路面塌陷', '马路上塌了一个大坑', '路面出现塌陷很危险', '道路塌陷形成深坑'],
  ['餐馆油烟扰民', '饭店油烟直排到居民家', '烧烤油烟熏得没法开窗', '餐饮油烟污染严重'],
  ['电梯故障困人', '电梯经常坏还困过人', '电梯停运老人下不了楼', '电梯故障一直没修'],
  ['流浪狗伤人', '流浪狗很多还咬人', '小区流浪犬成群出没', '野狗追咬路人'],
  ['树木倒伏压住道路', '大树被风刮倒挡住路', '行道树倒了压到车', '树倒在路中间'],
  ['供暖不热', '暖气不热屋里很冷', '集中供暖温度太低', '暖气片冰凉'],
  ['占道经营', '小摊贩占道经营', '商贩把摊摆到马路上', '门店占用人行道经营'],
  ['消防通道被占', '消防通道堆满杂物', '楼道堆放杂物堵塞消防通道', '消防通道被锁死'],
];

const IMPACTS = ['影响居民出行', '存在安全隐患', '严重影响休息', '居民意见很大', '已经持续好几天', '老人孩子很不方便'];

type Channel = 'hotline-12345' | 'police-110' | 'city-management' | 'message-board' | 'resident-app' | 'grid-worker';
const CHANNELS: Channel[] = ['hotline-12345', 'hotline-12345', 'hotline-12345', 'police-110', 'city-management', 'message-board', 'resident-app', 'grid-worker'];

function wrap(channel: Channel, place: string, road: string, problem: string, impact: string, r: () => number): { title: string | null; text: string } {
  const phone = `1${3 + Math.floor(r() * 6)}${Math.floor(r() * 10)}****${String(Math.floor(r() * 10000)).padStart(4, '0')}`;
  switch (channel) {
    case 'hotline-12345':
      return r() < 0.5
        ? { title: null, text: `市民来电反映：${road}${place}${problem}，${impact}，请相关部门尽快处理。来电号码${phone}` }
        : { title: null, text: `来电人称${place}附近${problem}，${impact}。希望有关部门尽快核实处理，谢谢。` };
    case 'police-110':
      return { title: null, text: `报警人称：${place}（${road}）${problem}，${impact}，经研判属非警务警情，转12345处置。` };
    case 'city-management':
      return { title: `${place}${problem.slice(0, 6)}`, text: `监督员巡查上报：${road}${place}门口${problem}。` };
    case 'message-board':
      return { title: `${place}${problem}`, text: `尊敬的领导您好！我是${place}的居民，${problem}，${impact}，恳请领导关注解决，谢谢！` };
    case 'resident-app':
      return { title: null, text: `${problem}，位置：${place}，${impact}` };
    case 'grid-worker':
      return { title: null, text: `网格员巡查发现${place}${problem}，${impact}，已拍照上报。` };
  }
}

/** Generate reports sorted by time, with ground truth. */
export function generateSynthetic(opts: SyntheticOptions = {}): SyntheticReport[] {
  const r = prng(opts.seed ?? 1);
  const nIncidents = opts.incidents ?? 200;
  const span = (opts.spanHours ?? 24 * 14) * 3_600_000;
  const start = opts.startMs ?? Date.UTC(2026, 0, 5);
  const copyRate = opts.copyRate ?? 0.08;
  const repeatRate = opts.repeatRate ?? 0.1;
  const otherIssueRate = opts.otherIssueRate ?? 0.03;
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

  const cores = new Set<string>();
  const estates = Array.from({ length: opts.estates ?? 300 }, (_, i) => {
    // Distinct name cores: two estates named alike would make the ground truth ambiguous.
    let core = '';
    for (let tries = 0; tries < 100 && (core === '' || cores.has(core)); tries++) {
      core = `${pick(SYLLABLES)}${pick(SYLLABLES)}${i % 3 === 0 || tries > 20 ? pick(SYLLABLES) : ''}`;
    }
    cores.add(core);
    const name = `${core}${pick(ESTATE_SUFFIX)}`;
    const district = `D${1 + (i % 5)}`;
    return {
      name,
      road: pick(ROADS),
      district,
      street: `${district}-S${Math.floor(r() * 8)}`,
      lon: 117.15 + r() * 0.3,
      lat: 31.75 + r() * 0.25,
    };
  });

  const out: SyntheticReport[] = [];
  let n = 0;
  let reporterSeq = 0;
  const used = new Set<string>();
  for (let k = 0; k < nIncidents; k++) {
    const incident = `inc${k}`;
    // One incident per (estate, problem): two identical incidents would be indistinguishable.
    let estate = pick(estates);
    let problem = pick(PROBLEMS);
    for (let tries = 0; tries < 50 && used.has(`${estate.name}|${problem[0]}`); tries++) {
      estate = pick(estates);
      problem = pick(PROBLEMS);
    }
    used.add(`${estate.name}|${problem[0]}`);
    const t0 = start + Math.floor(r() * span);
    const size = Math.max(1, Math.round(Math.exp(r() * Math.log(16)) - 0.5));
    for (let j = 0; j < size; j++) {
      const channel = pick(CHANNELS);
      const token = r() < 0.1 ? null : `tok${reporterSeq++}`;
      const t = t0 + Math.floor(r() * 36 * 3_600_000);
      const mk = (ch: Channel, time: number, tok: string | null, para: string, impact = pick(IMPACTS)): ClusterInput => {
        const w = wrap(ch, estate.name, estate.road, para, impact, r);
        const hasPoint = ch !== 'message-board' && r() < 0.85;
        const id = `T${String(n++).padStart(8, '0')}`;
        return {
          ticketId: id,
          timeMs: time,
          title: w.title,
          text: w.text,
          contactToken: tok,
          channel: ch,
          sourceId: `${ch}-${id}`,
          jurisdiction: { district: estate.district, street: estate.street, community: null, grid: null },
          point: hasPoint ? { lon: estate.lon + (r() - 0.5) * 0.002, lat: estate.lat + (r() - 0.5) * 0.002 } : null,
          categoryFamily: null,
          appealType: 'complaint',
          reporterRole: ch === 'city-management' ? 'inspector' : ch === 'grid-worker' ? 'grid-worker' : 'resident',
        };
      };
      const para = pick(problem);
      const impact = pick(IMPACTS);
      const input = mk(channel, t, token, para, impact);
      out.push({ input, incident, duplicateOf: null, repeatOf: null });
      if (r() < copyRate) {
        // The same report through a second channel: same words, another operator wrapper.
        const ch2: Channel = channel === 'police-110' ? 'hotline-12345' : channel === 'resident-app' ? 'city-management' : 'police-110';
        // A hand-over carries the caller's own description (problem and impact) into the new record.
        const copy = mk(ch2, t + Math.floor(r() * 6 * 3_600_000), token, para, impact);
        out.push({ input: copy, incident, duplicateOf: input.ticketId, repeatOf: null });
      }
      if (token !== null && r() < otherIssueRate) {
        // The same resident later reports a different problem at the same estate: a new incident,
        // not a repeat (one caller, two issues).
        const other = PROBLEMS.filter((p) => p !== problem && !used.has(`${estate.name}|${p[0]}`));
        if (other.length > 0) {
          const p2 = pick(other);
          used.add(`${estate.name}|${p2[0]}`);
          const again = mk('hotline-12345', t + Math.floor((1 + r() * 4) * 24 * 3_600_000), token, pick(p2));
          out.push({ input: again, incident: `${incident}-other`, duplicateOf: null, repeatOf: null });
        }
      }
      if (token !== null && r() < repeatRate) {
        const again = mk('hotline-12345', t + Math.floor((1 + r() * 4) * 24 * 3_600_000), token, pick(problem));
        out.push({ input: again, incident, duplicateOf: null, repeatOf: input.ticketId });
      }
    }
  }
  return out.sort((a, b) => a.input.timeMs - b.input.timeMs || (a.input.ticketId < b.input.ticketId ? -1 : 1));
}

export interface KindScores {
  truth: number;
  predicted: number;
  correct: number;
  precision: number;
  recall: number;
}

function kind(truth: number, predicted: number, correct: number): KindScores {
  const f = (x: number): number => Math.round(x * 10000) / 10000;
  return { truth, predicted, correct, precision: f(predicted === 0 ? 1 : correct / predicted), recall: f(truth === 0 ? 1 : correct / truth) };
}

/**
 * Precision and recall per kind on synthetic ground truth: duplicates (report-level: flagged with
 * the right original), clusters (pairwise, merges applied), repeats (report-level: flagged as a
 * repeat of the same reporter's incident).
 */
export function evaluateSynthetic(
  reports: SyntheticReport[],
  outcome: ReadonlyMap<string, { duplicateOf: string | null; repeatOf: string | null; clusterId: string }>,
): { duplicate: KindScores; cluster: KindScores; repeat: KindScores } {
  const truthById = new Map(reports.map((x) => [x.input.ticketId, x]));
  let dT = 0;
  let dP = 0;
  let dC = 0;
  let rT = 0;
  let rP = 0;
  let rC = 0;
  for (const x of reports) {
    const o = outcome.get(x.input.ticketId);
    if (o === undefined) continue;
    if (x.duplicateOf !== null) dT++;
    if (o.duplicateOf !== null) {
      dP++;
      if (o.duplicateOf === x.duplicateOf) dC++;
    }
    if (x.repeatOf !== null) rT++;
    if (o.repeatOf !== null) {
      rP++;
      const root = truthById.get(o.repeatOf);
      if (x.repeatOf !== null && root !== undefined && root.incident === x.incident) rC++;
    }
  }
  // pairwise cluster scores
  const byTrue = new Map<string, number>();
  const byPred = new Map<string, number>();
  const byBoth = new Map<string, number>();
  for (const x of reports) {
    const o = outcome.get(x.input.ticketId);
    if (o === undefined) continue;
    byTrue.set(x.incident, (byTrue.get(x.incident) ?? 0) + 1);
    byPred.set(o.clusterId, (byPred.get(o.clusterId) ?? 0) + 1);
    const k = `${x.incident}\u0000${o.clusterId}`;
    byBoth.set(k, (byBoth.get(k) ?? 0) + 1);
  }
  const pairs = (m: Map<string, number>): number => [...m.values()].reduce((s, v) => s + (v * (v - 1)) / 2, 0);
  return {
    duplicate: kind(dT, dP, dC),
    cluster: kind(pairs(byTrue), pairs(byPred), pairs(byBoth)),
    repeat: kind(rT, rP, rC),
  };
}
