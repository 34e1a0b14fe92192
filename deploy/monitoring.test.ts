import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { packageRoot } from '../core/util/paths';
import { exportedMetrics, parsePromQL, PROMETHEUS_SERIES, substituteGrafanaVariables, TARGET_LABELS, type ExportedMetric } from './promql';

// The alert rules and the dashboard are code: every query they run must name series and labels
// that the hub's registry really exports (built from core/metrics.ts, not a copied list), every
// alert needs a runbook section and a promtool test, and the chart ships the same rules.

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleGroup {
  name: string;
  rules: Rule[];
}
interface PromtoolTests {
  rule_files: string[];
  group_eval_order?: string[];
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; refId: string }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
}

const root = packageRoot();
const read = (p: string): string => readFileSync(join(root, p), 'utf8');
const RULES = 'deploy/prometheus/intake-hub.rules.yaml';
const TEST_FILES = ['deploy/prometheus/channels.test.yaml', 'deploy/prometheus/alerts.test.yaml'];
const groups = (parseYaml(read(RULES)) as { groups: RuleGroup[] }).groups;
const rules = groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => typeof r.alert === 'string');
const dashboard = JSON.parse(read('deploy/grafana/intake-hub.dashboard.json')) as Dashboard;

/** Recorded series of the rules file, with the labels they keep (null: not known, any label). */
const recorded = new Map<string, Set<string> | null>(
  rules.filter((r) => r.record).map((r) => {
    const out = parsePromQL(r.expr).outputLabels;
    return [r.record as string, out ? new Set(out) : null];
  }),
);

function problemsOf(where: string, expr: string, exported: Map<string, ExportedMetric>): string[] {
  const parsed = parsePromQL(substituteGrafanaVariables(expr));
  const out = parsed.errors.map((e) => `${where}: ${e}`);
  for (const s of parsed.selectors) {
    if (!s.metric) {
      out.push(`${where}: selector without a metric name: ${s.text}`);
      continue;
    }
    const metric = exported.get(s.metric) ?? PROMETHEUS_SERIES.get(s.metric);
    if (!metric && !recorded.has(s.metric)) {
      out.push(`${where}: ${s.metric} is neither exported by the hub (core/metrics.ts) nor recorded in ${RULES}`);
      continue;
    }
    const allowed = metric ? metric.labels : recorded.get(s.metric);
    if (!allowed || allowed.has('*')) continue;
    for (const label of s.labels) {
      if (!allowed.has(label) && !TARGET_LABELS.includes(label)) out.push(`${where}: ${s.metric} has no label "${label}" (it has: ${[...allowed].join(', ') || 'none'})`);
    }
  }
  return out;
}

function panelsOf(list: Panel[]): Panel[] {
  return list.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);
}

/** Every PromQL the dashboard runs: panel targets and the selectors of label_values() variables. */
function dashboardQueries(): { where: string; expr: string; label?: string }[] {
  const out: { where: string; expr: string; label?: string }[] = [];
  for (const p of panelsOf(dashboard.panels)) for (const t of p.targets ?? []) out.push({ where: `panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr });
  for (const v of dashboard.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
    const m = /^label_values\((?:(.+),\s*)?([a-zA-Z_]\w*)\)$/.exec(q);
    if (!m) out.push({ where: `variable ${v.name}`, expr: q });
    else if (m[1]) out.push({ where: `variable ${v.name}`, expr: m[1], label: m[2] });
  }
  return out;
}

describe('alert rules and dashboard as code', () => {
  let exported: Map<string, ExportedMetric>;
  beforeAll(async () => {
    exported = await exportedMetrics();
  });

  it('builds the exported list from the registry, histograms and default metrics included', () => {
    expect(exported.get('intake_received_total')?.labels).toEqual(new Set(['connector', 'channel']));
    expect(exported.get('intake_stage_duration_seconds_bucket')?.labels).toEqual(new Set(['stage', 'le']));
    expect(exported.has('intake_stage_duration_seconds_count')).toBe(true);
    expect(exported.has('intake_stage_duration_seconds')).toBe(false);
    expect(exported.has('intake_process_cpu_seconds_total')).toBe(true);
    expect(exported.has('intake_nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });

  it('the check finds a syntax error, an unknown metric, an unknown label and a stray variable', () => {
    expect(problemsOf('t', 'sum(rate(intake_received_total[5m])', exported)).toHaveLength(1);
    expect(problemsOf('t', 'rate(intake_tickets_total[5m])', exported)).toEqual([expect.stringContaining('intake_tickets_total is neither exported')]);
    expect(problemsOf('t', 'intake_output_up{channel="x"}', exported)).toEqual([expect.stringContaining('has no label "channel"')]);
    expect(problemsOf('t', 'rate(intake_received_total[$window])', exported).length).toBeGreaterThan(0);
    expect(problemsOf('t', 'sum by (channel) (rate(intake_received_total{namespace="$namespace"}[$__rate_interval]))', exported)).toEqual([]);
  });

  it('every rule expression parses and names only exported series and labels', () => {
    expect(rules.length).toBeGreaterThan(20);
    const problems = rules.flatMap((r) => problemsOf(`${RULES} ${r.alert ?? r.record}`, r.expr, exported));
    expect(problems).toEqual([]);
  });

  it('every dashboard query parses and names only exported series and labels', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(40);
    const problems = queries.flatMap((q) => {
      const p = problemsOf(q.where, q.expr, exported);
      const metric = parsePromQL(q.expr).selectors[0]?.metric;
      if (q.label && metric && !TARGET_LABELS.includes(q.label) && !exported.get(metric)?.labels.has(q.label)) p.push(`${q.where}: ${metric} has no label "${q.label}"`);
      return p;
    });
    expect(problems).toEqual([]);
  });

  it('dashboard panels have unique ids, the data-source variable and at least one query', () => {
    const panels = panelsOf(dashboard.panels);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const bad = panels
      .filter((p) => p.type !== 'row')
      .filter((p) => p.datasource?.uid !== '${datasource}' || !p.targets?.length || p.targets.some((t) => !t.expr.trim()))
      .map((p) => `${p.id} ${p.title}`);
    expect(bad).toEqual([]);
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')?.type).toBe('datasource');
  });

  it('every alert has a severity, a summary, a description and a runbook section in docs/OPERATIONS.md', () => {
    const anchors = new Set(
      read('docs/OPERATIONS.md')
        .split('\n')
        .filter((l) => /^#{1,6} /.test(l))
        .map((l) => l.replace(/^#+ /, '').trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')),
    );
    const bad = alerts.flatMap((a) => {
      const p: string[] = [];
      if (!['critical', 'warning', 'info'].includes(a.labels?.severity ?? '')) p.push(`${a.alert}: severity`);
      if (!a.annotations?.summary || !a.annotations.description) p.push(`${a.alert}: summary/description`);
      const runbook = /^docs\/OPERATIONS\.md#(.+)$/.exec(a.annotations?.runbook ?? '');
      if (!runbook || runbook[1] !== a.alert.toLowerCase() || !anchors.has(runbook[1])) p.push(`${a.alert}: runbook ${a.annotations?.runbook ?? '(none)'}`);
      return p;
    });
    expect(bad).toEqual([]);
    expect(new Set(alerts.map((a) => a.alert)).size).toBe(alerts.length);
  });

  it('every alert fires in a promtool test, and the tests evaluate every group in a fixed order', () => {
    const fired = new Set<string>();
    for (const file of TEST_FILES) {
      const t = parseYaml(read(file)) as PromtoolTests;
      expect(t.rule_files).toEqual(['intake-hub.rules.yaml']);
      // promtool orders groups it is not told about at random; recording rules go first.
      expect(t.group_eval_order).toEqual(groups.map((g) => g.name));
      for (const g of t.tests) for (const a of g.alert_rule_test ?? []) if (a.exp_alerts.length) fired.add(a.alertname);
    }
    expect(groups[0]?.rules.every((r) => r.record)).toBe(true);
    expect(alerts.map((a) => a.alert).filter((a) => !fired.has(a))).toEqual([]);
  });

  it('the Helm chart ships the same rules file and dashboard (cp deploy/prometheus/intake-hub.rules.yaml deploy/grafana/intake-hub.dashboard.json helm/intake-hub/files/)', () => {
    expect(read('helm/intake-hub/files/intake-hub.rules.yaml')).toBe(read(RULES));
    expect(read('helm/intake-hub/files/intake-hub.dashboard.json')).toBe(read('deploy/grafana/intake-hub.dashboard.json'));
  });
});
