import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Agent, request } from 'undici';
import { sign } from '../../core/sdk/signature';
import { formatBeijingTime, type HotlineRecord } from '../../connectors/hotline-12345/normalize';
import { gridWorkerSamples } from '../../connectors/grid-worker/sim';

/** A small seeded generator (mulberry32): the same seed gives the same reports, faults and choices. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Districts of the webhook and hotline reports: their locality keys (`d:<name>`) fall on all six
 * partitions of a 6-partition layout, so every processor task gets work. Grid-worker reports are in
 * 新都区 (their code table).
 */
export const DISTRICTS = ['包河区', '蜀山区', '庐阳区', '瑶海区', '滨湖区', '经开区'] as const;
const ESTATES = ['幸福', '金阳', '翠竹', '梧桐', '东湖', '南山', '锦绣', '和平', '春晖', '望江', '丽水', '天鹅'];
const SUFFIX = ['小区', '花园', '家园', '新村'];
const PROBLEMS = [
  ['路灯不亮', '路灯坏了好几天', '晚上路灯一直不亮'],
  ['井盖破损', '井盖缺失很危险', '下水道井盖松动'],
  ['垃圾堆积没人清运', '垃圾桶满了没人收', '生活垃圾乱堆发臭'],
  ['夜间施工噪音扰民', '工地晚上施工太吵', '深夜施工噪音很大'],
  ['下水道堵塞污水外溢', '污水冒出来了', '下水道返味严重'],
  ['停水一整天', '家里没水了', '自来水水压很低'],
  ['电梯经常故障', '电梯困人', '电梯坏了没人修'],
  ['广场舞音响太吵', '广场舞噪音扰民', '晚上跳舞音乐声音太大'],
  ['消防通道被占用', '消防通道堆满杂物', '车辆堵住消防通道'],
  ['占道经营严重', '小摊贩占道', '门口流动摊贩占道'],
];
const TAILS = ['请尽快处理。', '希望有关部门管一管。', '已经反映多次了。', '影响居民出行。', '谢谢！'];

/** One issue several residents report (多人一诉): a place and a problem. */
interface Issue {
  district: string;
  estate: string;
  building: number;
  problem: number;
  lng: number;
  lat: number;
}

/**
 * The reports of one run, deterministic in the seed: issue i is opened with probability 0.45,
 * otherwise a report repeats one of the last 300 issues (another resident, another wording), so
 * clusters form within a district and the clustering state is worth restoring.
 */
export class ReportFactory {
  private readonly r: () => number;
  private readonly issues: Issue[] = [];
  readonly base = Date.UTC(2026, 10, 1, 0, 0, 0);

  constructor(
    readonly run: string,
    seed: number,
  ) {
    this.r = rng(seed);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)] as T;
  }

  private issue(districts: readonly string[]): Issue {
    const recent = this.issues.slice(-300).filter((x) => districts.includes(x.district));
    if (recent.length > 0 && this.r() > 0.45) return this.pick(recent);
    const district = this.pick(districts);
    const e = Math.floor(this.r() * ESTATES.length);
    const d = DISTRICTS.indexOf(district as (typeof DISTRICTS)[number]);
    const issue: Issue = {
      district,
      estate: `${ESTATES[e]}${SUFFIX[(e + d + 4) % SUFFIX.length]}`,
      building: 1 + Math.floor(this.r() * 30),
      problem: Math.floor(this.r() * PROBLEMS.length),
      lng: 117.18 + (d < 0 ? 0 : d) * 0.03 + e * 0.002,
      lat: 31.78 + e * 0.002,
    };
    this.issues.push(issue);
    return issue;
  }

  private text(s: Issue): string {
    return `${s.district}${s.estate}${s.building}栋${this.pick(PROBLEMS[s.problem] as string[])}，${this.pick(TAILS)}`;
  }

  /** Report time of report i (the source's own time: the ticket id is derived from it). */
  timeOf(i: number): number {
    return this.base + i * 7000;
  }

  /** A resident-app webhook body. */
  webhook(i: number): { sourceId: string; body: Buffer } {
    const s = this.issue(DISTRICTS);
    const sourceId = `EOS-${this.run}-W${i}`;
    const t = new Date(this.timeOf(i) + 8 * 3600_000).toISOString().replace('Z', '+08:00');
    const body = {
      reportId: sourceId,
      openid: `oEos${Math.floor(this.r() * 20000)}`,
      phone: `139${String(10000000 + Math.floor(this.r() * 89999999)).slice(-8)}`,
      appealType: '投诉',
      text: this.text(s),
      location: { lng: s.lng + this.r() * 5e-4, lat: s.lat + this.r() * 5e-4, coordType: 'gcj02', address: `${s.district}${s.estate}${s.building}栋`, district: s.district },
      submittedAt: t,
    };
    return { sourceId, body: Buffer.from(JSON.stringify(body)) };
  }

  /** A grid-worker terminal report (新都区 grid codes from the fixtures). */
  grid(i: number): { sourceId: string; report: Record<string, unknown> } {
    const samples = gridSamples();
    const sample = samples[i % samples.length] as Record<string, unknown>;
    const s = this.issue(['新都区']);
    const sourceId = `EOS-${this.run}-G${i}`;
    const t = new Date(this.timeOf(i) + 8 * 3600_000).toISOString().replace('Z', '+08:00');
    return { sourceId, report: { ...sample, reportId: sourceId, text: `${s.estate}${s.building}栋${this.pick(PROBLEMS[s.problem] as string[])}，网格员巡查发现。`, reportedAt: t } };
  }

  /** A 12345 work order for the polled upstream; GXSJ grows with i, so the poller's cursor passes every one. */
  hotline(i: number): HotlineRecord {
    const s = this.issue(DISTRICTS);
    const t = this.timeOf(i);
    return {
      GDBH: `EOS-${this.run}-H${i}`,
      LDSJ: formatBeijingTime(t),
      GXSJ: formatBeijingTime(t),
      LDHM: `1390000${String(i % 10000).padStart(4, '0')}`,
      LDRXM: '测某',
      SQNR: `市民来电反映：${this.text(s)}`,
      SQDZ: `${s.district}${s.estate}${s.building}栋`,
      XZQH: s.district,
      SQLX: '投诉',
      JJCD: '一般',
    };
  }
}

let samplesCache: Record<string, unknown>[] | null = null;
function gridSamples(): Record<string, unknown>[] {
  // fixtures with an unknown grid code have no district: keep the ones the code table places
  samplesCache ??= gridWorkerSamples().filter((s) => typeof s.gridCode === 'string' && (s.gridCode as string).startsWith('510114') && !('anonymous' in s && s.anonymous === true));
  return samplesCache;
}

export interface WebhookStats {
  requests: number;
  /** Answers other than 2xx, and connection errors (each followed by a retry at the other instance). */
  failures: number;
  /** Reports answered 2xx at least once. */
  acked: number;
  /** Deliveries after the first 2xx (a provider that did not see the answer). */
  redeliveries: number;
  /** 2xx answers whose ticket id differed from the report's first answer. */
  idMismatches: string[];
  /** 4xx answers (the bodies are valid: each is a bug). */
  rejected: { sourceId: string; status: number; body: string }[];
  /** Reports never acknowledged before the give-up deadline. */
  gaveUp: string[];
  /** First-try latency of acknowledged deliveries (ms). */
  latencies: number[];
}

/**
 * Signed resident-app webhooks to the intake instances, as a provider that retries does: a report
 * goes first to instance `first`; every retry (connection error, 5xx, 503 + Retry-After) goes to
 * the other instance; after the first 2xx a share of reports is delivered again — always to an
 * instance other than the one that answered — and some go to both at once. The same webhook-id
 * throughout, a fresh timestamp and signature per attempt. A report counts as acknowledged with
 * its first 2xx; the ticket id of every 2xx answer is kept.
 */
export class WebhookSender {
  readonly acked = new Map<string, string>();
  readonly stats: WebhookStats = { requests: 0, failures: 0, acked: 0, redeliveries: 0, idMismatches: [], rejected: [], gaveUp: [], latencies: [] };
  private readonly agent = new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 4000 });

  constructor(
    private readonly urls: () => string[],
    private readonly path: string,
    private readonly secret: string,
    private readonly giveUpMs = 600000,
  ) {}

  private async post(target: string, id: string, body: Buffer): Promise<{ status: number; ticketId: string | null; text: string }> {
    this.stats.requests++;
    const ts = Math.floor(Date.now() / 1000);
    const res = await request(`${target}${this.path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(this.secret, id, ts, body) },
      dispatcher: this.agent,
      headersTimeout: 60000,
      bodyTimeout: 60000,
    });
    const text = await res.body.text();
    let ticketId: string | null = null;
    if (res.statusCode >= 200 && res.statusCode < 300) {
      try {
        ticketId = (JSON.parse(text) as { ticketId?: string }).ticketId ?? null;
      } catch {
        ticketId = null;
      }
    }
    return { status: res.statusCode, ticketId, text };
  }

  /** Delivers until one 2xx from instance `first` or, on retries, the other; resolves with the answering instance, or null after the give-up deadline. */
  private async untilAcked(sourceId: string, id: string, body: Buffer, first: number, until: number): Promise<number | null> {
    for (let attempt = 0; ; attempt++) {
      const urls = this.urls();
      const k = (first + attempt) % urls.length;
      const target = urls[k] as string;
      const t0 = Date.now();
      try {
        const r = await this.post(target, id, body);
        if (r.status >= 200 && r.status < 300 && r.ticketId) {
          this.noteAck(sourceId, r.ticketId);
          if (attempt === 0) this.stats.latencies.push(Date.now() - t0);
          return k;
        }
        this.stats.failures++;
        if (r.status >= 400 && r.status < 500 && r.status !== 429) {
          this.stats.rejected.push({ sourceId, status: r.status, body: r.text.slice(0, 300) });
          return null;
        }
      } catch {
        this.stats.failures++; // connection refused or reset: the instance is down or was killed mid-request
      }
      if (Date.now() > until) {
        this.stats.gaveUp.push(sourceId);
        return null;
      }
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2)));
    }
  }

  private noteAck(sourceId: string, ticketId: string): void {
    const prior = this.acked.get(sourceId);
    if (prior === undefined) {
      this.acked.set(sourceId, ticketId);
      this.stats.acked++;
    } else if (prior !== ticketId) this.stats.idMismatches.push(`${sourceId}: ${prior} then ${ticketId}`);
  }

  /**
   * One report: `redeliver` 'after' delivers it once more to another instance after its first
   * 2xx; 'both' sends the first try to both instances at once.
   */
  async deliver(sourceId: string, body: Buffer, first: number, redeliver: 'none' | 'after' | 'both'): Promise<boolean> {
    const id = `msg_${sourceId}`;
    const until = Date.now() + this.giveUpMs;
    if (redeliver === 'both') {
      const r = await Promise.all([this.untilAcked(sourceId, id, body, first, until), this.untilAcked(sourceId, id, body, first + 1, until)]);
      this.stats.redeliveries++;
      return r.some((k) => k !== null);
    }
    const k = await this.untilAcked(sourceId, id, body, first, until);
    if (k === null) return false;
    if (redeliver === 'after') {
      this.stats.redeliveries++;
      await this.untilAcked(sourceId, id, body, k + 1, until);
    }
    return true;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

export interface GridStats {
  published: number;
  /** Reports with a JetStream PubAck (the terminal's acknowledgement). */
  acked: number;
  withMsgId: number;
  withoutMsgId: number;
  /** Republished with the same Nats-Msg-Id (JetStream's duplicate window drops it). */
  repeatSameId: number;
  /** Republished without a Nats-Msg-Id (a second stream message: the hub's dedup drops it). */
  repeatNoId: number;
  duplicatesDroppedByStream: number;
  failed: number;
}

/**
 * Grid-worker terminals on NATS JetStream: most reports carry a Nats-Msg-Id, some none; a share is
 * published again, with the same Nats-Msg-Id (dropped by the stream's duplicate window) or with
 * none (a second stream message that reaches the hub). A report is acknowledged by its PubAck.
 */
export class GridPublisher {
  readonly acked = new Set<string>();
  readonly stats: GridStats = { published: 0, acked: 0, withMsgId: 0, withoutMsgId: 0, repeatSameId: 0, repeatNoId: 0, duplicatesDroppedByStream: 0, failed: 0 };
  private constructor(
    private readonly nc: Awaited<ReturnType<typeof connect>>,
    private readonly js: JetStreamClient,
    private readonly subject: string,
  ) {}

  /** Connects and creates the run's stream (the connector finds it and never changes it). */
  static async open(servers: string, stream: string, subject: string): Promise<GridPublisher> {
    const nc = await connect({ servers, name: 'eos-grid-terminals', maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [subject], duplicate_window: 120 * 1e9 });
    return new GridPublisher(nc, jetstream(nc), subject);
  }

  private async pub(data: string, msgID: string | null): Promise<boolean> {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        this.stats.published++;
        const ack = await this.js.publish(this.subject, data, msgID ? { msgID } : {});
        if (ack.duplicate) this.stats.duplicatesDroppedByStream++;
        return true;
      } catch {
        this.stats.failed++;
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      }
    }
    return false;
  }

  async publish(sourceId: string, report: Record<string, unknown>, withId: boolean, repeat: 'none' | 'same-id' | 'no-id'): Promise<void> {
    const data = JSON.stringify(report);
    const msgID = withId ? `${sourceId}-m` : null;
    if (withId) this.stats.withMsgId++;
    else this.stats.withoutMsgId++;
    if (!(await this.pub(data, msgID))) return;
    this.acked.add(sourceId);
    this.stats.acked++;
    if (repeat === 'same-id' && msgID) {
      this.stats.repeatSameId++;
      await this.pub(data, msgID);
    } else if (repeat === 'no-id') {
      this.stats.repeatNoId++;
      await this.pub(data, null);
    }
  }

  async close(stream: string): Promise<void> {
    try {
      const jsm = await jetstreamManager(this.nc);
      await jsm.streams.delete(stream);
    } catch {
      // best effort: the shared server keeps a small stream
    }
    await this.nc.close();
  }
}
