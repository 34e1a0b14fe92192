import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import type { Logger } from '../logger';
import { sign } from '../sdk/signature';
import { packageRoot } from '../util/paths';

export interface SimulatorOptions {
  baseUrl: string;
  path: string;
  secret: string | null;
  intervalMs: number;
  logger: Logger;
}

/**
 * Sends realistic resident-app reports (examples/resident-app/*.json, hand-written Chinese
 * samples) to the hub over real HTTP, signed like the app gateway would; every 7th send repeats
 * an earlier report to show that a redelivery does not make a second ticket.
 */
export class ResidentAppSimulator {
  private timer: NodeJS.Timeout | null = null;
  private n = 0;
  private readonly samples: Record<string, unknown>[];
  readonly stats = { sent: 0, accepted: 0, duplicates: 0, failed: 0 };

  constructor(private readonly o: SimulatorOptions) {
    const dir = join(packageRoot(), 'examples', 'resident-app');
    this.samples = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async tick(): Promise<void> {
    const i = this.n++;
    const repeat = i > 0 && i % 7 === 0;
    const seq = repeat ? i - 3 : i;
    const sample = this.samples[seq % this.samples.length] ?? {};
    const report = { ...sample, reportId: `RA-SIM-${String(seq).padStart(6, '0')}`, openid: `oSim${seq % 5}`, submittedAt: new Date().toISOString() };
    const body = Buffer.from(JSON.stringify(report));
    const id = `msg_sim_${seq}`;
    const ts = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts) };
    if (this.o.secret) headers['webhook-signature'] = sign(this.o.secret, id, ts, body);
    this.stats.sent++;
    try {
      const res = await request(this.o.baseUrl + this.o.path, { method: 'POST', headers, body, headersTimeout: 15000, bodyTimeout: 15000 });
      await res.body.dump();
      if (res.statusCode === 202) this.stats.accepted++;
      else if (res.statusCode === 200) this.stats.duplicates++;
      else this.stats.failed++;
    } catch (e) {
      this.stats.failed++;
      this.o.logger.debug('simulator send failed', { err: e });
    }
  }
}
