import type { CanonicalTicket, Channel, ClusterEvent } from '../schema/types';
import { MIGRATIONS, type Migration } from './migrations';
import {
  CHANNELS,
  type ClusterDetail,
  type ClusterMember,
  type ClusterQuery,
  type ClusterSummary,
  type IntakeCount,
  type MaterialBatch,
  type Page,
  type PageRequest,
  type Position,
  type StoredTicket,
  type TicketFilter,
  type TicketStore,
  type TicketSummary,
  type TriageAssignment,
} from './types';

export type Row = Record<string, unknown>;

/**
 * The few operations the shared store needs from a database driver. SQL uses `?` placeholders;
 * the PostgreSQL driver numbers them.
 */
export interface SqlDriver {
  readonly kind: 'sqlite' | 'postgres';
  all(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
  /** Runs `fn` in one transaction (serialised with other transactions of this driver). */
  tx<T>(fn: (d: SqlDriver) => Promise<T>): Promise<T>;
  /** Takes the migration lock inside a transaction (PostgreSQL: advisory xact lock; SQLite: the write lock it already has). */
  lockMigrations(d: SqlDriver): Promise<void>;
  tryLease(name: string): Promise<boolean>;
  close(): Promise<void>;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const iso = (ms: unknown): string => new Date(num(ms)).toISOString();
const isoOrNull = (ms: unknown): string | null => (ms === null || ms === undefined ? null : iso(ms));
const parseDoc = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
const excerpt = (text: string): string => (text.length > 140 ? `${text.slice(0, 140)}…` : text);
const timeOf = (s: string | null | undefined): number | null => {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
};

/** Keyset cursors: base64url of [received_ms, id] — opaque to clients, validated on the way in. */
export function encodeCursor(ms: number, id: string): string {
  return Buffer.from(JSON.stringify([ms, id])).toString('base64url');
}

export function decodeCursor(c: string | null | undefined): [number, string] | null {
  if (!c) return null;
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && v[1].length <= 64) return [v[0] as number, v[1]];
  } catch {
    // fall through
  }
  throw new CursorError();
}

export class CursorError extends Error {
  constructor() {
    super('cursor is not valid (use the `next` value of the previous page)');
  }
}

const MAX_RESOLVE_HOPS = 64;
/** Rows per multi-row statement (well under SQLite's 32,766 and PostgreSQL's 65,535 parameters). */
const CHUNK = 200;

interface ClusterRow {
  id: string;
  primary: string;
  size: number;
  reporters: number;
  block: string | null;
  hot: boolean;
  hotReporters: number | null;
  hotMs: number | null;
  firstMs: number;
  lastMs: number;
  mergedInto: string | null;
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

const values = (rows: number, cols: number): string => Array.from({ length: rows }, () => `(${Array.from({ length: cols }, () => '?').join(', ')})`).join(', ');

async function upsertRows(d: SqlDriver, table: string, rows: unknown[][], conflict: string): Promise<void> {
  for (const part of chunks(rows, CHUNK)) {
    if (part.length === 0) continue;
    await d.run(`INSERT INTO ${table} VALUES ${values(part.length, (part[0] as unknown[]).length)} ${conflict}`, part.flat());
  }
}

function conditions(...initial: string[]): { where: string[]; params: unknown[]; add: (sql: string, ...values: unknown[]) => void } {
  const where = [...initial];
  const params: unknown[] = [];
  return {
    where,
    params,
    add: (sql, ...values) => {
      where.push(sql);
      params.push(...values);
    },
  };
}

/** The ticket store over a SQL driver: all logic shared by SQLite and PostgreSQL. */
export class SqlTicketStore implements TicketStore {
  constructor(protected readonly db: SqlDriver) {}

  get kind(): 'sqlite' | 'postgres' {
    return this.db.kind;
  }

  async migrate(): Promise<number> {
    await this.db.tx(async (d) => {
      await this.db.lockMigrations(d);
      await d.run('CREATE TABLE IF NOT EXISTS store_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)');
    });
    for (const m of MIGRATIONS) {
      await this.db.tx(async (d) => {
        await this.db.lockMigrations(d);
        const done = await d.all('SELECT version FROM store_migrations WHERE version = ?', [m.version]);
        if (done.length > 0) return;
        for (const sql of this.sqlOf(m)) await d.run(sql);
        await d.run('INSERT INTO store_migrations (version, name, applied_ms) VALUES (?, ?, ?)', [m.version, m.name, Date.now()]);
      });
    }
    const rows = await this.db.all('SELECT MAX(version) AS v FROM store_migrations');
    return num(rows[0]?.v ?? 0);
  }

  private sqlOf(m: Migration): string[] {
    return this.db.kind === 'sqlite' ? m.sqlite : m.postgres;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async ping(): Promise<boolean> {
    try {
      await this.db.all('SELECT 1 AS one');
      return true;
    } catch {
      return false;
    }
  }

  tryLease(consumer: string): Promise<boolean> {
    return this.db.tryLease(consumer);
  }

  async positions(consumer: string): Promise<Position[]> {
    const rows = await this.db.all('SELECT topic, partition, next_offset FROM consumer_positions WHERE consumer = ? ORDER BY topic, partition', [consumer]);
    return rows.map((r) => ({ topic: String(r.topic), partition: num(r.partition), next: String(r.next_offset) }));
  }

  /**
   * One transaction, a few set-based statements per batch (not one round trip per record):
   * new events are found by inserting them (ON CONFLICT DO NOTHING RETURNING id), merges move
   * members, cluster summaries are folded in memory and upserted together, tickets are upserted
   * with their cluster resolved through the merges, then the positions.
   */
  async apply(b: MaterialBatch): Promise<void> {
    if (b.tickets.length === 0 && b.events.length === 0 && b.positions.length === 0) return;
    await this.db.tx(async (d) => {
      const events = await this.insertEvents(d, b.events);
      // Merges first: a ticket in the same batch then resolves to its cluster's current id.
      for (const e of events) if (e.type === 'merged') await this.applyMerge(d, e);
      await this.foldClusters(d, events);
      await this.upsertTickets(d, b.tickets);
      const now = Date.now();
      await upsertRows(
        d,
        'consumer_positions (consumer, topic, partition, next_offset, updated_ms)',
        b.positions.map((p) => [b.consumer, p.topic, p.partition, p.next, now]),
        'ON CONFLICT (consumer, topic, partition) DO UPDATE SET next_offset = excluded.next_offset, updated_ms = excluded.updated_ms',
      );
    });
  }

  /** Inserts the batch's events; returns those not seen before, in batch order (their effects are not in the store yet). */
  private async insertEvents(d: SqlDriver, all: ClusterEvent[]): Promise<ClusterEvent[]> {
    const byId = new Map<string, ClusterEvent>();
    for (const e of all) if (!byId.has(e.id)) byId.set(e.id, e);
    const fresh = new Set<string>();
    for (const part of chunks([...byId.values()], CHUNK)) {
      const rows = await d.all(
        `INSERT INTO cluster_events (id, cluster_id, type, at_ms, ticket_id, size, reporter_count, score) VALUES ${values(part.length, 8)} ON CONFLICT (id) DO NOTHING RETURNING id`,
        part.flatMap((e) => [e.id, e.clusterId, e.type, timeOf(e.at) ?? 0, e.ticketId, e.size, e.reporterCount, e.link ? JSON.stringify(e.link.score) : null]),
      );
      for (const r of rows) fresh.add(String(r.id));
    }
    return [...byId.values()].filter((e) => fresh.has(e.id));
  }

  private async resolveAll(d: SqlDriver, ids: Iterable<string>): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let pending = [...new Set(ids)];
    for (const id of pending) out.set(id, id);
    for (let hop = 0; hop < MAX_RESOLVE_HOPS && pending.length > 0; hop++) {
      const next: string[] = [];
      const cur = new Map<string, string[]>();
      for (const [id, at] of out) if (pending.includes(at)) cur.set(at, [...(cur.get(at) ?? []), id]);
      for (const part of chunks([...cur.keys()], CHUNK)) {
        const rows = await d.all(`SELECT from_id, into_id FROM cluster_merges WHERE from_id IN (${part.map(() => '?').join(', ')})`, part);
        for (const r of rows) {
          const into = String(r.into_id);
          if (into === r.from_id) continue;
          for (const id of cur.get(String(r.from_id)) ?? []) out.set(id, into);
          next.push(into);
        }
      }
      pending = [...new Set(next)];
    }
    return out;
  }

  private async applyMerge(d: SqlDriver, e: ClusterEvent): Promise<void> {
    const target = (await this.resolveAll(d, [e.clusterId])).get(e.clusterId) ?? e.clusterId;
    for (const from of e.mergedFrom) {
      if (from === target) continue;
      await d.run('INSERT INTO cluster_merges (from_id, into_id) VALUES (?, ?) ON CONFLICT (from_id) DO UPDATE SET into_id = excluded.into_id', [from, target]);
      await d.run('UPDATE cluster_merges SET into_id = ? WHERE into_id = ?', [target, from]);
      await d.run('UPDATE clusters SET merged_into = ? WHERE id = ? OR merged_into = ?', [target, from, from]);
      await d.run('UPDATE tickets SET cluster_root = ? WHERE cluster_root = ?', [target, from]);
    }
  }

  /** Folds new events into the cluster summaries: the latest event (by time, then size) wins; hot is sticky. */
  private async foldClusters(d: SqlDriver, events: ClusterEvent[]): Promise<void> {
    if (events.length === 0) return;
    const ids = [...new Set(events.map((e) => e.clusterId))];
    const cur = new Map<string, ClusterRow>();
    for (const part of chunks(ids, CHUNK)) {
      const rows = await d.all(`SELECT id, primary_ticket_id, size, reporter_count, block, hot, hot_reporters, hot_ms, first_ms, last_ms, merged_into FROM clusters WHERE id IN (${part.map(() => '?').join(', ')})`, part);
      for (const r of rows) cur.set(String(r.id), { id: String(r.id), primary: String(r.primary_ticket_id), size: num(r.size), reporters: num(r.reporter_count), block: (r.block as string | null) ?? null, hot: num(r.hot) === 1, hotReporters: numOrNull(r.hot_reporters), hotMs: numOrNull(r.hot_ms), firstMs: num(r.first_ms), lastMs: num(r.last_ms), mergedInto: (r.merged_into as string | null) ?? null });
    }
    const roots = await this.resolveAll(d, ids);
    for (const e of events) {
      const at = timeOf(e.at) ?? 0;
      const hot = e.type === 'hot';
      const hotReporters = e.hot?.reporters ?? e.reporterCount;
      const c = cur.get(e.clusterId);
      if (!c) {
        const root = roots.get(e.clusterId) ?? e.clusterId;
        cur.set(e.clusterId, { id: e.clusterId, primary: e.primaryTicketId, size: e.size, reporters: e.reporterCount, block: e.block, hot, hotReporters: hot ? hotReporters : null, hotMs: hot ? at : null, firstMs: at, lastMs: at, mergedInto: root === e.clusterId ? null : root });
        continue;
      }
      if (at > c.lastMs || (at === c.lastMs && e.size >= c.size)) Object.assign(c, { primary: e.primaryTicketId, size: e.size, reporters: e.reporterCount, block: e.block });
      if (hot && (c.hotMs === null || at >= c.hotMs)) Object.assign(c, { hotReporters, hotMs: at });
      c.hot ||= hot;
      c.firstMs = Math.min(c.firstMs, at);
      c.lastMs = Math.max(c.lastMs, at);
    }
    await upsertRows(
      d,
      'clusters (id, primary_ticket_id, size, reporter_count, block, hot, hot_reporters, hot_ms, first_ms, last_ms, merged_into)',
      [...cur.values()].filter((c) => ids.includes(c.id)).map((c) => [c.id, c.primary, c.size, c.reporters, c.block, c.hot ? 1 : 0, c.hotReporters, c.hotMs, c.firstMs, c.lastMs, c.mergedInto]),
      `ON CONFLICT (id) DO UPDATE SET primary_ticket_id = excluded.primary_ticket_id, size = excluded.size, reporter_count = excluded.reporter_count, block = excluded.block,
         hot = excluded.hot, hot_reporters = excluded.hot_reporters, hot_ms = excluded.hot_ms, first_ms = excluded.first_ms, last_ms = excluded.last_ms`,
    );
  }

  private async upsertTickets(d: SqlDriver, tickets: CanonicalTicket[]): Promise<void> {
    if (tickets.length === 0) return;
    // the last version of a ticket in the batch wins (records of one ticket are in order)
    const last = new Map<string, CanonicalTicket>();
    for (const t of tickets) last.set(t.id, t);
    const roots = await this.resolveAll(d, [...last.values()].map((t) => t.cluster.id).filter((x): x is string => x !== null));
    await upsertRows(
      d,
      'tickets (id, channel, connector_id, source_id, received_ms, status, due_ms, closed_ms, cluster_id, cluster_root, doc)',
      [...last.values()].map((t) => [t.id, t.source.channel, t.source.connectorId, t.source.sourceId, timeOf(t.source.receivedAt) ?? 0, t.routing.status, timeOf(t.routing.dueAt), null, t.cluster.id, t.cluster.id === null ? null : (roots.get(t.cluster.id) ?? t.cluster.id), JSON.stringify(t)]),
      `ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, connector_id = excluded.connector_id, source_id = excluded.source_id,
         received_ms = excluded.received_ms, status = excluded.status, due_ms = excluded.due_ms, cluster_id = excluded.cluster_id,
         cluster_root = excluded.cluster_root, doc = excluded.doc`,
    );
  }

  async ticket(id: string): Promise<StoredTicket | null> {
    const [r] = await this.db.all(
      'SELECT t.doc, t.cluster_root, a.category_code, a.category_name, a.subcategory_code, a.subcategory_name, a.department, a.actor, a.at_ms, a.note FROM tickets t LEFT JOIN triage_assignments a ON a.ticket_id = t.id WHERE t.id = ?',
      [id],
    );
    if (!r) return null;
    return { ticket: parseDoc<CanonicalTicket>(r.doc), clusterId: (r.cluster_root as string | null) ?? null, triage: assignmentOf(id, r) };
  }

  async tickets(f: TicketFilter, page: PageRequest): Promise<Page<TicketSummary>> {
    const { where, params, add } = conditions();
    if (f.channel) add('t.channel = ?', f.channel);
    if (f.connectorId) add('t.connector_id = ?', f.connectorId);
    if (f.sourceId) add('t.source_id = ?', f.sourceId);
    if (f.status) add('t.status = ?', f.status);
    if (f.sinceMs !== undefined) add('t.received_ms >= ?', f.sinceMs);
    const c = decodeCursor(page.cursor);
    if (c) add('(t.received_ms, t.id) < (?, ?)', c[0], c[1]);
    return this.summaries(where, params, 'DESC', page.limit);
  }

  async triage(page: PageRequest): Promise<Page<TicketSummary>> {
    const { where, params, add } = conditions("t.status = 'triage'", 'a.ticket_id IS NULL');
    const c = decodeCursor(page.cursor);
    if (c) add('(t.received_ms, t.id) > (?, ?)', c[0], c[1]);
    return this.summaries(where, params, 'ASC', page.limit);
  }

  private async summaries(where: string[], params: unknown[], dir: 'ASC' | 'DESC', limit: number): Promise<Page<TicketSummary>> {
    const rows = await this.db.all(
      `SELECT t.doc, t.received_ms, t.cluster_root, a.ticket_id AS triaged, a.subcategory_code, a.subcategory_name, a.department
       FROM tickets t LEFT JOIN triage_assignments a ON a.ticket_id = t.id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY t.received_ms ${dir}, t.id ${dir} LIMIT ?`,
      [...params, limit + 1],
    );
    const items = rows.slice(0, limit).map((r) => summaryOf(r));
    const lastRow = rows.length > limit ? rows[limit - 1] : undefined;
    const last = items[items.length - 1];
    return { items, next: lastRow && last ? encodeCursor(num(lastRow.received_ms), last.id) : null };
  }

  async cluster(id: string, memberLimit: number): Promise<ClusterDetail | null> {
    const [c] = await this.db.all('SELECT * FROM clusters WHERE id = ?', [id]);
    const members = await this.db.all('SELECT doc FROM tickets WHERE cluster_root = ? ORDER BY received_ms DESC, id DESC LIMIT ?', [id, memberLimit]);
    if (!c && members.length === 0) return null;
    const docs = members.map((m) => parseDoc<CanonicalTicket>(m.doc));
    const events = await this.db.all('SELECT id, type, at_ms, ticket_id, size, reporter_count, score FROM cluster_events WHERE cluster_id = ? ORDER BY at_ms DESC, id DESC LIMIT 50', [id]);
    let summary: ClusterSummary;
    if (c) summary = clusterOf(c);
    else {
      // A cluster that never grew has no events: its summary comes from its tickets.
      const times = docs.map((t) => timeOf(t.source.receivedAt) ?? 0);
      const primary = docs.find((t) => t.cluster.role === 'primary') ?? docs[docs.length - 1];
      summary = { id, primaryTicketId: primary?.id ?? id, size: docs.length, reporterCount: docs.length, block: null, hot: false, hotReporters: null, hotAt: null, firstAt: iso(Math.min(...times)), lastAt: iso(Math.max(...times)), mergedInto: null };
    }
    return {
      ...summary,
      members: docs.map(memberOf),
      events: events.map((e) => ({
        id: String(e.id),
        type: e.type as ClusterEvent['type'],
        at: iso(e.at_ms),
        ticketId: (e.ticket_id as string | null) ?? null,
        size: num(e.size),
        reporterCount: num(e.reporter_count),
        score: e.score ? (JSON.parse(String(e.score)) as Record<string, number>) : null,
      })),
    };
  }

  async clusters(q: ClusterQuery): Promise<ClusterSummary[]> {
    const { where, params, add } = conditions('merged_into IS NULL');
    if (q.hot) add('hot = 1');
    if (q.sinceMs !== undefined) add(q.hot ? 'hot_ms >= ?' : 'last_ms >= ?', q.sinceMs);
    const order = q.hot ? 'hot_ms DESC, id DESC' : q.sort === 'size' ? 'size DESC, id DESC' : 'last_ms DESC, id DESC';
    const rows = await this.db.all(`SELECT * FROM clusters WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`, [...params, q.limit]);
    return rows.map(clusterOf);
  }

  async assign(a: TriageAssignment): Promise<'assigned' | 'not-found' | 'not-in-triage'> {
    return this.db.tx(async (d) => {
      const [t] = await d.all('SELECT status FROM tickets WHERE id = ?', [a.ticketId]);
      if (!t) return 'not-found';
      if (t.status !== 'triage') return 'not-in-triage';
      await d.run(
        `INSERT INTO triage_assignments (ticket_id, category_code, category_name, subcategory_code, subcategory_name, department, actor, at_ms, note)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (ticket_id) DO UPDATE SET category_code = excluded.category_code, category_name = excluded.category_name,
           subcategory_code = excluded.subcategory_code, subcategory_name = excluded.subcategory_name, department = excluded.department,
           actor = excluded.actor, at_ms = excluded.at_ms, note = excluded.note`,
        [a.ticketId, a.category.code, a.category.name, a.subcategory.code, a.subcategory.name, a.department, a.actor, timeOf(a.at) ?? Date.now(), a.note],
      );
      return 'assigned';
    });
  }

  async overdue(nowMs: number): Promise<Record<Channel, number>> {
    const rows = await this.db.all('SELECT channel, COUNT(*) AS n FROM tickets WHERE closed_ms IS NULL AND due_ms IS NOT NULL AND due_ms < ? GROUP BY channel', [nowMs]);
    const out = Object.fromEntries(CHANNELS.map((c) => [c, 0])) as Record<Channel, number>;
    for (const r of rows) if ((CHANNELS as readonly string[]).includes(String(r.channel))) out[r.channel as Channel] = num(r.n);
    return out;
  }

  async intake(sinceMs: number, bucketMs: number, by: 'channel' | 'connector'): Promise<IntakeCount[]> {
    const col = by === 'channel' ? 'channel' : 'connector_id';
    const rows = await this.db.all(
      `SELECT k, b, COUNT(*) AS n FROM (SELECT ${col} AS k, CAST(received_ms / ? AS BIGINT) AS b FROM tickets WHERE received_ms >= ?) x GROUP BY k, b ORDER BY b, k`,
      [bucketMs, sinceMs],
    );
    return rows.map((r) => ({ key: String(r.k), bucket: Math.floor(num(r.b)) * bucketMs, count: num(r.n) }));
  }

  async count(): Promise<number> {
    const [r] = await this.db.all('SELECT COUNT(*) AS n FROM tickets');
    return num(r?.n ?? 0);
  }
}

function assignmentOf(id: string, r: Row): TriageAssignment | null {
  if (r.subcategory_code === null || r.subcategory_code === undefined) return null;
  return {
    ticketId: id,
    category: { code: String(r.category_code), name: String(r.category_name) },
    subcategory: { code: String(r.subcategory_code), name: String(r.subcategory_name) },
    department: (r.department as string | null) ?? null,
    actor: String(r.actor),
    at: iso(r.at_ms),
    note: (r.note as string | null) ?? null,
  };
}

function summaryOf(r: Row): TicketSummary {
  const t = parseDoc<CanonicalTicket>(r.doc);
  const triaged = r.triaged !== null && r.triaged !== undefined;
  return {
    id: t.id,
    channel: t.source.channel,
    connectorId: t.source.connectorId,
    sourceId: t.source.sourceId,
    receivedAt: t.source.receivedAt,
    title: t.title,
    excerpt: excerpt(t.text),
    status: t.routing.status,
    department: triaged ? ((r.department as string | null) ?? null) : t.routing.department,
    subcategory: triaged ? { code: String(r.subcategory_code), name: String(r.subcategory_name) } : t.classification.subcategory,
    dueAt: t.routing.dueAt,
    clusterId: (r.cluster_root as string | null) ?? t.cluster.id,
    triaged,
  };
}

function memberOf(t: CanonicalTicket): ClusterMember {
  return {
    ticketId: t.id,
    channel: t.source.channel,
    receivedAt: t.source.receivedAt,
    role: t.cluster.role,
    title: t.title,
    excerpt: excerpt(t.text),
    reporter: { nameMasked: t.reporter.nameMasked, phoneMasked: t.reporter.phoneMasked, anonymous: t.reporter.anonymous, role: t.reporter.role },
    score: t.cluster.score as Record<string, number> | null,
  };
}

function clusterOf(r: Row): ClusterSummary {
  return {
    id: String(r.id),
    primaryTicketId: String(r.primary_ticket_id),
    size: num(r.size),
    reporterCount: num(r.reporter_count),
    block: (r.block as string | null) ?? null,
    hot: num(r.hot) === 1,
    hotReporters: numOrNull(r.hot_reporters),
    hotAt: isoOrNull(r.hot_ms),
    firstAt: iso(r.first_ms),
    lastAt: iso(r.last_ms),
    mergedInto: (r.merged_into as string | null) ?? null,
  };
}
