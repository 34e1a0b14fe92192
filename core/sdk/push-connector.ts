import type { Connector, ConnectorContext, ConnectorHealth, ConnectorSpec } from './connector';
import { HealthTracker } from './health';

/**
 * The lifecycle every push (webhook) connector shares. A push connector has no loop of its own:
 * its routes are registered once at `create`, and start/stop/pause/resume only move the state that
 * the routes check (`accepting`) — a stopped or paused connector answers 503 + Retry-After, so the
 * source keeps the report and retries. All four are idempotent.
 */
export abstract class PushConnector implements Connector {
  protected readonly tracker: HealthTracker;

  protected constructor(
    readonly spec: ConnectorSpec<never>,
    protected readonly ctx: ConnectorContext,
  ) {
    this.tracker = new HealthTracker(ctx.id, spec.type, spec.channel, 'webhook', ctx.clock);
  }

  get id(): string {
    return this.ctx.id;
  }

  /** Whether the routes accept reports now. */
  protected readonly accepting = (): boolean => this.tracker.state === 'running';

  async start(): Promise<void> {
    this.tracker.state = 'running';
  }

  async stop(): Promise<void> {
    this.tracker.state = 'stopped';
  }

  async pause(): Promise<void> {
    if (this.tracker.state === 'running') this.tracker.state = 'paused';
  }

  async resume(): Promise<void> {
    if (this.tracker.state === 'paused') this.tracker.state = 'running';
  }

  health(): ConnectorHealth {
    return this.tracker.snapshot();
  }
}
