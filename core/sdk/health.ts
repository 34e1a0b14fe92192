import type { Clock } from '../clock';
import { isIntakeError } from '../errors';
import type { ConnectorHealth, ConnectorKind, ConnectorState, SubmitResult } from './connector';
import type { Channel } from '../schema/types';

/** Bookkeeping behind a connector's health snapshot. */
export class HealthTracker {
  state: ConnectorState = 'created';
  breaker: ConnectorHealth['breaker'] = null;
  pollLagMs: number | null = null;
  private lastSuccess: number | null = null;
  private lastError: ConnectorHealth['lastError'] = null;
  private readonly counters = { received: 0, accepted: 0, rejected: 0, failed: 0 };

  constructor(
    private readonly id: string,
    private readonly type: string,
    private readonly channel: Channel,
    private readonly kind: ConnectorKind,
    private readonly clock: Clock,
  ) {}

  received(): void {
    this.counters.received++;
  }

  outcome(r: SubmitResult): void {
    if (r.outcome === 'accepted') {
      this.counters.accepted++;
      this.success();
    } else this.counters.rejected++;
  }

  success(): void {
    this.lastSuccess = this.clock.now();
  }

  failure(e: unknown): void {
    this.counters.failed++;
    this.lastError = {
      at: new Date(this.clock.now()).toISOString(),
      code: isIntakeError(e) ? e.code : 'INTAKE_ERR_INTERNAL',
      message: e instanceof Error ? e.message.slice(0, 500) : String(e).slice(0, 500),
    };
  }

  snapshot(): ConnectorHealth {
    return {
      id: this.id,
      type: this.type,
      channel: this.channel,
      kind: this.kind,
      state: this.state,
      lastSuccessAt: this.lastSuccess === null ? null : new Date(this.lastSuccess).toISOString(),
      lastError: this.lastError,
      breaker: this.breaker,
      pollLagMs: this.pollLagMs,
      counters: { ...this.counters },
    };
  }
}
