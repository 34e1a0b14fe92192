/**
 * Exact dedup on (channel, source id): a redelivered report never makes a second ticket.
 *
 * Each key is in one of three states:
 * - committed: its ticket is durable; a redelivery is answered with the same ticket id.
 * - pending: a submission is writing it now; a concurrent redelivery waits for that outcome.
 * - uncertain: a write failed or timed out, so the ticket may or may not be on the output; the
 *   id is kept, and the retry is written under the same ticket id, so even if both writes land
 *   there is still one ticket (consumers treat the ticket id as the idempotency key).
 *
 * The index is bounded by a time window and rebuilt after a restart from the tickets topic.
 */
export type Claim =
  | { kind: 'new'; ticketId: string; firstReceivedAt: number; release: (committed: boolean) => void }
  | { kind: 'duplicate'; ticketId: string };

interface Entry {
  ticketId: string;
  at: number;
  state: 'committed' | 'pending' | 'uncertain';
  waiters: (() => void)[];
}

export class DedupIndex {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly windowMs: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Records a ticket known to be durable (rebuild from the output). */
  remember(key: string, ticketId: string, at: number): void {
    const e = this.entries.get(key);
    if (e && e.state === 'pending') return;
    this.entries.set(key, { ticketId, at, state: 'committed', waiters: [] });
  }

  lookup(key: string): string | null {
    const e = this.entries.get(key);
    return e && e.state === 'committed' ? e.ticketId : null;
  }

  async claim(key: string, newId: () => string, now: number): Promise<Claim> {
    for (;;) {
      const e = this.entries.get(key);
      if (!e) break;
      if (e.state === 'committed') return { kind: 'duplicate', ticketId: e.ticketId };
      if (e.state === 'pending') {
        await new Promise<void>((resolve) => e.waiters.push(resolve));
        continue;
      }
      // uncertain: retry under the same id
      e.state = 'pending';
      return { kind: 'new', ticketId: e.ticketId, firstReceivedAt: e.at, release: (ok) => this.release(key, e, ok) };
    }
    const entry: Entry = { ticketId: newId(), at: now, state: 'pending', waiters: [] };
    this.entries.set(key, entry);
    return { kind: 'new', ticketId: entry.ticketId, firstReceivedAt: now, release: (ok) => this.release(key, entry, ok) };
  }

  private release(key: string, e: Entry, committed: boolean): void {
    if (this.entries.get(key) !== e) return;
    e.state = committed ? 'committed' : 'uncertain';
    const w = e.waiters;
    e.waiters = [];
    for (const f of w) f();
  }

  /** Forgets a pending key whose report was rejected, so a corrected redelivery is processed. */
  forget(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    for (const f of e.waiters) f();
  }

  /** Drops committed entries older than the window. */
  evict(now: number): number {
    let n = 0;
    const cutoff = now - this.windowMs;
    for (const [k, e] of this.entries) {
      if (e.state === 'committed' && e.at < cutoff) {
        this.entries.delete(k);
        n++;
      }
    }
    return n;
  }
}
