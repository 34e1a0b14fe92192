import { IntakeError } from '../errors';
import type { RecordLog } from '../outputs/output';
import type { RawSealer } from '../pii/raw-seal';
import type { DeadLetter } from '../schema/types';
import type { RawInput } from '../sdk/connector';

/**
 * Stages after authentication. Only their dead letters may be replayed: a report refused at
 * transport or auth (size, media type, signature, api_key, freshness) or bounced by policy never
 * becomes a ticket through replay, which skips the transport checks.
 */
export const REPLAYABLE_STAGES: ReadonlySet<DeadLetter['stage']> = new Set(['normalize', 'validate', 'enrich', 'pipeline']);

export function isReplayable(dl: Pick<DeadLetter, 'stage'>): boolean {
  return REPLAYABLE_STAGES.has(dl.stage);
}

/** What the admin API shows of a dead letter: everything but the raw bytes. */
export interface DeadLetterSummary {
  id: string;
  at: string;
  connectorId: string;
  channel: DeadLetter['channel'];
  stage: DeadLetter['stage'];
  error: DeadLetter['error'];
  replayOf: string | null;
  contentType: string;
  sealed: boolean;
  /** Bytes of the raw body kept in the record (after base64 decoding; an estimate when sealed). */
  rawBytes: number;
  replayable: boolean;
}

export interface DeadLetterQuery {
  connector?: string;
  /** Only records at or after this time (epoch ms). */
  sinceMs: number;
  /** Page cursor: only records older than this id. */
  before?: string;
  limit: number;
}

/**
 * The admin plane's view of dead letters. `list` and `summary` answer from an index in memory
 * (no read of the log per request); `fetch` reads one full record (raw envelope included) for a
 * replay. An implementation over a store that any instance can query can replace the in-memory
 * one without touching the admin routes.
 */
export interface DeadLetterIndex {
  /** Newest first. */
  list(q: DeadLetterQuery): DeadLetterSummary[];
  summary(id: string): DeadLetterSummary | null;
  fetch(id: string): Promise<DeadLetter | null>;
}

export function summarise(dl: DeadLetter): DeadLetterSummary {
  return {
    id: dl.id,
    at: dl.at,
    connectorId: dl.connectorId,
    channel: dl.channel,
    stage: dl.stage,
    error: { ...dl.error, message: dl.error.message.slice(0, 500) },
    replayOf: dl.replayOf,
    contentType: dl.raw.contentType,
    sealed: dl.raw.bodyEncryption !== undefined,
    rawBytes: Math.floor((dl.raw.body.length * 3) / 4),
    replayable: isReplayable(dl),
  };
}

export interface DeadLetterIndexOptions {
  /** Summaries kept (the newest). */
  max: number;
  /** Bytes of full replayable records written since start kept for replay without a read. */
  cacheBytes: number;
  /** Reads of the output for a replay, running or waiting, beyond which a replay is refused (503). */
  maxPendingReads: number;
}

/**
 * The summaries of the newest `max` dead letters, in time order: loaded once from the dead-letter
 * topic at start (`load`), then fed by the pipeline as it writes (`add`). Memory is bounded by
 * `max` summaries (a few hundred bytes each) plus `cacheBytes` of recent replayable records, so a
 * replay of a recent dead letter reads nothing. Any other replay reads the record back from the
 * output, one read at a time and at most `maxPendingReads` queued, so concurrent requests cannot
 * multiply the cost.
 */
export class MemoryDeadLetterIndex implements DeadLetterIndex {
  private entries: DeadLetterSummary[] = [];
  private readonly byId = new Map<string, DeadLetterSummary>();
  private readonly recent = new Map<string, DeadLetter>();
  private recentBytes = 0;
  private fetching: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private readonly o: DeadLetterIndexOptions;

  constructor(
    private readonly log: RecordLog,
    private readonly topic: string,
    opts: Partial<DeadLetterIndexOptions> = {},
  ) {
    this.o = { max: 50_000, cacheBytes: 16 * 1024 * 1024, maxPendingReads: 4, ...opts };
  }

  get size(): number {
    return this.entries.length;
  }

  /** Reads the dead-letter topic from `sinceMs` into the index; returns the records read. */
  async load(sinceMs: number): Promise<number> {
    return this.log.scan(this.topic, sinceMs, (r) => {
      if (r.value === null) return;
      try {
        this.add(JSON.parse(r.value) as DeadLetter, false);
      } catch {
        // an unreadable record is skipped; it stays on the topic
      }
    });
  }

  /** Indexes a durable dead letter; `cache`: keep the full record for replay if there is room. */
  add(dl: DeadLetter, cache = true): void {
    if (this.byId.has(dl.id)) return;
    const s = summarise(dl);
    if (cache && s.replayable) this.remember(dl);
    const last = this.entries[this.entries.length - 1];
    this.entries.push(s);
    // ids are ULIDs: out of order only across instances or clock steps
    if (last && last.id > s.id) this.entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.byId.set(s.id, s);
    const max = this.o.max;
    if (this.entries.length > max + Math.ceil(max / 10)) {
      for (const old of this.entries.splice(0, this.entries.length - max)) {
        this.byId.delete(old.id);
        this.forget(old.id);
      }
    }
  }

  private static bytes(dl: DeadLetter): number {
    return dl.raw.body.length + 2048;
  }

  private remember(dl: DeadLetter): void {
    const n = MemoryDeadLetterIndex.bytes(dl);
    if (n > this.o.cacheBytes) return;
    this.recent.set(dl.id, dl);
    this.recentBytes += n;
    for (const [id] of this.recent) {
      if (this.recentBytes <= this.o.cacheBytes) break;
      this.forget(id);
    }
  }

  private forget(id: string): void {
    const dl = this.recent.get(id);
    if (!dl) return;
    this.recent.delete(id);
    this.recentBytes -= MemoryDeadLetterIndex.bytes(dl);
  }

  list(q: DeadLetterQuery): DeadLetterSummary[] {
    const out: DeadLetterSummary[] = [];
    const since = new Date(q.sinceMs).toISOString();
    for (let i = this.entries.length - 1; i >= 0 && out.length < q.limit; i--) {
      const s = this.entries[i] as DeadLetterSummary;
      if (s.at < since) break;
      if (q.before !== undefined && s.id >= q.before) continue;
      if (q.connector !== undefined && s.connectorId !== q.connector) continue;
      out.push(s);
    }
    return out;
  }

  summary(id: string): DeadLetterSummary | null {
    return this.byId.get(id) ?? null;
  }

  async fetch(id: string): Promise<DeadLetter | null> {
    const s = this.byId.get(id);
    if (!s) return null;
    const cached = this.recent.get(id);
    if (cached) return cached;
    if (this.pending >= this.o.maxPendingReads) throw new IntakeError('INTAKE_ERR_SINK_UNAVAILABLE', 'replays are reading the dead-letter topic already; retry shortly', true, { httpStatus: 503 });
    this.pending++;
    const run = this.fetching.then(() => this.read(s)).finally(() => this.pending--);
    this.fetching = run.catch(() => undefined);
    return run;
  }

  private async read(s: DeadLetterSummary): Promise<DeadLetter | null> {
    let found: DeadLetter | null = null;
    const quoted = `"id":"${s.id}"`;
    await this.log.scan(this.topic, Date.parse(s.at) - 60_000, (r) => {
      if (found || r.value === null || r.key !== s.connectorId || !r.value.includes(quoted)) return;
      const dl = JSON.parse(r.value) as DeadLetter;
      if (dl.id === s.id) found = dl;
    });
    return found;
  }
}

/** The raw input a replay submits: the archived bytes (unsealed) and headers of the dead letter. */
export function replayInput(dl: DeadLetter, sealer: RawSealer | null): RawInput {
  if (dl.raw.bodyEncryption && !sealer) throw new IntakeError('INTAKE_ERR_CONFIG', 'the record is sealed and no raw key is configured', false, { httpStatus: 409 });
  const body = sealer && dl.raw.bodyEncryption ? sealer.open(dl.raw) : Buffer.from(dl.raw.body, 'base64');
  const headers = Object.fromEntries(Object.entries(dl.raw.headers).filter((e): e is [string, string] => e[1] !== undefined));
  return { transport: 'replay', body, contentType: dl.raw.contentType, headers, sourceId: dl.raw.sourceId };
}
