import { CONNECTORS } from '../../connectors';
import { loadSchema } from '../schema/ajv';

type S = Record<string, unknown>;

function typeOf(s: S): string {
  if (s.enum) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.anyOf) return (s.anyOf as S[]).map(typeOf).join(' \\| ');
  if (Array.isArray(s.type)) return (s.type as string[]).join(' \\| ');
  if (s.type === 'array' && s.items) return `array of ${typeOf(s.items as S)}`;
  return String(s.type ?? 'any');
}

function rows(schema: S, prefix: string, out: string[]): void {
  const props = (schema.properties ?? {}) as Record<string, S>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  for (const [k, p] of Object.entries(props)) {
    const path = `${prefix}/${k}`;
    const def = p.default === undefined ? '' : `\`${JSON.stringify(p.default)}\``;
    const desc = String(p.description ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
    out.push(`| \`${path}\` | ${typeOf(p)} | ${required.has(k) ? 'yes' : ''} | ${def} | ${desc} |`);
    if ((p.type === 'object' || (Array.isArray(p.type) && p.type.includes('object'))) && p.properties) rows(p, path, out);
  }
}

/** docs/configuration.md, generated from the hub config schema and every connector's config schema. */
export function configurationDoc(): string {
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- GENERATED from schemas/hub-config.v1.schema.json and connectors/*/spec.ts by `intake-hub docs config`; a unit test fails when it is stale. -->',
    '',
    'The hub reads one YAML file (`intake-hub start --config hub.yaml`, or `HUB_CONFIG`). Validate it with `intake-hub check-config FILE`: errors name the data path (`/connectors/0/config/toleranceSeconds must be >= 1`).',
    'Environment overrides: `KAFKA_BROKERS` (comma-separated; switches the output to Kafka), `PORT`, `ADMIN_PORT`, `HUB_TOKEN_SECRET`, `HUB_ADMIN_TOKENS` (`id:role:sha256`, comma-separated, added to `admin.tokens`), `HUB_ADMIN_TOKENS_FILE` (sets `admin.tokensFile`), `STORE_PG_URL` (PostgreSQL ticket store), `HUB_ROLE`, `HUB_INSTANCE_ID`, `LOG_LEVEL` (debug|info|warn|error|silent).',
    '',
    '## Hub',
    '',
    '| path | type | required | default | description |',
    '|---|---|---|---|---|',
  ];
  rows(loadSchema('hub-config.v1.schema.json'), '', out);
  out.push('', '## Connector types', '', 'Each entry of `connectors` has `id`, `type`, `enabled` and a `config` validated by the type\'s own schema:', '');
  for (const spec of Object.values(CONNECTORS).sort((a, b) => a.type.localeCompare(b.type))) {
    out.push(`### \`${spec.type}\` — ${spec.channel}, ${spec.kind}, ${spec.stability}`, '', spec.summary, '', '| path | type | required | default | description |', '|---|---|---|---|---|');
    rows(spec.configSchema, '/config', out);
    out.push('');
  }
  return out.join('\n') + '\n';
}

/** docs/metrics.md, generated from the metrics the hub registers (HubMetrics). */
export async function metricsDoc(): Promise<string> {
  const { Registry } = await import('prom-client');
  const { HubMetrics } = await import('../metrics');
  const reg = new Registry();
  new HubMetrics(reg);
  const { StoreMetrics } = await import('../store/metrics');
  new StoreMetrics(reg);
  const metrics = reg.getMetricsAsArray() as unknown as { name: string; help: string; labelNames?: string[]; constructor: { name: string } }[];
  const out = [
    '# Metrics',
    '',
    '<!-- GENERATED from core/metrics.ts by `intake-hub docs metrics`; a unit test fails when it is stale. -->',
    '',
    'Served on `GET /metrics` of the admin listener (default 127.0.0.1:8081; a viewer token: `Authorization: Bearer …`), in Prometheus text format. Names follow `intake_<noun>_<unit>`; labels are closed sets (connector ids and channels from config, reasons from the error-code catalog, stages from the pipeline, route patterns — never the URL) — never ids, URLs or free text. Every series whose labels are known from config exists at 0 from start. The connector gauges (`intake_connector_up`, `_paused`, `_breaker_state`, `_last_success_timestamp_seconds`, `intake_poll_lag_seconds`) are read from the connectors at scrape time. Process and runtime metrics come from prom-client defaults with the prefix `intake_` (`intake_process_cpu_seconds_total`, `intake_nodejs_eventloop_lag_seconds`, …).',
    '',
    '| metric | type | labels | help |',
    '|---|---|---|---|',
  ];
  for (const m of [...metrics].sort((a, b) => a.name.localeCompare(b.name))) {
    const labels = m.labelNames ?? [];
    out.push(`| \`${m.name}\` | ${m.constructor.name.toLowerCase()} | ${labels.map((l) => `\`${l}\``).join(', ')} | ${m.help} |`);
  }
  return out.join('\n') + '\n';
}
