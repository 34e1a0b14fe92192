import { IntakeError, isIntakeError } from '../errors';
import type { Connector, ConnectorContext, ConnectorHealth, ConnectorKind, ConnectorSpec } from './connector';
import { HealthTracker } from './health';

/**
 * What a pulling or subscribing transport gives the runner: one unit of work at a time. The
 * runner owns everything around it — lifecycle, pause/resume, the poll lease, backoff with jitter
 * after failures, the health state — so a transport only talks to its upstream and hands each
 * delivery to `ctx.submit` / `ctx.prepare` (which own ack-after-durable).
 */
export interface TransportLoop {
  /**
   * Called before the first step after a start, a resume or a lease acquisition (create clients,
   * breakers). Throwing counts as a failed step (retried). A step recovers from its own failures
   * (reconnects, reopens its session) on the next call.
   */
  open?(): Promise<void>;
  /**
   * One unit of work: read the upstream listing to its end, or fetch and submit one batch.
   * Resolves `more` when more may be waiting (the runner steps again at once) or `idle` (it waits
   * `idleMs`, or until woken). Throws on failure: the runner marks the connector degraded (or
   * failed, for an error an operator must fix) and retries after a jittered exponential backoff.
   * `ctl.stopping()` turns true when the connector stops, pauses or loses its lease: finish or
   * hand back the current delivery quickly.
   */
  step(ctl: StepControl): Promise<'more' | 'idle'>;
  /** Releases what the loop holds (connections, sessions, sockets); the next `open` starts afresh. */
  close(): Promise<void>;
  /** Aborts in-flight requests at once (stop, pause): `step` then rejects or resolves promptly. */
  abort?(): void;
  readonly idleMs: number;
  /** Bounds the retry delay after a failure (e.g. a circuit breaker's reset timeout). */
  retryDelayMs?(err: IntakeError, computed: number): number;
  /** The loop's own part of the health snapshot (breaker, lag). */
  contribute?(h: HealthTracker): void;
  /** Hands the loop the connector's health tracker (deliveries, outcomes, breaker). */
  attach?(h: HealthTracker): void;
  /** False while a step succeeded but the transport is not well (a client reconnecting): degraded, not running. */
  healthy?(): boolean;
}

export interface StepControl {
  stopping(): boolean;
}

/** An error after which an operator must act (a refused JetStream consumer, …): state `failed`, still retried. */
export class OperatorNeededError extends IntakeError {
  constructor(message: string, cause?: unknown) {
    super('INTAKE_ERR_UPSTREAM', message, true, { httpStatus: 502, cause });
  }
}

export interface RunnerOptions {
  kind: ConnectorKind;
  loop?: TransportLoop | null;
  /** The loop needs the source's lease (pollers: one owner at a time). */
  leased?: boolean;
  /** Retry delay after failed steps: initialMs, doubled up to maxMs, with equal jitter. */
  backoff?: { initialMs: number; maxMs: number };
  /** How long `start` and `resume` wait for the first step to settle (default 1 s; lease acquisition does not wait). */
  firstStepWaitMs?: number;
}

/**
 * The one connector runner: every connector (push, poll, subscription) is a `ConnectorRunner` with
 * its transport plugged in.
 *
 * Lifecycle (all idempotent): `start` → running (a push connector, or a loop), or `standby` (a
 * leased loop without its lease); `pause` → paused (push routes answer 503, the loop stops between
 * units of work, its current delivery finishes or is handed back); `resume`; `stop` → stopped,
 * after the current step and the loop's `close`. `lease.acquire` / `release` start and stop a
 * leased loop while the connector runs. A push route accepts only while `accepting()`.
 */
export class ConnectorRunner implements Connector {
  readonly spec: ConnectorSpec<never>;
  readonly tracker: HealthTracker;
  readonly lease?: { acquire(): Promise<void>; release(): Promise<void> };
  private started = false;
  private paused = false;
  private leased = false;
  private loopDone: Promise<void> | null = null;
  private halt = false;
  private wake: (() => void) | null = null;
  private firstSettled: (() => void) | null = null;
  private failures = 0;
  private lastErrorCode: string | null = null;
  private readonly backoff: { initialMs: number; maxMs: number };

  constructor(
    spec: ConnectorSpec<never>,
    protected readonly ctx: ConnectorContext,
    private readonly o: RunnerOptions,
  ) {
    this.spec = spec;
    this.tracker = new HealthTracker(ctx.id, spec.type, spec.channel, o.kind, ctx.clock);
    this.backoff = o.backoff ?? { initialMs: 1000, maxMs: 60000 };
    o.loop?.attach?.(this.tracker);
    if (o.loop && o.leased) this.lease = { acquire: () => this.acquire(), release: () => this.release() };
  }

  get id(): string {
    return this.ctx.id;
  }

  /** Whether push routes accept reports now (running or degraded, not paused or stopped). */
  readonly accepting = (): boolean => this.started && !this.paused;

  /** True while this instance owns the source's lease (always true for an unleased loop). */
  get owner(): boolean {
    return !this.o.leased || this.leased;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.paused) {
      this.tracker.state = 'paused';
      return;
    }
    if (this.o.loop && this.owner) await this.startLoop();
    else this.tracker.state = this.o.loop ? 'standby' : 'running';
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.stopLoop();
    this.tracker.state = 'stopped';
  }

  async pause(): Promise<void> {
    if (this.paused) return;
    this.paused = true;
    if (this.started) this.tracker.state = 'paused';
    await this.stopLoop();
    if (this.started) this.tracker.state = 'paused';
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    this.paused = false;
    if (!this.started) return;
    if (this.o.loop && this.owner) await this.startLoop();
    else this.tracker.state = this.o.loop ? 'standby' : 'running';
  }

  private async acquire(): Promise<void> {
    if (this.leased) return;
    this.leased = true;
    this.ctx.metrics.pollerLeaseOwned.set({ connector: this.ctx.id }, 1);
    if (this.started && !this.paused) void this.startLoop(); // a rebalance callback does not wait for the first step
  }

  private async release(): Promise<void> {
    if (!this.leased) return;
    this.leased = false;
    this.ctx.metrics.pollerLeaseOwned.set({ connector: this.ctx.id }, 0);
    await this.stopLoop();
    if (this.started && !this.paused) this.tracker.state = 'standby';
  }

  health(): ConnectorHealth {
    this.o.loop?.contribute?.(this.tracker);
    return this.tracker.snapshot();
  }

  /**
   * Starts the loop; resolves when its first step has settled (running or degraded, so the health
   * right after `start` says something) or after `firstStepWaitMs` (a long first listing).
   */
  private startLoop(): Promise<void> {
    if (this.loopDone || !this.o.loop) return Promise.resolve();
    this.halt = false;
    this.failures = 0;
    this.tracker.state = 'starting';
    let settled: () => void = () => undefined;
    const first = new Promise<void>((resolve) => (settled = resolve));
    this.firstSettled = settled;
    this.loopDone = this.run(this.o.loop).finally(() => {
      this.loopDone = null;
      settled();
    });
    let t: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((resolve) => {
      t = setTimeout(resolve, this.o.firstStepWaitMs ?? 1000);
      t.unref();
    });
    return Promise.race([first, cap]).finally(() => clearTimeout(t));
  }

  private settleFirst(): void {
    const f = this.firstSettled;
    this.firstSettled = null;
    f?.();
  }

  private async stopLoop(): Promise<void> {
    if (!this.loopDone) return;
    this.halt = true;
    this.o.loop?.abort?.();
    this.wake?.();
    await this.loopDone;
  }

  private async run(loop: TransportLoop): Promise<void> {
    const ctl: StepControl = { stopping: () => this.halt };
    let opened = false;
    try {
      while (!this.halt) {
        let delay = 0;
        try {
          if (!opened) {
            await loop.open?.();
            opened = true;
          }
          const r = await loop.step(ctl);
          if (this.halt) break;
          if (this.failures > 0) this.ctx.logger.info('connector recovered', { after: this.failures });
          this.failures = 0;
          this.lastErrorCode = null;
          this.tracker.state = loop.healthy?.() === false ? 'degraded' : 'running';
          this.settleFirst();
          if (r === 'idle') delay = loop.idleMs;
        } catch (e) {
          if (this.halt) break;
          const err = asIntakeError(e);
          this.tracker.failure(err);
          this.failures++;
          this.tracker.state = e instanceof OperatorNeededError ? 'failed' : 'degraded';
          // log state changes, not every retry
          if (err.code !== this.lastErrorCode) this.ctx.logger.warn('connector step failed; backing off', { code: err.code, message: err.message });
          this.lastErrorCode = err.code;
          const { initialMs, maxMs } = this.backoff;
          // exponential with equal jitter: instances that failed together do not retry in lockstep
          delay = Math.min(maxMs, initialMs * 2 ** Math.min(this.failures - 1, 20)) * (0.5 + Math.random() / 2);
          if (loop.retryDelayMs) delay = loop.retryDelayMs(err, delay);
          this.settleFirst();
        }
        if (delay > 0) await this.sleep(delay);
      }
    } finally {
      await loop.close().catch(() => undefined);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.halt) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Wakes an idle loop early (e.g. new work announced). */
  poke(): void {
    this.wake?.();
  }
}

function asIntakeError(e: unknown): IntakeError {
  if (isIntakeError(e)) return e;
  return new IntakeError('INTAKE_ERR_INTERNAL', e instanceof Error ? e.message : String(e), true, { cause: e });
}
