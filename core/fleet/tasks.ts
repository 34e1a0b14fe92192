import { IntakeError, isIntakeError } from '../errors';
import { deterministicUlid } from '../ids';
import type { Logger } from '../logger';
import type { HubMetrics } from '../metrics';
import { partitionFor } from '../kafka/partitioner';
import type { OutRecord, StoredRecord } from '../outputs/output';
import { HEADER, type Topics } from '../outputs/topics';
import { formatAjvErrors } from '../schema/ajv';
import type { CanonicalTicket, DeadLetter } from '../schema/types';
import { validateTicket } from '../schema/validators';
import { isStateful, type Stage, type StageOutput, type StatefulStage } from '../pipeline/stage';
import type { DedupEntry, IntakeReport, LocatedReport } from './records';

/**
 * The processor's two stages, as deterministic per-partition tasks. A task turns the records of its
 * input partition, in offset order, into output records; it reads no clock and no randomness, so
 * any number of processor instances produce byte-identical outputs to one (the partition → task
 * mapping is fixed by the topics' partition counts). The runtime (Kafka or embedded) commits a
 * batch's outputs together with the input offsets, atomically; after a failed commit or on a new
 * assignment it rebuilds the task from its changelog with `restore`.
 *
 *   intake.reports.v1 ──DedupTask(p)──► intake.located.v1 (re-keyed by locality) + intake.dedup-changelog.v1[p]
 *   intake.located.v1 ──TicketTask(q)──► tickets.canonical.v1[q] + tickets.clusters.v1[q] + intake.ticket-changelog.v1[q] (+ intake.dlq.v1[q])
 */
export interface TaskDeps {
  topics: Topics;
  /** Partition count of intake.located.v1 and the ticket stage's outputs. */
  partitions: number;
  metrics: HubMetrics;
  logger: Logger;
}

export interface Task {
  readonly topic: string;
  readonly partition: number;
  /** The changelog topic whose partition `partition` rebuilds this task. */
  readonly changelog: string;
  restore(records: Iterable<StoredRecord>): void;
  process(rec: StoredRecord, out: OutRecord[]): void;
}

const HOUR = 3600_000;

/**
 * Exact dedup of one intake.reports.v1 partition. A report whose dedup key was first seen within
 * `windowMs` of stream time (the latest first-delivery receipt time of the partition) is a
 * duplicate and goes no further; the first delivery is forwarded to intake.located.v1 with the
 * ticket id intake gave it. Because every delivery of a report — whatever instance received it,
 * whatever the edits — has the same dedup key, all of them meet in this one task.
 * A dead-letter replay (`replayOf`) is forwarded even when the key was seen: the ticket stage knows
 * whether that ticket was ever published.
 */
export class DedupTask implements Task {
  readonly topic: string;
  readonly changelog: string;
  private readonly seen = new Map<string, DedupEntry>();
  private streamTime = Number.NEGATIVE_INFINITY;
  private evictedHour = Number.NEGATIVE_INFINITY;

  constructor(
    readonly partition: number,
    private readonly d: TaskDeps,
    private readonly windowMs: number,
  ) {
    this.topic = d.topics.reports;
    this.changelog = d.topics.dedupChangelog;
  }

  get size(): number {
    return this.seen.size;
  }

  restore(records: Iterable<StoredRecord>): void {
    for (const r of records) {
      if (r.value === null) {
        this.seen.delete(r.key);
        continue;
      }
      const e = JSON.parse(r.value) as DedupEntry;
      this.seen.set(r.key, e);
      if (e.at > this.streamTime) this.streamTime = e.at;
    }
    this.evictedHour = Math.floor(this.streamTime / HOUR);
  }

  process(rec: StoredRecord, out: OutRecord[]): void {
    if (rec.value === null) return;
    let report: IntakeReport;
    try {
      report = JSON.parse(rec.value) as IntakeReport;
      if (report.schemaVersion !== 'intake-report/v1') throw new Error(`unexpected schema ${String(report.schemaVersion)}`);
    } catch (e) {
      this.d.logger.error('unreadable record on the reports topic skipped', { partition: rec.partition, offset: rec.offset, err: e });
      return;
    }
    const key = report.dedupKey;
    const channel = report.ticket.source.channel;
    const connector = report.ticket.source.connectorId;
    const prior = this.seen.get(key);
    const at = Date.parse(report.ticket.source.receivedAt);
    if (prior && prior.at >= this.streamTime - this.windowMs && report.replayOf === null) {
      this.d.metrics.duplicates.inc({ connector, channel });
      return;
    }
    const ticket = prior && report.replayOf !== null ? { ...report.ticket, id: prior.t } : report.ticket;
    const entry: DedupEntry = prior && report.replayOf !== null ? prior : { t: ticket.id, at };
    this.seen.set(key, entry);
    if (entry.at > this.streamTime) this.streamTime = entry.at;
    const located: LocatedReport = { schemaVersion: 'located-report/v1', localityKey: report.localityKey, ticket, raw: report.raw, replayOf: report.replayOf };
    const headers = { [HEADER.channel]: channel, [HEADER.connector]: connector, [HEADER.schema]: 'located-report/v1' };
    out.push({ topic: this.d.topics.located, partition: partitionFor(report.localityKey, this.d.partitions), key: report.localityKey, value: JSON.stringify(located), headers });
    out.push({ topic: this.changelog, partition: this.partition, key, value: JSON.stringify(entry), headers: {} });
    this.evict(out);
  }

  /** Tombstones for keys that left the window, once per hour of stream time (garbage collection only: decisions use the window check). */
  private evict(out: OutRecord[]): void {
    const hour = Math.floor(this.streamTime / HOUR);
    if (hour <= this.evictedHour) return;
    this.evictedHour = hour;
    const cutoff = this.streamTime - this.windowMs;
    for (const [k, e] of this.seen) {
      if (e.at < cutoff) {
        this.seen.delete(k);
        out.push({ topic: this.changelog, partition: this.partition, key: k, value: null, headers: {} });
      }
    }
  }
}

/**
 * Cluster, classify and route the reports of one intake.located.v1 partition (a set of localities),
 * with its own clustering state; publishes the ticket, its cluster events and a changelog entry.
 * A stage that throws dead-letters the report (stage `pipeline`, the raw bytes kept for replay).
 */
export class TicketTask implements Task {
  readonly topic: string;
  readonly changelog: string;
  private readonly stateful: StatefulStage[];
  /** Ticket ids published within the restore horizon: a replayed dead letter of a published ticket is dropped. */
  private readonly published = new Map<string, number>();
  private streamTime = Number.NEGATIVE_INFINITY;
  private evictedHour = Number.NEGATIVE_INFINITY;
  private readonly horizonMs: number;

  constructor(
    readonly partition: number,
    private readonly d: TaskDeps,
    private readonly stages: Stage[],
  ) {
    this.topic = d.topics.located;
    this.changelog = d.topics.ticketChangelog;
    this.stateful = stages.filter(isStateful);
    this.horizonMs = Math.max(0, ...this.stateful.map((s) => s.restoreHorizonMs));
  }

  restore(records: Iterable<StoredRecord>): void {
    const entries: unknown[][] = this.stateful.map(() => []);
    for (const r of records) {
      if (r.value === null) continue;
      const e = JSON.parse(r.value) as { at: number; s: unknown[] };
      this.published.set(r.key, e.at);
      if (e.at > this.streamTime) this.streamTime = e.at;
      e.s.forEach((x, i) => entries[i]?.push(x));
    }
    this.stateful.forEach((s, i) => s.restore(entries[i] ?? []));
    this.evictedHour = Math.floor(this.streamTime / HOUR);
  }

  process(rec: StoredRecord, out: OutRecord[]): void {
    if (rec.value === null) return;
    let located: LocatedReport;
    try {
      located = JSON.parse(rec.value) as LocatedReport;
      if (located.schemaVersion !== 'located-report/v1') throw new Error(`unexpected schema ${String(located.schemaVersion)}`);
    } catch (e) {
      this.d.logger.error('unreadable record on the located topic skipped', { partition: rec.partition, offset: rec.offset, err: e });
      return;
    }
    let ticket: CanonicalTicket = located.ticket;
    const src = ticket.source;
    if (this.published.has(ticket.id)) {
      this.d.metrics.duplicates.inc({ connector: src.connectorId, channel: src.channel });
      return;
    }
    const at = Date.parse(src.receivedAt);
    const stageOut: StageOutput = { events: [] };
    try {
      ticket = { ...ticket, trace: { ...ticket.trace, stages: [...ticket.trace.stages, 'dedup'] } };
      for (const stage of this.stages) {
        const started = process.hrtime.bigint();
        ticket = stage.run(ticket, stageOut) as CanonicalTicket;
        this.d.metrics.stageDuration.observe({ stage: stage.name }, Number(process.hrtime.bigint() - started) / 1e9);
        ticket.trace.stages.push(stage.name);
      }
      ticket.trace.stages.push('publish');
      if (!validateTicket(ticket)) {
        throw new IntakeError('INTAKE_ERR_INTERNAL', `pipeline produced an invalid ticket: ${formatAjvErrors(validateTicket.errors, '/ticket')}`, false, { httpStatus: 500 });
      }
    } catch (e) {
      this.d.logger.error('pipeline stage failed; dead-lettered', { connector: src.connectorId, err: e });
      const err = isIntakeError(e) ? e : new IntakeError('INTAKE_ERR_INTERNAL', `pipeline failed: ${e instanceof Error ? e.message : String(e)}`, false, { httpStatus: 500 });
      out.push(this.deadLetter(rec, located, err));
      this.d.metrics.rejected.inc({ connector: src.connectorId, reason: err.code });
      return;
    }
    const headers = { [HEADER.channel]: src.channel, [HEADER.connector]: src.connectorId };
    out.push({ topic: this.d.topics.tickets, partition: this.partition, key: ticket.id, value: JSON.stringify(ticket), headers: { ...headers, [HEADER.schema]: 'ticket/v1', [HEADER.contentType]: 'application/json' } });
    for (const ev of stageOut.events) {
      out.push({ topic: this.d.topics.clusters, partition: this.partition, key: ev.clusterId, value: JSON.stringify(ev), headers: { ...headers, [HEADER.schema]: 'cluster-event/v1', [HEADER.contentType]: 'application/json' } });
      this.d.metrics.clusterEvents.inc({ type: ev.type });
    }
    const entry = { at, s: this.stateful.map((s) => s.changelogEntry(ticket)) };
    out.push({ topic: this.changelog, partition: this.partition, key: ticket.id, value: JSON.stringify(entry), headers: {} });
    this.published.set(ticket.id, at);
    if (at > this.streamTime) this.streamTime = at;
    this.d.metrics.published.inc({ connector: src.connectorId, channel: src.channel });
    this.evict();
  }

  private evict(): void {
    const hour = Math.floor(this.streamTime / HOUR);
    if (hour <= this.evictedHour) return;
    this.evictedHour = hour;
    const cutoff = this.streamTime - this.horizonMs;
    for (const [id, at] of this.published) if (at < cutoff) this.published.delete(id);
  }

  /** A dead letter with an id derived from the input position, so every instance writes the same one. */
  private deadLetter(rec: StoredRecord, located: LocatedReport, error: IntakeError): OutRecord {
    const src = located.ticket.source;
    const at = Date.parse(src.receivedAt);
    const dl: DeadLetter = {
      schemaVersion: 'dead-letter/v1',
      id: deterministicUlid(at, `${rec.topic}/${rec.partition}/${rec.offset}`),
      at: new Date(at).toISOString(),
      connectorId: src.connectorId,
      channel: src.channel,
      stage: 'pipeline',
      error: { code: error.code, message: error.message.slice(0, 2000), dataPath: error.dataPath ? error.dataPath.slice(0, 500) : null, httpStatus: error.httpStatus },
      raw: located.raw,
      replayOf: located.replayOf,
    };
    return {
      topic: this.d.topics.dlq,
      partition: this.partition,
      key: src.connectorId,
      value: JSON.stringify(dl),
      headers: { [HEADER.channel]: src.channel, [HEADER.connector]: src.connectorId, [HEADER.schema]: 'dead-letter/v1' },
    };
  }
}
