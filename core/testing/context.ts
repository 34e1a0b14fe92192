import { Registry } from 'prom-client';
import { FakeClock, systemClock, type Clock } from '../clock';
import { silentLogger } from '../logger';
import { HubMetrics } from '../metrics';
import type { OutRecord } from '../outputs/output';
import { ulid } from '../ids';
import { assembleTicket } from '../pipeline/enrich';
import type { CanonicalTicket } from '../schema/types';
import type { ConnectorContext, ConnectorSpec, PreparedDelivery, RawInput, SourceSession, SubmitResult } from '../sdk/connector';
import { createServer } from '../server/http';
import type { IntakeError } from '../errors';

export interface TestContext extends ConnectorContext {
  submitted: RawInput[];
  /** Tickets of accepted deliveries, one per dedup key (later deliveries of a key are `duplicates`). */
  tickets: CanonicalTicket[];
  /** Accepted deliveries whose dedup key had been seen: what the processor would drop. */
  duplicates: number;
  rejected: { raw: RawInput; error: IntakeError; stage: string }[];
  /** Checkpoint values committed by the poll source session (what a restarted poller reads back). */
  checkpoints: Map<string, string>;
  /** Pages committed by the source session: the records count and the checkpoints of each. */
  commits: { deliveries: number; checkpoints: Record<string, string> }[];
  /** Make submit (and source commits) fail with this error (e.g. a SinkError) until cleared. */
  failWith: Error | null;
}

/**
 * A connector context for unit tests: an in-memory intake that normalises with the spec (so
 * tickets are real), an HTTP server (not listening; use `ctx.http.inject`), an in-memory poll source
 * session whose commits are atomic like the real ones.
 */
export function testContext(spec: ConnectorSpec<never>, config: unknown, id = 'test', clock: Clock = systemClock): TestContext {
  const seen = new Set<string>();
  let n = 0;
  const pending = new Map<OutRecord, { raw: RawInput; ticket: CanonicalTicket | null }>();
  const record = (raw: RawInput, ticket: CanonicalTicket | null): OutRecord => {
    const r: OutRecord = { topic: 'test', partition: 0, key: ticket?.dedup.key ?? 'dl', value: null, headers: {} };
    pending.set(r, { raw, ticket });
    return r;
  };
  const accept = (r: OutRecord): void => {
    const p = pending.get(r);
    pending.delete(r);
    if (!p?.ticket) return;
    ctx.submitted.push(p.raw);
    if (seen.has(p.ticket.dedup.key)) ctx.duplicates++;
    else {
      seen.add(p.ticket.dedup.key);
      ctx.tickets.push(p.ticket);
    }
  };
  const prepare = (raw: RawInput): PreparedDelivery => {
    let draft;
    try {
      draft = spec.normalize(raw, config as never);
    } catch (e) {
      ctx.rejected.push({ raw, error: e as IntakeError, stage: 'normalize' });
      return { records: [record(raw, null)], result: { outcome: 'rejected', error: e as IntakeError, deadLetterId: `dl${++n}` } };
    }
    const ticket = assembleTicket(draft, { channel: spec.channel, connectorId: id, dedupScope: id, receivedAt: raw.receivedAt ?? clock.now(), rawTopic: 'intake.reports.v1', envelopeId: ulid(raw.receivedAt ?? clock.now()), sha256: '0'.repeat(64), tokenSecret: 'test-token-secret-123' });
    return { records: [record(raw, ticket)], result: { outcome: 'accepted', ticketId: ticket.id, sourceId: ticket.source.sourceId } };
  };
  const session = (): SourceSession => {
    let open = false;
    return {
      get isOpen() {
        return open;
      },
      async open() {
        open = true;
      },
      get: (name) => ctx.checkpoints.get(name) ?? null,
      async commit(records, checkpoints) {
        if (ctx.failWith) {
          open = false;
          for (const r of records) pending.delete(r);
          throw ctx.failWith;
        }
        for (const r of records) accept(r);
        for (const [k, v] of Object.entries(checkpoints)) ctx.checkpoints.set(k, v);
        ctx.commits.push({ deliveries: records.length, checkpoints });
      },
      async close() {
        open = false;
      },
    };
  };
  const ctx: TestContext = {
    id,
    channel: spec.channel,
    logger: silentLogger,
    metrics: new HubMetrics(new Registry()),
    clock,
    http: createServer(),
    submitted: [],
    tickets: [],
    duplicates: 0,
    rejected: [],
    checkpoints: new Map(),
    commits: [],
    failWith: null,
    prepare,
    openSource: session,
    async submit(raw: RawInput): Promise<SubmitResult> {
      if (ctx.failWith) throw ctx.failWith;
      const p = prepare(raw);
      for (const r of p.records) accept(r);
      return p.result;
    },
    async reject(raw, error, stage) {
      ctx.rejected.push({ raw, error, stage });
      return `dl${++n}`;
    },
  };
  return ctx;
}

export { FakeClock };
