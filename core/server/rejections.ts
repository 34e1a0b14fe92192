/** How much of unauthenticated traffic the hub writes down. */
export interface UnauthenticatedPolicy {
  /** Bytes of the body kept in the dead letter (plus the SHA-256 of what was read). */
  keepBytes: number;
  /** Dead letters per client address per minute; the rest are answered and counted only. */
  perClientPerMinute: number;
  /** Dead letters per minute over all clients. */
  totalPerMinute: number;
}

const MAX_TRACKED = 10_000;

/**
 * The budget of dead letters for requests refused before their sender was authenticated (size,
 * media type, signature, api_key). Such requests cost the hub no more than a bounded record: the
 * first `keepBytes` bytes and a hash, and at most `totalPerMinute` records a minute however many
 * clients send them (at most `perClientPerMinute` each), so a flood of unsigned posts cannot fill
 * the disk; everything over budget is still answered and counted. Fixed one-minute windows; at
 * most 10,000 client addresses are tracked per window (more are over budget).
 */
export class UnauthenticatedBudget {
  private windowStart = 0;
  private total = 0;
  private readonly perClient = new Map<string, number>();

  constructor(
    readonly policy: UnauthenticatedPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when a dead letter may be written for a rejection from `client`; counts it. */
  admit(client: string): boolean {
    const t = this.now();
    if (t - this.windowStart >= 60_000) {
      this.windowStart = t;
      this.total = 0;
      this.perClient.clear();
    }
    if (this.total >= this.policy.totalPerMinute) return false;
    const n = this.perClient.get(client) ?? 0;
    if (n >= this.policy.perClientPerMinute) return false;
    if (n === 0 && this.perClient.size >= MAX_TRACKED) return false;
    this.perClient.set(client, n + 1);
    this.total++;
    return true;
  }
}
