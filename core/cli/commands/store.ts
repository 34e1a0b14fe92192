/**
 * `intake-hub store migrate|materialize|status [--config hub.yaml]`
 *
 * migrate       applies the ticket store's schema migrations and exits
 * materialize   runs only the store materialiser (a separate process or Deployment next to the
 *               hubs, with `store.materializer.enabled: false` on the hubs); stops on SIGINT/SIGTERM
 *               and prints what it applied as one JSON line
 * status        prints the schema version, the stored positions and the lag as JSON
 * Exit codes: 0 done, 1 failed, 2 bad arguments.
 */
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { systemClock } from '../../clock';
import { loadConfigFile } from '../../config/config';
import { ConfigError } from '../../errors';
import { createLogger } from '../../logger';
import { StoreService } from '../../store/service';

export const STORE_USAGE = 'usage: intake-hub store migrate|materialize|status [--config hub.yaml]';

/** Writes and waits until the bytes left (stdout on a pipe is asynchronous; the CLI exits right after). */
const print = (line: string): Promise<void> => new Promise((resolve) => process.stdout.write(`${line}\n`, () => resolve()));

export async function storeCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${STORE_USAGE}\n`);
    return 2;
  }
  const [sub, ...extra] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(`${STORE_USAGE}\n`);
    return 0;
  }
  if (!sub || !['migrate', 'materialize', 'status'].includes(sub) || extra.length > 0) {
    process.stderr.write(`${STORE_USAGE}\n`);
    return 2;
  }
  const config = loadConfigFile(parsed.values.config ?? process.env.HUB_CONFIG);
  const logger = createLogger();
  if (sub === 'materialize') config.store.materializer.enabled = true;
  else config.store.materializer.enabled = false;
  const svc = StoreService.fromConfig(config, { logger, registry: new Registry(), clock: systemClock });
  if (!svc) throw new ConfigError('the store is off (store.type resolves to none): set store.type or STORE_PG_URL', { dataPath: '/store/type' });
  await svc.start();
  try {
    if (sub === 'migrate') {
      await print(JSON.stringify({ schemaVersion: (await svc.status()).schemaVersion }));
      return 0;
    }
    if (sub === 'status') {
      await print(JSON.stringify({ ...(await svc.status()), positions: await svc.store.positions(svc.consumer), tickets: await svc.store.count() }));
      return 0;
    }
    // the materialiser's timers do not hold the process open (they are unref'd for the hub): this does
    const keepAlive = setInterval(() => undefined, 3_600_000);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    clearInterval(keepAlive);
    const m = svc.materializer;
    await print(JSON.stringify({ applied: Object.fromEntries(m?.applied ?? []), skipped: m?.skipped ?? 0 }));
    return 0;
  } finally {
    await svc.stop();
  }
}
