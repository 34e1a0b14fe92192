import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONNECTORS } from '../../connectors';
import type { Catalog } from '../../core/catalog/catalog';
import type { Classifier, ClassifyResult } from '../../core/catalog/classify';
import type { Router } from '../../core/routing/router';
import { assembleTicket } from '../../core/pipeline/enrich';
import type { CanonicalTicket } from '../../core/schema/types.generated';
import { configAjv, formatAjvErrors } from '../../core/schema/ajv';
import type { RawInput } from '../../core/sdk/connector';
import { packageRoot } from '../../core/util/paths';

/**
 * The labelled check set `bench/classify/checkset/reports.jsonl`: realistic reports of every
 * channel in its native format, written by this project from the channel docs
 * (docs/connectors/*.md) — not shared data. Each line: `{id, connector, primary, acceptable,
 * triage_ok, expect?: {department?, priority?}, native}` where `native` is the payload (an object
 * for JSON channels, a string for XML and form bodies). Each report goes through its connector's
 * own normalize, the ticket assembly, the classifier and the router, as in the hub.
 */
export interface CheckReport {
  id: string;
  connector: string;
  primary: string;
  acceptable: string[];
  triage_ok: boolean;
  expect?: { department?: string; priority?: string };
  native: unknown;
}

export function checksetFile(): string {
  return join(packageRoot(), 'bench', 'classify', 'checkset', 'reports.jsonl');
}

export function readCheckset(file = checksetFile()): CheckReport[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as CheckReport);
}

/** A working config per connector type (test secrets; the district-app channel of examples/mapped-webhook.yaml). */
function configFor(type: string): Record<string, unknown> {
  const base: Record<string, Record<string, unknown>> = {
    'police-110': { secrets: null },
    'resident-app': { secrets: null },
    'grid-worker': { servers: ['nats://127.0.0.1:9'] },
    'hotline-12345': { baseUrl: 'http://127.0.0.1:9' },
    'city-management': { mode: 'pull', baseUrl: 'http://127.0.0.1:9' },
    'message-board': { baseUrl: 'http://127.0.0.1:9' },
    open311: { apiKeys: ['demo-api-key-0001'] },
  };
  if (type === 'mapped-webhook') {
    const doc = parse(readFileSync(join(packageRoot(), 'examples/mapped-webhook.yaml'), 'utf8')) as { connectors: Array<{ id: string; config: Record<string, unknown> }> };
    return structuredClone(doc.connectors.find((c) => c.id === 'district-app')?.config ?? {});
  }
  return structuredClone(base[type] ?? {});
}

function rawOf(r: CheckReport): RawInput {
  if (typeof r.native === 'string') {
    const xml = r.native.startsWith('<');
    return { transport: 'replay', body: Buffer.from(r.native, 'utf8'), contentType: xml ? 'application/xml' : 'application/x-www-form-urlencoded', headers: {} };
  }
  return { transport: 'replay', body: Buffer.from(JSON.stringify(r.native), 'utf8'), contentType: 'application/json', headers: {} };
}

/** The report as the hub's pipeline turns it into a ticket (before classify and route). */
export function ticketOf(r: CheckReport): CanonicalTicket {
  const spec = CONNECTORS[r.connector];
  if (!spec) throw new Error(`${r.id}: unknown connector ${r.connector}`);
  const cfg = configFor(r.connector);
  const v = configAjv.compile(spec.configSchema);
  if (!v(cfg)) throw new Error(`${r.id}: config: ${formatAjvErrors(v.errors)}`);
  const draft = spec.normalize(rawOf(r), cfg as never);
  return assembleTicket(draft, {
    channel: spec.channel,
    connectorId: r.connector,
    dedupScope: r.connector,
    receivedAt: Date.parse('2026-12-01T02:00:00Z'),
    rawTopic: 'intake.reports.v1',
    envelopeId: '01JC0000000000000000000002',
    sha256: '0'.repeat(64),
    tokenSecret: 'checkset-secret',
  });
}

export interface CheckOutcome {
  report: CheckReport;
  ticket: CanonicalTicket;
  result: ClassifyResult;
  routing: CanonicalTicket['routing'];
  /** The category routed to (null: triage). */
  category: string | null;
  acceptable: boolean;
  expectFailures: string[];
}

export function runReport(r: CheckReport, classifier: Classifier, router: Router, catalog: Catalog, explain = false): CheckOutcome {
  const t = ticketOf(r);
  const cc = t.channelCategory;
  const result = classifier.classify({ text: t.text, title: t.title, channelCategory: cc ? { scheme: cc.scheme, code: cc.code, name: cc.name ?? null } : null }, { explain });
  const classified: CanonicalTicket = {
    ...t,
    classification: { catalogVersion: result.catalogVersion, category: result.category, subcategory: result.subcategory, confidence: result.confidence, method: result.method, alternatives: result.alternatives },
  };
  const routing = router.route(classified);
  const category = routing.status === 'triage' ? null : (result.category?.code ?? null);
  const expectFailures: string[] = [];
  if (r.expect?.department && routing.department !== r.expect.department) expectFailures.push(`department ${routing.department} ≠ ${r.expect.department}`);
  if (r.expect?.priority && routing.priority !== r.expect.priority) expectFailures.push(`priority ${routing.priority} ≠ ${r.expect.priority}`);
  void catalog;
  return { report: r, ticket: classified, result, routing, category, acceptable: category !== null && r.acceptable.includes(category), expectFailures };
}
