/** Polls `cond` every `stepMs` until it holds; throws naming `what` after `ms`. */
export async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 60000, stepMs = 100): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * Poller settings for integration tests: short timeouts, a breaker that opens after two failures
 * and half-opens after 1.5 s, quick backoff — so fault tests finish in seconds.
 */
export const FAST_POLLER = {
  pollIntervalMs: 1000,
  timeouts: { connectMs: 1000, headersMs: 1000, bodyMs: 1000, requestMs: 3000 },
  breaker: { timeoutMs: 5000, errorThresholdPercentage: 50, resetTimeoutMs: 1500, volumeThreshold: 2, rollingWindowMs: 30000 },
  backoff: { initialMs: 200, maxMs: 1000 },
} as const;
