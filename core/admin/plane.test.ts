import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { validateConfig } from '../config/config';
import { Hub } from '../hub';
import { silentLogger } from '../logger';
import { TOPICS } from '../outputs/topics';
import type { CanonicalTicket, DeadLetter } from '../schema/types';
import { validateAuditRecord } from '../schema/validators';
import { bearer, TEST_TOKEN_ENTRIES, TEST_TOKENS } from '../testing/admin';
import { residentReport, signedHeaders, TEST_SECRET } from '../testing/signed';
import { AUDIT_TOPIC, MemoryAuditSink, type AuditRecord } from './audit';
import type { AdminRole } from './auth';
import { CatalogStore } from '../catalog/catalog';

interface Setup {
  hub: Hub;
  audit: MemoryAuditSink;
  dir: string;
  fail: { on: boolean };
}

async function setup(extra: Record<string, unknown> = {}, audit: MemoryAuditSink | null = new MemoryAuditSink()): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'admin-'));
  const config = validateConfig({
    output: { type: 'embedded', embedded: { dir } },
    admin: { tokens: TEST_TOKEN_ENTRIES, port: 0 },
    server: { port: 0 },
    connectors: [{ id: 'app', type: 'resident-app', config: { secrets: [TEST_SECRET] } }],
    ...extra,
  });
  const fail = { on: false };
  const hub = new Hub(config, {
    logger: silentLogger,
    registry: new Registry(),
    catalog: new CatalogStore(),
    stages: () => [{ name: 'classify', run: (t) => { if (fail.on) throw new Error('stage bug'); return t; } }],
    ...(audit ? { audit } : {}),
  });
  await hub.start();
  return { hub, audit: audit ?? new MemoryAuditSink(), dir, fail };
}

async function teardown(s: Setup): Promise<void> {
  await s.hub.stop();
  rmSync(s.dir, { recursive: true, force: true });
}

const concrete = (url: string): string => url.replace(':id', 'app');

describe('admin plane: authentication and roles', () => {
  let s: Setup;
  beforeAll(async () => (s = await setup()));
  afterAll(() => teardown(s));

  it('lists every admin route with its role; only the probes are open', () => {
    const open = s.hub.admin.routes.filter((r) => r.role === null).map((r) => r.url).sort();
    expect(open).toEqual(['/healthz', '/readyz']);
    const urls = s.hub.admin.routes.map((r) => `${r.method} ${r.url}`);
    for (const u of ['GET /metrics', 'GET /api/connectors', 'GET /api/connectors/:id', 'POST /api/connectors/:id/pause', 'POST /api/connectors/:id/resume', 'POST /api/connectors/:id/restart', 'GET /api/deadletters', 'GET /api/deadletters/:id', 'POST /api/deadletters/:id/replay', 'GET /api/catalog', 'POST /api/catalog/reload']) {
      expect(urls).toContain(u);
    }
  });

  it('every admin route answers 401 with WWW-Authenticate without a token, with a malformed one and with an unknown one', async () => {
    const routes = s.hub.admin.routes.filter((r) => r.role !== null);
    expect(routes.length).toBeGreaterThanOrEqual(13);
    for (const r of routes) {
      for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: 'Bearer ihk_not-a-configured-token-at-all' }, { authorization: `Bearer ${TEST_TOKENS.admin}x` }]) {
        const res = await s.hub.admin.app.inject({ method: r.method as 'GET' | 'POST', url: concrete(r.url), headers });
        expect([r.url, res.statusCode]).toEqual([r.url, 401]);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
        expect((res.json() as { error: { code: string } }).error.code).toBe('INTAKE_ERR_UNAUTHORIZED');
      }
    }
  });

  it('a role below the route\'s gets 403; the role itself and those above pass', async () => {
    const rank: AdminRole[] = ['viewer', 'operator', 'admin'];
    for (const r of s.hub.admin.routes.filter((x) => x.role !== null && x.method === 'POST')) {
      for (const role of rank) {
        const res = await s.hub.admin.app.inject({ method: 'POST', url: concrete(r.url).replace('/api/deadletters/app', '/api/deadletters/01JC0000000000000000000000'), headers: bearer(role) });
        const allowed = rank.indexOf(role) >= rank.indexOf(r.role as AdminRole);
        if (allowed) expect([r.url, role, res.statusCode]).not.toEqual([r.url, role, 403]);
        else {
          expect([r.url, role, res.statusCode]).toEqual([r.url, role, 403]);
          expect((res.json() as { error: { code: string } }).error.code).toBe('INTAKE_ERR_FORBIDDEN');
        }
      }
    }
    // the connector was paused and resumed and restarted above: it is running again
    expect(s.hub.connector('app')?.health().state).toBe('running');
  });

  it('a viewer reads connectors, readiness details, the catalog and metrics', async () => {
    for (const url of ['/api/connectors', '/api/connectors/app', '/api/readiness', '/api/catalog', '/metrics', '/api/whoami']) {
      const res = await s.hub.admin.app.inject({ url, headers: bearer('viewer') });
      expect([url, res.statusCode]).toEqual([url, 200]);
    }
    expect((await s.hub.admin.app.inject({ url: '/api/whoami', headers: bearer('viewer') })).json()).toEqual({ tokenId: 'test-viewer', role: 'viewer' });
    expect((await s.hub.admin.app.inject({ url: '/api/readiness', headers: bearer('viewer') })).json()).toEqual({ ready: true, checks: { log: true, started: true, processor: true } });
  });

  it('the unauthenticated probes reveal only up/ready', async () => {
    for (const app of [s.hub.app, s.hub.admin.app]) {
      expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
      expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready' });
    }
  });

  it('the intake listener serves no admin route', async () => {
    for (const r of s.hub.admin.routes.filter((x) => x.role !== null)) {
      const res = await s.hub.app.inject({ method: r.method as 'GET' | 'POST', url: concrete(r.url), headers: bearer('admin') });
      expect([r.url, res.statusCode]).toEqual([r.url, 404]);
    }
  });
});

describe('admin plane: audit', () => {
  it('writes one schema-valid record per action — who, what, when, target, result — before answering, and one per refused attempt', async () => {
    const s = await setup();
    try {
      const t0 = Date.now();
      const inject = (method: 'GET' | 'POST', url: string, role: AdminRole | null) => s.hub.admin.app.inject({ method, url, headers: role ? bearer(role) : {} });
      expect((await inject('POST', '/api/connectors/app/pause', 'operator')).statusCode).toBe(200);
      expect((await inject('POST', '/api/connectors/app/resume', 'operator')).statusCode).toBe(200);
      expect((await inject('POST', '/api/connectors/app/restart', 'admin')).statusCode).toBe(200);
      expect((await inject('POST', '/api/connectors/nope/pause', 'operator')).statusCode).toBe(404);
      expect((await inject('POST', '/api/connectors/app/pause', 'viewer')).statusCode).toBe(403);
      expect((await inject('POST', '/api/connectors/app/pause', null)).statusCode).toBe(401);
      expect((await inject('POST', '/api/catalog/reload', 'admin')).statusCode).toBe(200);
      expect((await inject('POST', '/api/catalog/reload', 'operator')).statusCode).toBe(403);
      expect((await inject('GET', '/api/deadletters', 'viewer')).statusCode).toBe(200);
      expect((await inject('GET', '/api/deadletters/01JC0000000000000000000000', 'viewer')).statusCode).toBe(404);
      expect((await inject('GET', '/api/connectors', 'viewer')).statusCode).toBe(200); // a status read: not audited
      const rows = s.audit.records.map((r) => [r.action, r.target, r.outcome, r.status, r.actor.tokenId, r.actor.role, r.reason]);
      expect(rows).toEqual([
        ['connector.pause', 'app', 'ok', 200, 'test-operator', 'operator', null],
        ['connector.resume', 'app', 'ok', 200, 'test-operator', 'operator', null],
        ['connector.restart', 'app', 'ok', 200, 'test-admin', 'admin', null],
        ['connector.pause', 'nope', 'not-found', 404, 'test-operator', 'operator', 'INTAKE_ERR_NOT_FOUND'],
        ['connector.pause', 'app', 'denied', 403, 'test-viewer', 'viewer', 'INTAKE_ERR_FORBIDDEN'],
        ['connector.pause', 'app', 'denied', 401, null, null, 'INTAKE_ERR_UNAUTHORIZED'],
        ['catalog.reload', null, 'ok', 200, 'test-admin', 'admin', null],
        ['catalog.reload', null, 'denied', 403, 'test-operator', 'operator', 'INTAKE_ERR_FORBIDDEN'],
        ['deadletter.list', null, 'ok', 200, 'test-viewer', 'viewer', null],
        ['deadletter.read', '01JC0000000000000000000000', 'not-found', 404, 'test-viewer', 'viewer', 'INTAKE_ERR_NOT_FOUND'],
      ]);
      for (const r of s.audit.records) {
        expect(validateAuditRecord(r)).toBe(true);
        expect(Date.parse(r.at)).toBeGreaterThanOrEqual(t0 - 1000);
        expect(r.client).toBe('127.0.0.1');
        expect(JSON.stringify(r)).not.toContain(TEST_TOKENS.operator);
      }
      expect(s.audit.records.find((r) => r.action === 'connector.pause')?.detail).toEqual({ state: 'paused' });
      const version = (await inject('GET', '/api/catalog', 'viewer')).json<{ version: string }>().version;
      expect(s.audit.records.find((r) => r.action === 'catalog.reload')?.detail).toEqual({ version });
      const m = (await inject('GET', '/metrics', 'viewer')).body;
      expect(m).toContain('intake_admin_actions_total{action="connector.pause",outcome="denied"} 2');
      expect(m).toContain('intake_auth_failures_total{listener="admin"} 3');
    } finally {
      await teardown(s);
    }
  });

  it('by default the records go to intake.audit.v1 on the output (the embedded log here)', async () => {
    const s = await setup({}, null);
    try {
      await s.hub.admin.app.inject({ method: 'POST', url: '/api/connectors/app/pause', headers: bearer('operator') });
      const out: AuditRecord[] = [];
      await s.hub.settled();
      await s.hub.log.scan(AUDIT_TOPIC, 0, (r) => {
        if (r.value !== null) out.push(JSON.parse(r.value) as AuditRecord);
      });
      expect(out.map((r) => [r.action, r.outcome, r.actor.tokenId])).toEqual([['connector.pause', 'ok', 'test-operator']]);
      expect(validateAuditRecord(out[0])).toBe(true);
    } finally {
      await teardown(s);
    }
  });
});

describe('replay cannot bypass authentication', () => {
  it('a report refused at auth or transport is not replayable, even by an admin; one that failed after authentication is', async () => {
    const s = await setup();
    try {
      const post = (body: Buffer, headers: Record<string, string>) => s.hub.app.inject({ method: 'POST', url: '/intake/app', payload: body, headers });
      const unsigned = Buffer.from(JSON.stringify(residentReport(1)));
      const r401 = await post(unsigned, { 'content-type': 'application/json' });
      expect(r401.statusCode).toBe(401);
      const r415 = await post(unsigned, { 'content-type': 'text/plain' });
      expect(r415.statusCode).toBe(415);
      s.fail.on = true;
      const signed = Buffer.from(JSON.stringify(residentReport(2)));
      // durable at intake (202); the stage fails in the processor, which dead-letters it (stage pipeline)
      expect((await post(signed, signedHeaders(signed))).statusCode).toBe(202);
      await s.hub.settled();
      s.fail.on = false;
      // the 401 and 415 answers name no dead letter
      const dls: DeadLetter[] = [];
      await s.hub.settled();
      await s.hub.log.scan(TOPICS.dlq, 0, (r) => {
        if (r.value !== null) dls.push(JSON.parse(r.value) as DeadLetter);
      });
      expect(dls.map((d) => d.stage)).toEqual(['auth', 'transport', 'pipeline']);
      for (const d of dls.slice(0, 2)) {
        expect(r401.body + r415.body).not.toContain(d.id);
      }
      const list = (await s.hub.admin.app.inject({ url: '/api/deadletters', headers: bearer('viewer') })).json<{ deadLetters: { id: string; stage: string; replayable: boolean }[] }>();
      expect(list.deadLetters.map((d) => [d.stage, d.replayable])).toEqual([['pipeline', true], ['transport', false], ['auth', false]]);
      for (const d of dls.slice(0, 2)) {
        const res = await s.hub.admin.app.inject({ method: 'POST', url: `/api/deadletters/${d.id}/replay`, headers: bearer('admin') });
        expect(res.statusCode).toBe(409);
        expect(res.json<{ error: { code: string } }>().error.code).toBe('INTAKE_ERR_NOT_REPLAYABLE');
      }
      const tickets = async (): Promise<CanonicalTicket[]> => {
        const t: CanonicalTicket[] = [];
        await s.hub.settled();
      await s.hub.log.scan(TOPICS.tickets, 0, (r) => {
        if (r.value !== null) t.push(JSON.parse(r.value) as CanonicalTicket);
      });
        return t;
      };
      expect(await tickets()).toHaveLength(0);
      const ok = await s.hub.admin.app.inject({ method: 'POST', url: `/api/deadletters/${dls[2]?.id}/replay`, headers: bearer('operator') });
      expect(ok.statusCode).toBe(200);
      expect((await tickets()).map((t) => t.source.sourceId)).toEqual(['RA-T-000002']);
      expect(s.audit.records.map((r) => [r.action, r.outcome, r.reason])).toEqual([
        ['deadletter.list', 'ok', null],
        ['deadletter.replay', 'refused', 'INTAKE_ERR_NOT_REPLAYABLE'],
        ['deadletter.replay', 'refused', 'INTAKE_ERR_NOT_REPLAYABLE'],
        ['deadletter.replay', 'ok', null],
      ]);
      expect(s.audit.records.at(-1)?.detail).toEqual({ result: 'accepted', ticketId: ok.json<{ ticketId: string }>().ticketId });
    } finally {
      await teardown(s);
    }
  });
});

describe('admin listener', () => {
  it('listens apart from intake on its own port; the intake port has no admin API', async () => {
    const s = await setup({ server: { host: '127.0.0.1', port: 19101 }, admin: { tokens: TEST_TOKEN_ENTRIES, host: '127.0.0.1', port: 19102 } });
    try {
      await s.hub.listen();
      expect(s.hub.adminAddress).toBe('http://127.0.0.1:19102');
      const adm = await request('http://127.0.0.1:19102/api/connectors', { headers: bearer('viewer') });
      expect(adm.statusCode).toBe(200);
      expect((await adm.body.json()) as { connectors: unknown[] }).toMatchObject({ connectors: [{ id: 'app' }] });
      const none = await request('http://127.0.0.1:19102/api/connectors');
      expect(none.statusCode).toBe(401);
      await none.body.dump();
      const intake = await request('http://127.0.0.1:19101/api/connectors', { headers: bearer('viewer') });
      expect(intake.statusCode).toBe(404);
      await intake.body.dump();
      const metrics = await request('http://127.0.0.1:19101/metrics');
      expect(metrics.statusCode).toBe(404);
      await metrics.body.dump();
    } finally {
      await teardown(s);
    }
  });
});
