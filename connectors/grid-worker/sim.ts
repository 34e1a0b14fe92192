import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Logger } from '../../core/logger';
import { packageRoot } from '../../core/util/paths';

/** A demo code table (新都区, fake street and community codes) used by fixtures, tests and the demo. */
export const DEMO_CODE_TABLE: Record<string, string> = {
  '510114': '新都区',
  '510114001': '新都街道',
  '510114002': '大丰街道',
  '510114003': '三河街道',
  '510114001001': '桂湖社区',
  '510114001002': '蜀龙社区',
  '510114002001': '三元社区',
  '510114003001': '三河社区',
};

export interface GridWorkerSimOptions {
  servers: string[] | string;
  /** Subject to publish to, e.g. grid.reports.510114 (must belong to the connector's stream). */
  subject: string;
  intervalMs: number;
  /** Report id prefix; defaults to SIM-<start time>. */
  prefix?: string;
  logger?: Logger;
}

export interface GridWorkerSim {
  readonly stats: { sent: number; republished: number; failed: number };
  /** Publishes one report now (the timer calls this); resolves with the JetStream ack. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/** The valid fixtures, as objects: samples for the simulator and tests. */
export function gridWorkerSamples(): Record<string, unknown>[] {
  const dir = join(packageRoot(), 'connectors', 'grid-worker', 'fixtures');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.includes('.invalid.') && !f.includes('duplicate'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
}

/**
 * A grid-worker terminal simulator: publishes the fixture reports (with fresh report ids and
 * times) to a JetStream subject, each with a Nats-Msg-Id as a terminal would. Every 7th publish
 * repeats an earlier report with a new Nats-Msg-Id (a terminal that retried after a lost PubAck
 * past the duplicate window), which must not make a second ticket.
 */
export async function startGridWorkerSim(o: GridWorkerSimOptions): Promise<GridWorkerSim> {
  const nc = await connect({ servers: o.servers, name: 'grid-worker-sim', maxReconnectAttempts: -1 });
  const js = jetstream(nc);
  const samples = gridWorkerSamples();
  const prefix = o.prefix ?? `SIM-${Date.now().toString(36)}`;
  const stats = { sent: 0, republished: 0, failed: 0 };
  let n = 0;
  let timer: NodeJS.Timeout | null = null;

  const tick = async (): Promise<void> => {
    const i = n++;
    const repeat = i > 0 && i % 7 === 0;
    const seq = repeat ? i - 3 : i;
    const sample = samples[seq % samples.length] ?? {};
    const report = { ...sample, reportId: `${prefix}-${String(seq).padStart(6, '0')}`, reportedAt: new Date().toISOString() };
    try {
      await js.publish(o.subject, JSON.stringify(report), { msgID: `${prefix}-${i}` });
      if (repeat) stats.republished++;
      else stats.sent++;
    } catch (e) {
      stats.failed++;
      o.logger?.warn('grid-worker simulator publish failed', { error: e instanceof Error ? e.message : String(e) });
    }
  };

  if (o.intervalMs > 0) {
    timer = setInterval(() => void tick(), o.intervalMs);
    timer.unref();
  }
  return {
    stats,
    tick,
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      if (!nc.isClosed()) await nc.drain().catch(() => undefined);
    },
  };
}
