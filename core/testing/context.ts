import { Registry } from 'prom-client';
import { FakeClock, systemClock, type Clock } from '../clock';
import { silentLogger } from '../logger';
import { HubMetrics } from '../metrics';
import { assembleTicket } from '../pipeline/enrich';
import type { CanonicalTicket } from '../schema/types';
import type { CheckpointStore, ConnectorContext, ConnectorSpec, RawInput, SubmitResult } from '../sdk/connector';
import { createServer } from '../server/http';
import type { IntakeError } from '../errors';

export interface TestContext extends ConnectorContext {
  submitted: RawInput[];
  tickets: CanonicalTicket[];
  rejected: { raw: RawInput; error: IntakeError; stage: string }[];
  /** Make submit fail with this error (e.g. a SinkError) until cleared. */
  failWith: Error | null;
}

/**
 * A connector context for unit tests: an in-memory submit that normalises with the spec (so
 * tickets are real), an HTTP server (not listening; use `ctx.http.inject`), in-memory checkpoints.
 */
export function testContext(spec: ConnectorSpec<never>, config: unknown, id = 'test', clock: Clock = systemClock): TestContext {
  const values = new Map<string, string>();
  const checkpoints: CheckpointStore = { get: async (k) => values.get(k) ?? null, put: async (k, v) => void values.set(k, v) };
  const seen = new Map<string, string>();
  let n = 0;
  const ctx: TestContext = {
    id,
    channel: spec.channel,
    logger: silentLogger,
    metrics: new HubMetrics(new Registry()),
    clock,
    http: createServer(),
    checkpoints,
    submitted: [],
    tickets: [],
    rejected: [],
    failWith: null,
    async submit(raw: RawInput): Promise<SubmitResult> {
      if (ctx.failWith) throw ctx.failWith;
      ctx.submitted.push(raw);
      let draft;
      try {
        draft = spec.normalize(raw, config as never);
      } catch (e) {
        ctx.rejected.push({ raw, error: e as IntakeError, stage: 'normalize' });
        return { outcome: 'rejected', error: e as IntakeError, deadLetterId: `dl${++n}` };
      }
      const key = `${spec.channel}:${draft.sourceId}`;
      const existing = seen.get(key);
      if (existing) return { outcome: 'duplicate', ticketId: existing };
      const id26 = `01JC${String(++n).padStart(22, '0')}`;
      seen.set(key, id26);
      ctx.tickets.push(
        assembleTicket(draft, { ticketId: id26, channel: spec.channel, connectorId: id, receivedAt: clock.now(), rawTopic: 'intake.raw.v1', envelopeId: id26, sha256: '0'.repeat(64), tokenSecret: 'test-token-secret-123', now: clock.now() }),
      );
      return { outcome: 'accepted', ticketId: id26 };
    },
    async reject(raw, error, stage) {
      ctx.rejected.push({ raw, error, stage });
      return `dl${++n}`;
    },
  };
  return ctx;
}

export { FakeClock };
