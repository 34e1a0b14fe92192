import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { Registry } from 'prom-client';
import { HubMetrics } from '../core/metrics';
import { StoreMetrics } from '../core/store/metrics';

/** One series selector of a PromQL expression: `name{label="…", …}`. */
export interface Selector {
  metric: string | null;
  labels: string[];
  text: string;
}

export interface ParsedExpr {
  /** Syntax errors, each with the text around it; empty when the expression parses. */
  errors: string[];
  selectors: Selector[];
  /** The labels of the outermost `sum by (…)`-style aggregation, or null when there is none. */
  outputLabels: string[] | null;
}

/** Parses a PromQL expression with the Prometheus project's own grammar (lezer-promql). */
export function parsePromQL(expr: string): ParsedExpr {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const selectors: Selector[] = [];
  const text = (n: SyntaxNode): string => expr.slice(n.from, n.to);
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) errors.push(`syntax error at ${ref.from}: …${expr.slice(Math.max(0, ref.from - 20), ref.from + 20)}…`);
      if (ref.name !== 'VectorSelector') return;
      const node = ref.node;
      const ident = node.getChild('Identifier');
      const labels: string[] = [];
      let metric = ident ? text(ident) : null;
      const matchers = node.getChild('LabelMatchers');
      for (const m of matchers ? [...matchers.getChildren('UnquotedLabelMatcher'), ...matchers.getChildren('QuotedLabelMatcher')] : []) {
        const name = m.getChild('LabelName') ?? m.getChild('QuotedLabelName');
        if (!name) continue;
        const label = text(name).replace(/^"|"$/g, '');
        const value = m.getChild('StringLiteral');
        if (label === '__name__' && value && m.getChild('MatchOp')?.getChild('EqlSingle')) metric = JSON.parse(text(value)) as string;
        else labels.push(label);
      }
      selectors.push({ metric, labels, text: text(node) });
    },
  });
  let outputLabels: string[] | null = null;
  let top = tree.topNode.firstChild;
  while (top?.name === 'ParenExpr') top = top.firstChild;
  if (top?.name === 'AggregateExpr') {
    const mod = top.getChild('AggregateModifier');
    if (mod?.getChild('By')) outputLabels = mod.getChild('GroupingLabels')?.getChildren('LabelName').map(text) ?? [];
  }
  return { errors, selectors, outputLabels };
}

/** A metric the hub exports, with the labels its series carry. */
export interface ExportedMetric {
  type: string;
  labels: Set<string>;
}

/**
 * Every series name the hub's registry exports (with default metrics, as `intake-hub start`
 * registers them), histogram `_bucket`/`_sum`/`_count` and summary `_sum`/`_count` included.
 */
export async function exportedMetrics(): Promise<Map<string, ExportedMetric>> {
  const registry = new Registry();
  new HubMetrics(registry, { defaultMetrics: true });
  // the ticket store registers its own (core/store/metrics.ts) on the hub's registry
  new StoreMetrics(registry);
  const out = new Map<string, ExportedMetric>();
  for (const m of await registry.getMetricsAsJSON()) {
    const labelNames = (registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] }).labelNames ?? [];
    const type = String(m.type);
    const add = (name: string, extra: string[] = []): void => void out.set(name, { type, labels: new Set([...labelNames, ...extra]) });
    if (type === 'histogram') {
      add(`${m.name}_bucket`, ['le']);
      add(`${m.name}_sum`);
      add(`${m.name}_count`);
    } else if (type === 'summary') {
      add(m.name, ['quantile']);
      add(`${m.name}_sum`);
      add(`${m.name}_count`);
    } else add(m.name);
  }
  registry.clear();
  return out;
}

/** Labels Prometheus adds to every scraped series (the chart's ServiceMonitor keeps these). */
export const TARGET_LABELS = ['job', 'instance', 'namespace', 'pod', 'container', 'service', 'endpoint'];

/** Series Prometheus itself makes: scrape health and alert state. */
export const PROMETHEUS_SERIES = new Map<string, ExportedMetric>([
  ['up', { type: 'gauge', labels: new Set<string>() }],
  // ALERTS carries every label of the alert, so any label may be matched.
  ['ALERTS', { type: 'gauge', labels: new Set<string>(['*']) }],
]);

/**
 * Replaces Grafana's interval variables with a duration, so that a dashboard query parses as
 * PromQL. Other `$variables` are only allowed inside label-matcher strings, where they stay as
 * they are; anywhere else they remain and fail the parse.
 */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replace(/\$\{?(__rate_interval|__interval|__range)\}?/g, '5m');
}
