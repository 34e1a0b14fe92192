import { Counter, Gauge, type Registry } from 'prom-client';
import type { Channel } from '../schema/types';
import { STORE_TOPICS } from './materializer';
import { CHANNELS } from './types';

/** What the store metrics read at scrape time; absent parts report 0. */
export interface StoreProbe {
  up(): Promise<boolean>;
  overdue(): Promise<Record<Channel, number>>;
  lag(): Promise<Record<string, number> | null>;
}

const SCRAPE_TIMEOUT_MS = 2000;

function within<T>(p: Promise<T>, fallback: T): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p.catch(() => fallback), new Promise<T>((resolve) => (t = setTimeout(() => resolve(fallback), SCRAPE_TIMEOUT_MS)))]).finally(() => clearTimeout(t));
}

/**
 * The store's metrics, computed at scrape time (a slow or down database answers within 2 s:
 * up 0, the last known values otherwise). Label sets are initialised from the closed lists
 * (channels, store topics), so every series exists at 0 from start.
 */
export class StoreMetrics {
  readonly up: Gauge;
  readonly overdue: Gauge<'channel'>;
  readonly lag: Gauge<'topic'>;
  readonly materialized: Counter<'topic'>;
  private probe: StoreProbe | null = null;

  constructor(registry: Registry) {
    const probe = (): StoreProbe | null => this.probe;
    this.up = new Gauge({
      name: 'intake_store_up',
      help: '1 when the ticket store database answered at the last scrape.',
      registers: [registry],
      async collect() {
        const p = probe();
        this.set(p && (await within(p.up(), false)) ? 1 : 0);
      },
    });
    this.overdue = new Gauge({
      name: 'intake_store_tickets_overdue',
      help: 'Open tickets in the ticket store past their routing.dueAt (SLA due time), by channel.',
      labelNames: ['channel'],
      registers: [registry],
      async collect() {
        const o = await within(probe()?.overdue() ?? Promise.resolve(null), null);
        if (o) for (const c of CHANNELS) this.set({ channel: c }, o[c] ?? 0);
      },
    });
    this.lag = new Gauge({
      name: 'intake_store_materializer_lag_records',
      help: 'Records on the topic not yet materialised into the ticket store (end offset minus stored position, summed over partitions).',
      labelNames: ['topic'],
      registers: [registry],
      async collect() {
        const l = await within(probe()?.lag() ?? Promise.resolve(null), null);
        if (l) for (const t of STORE_TOPICS) this.set({ topic: t }, l[t] ?? 0);
      },
    });
    this.materialized = new Counter({ name: 'intake_store_materialized_records_total', help: 'Records applied to the ticket store by this instance, by topic.', labelNames: ['topic'], registers: [registry] });
    for (const c of CHANNELS) this.overdue.set({ channel: c }, 0);
    for (const t of STORE_TOPICS) {
      this.lag.set({ topic: t }, 0);
      this.materialized.inc({ topic: t }, 0);
    }
    this.up.set(0);
  }

  attach(probe: StoreProbe): void {
    this.probe = probe;
  }
}
