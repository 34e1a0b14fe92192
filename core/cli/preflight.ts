import { Registry } from 'prom-client';
import type { HubConfig } from '../config/config';
import { isIntakeError } from '../errors';
import { Hub } from '../hub';
import { silentLogger } from '../logger';
import type { RecordLog } from '../outputs/output';
import { insecureSettings } from '../config/insecure';
import { defaultStages } from '../stages';

/** What `check-config` reports beyond schema validation. */
export interface PreflightReport {
  /** What `start` would refuse: the hub cannot be built from this config. */
  errors: string[];
  /** Settings that work but expose the hub (docs/SECURITY.md). */
  warnings: string[];
}

/** A log that holds nothing: lets the hub be built without touching Kafka or the disk. */
const NULL_LOG: RecordLog & { start(): Promise<void>; stop(): Promise<void> } = {
  kind: 'embedded',
  partitions: 1,
  start: async () => undefined,
  stop: async () => undefined,
  ready: () => false,
  write: async () => undefined,
  scan: async () => 0,
};

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Builds everything `start` builds from a validated config — stages (catalog and model files),
 * connectors and their routes (a route declared twice), admin tokens (tokens file), TLS files,
 * raw-seal keys — without listening or writing, and checks the two listeners do not collide.
 * Environment overrides must already be applied (`loadConfigFile` does).
 */
export async function preflight(config: HubConfig): Promise<PreflightReport> {
  const errors: string[] = [];
  // secrets at a public value and inbound checks turned off: `start` refuses those outside the demo
  const warnings = [...insecureSettings(config).map((w) => `${w.path}: ${w.message} (intake-hub start refuses this)`), ...adminInsecureSettings(config)];
  const wildcard = (h: string): boolean => h === '0.0.0.0' || h === '::';
  if (config.server.port !== 0 && config.server.port === config.admin.port && (config.server.host === config.admin.host || wildcard(config.server.host) || wildcard(config.admin.host))) {
    errors.push(`/admin/port ${config.admin.port} is also the intake port (/server/port): the admin plane needs its own listener`);
  }
  let hub: Hub | null = null;
  try {
    const shipped = defaultStages(config);
    shipped.load();
    hub = new Hub(config, { log: NULL_LOG, logger: silentLogger, registry: new Registry(), stages: shipped.stages, catalog: shipped.catalog, restoreHorizonMs: shipped.restoreHorizonMs });
    await hub.app.ready();
    await hub.admin.app.ready();
  } catch (e) {
    errors.push(isIntakeError(e) ? e.message : `cannot build the hub: ${(e as Error).message}`);
  } finally {
    await hub?.stop().catch(() => undefined);
  }
  return { errors, warnings };
}

/** Insecure settings of the listeners and the admin plane. */
export function adminInsecureSettings(config: HubConfig): string[] {
  const w: string[] = [];
  const { admin, server } = config;
  if (admin.tokens.length === 0 && !admin.tokensFile) w.push('/admin/tokens: no admin token is configured; every admin route answers 401 (intake-hub token makes one)');
  if (!LOOPBACK.test(admin.host) && !admin.tls) w.push(`/admin/tls: the admin API listens on ${admin.host} without TLS; bearer tokens cross the network in clear text unless a proxy or mesh encrypts it`);
  if (server.rateLimit.max === 0) w.push('/server/rateLimit/max is 0: no per-client request rate limit on intake');
  if (server.maxConnectionsPerClient === 0) w.push('/server/maxConnectionsPerClient is 0: one client may hold every connection');
  if (admin.maxConnectionsPerClient === 0) w.push('/admin/maxConnectionsPerClient is 0: one client may hold every admin connection');
  for (const [i, c] of config.connectors.entries()) {
    const cfg = c.config as { secrets?: unknown; apiKeys?: unknown };
    if (c.enabled && 'secrets' in cfg && cfg.secrets === null) w.push(`/connectors/${i}/config/secrets is null: connector ${c.id} accepts unsigned reports from anyone who can reach it`);
  }
  return w;
}

