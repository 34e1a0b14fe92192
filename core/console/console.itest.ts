import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { startHotlineSim } from '../../connectors/hotline-12345/sim';
import { validateConfig } from '../config/config';
import { MemoryAuditSink } from '../admin/audit';
import { Hub } from '../hub';
import { silentLogger } from '../logger';
import type { ListingSim } from '../sdk/poller-sim';
import { defaultStages } from '../stages';
import { TEST_TOKEN_ENTRIES, TEST_TOKENS } from '../testing/admin';
import { until } from '../testing/wait';
import { packageRoot } from '../util/paths';

/**
 * The console in a real browser (Debian's chromium driven by playwright-core) against a real hub in
 * embedded mode (SQLite store, real stages, the real admin plane with its bearer tokens, roles and
 * audit): log in, see every connector, pause and resume one, replay a dead letter, open a hot
 * cluster. Screenshots go to var/ci-artifacts/console/.
 */
// The browser's globals, as far as the page functions below use them (this file is compiled without the DOM lib).
declare const document: { getElementById(id: string): { textContent: string | null } | null; querySelector(s: string): { textContent: string | null } | null; querySelectorAll(s: string): { length: number } };
declare const sessionStorage: { getItem(k: string): string | null };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(packageRoot(), 'var', 'ci-artifacts', 'console');
const OPERATOR = TEST_TOKENS.operator;
const VIEWER = TEST_TOKENS.viewer;

let dir: string;
let hub: Hub;
let adminUrl: string;
let browser: BrowserContext;
let hotline: ListingSim<unknown>;
const audit = new MemoryAuditSink();
/** The audit trail of the admin plane: action, who, outcome. */
const trail = (): string[] => audit.records.map((r) => `${r.action} ${r.actor.tokenId ?? '-'} ${r.outcome}`);

const report = (n: number, over: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      reportId: `RA-CONSOLE-${n}`,
      openid: `oConsoleUser${n}`,
      submittedAt: new Date(Date.now() - 60_000).toISOString(),
      text: `春融苑12栋门口的窨井盖破损，晚上容易踩空，请尽快维修（第${n}位居民反映）`,
      phone: `1390000${String(1000 + n)}`,
      nickname: '王某',
      location: { lng: 117.2845, lat: 31.7406, coordType: 'gcj02', address: '包河区春融苑12栋', district: '包河区' },
      ...over,
    }),
  );

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: run \`bash deploy/local/chromium.sh install\` (Debian's chromium; npm run test:all does)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'console-'));
  hotline = (await startHotlineSim({ host: '127.0.0.1' })) as ListingSim<unknown>;
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0, tokens: TEST_TOKEN_ENTRIES },
    output: { type: 'embedded', embedded: { dir } },
    connectors: [
      { id: 'resident-app', type: 'resident-app', config: { secrets: null } },
      { id: 'open311', type: 'open311', config: {} },
      { id: 'police-110', type: 'police-110', config: { secrets: null } },
      { id: 'hotline-12345', type: 'hotline-12345', config: { baseUrl: hotline.url, pollIntervalMs: 1000 } },
    ],
  });
  const shipped = defaultStages(config);
  hub = new Hub(config, { logger: silentLogger, registry: new Registry(), stages: shipped.stages, catalog: shipped.catalog, audit });
  // as `intake-hub start` does: listen (the operator routes go on the admin plane), then start
  await hub.listen();
  await hub.start();
  adminUrl = hub.adminAddress as string;
  // one issue reported by eight residents: a hot cluster
  for (let n = 1; n <= 8; n++) {
    const r = await hub.submitAs('resident-app', { transport: 'webhook', body: report(n), contentType: 'application/json', headers: {} });
    expect(r.outcome).toBe('accepted');
  }
  // a report that passes the transport but fails normalisation: a replayable dead letter
  const bad = await hub.submitAs('resident-app', { transport: 'webhook', body: report(99, { text: '' }), contentType: 'application/json', headers: {} });
  expect(bad.outcome).toBe('rejected');
  await until('a hot cluster in the store', async () => (await hub.store?.store.clusters({ hot: true, sort: 'recent', limit: 1 }))?.length === 1, 60_000, 100);
  // a fresh profile (user data dir) per run
  browser = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  await hotline?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function login(page: Page, token: string): Promise<void> {
  await page.goto(`${adminUrl}/`);
  await page.fill('#token', token);
  await page.click('#login-form button[type=submit]');
}

test('an operator logs in, sees every connector, pauses and resumes one, replays a dead letter and opens a hot cluster', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // script errors; answers with an error status the page expects (401 for the bad token, 422 for the refused replay) are not
  page.on('console', (m) => (m.type() === 'error' && !m.text().startsWith('Failed to load resource') ? errors.push(m.text()) : undefined));

  await page.goto(`${adminUrl}/`);
  await page.waitForSelector('#login-form');
  await shot(page, '01-login');
  await login(page, 'not-a-valid-token');
  await page.waitForFunction(() => (document.getElementById('login-error')?.textContent ?? '').length > 0);
  expect(await page.textContent('#login-error')).toBe('令牌无效');

  await login(page, OPERATOR);
  await page.waitForSelector('#connectors tr[data-connector="hotline-12345"]');
  const ids = await page.$$eval('#connectors tr[data-connector]', (rows) => rows.map((r) => r.getAttribute('data-connector')));
  expect(ids.sort()).toEqual(['hotline-12345', 'open311', 'police-110', 'resident-app']);
  expect(await page.textContent('#who')).toBe('test-operator (operator)');
  await page.waitForFunction(() => (document.querySelector('#intake .legend')?.textContent ?? '').includes('市民 App: 8'));
  // the sparkline counts the current 5-minute bucket too (its title is the total over 2 h)
  expect(await page.textContent('#connectors tr[data-connector="resident-app"] svg.spark title')).toBe('8');
  await shot(page, '02-overview-zh');

  const row = '#connectors tr[data-connector="police-110"]';
  await page.click(`${row} button[data-action="pause"]`);
  await page.waitForSelector(`${row}.state-paused`);
  expect(hub.connector('police-110')?.health().state).toBe('paused');
  await shot(page, '03-paused');
  await page.click(`${row} button[data-action="resume"]`);
  await page.waitForSelector(`${row}.state-running`);
  expect(hub.connector('police-110')?.health().state).toBe('running');

  const dl = '#deadletters tr[data-deadletter]';
  await page.waitForSelector(dl);
  const before = await page.$$eval(dl, (rows) => rows.length);
  await page.click(`${dl} button[data-action="view"]`);
  await page.waitForSelector('#dl-view:not([hidden])');
  expect(await page.textContent('#dl-view')).toContain('resident-app');
  await page.click(`${dl} button[data-action="replay"]`);
  await page.waitForFunction(() => (document.getElementById('status')?.textContent ?? '').includes('重放'));
  // the report is still bad: the replay is refused again and recorded as a new dead letter naming the original
  await page.waitForFunction((n) => document.querySelectorAll('#deadletters tr[data-deadletter]').length === n + 1, before);
  expect(await page.textContent('#deadletters tbody')).toContain('replay of');
  await shot(page, '04-deadletter-replayed');

  await page.click('#hot tr[data-cluster] button[data-action="open"]');
  await page.waitForSelector('#cluster-detail tr[data-ticket]');
  const members = await page.$$eval('#cluster-detail tr[data-ticket]', (rows) => rows.length);
  expect(members).toBe(8);
  const detail = (await page.textContent('#cluster-detail')) ?? '';
  expect(detail).toContain('139****');
  expect(detail).not.toMatch(/1390000\d{4}/);
  await page.click('#cluster-detail');
  await shot(page, '05-hot-cluster');

  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#connectors h2')?.textContent === 'Connectors');
  expect(await page.textContent('#connectors thead')).toContain('Throughput');
  await shot(page, '06-overview-en');
  expect(errors).toEqual([]);
  // every action went through the admin plane, which recorded who did it
  expect(trail()).toEqual(expect.arrayContaining(['connector.pause test-operator ok', 'connector.resume test-operator ok', 'deadletter.replay test-operator ok']));
  await page.close();
});

test('a viewer sees the console without operator buttons, and the server refuses the action anyway', async () => {
  const page = await browser.newPage();
  await login(page, VIEWER);
  await page.waitForSelector('#connectors tr[data-connector="resident-app"]');
  expect(await page.$$('#connectors button[data-action="pause"]')).toHaveLength(0);
  expect(await page.$$('#deadletters button[data-action="replay"]')).toHaveLength(0);
  const status = await page.evaluate(async () => (await fetch('/api/connectors/resident-app/pause', { method: 'POST', headers: { authorization: `Bearer ${sessionStorage.getItem('intake-hub-token')}` } })).status);
  expect(status).toBe(403);
  expect(trail()).toContain('connector.pause test-viewer denied');
  await shot(page, '07-viewer');
  await page.close();
});
