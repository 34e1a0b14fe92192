import { loadCatalog } from '../../core/catalog/catalog';
import { loadCategoryModel } from '../../core/catalog/category-model';
import { Classifier } from '../../core/catalog/classify';
import { loadModel } from '../../core/catalog/model';
import { Router } from '../../core/routing/router';
import { readCheckset, runReport } from './checkset-run';

// The realistic check set through the shipped connectors, catalog, models and router.
const catalog = loadCatalog();
const classifier = new Classifier(catalog, loadModel(), {}, loadCategoryModel());
const router = new Router(catalog);
const reports = readCheckset();
const outcomes = reports.map((r) => runReport(r, classifier, router, catalog));

describe('check set of realistic reports (bench/classify/checkset/reports.jsonl)', () => {
  it('covers every shipped channel connector with labelled reports', () => {
    const per = new Map<string, number>();
    for (const r of reports) per.set(r.connector, (per.get(r.connector) ?? 0) + 1);
    expect([...per.keys()].sort()).toEqual(['city-management', 'grid-worker', 'hotline-12345', 'mapped-webhook', 'message-board', 'open311', 'police-110', 'resident-app']);
    for (const n of per.values()) expect(n).toBeGreaterThanOrEqual(10);
    for (const r of reports) expect(r.acceptable).toContain(r.primary);
  });

  it("every report's channel code resolves, except the district app's codes outside its YAML table", () => {
    const unresolved = outcomes
      .filter((o) => o.ticket.channelCategory && !catalog.resolveChannel(o.ticket.channelCategory.scheme, o.ticket.channelCategory.code, o.ticket.channelCategory.name))
      .map((o) => `${o.report.id} ${o.ticket.channelCategory?.code}`);
    expect(unresolved).toEqual(['mapped-webhook-06 C0301', 'mapped-webhook-08 Z9999']);
  });

  it('urgent gas leaks of 110 (1302) and grid (B02 特急), and 12345 (228), go to the gas utility at P1', () => {
    const gas = outcomes.filter((o) => o.report.expect);
    expect(gas.map((o) => o.report.id)).toEqual(['police-110-11', 'police-110-12', 'grid-worker-05', 'hotline-12345-03']);
    for (const o of gas) expect({ id: o.report.id, failures: o.expectFailures, status: o.routing.status }).toEqual({ id: o.report.id, failures: [], status: 'routed' });
  });

  it('a general subcategory is never reported with the confidence of its category, except when a code named the category', () => {
    // regression (issue 13): 城乡建设 → C08.000 at the label's confidence
    const general = outcomes.filter((o) => o.result.subcategory?.code.endsWith('.000'));
    expect(general.length).toBeGreaterThan(0);
    for (const o of general) {
      if (o.result.method === 'channel-code') continue;
      expect({ id: o.report.id, below: o.result.subcategoryConfidence <= 0.3 * o.result.confidence + 1e-4 }).toEqual({ id: o.report.id, below: true });
    }
  });

  it('reaches an acceptable category or triage for at least 90% of the reports (regression floor)', () => {
    const ok = outcomes.filter((o) => o.acceptable || o.category === null).length;
    expect(ok / outcomes.length).toBeGreaterThanOrEqual(0.9);
  });

  it('is deterministic: a second pass gives the same classification and route', () => {
    const again = reports.map((r) => runReport(r, classifier, router, catalog));
    expect(again.map((o) => [o.result, o.routing])).toEqual(outcomes.map((o) => [o.result, o.routing]));
  });
});
