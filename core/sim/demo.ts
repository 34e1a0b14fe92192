import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { parse as parseYaml } from 'yaml';
import { startCityManagementSim } from '../../connectors/city-management/sim';
import { startGridWorkerSim, DEMO_CODE_TABLE, type GridWorkerSim } from '../../connectors/grid-worker/sim';
import { startHotlineSim } from '../../connectors/hotline-12345/sim';
import { startMessageBoardSim } from '../../connectors/message-board/sim';
import { generateToken, hashToken } from '../admin/auth';
import type { Logger } from '../logger';
import { sign } from '../sdk/signature';
import { packageRoot } from '../util/paths';
import { startLocalNats, type LocalNats } from './nats-local';

/**
 * The `npm start` demo: simulated upstreams and senders for every channel, so a newcomer sees all
 * of them flowing into one ticket stream with one command. Pull channels get a simulated legacy
 * listing API that grows a new record every few seconds; push channels get a sender that posts
 * fixture records with fresh ids, signed as their gateways would; the grid-worker channel joins
 * when a NATS server with JetStream answers (NATS_URL, default 127.0.0.1:4222).
 */
export interface Demo {
  /** hub.yaml document for the demo (embedded output, every connector). */
  config: Record<string, unknown>;
  /** Channels in the demo, with how they are fed. */
  channels: string[];
  /** A fresh admin-role token for this run (demo only: printed at start, its hash configured). */
  adminToken: string;
  /** Starts the push senders once the hub listens on `baseUrl`. */
  startSenders(baseUrl: string): void;
  stop(): Promise<void>;
}

const SECRET = 'whsec_aW50YWtlLWh1Yi1kZW1vLXNlY3JldC1rZXk=';
const OPEN311_KEY = 'demo-open311-key';

function fixtures(connector: string, ext: string): Buffer[] {
  const dir = join(packageRoot(), 'connectors', connector, 'fixtures');
  return readdirSync(dir)
    .filter((f) => f.endsWith(ext) && !f.includes('.invalid.') && !f.includes('.gbk.'))
    .sort()
    .map((f) => readFileSync(join(dir, f)));
}

const beijing = (ms: number): string => new Date(ms + 8 * 3600_000).toISOString().replace('T', ' ').slice(0, 19);

/**
 * NATS_URL as a server URL: `host:port` (as the README writes it) or a URL with a scheme
 * (`nats://`, `tls://`); the first of a comma-separated list is probed.
 */
export function natsServerUrl(value: string): string {
  const first = value.split(',')[0]?.trim() ?? '';
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(first) ? first : `nats://${first}`;
}

async function natsUp(url: string): Promise<boolean> {
  let u: URL;
  try {
    u = new URL(url.replace(/^[a-z][a-z0-9+.-]*:/i, 'http:'));
  } catch {
    return false;
  }
  return new Promise((resolve) => {
    const s = netConnect({ host: u.hostname, port: Number(u.port || 4222) });
    s.setTimeout(500);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

export async function prepareDemo(logger: Logger, intervalMs: number): Promise<Demo> {
  const run = Date.now().toString(36).toUpperCase();
  const hotline = await startHotlineSim({ host: '127.0.0.1' });
  const city = await startCityManagementSim({ host: '127.0.0.1' });
  const board = await startMessageBoardSim({ host: '127.0.0.1' });
  const timers: NodeJS.Timeout[] = [];
  let n = 0;
  // new records appear upstream over time
  timers.push(
    setInterval(() => {
      n++;
      const now = Date.now();
      const h = hotline.records[n % hotline.records.length];
      if (h) hotline.add({ ...h, GDBH: `GD${run}${n}`, LDSJ: beijing(now - 60_000), GXSJ: beijing(now) });
      const c = city.records[n % city.records.length];
      if (c) city.add({ ...c, caseNo: `CG${run}${n}`, reportTime: new Date(now - 30_000).toISOString(), updateTime: new Date(now).toISOString() });
      const b = board.records[n % board.records.length];
      if (b) board.add({ ...b, tid: `${now}${String(n).padStart(4, "0")}`, createdAt: now });
    }, intervalMs * 3),
  );

  // Grid workers publish to NATS JetStream: NATS_URL when given, else a private nats-server on a free
  // port when one is installed (Debian: apt-get install nats-server), else the demo runs without them.
  let localNats: LocalNats | null = null;
  if (!process.env.NATS_URL) {
    try {
      localNats = await startLocalNats();
    } catch (e) {
      logger.warn('could not start a local nats-server for the grid-worker demo', { err: e });
    }
  }
  const natsUrl = localNats?.url ?? natsServerUrl(process.env.NATS_URL ?? '127.0.0.1:4222');
  const withGrid = localNats !== null || (process.env.NATS_URL !== undefined && (await natsUp(natsUrl)));
  const mapped = (parseYaml(readFileSync(join(packageRoot(), 'examples', 'mapped-webhook.yaml'), 'utf8')) as { connectors: { id: string; type: string; config: Record<string, unknown> }[] }).connectors.find((c) => c.id === 'district-app');
  const connectors: Record<string, unknown>[] = [
    { id: 'resident-app', type: 'resident-app', config: { secrets: [SECRET] } },
    { id: 'hotline-12345', type: 'hotline-12345', config: { baseUrl: hotline.url, pollIntervalMs: Math.max(1000, intervalMs * 2), push: { enabled: true, secrets: [SECRET] } } },
    { id: 'city-management', type: 'city-management', config: { mode: 'pull', baseUrl: city.url, pollIntervalMs: Math.max(1000, intervalMs * 2) } },
    { id: 'message-board', type: 'message-board', config: { baseUrl: board.url, pollIntervalMs: Math.max(1000, intervalMs * 2) } },
    { id: 'police-110', type: 'police-110', config: { secrets: [SECRET] } },
    { id: 'open311', type: 'open311', config: { apiKeys: [OPEN311_KEY] } },
  ];
  if (mapped) connectors.push(mapped);
  if (withGrid) connectors.push({ id: 'grid-worker', type: 'grid-worker', config: { servers: [natsUrl], stream: 'GRID_DEMO', subjects: ['grid.demo.>'], filterSubject: 'grid.demo.>', durable: 'intake-hub-demo', codeTable: DEMO_CODE_TABLE } });

  let grid: GridWorkerSim | null = null;
  const post = async (url: string, body: Buffer, headers: Record<string, string>): Promise<void> => {
    try {
      const r = await request(url, { method: 'POST', body, headers, headersTimeout: 15000, bodyTimeout: 15000 });
      await r.body.dump();
    } catch (e) {
      logger.debug('demo sender failed', { url, err: e });
    }
  };
  const standard = (body: Buffer, contentType: string): Record<string, string> => {
    const id = `msg_${run}_${n}_${Math.random().toString(36).slice(2, 8)}`;
    const ts = Math.floor(Date.now() / 1000);
    return { 'content-type': contentType, 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(SECRET, id, ts, body) };
  };

  const adminToken = generateToken();
  return {
    adminToken,
    config: { simulator: { enabled: true, intervalMs }, admin: { tokens: [{ id: 'demo', role: 'admin', sha256: hashToken(adminToken) }] }, connectors },
    channels: [
      'resident-app (signed JSON webhook)',
      `hotline-12345 (poller over a simulated legacy API, GBK) ${hotline.url}`,
      `city-management (poller) ${city.url}`,
      `message-board (poller, HTML) ${board.url}`,
      'police-110 (signed XML push with receipts)',
      'open311 (GeoReport v2 requests)',
      ...(mapped ? ['district-app (mapped-webhook: YAML-only channel)'] : []),
      withGrid
        ? `grid-worker (NATS JetStream ${natsUrl}${localNats ? `, a private nats-server (pid ${localNats.pid}) started for the demo` : ''})`
        : process.env.NATS_URL
          ? `grid-worker: not in the demo (no NATS answers at ${natsUrl})`
          : 'grid-worker: not in the demo (no nats-server installed: apt-get install nats-server, or set NATS_URL to a NATS server with JetStream)',
    ],
    startSenders(baseUrl: string): void {
      const police = fixtures('police-110', '.xml');
      const district = fixtures('mapped-webhook', '.json');
      let k = 0;
      timers.push(
        setInterval(() => {
          k++;
          const xml = police[k % police.length];
          if (xml) {
            const body = Buffer.from(xml.toString('utf8').replace(/<JQBH>[^<]*<\/JQBH>/, `<JQBH>JQ${run}${k}</JQBH>`));
            void post(`${baseUrl}/intake/police-110`, body, standard(body, 'application/xml'));
          }
          const d = district[k % district.length];
          if (d && mapped) {
            const doc = JSON.parse(d.toString('utf8')) as Record<string, unknown>;
            const body = Buffer.from(JSON.stringify({ ...doc, id: `EBH-${run}-${k}` }));
            const sig = createHmac('sha256', 'district-app-demo-secret-0123456789').update(body).digest('hex');
            void post(`${baseUrl}/intake/district-app`, body, { 'content-type': 'application/json', 'x-ebh-signature': `sha256=${sig}` });
          }
          const form = new URLSearchParams({ api_key: OPEN311_KEY, service_code: 'C01.001', lat: '31.8206', long: '117.2272', address_string: '包河区徽州大道', description: `第${k}号：人行道井盖松动，踩上去晃动（Open311 客户端）`, device_id: `dev-${k % 4}` });
          void post(`${baseUrl}/open311/v2/requests.json`, Buffer.from(form.toString()), { 'content-type': 'application/x-www-form-urlencoded' });
        }, intervalMs * 2),
      );
      if (withGrid) {
        void startGridWorkerSim({ servers: natsUrl, subject: 'grid.demo.510114', intervalMs: intervalMs * 2, prefix: `DEMO-${run}`, logger })
          .then((g) => (grid = g))
          .catch((e: unknown) => logger.warn('grid-worker simulator did not start', { err: e }));
      }
    },
    async stop(): Promise<void> {
      for (const t of timers) clearInterval(t);
      await Promise.allSettled([hotline.close(), city.close(), board.close(), grid?.stop()]);
      await localNats?.stop();
    },
  };
}
