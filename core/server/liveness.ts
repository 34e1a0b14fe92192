import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * Liveness of the process: the event loop is wedged when it was blocked for longer than
 * `maxDelayMs` within the last window (sampled by `monitorEventLoopDelay`), or when the window
 * timer itself has not run for that long. `/healthz` answers 503 then, so that the orchestrator
 * restarts a process that no longer serves anyone in time. A fully blocked loop cannot answer at
 * all: the probe's timeout covers that case; this covers the loop that crawls between blocks.
 */
export class EventLoopWatch {
  private readonly h: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private lastTick = performance.now();
  private lastMaxMs = 0;

  constructor(
    private readonly maxDelayMs: number,
    private readonly windowMs = 1000,
  ) {
    this.h = monitorEventLoopDelay({ resolution: 10 });
    this.h.enable();
    this.timer = setInterval(() => this.tick(), windowMs);
    this.timer.unref();
  }

  private tick(): void {
    const now = performance.now();
    // the timer's own lateness counts too: the histogram only sees blocks it could sample
    this.lastMaxMs = Math.max(this.h.max / 1e6, now - this.lastTick - this.windowMs);
    this.lastTick = now;
    this.h.reset();
  }

  /** Longest event-loop block seen in the last complete window, in ms. */
  lastWindowMaxMs(): number {
    return this.lastMaxMs;
  }

  live(): boolean {
    const sinceTick = performance.now() - this.lastTick;
    return this.lastMaxMs < this.maxDelayMs && sinceTick < this.maxDelayMs + this.windowMs;
  }

  stop(): void {
    clearInterval(this.timer);
    this.h.disable();
  }
}
