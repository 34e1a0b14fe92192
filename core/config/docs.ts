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
    if (p.type === 'object' && p.properties) rows(p, path, out);
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
    'Environment overrides: `KAFKA_BROKERS` (comma-separated; switches the output to Kafka), `PORT`, `HUB_TOKEN_SECRET`, `LOG_LEVEL` (debug|info|warn|error|silent).',
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
  const metrics = reg.getMetricsAsArray() as unknown as { name: string; help: string; labelNames?: string[]; constructor: { name: string } }[];
  const out = [
    '# Metrics',
    '',
    '<!-- GENERATED from core/metrics.ts by `intake-hub docs metrics`; a unit test fails when it is stale. -->',
    '',
    'Served on `GET /metrics` (Prometheus text format). Names follow `intake_<noun>_<unit>`; labels are closed sets (connector ids and channels from config, reasons from the error-code catalog, stages from the pipeline) — never ids, URLs or free text. Process metrics (`intake_process_*`) come from prom-client defaults.',
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
