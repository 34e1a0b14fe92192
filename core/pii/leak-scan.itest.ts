import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { runTag } from '../testing/run-tag';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import pg from 'pg';
import { request } from 'undici';
import { hashToken, type AdminRole } from '../admin/auth';
import { KafkaAdmin } from '../kafka/admin';
import { PartitionReader } from '../kafka/reader';
import type { StoredRecord } from '../outputs/output';
import { TOPIC_NAMES } from '../outputs/topics';
import { createRawSealer } from './raw-seal';
import type { RawEnvelope } from '../schema/types';
import { startListingSim, type ListingSim } from '../sdk/poller-sim';
import { sign } from '../sdk/signature';
import { dropNamespace, kafkaOutput, testConnection, testNamespace } from '../testing/kafka';
import { LeakScanner, type LeakHit } from '../testing/leak-scan';
import { CHANNELS, IDENTIFIERS, SHAPES, placements, type Identifier, type Kind } from '../testing/pii-leaks';
import { freshDatabase } from '../testing/postgres';
import { FAST_POLLER, until } from '../testing/wait';
import { packageRoot } from '../util/paths';

/**
 * Issue 11 acceptance: every byte the hub wrote and served during a run carries no identifier in
 * full. A real `intake-hub start --role all` (the CLI, in its own process, logging JSON lines at
 * debug level) with eight connectors — resident-app, police-110, open311, mapped-webhook,
 * hotline-12345 push (UTF-8 and GBK), city-management push, message-board (polled from a simulated
 * board) and grid-worker (NATS JetStream) — gets every identifier shape of the harness
 * (core/testing/pii-leaks.ts: mobiles, landlines, ID numbers, cards, e-mails, plates, QQ/WeChat
 * ids, passports, names after cue words; spaced, full width, Chinese numerals…) in every channel,
 * plus the reporter's own phone in its structured field, and reports that are dead-lettered: bad
 * JSON and XML, failing validation, bad signatures and api keys, wrong media type, oversized,
 * undecodable GBK, an unknown Open311 service, a bounced police matter, a replay.
 *
 * Then every read API is called (lookup API, clusters, triage, dead letters, connectors, catalog,
 * readiness, /metrics, the console page, Open311 services and every request's status), the hub is
 * stopped, and everything it wrote is read back: every record (key, headers, value) of every topic
 * of the run's namespace (read_uncommitted: aborted batches too), every row of every table of the
 * ticket store, every file of the embedded log's folder, its stdout and stderr, every intake and
 * API answer (headers and body). `LeakScanner` (core/testing/leak-scan.ts) looks for every sent
 * identifier in all of it: 0 hits, and no secret of the run in any of it either.
 *
 * Exempt, as docs/SECURITY.md says: the raw bodies (`raw.body` of the raw envelope) on the three
 * hub-internal topics that archive what sources sent, for replay — `intake.reports.v1`,
 * `intake.located.v1` and `intake.dlq.v1`. With `pii.rawKeyId` set (the Kafka case) they must be
 * sealed: every one is opened with the run's key (AES-GCM authenticates it) and exempted only then.
 * Without it (the embedded case, the default) they are in the clear, and the test shows the
 * scanner does find the identifiers there. Nothing else of those records is exempt (headers, the
 * draft ticket, keys, error messages).
 */
const NATS = (process.env.NATS_URL ?? 'nats://127.0.0.1:4222').split(',');
/** Refused before the sender was authenticated: the dead letter keeps the first 512 bytes only. */
const UNAUTHENTICATED = 'a refusal before authentication (512 bytes kept)';
/** Typed by an operator into a triage note (no raw body holds it). */
const TRIAGE_NOTE = 'an operator\'s triage note';
const RAW_TOPICS = new Set<string>([TOPIC_NAMES.reports, TOPIC_NAMES.located, TOPIC_NAMES.dlq]);
const ROLES: AdminRole[] = ['viewer', 'operator', 'admin'];

// ---------------------------------------------------------------------------------------------
// identifiers and deliveries

interface Push {
  connector: string;
  path: string;
  body: Buffer;
  headers: Record<string, string>;
  /** What the test expects the answer to be. */
  expect: 'accepted' | 'refused';
  note: string;
}

interface Traffic {
  ids: Identifier[];
  /** needle → the delivery that carries it */
  origin: Map<string, string>;
  push: Push[];
  board: Record<string, unknown>[];
  grid: Buffer[];
  /** What an operator writes in a triage note. */
  triageNote: string;
  /** Invalid grid-worker messages and board posts (each is dead-lettered). */
  refusedElsewhere: number;
}

interface Secrets {
  tokenSecret: string;
  webhook: string;
  wrongWebhook: string;
  apiKey: string;
  hmac: string;
  rawKey: string;
  tokens: Record<AdminRole, string>;
}

function makeSecrets(): Secrets {
  return {
    tokenSecret: randomBytes(24).toString('hex'),
    webhook: `whsec_${randomBytes(32).toString('base64')}`,
    wrongWebhook: `whsec_${randomBytes(32).toString('base64')}`,
    apiKey: randomBytes(16).toString('hex'),
    hmac: randomBytes(24).toString('hex'),
    rawKey: randomBytes(32).toString('base64'),
    tokens: { viewer: `ihk_${randomBytes(24).toString('hex')}`, operator: `ihk_${randomBytes(24).toString('hex')}`, admin: `ihk_${randomBytes(24).toString('hex')}` },
  };
}

/** Which connector of the run receives each channel format of the harness. */
const CONNECTOR_OF: Record<string, string> = {
  'resident-app (JSON)': 'app',
  'hotline-12345 (JSON)': 'hotline',
  'hotline-12345 (GBK JSON)': 'hotline',
  'police-110 (XML)': 'p110',
  'open311 (form)': 'o311',
  'mapped-webhook (JSON)': 'mapped',
  'grid-worker (NATS JSON)': 'grid',
  'city-management (JSON)': 'city',
  'message-board (HTML)': 'board',
};

/**
 * Identifiers that the scanner can look for in megabytes of output without meeting them by chance:
 * digit ids of at least 7 digits (QQ numbers of 8 or more: a 5-digit one is in any metrics text),
 * and no name that could be read out of the hub's own vocabulary (the catalog, which services.json
 * and the triage categories serve, and the harness' report texts).
 */
const VOCABULARY_CJK = [readFileSync(join(packageRoot(), 'schemas/catalog/default.catalog.json'), 'utf8'), ...CHANNELS.map((c) => c.build('none', '', null).toString('utf8'))].join('\n').replace(/[^\u3400-\u9fff]/g, '');

function scannable(id: Identifier): boolean {
  if (id.kind === 'qq') return id.needle.length >= 8;
  if (id.kind === 'name' || id.kind === 'reporter-name') return !VOCABULARY_CJK.includes(id.needle);
  return true;
}

function sampleOf(kind: Kind, seed: number): Identifier {
  return fc.sample(IDENTIFIERS[kind].filter(scannable), { seed, numRuns: 1 })[0] as Identifier;
}

const standardHeaders = (body: Buffer, secret: string, contentType: string): Record<string, string> => {
  const id = `msg_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  return { 'content-type': contentType, 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(secret, id, ts, body) };
};

/** Gives a harness-built report its own source id and the reporter's phone in its structured field (the board's user id). */
function personalise(channel: string, body: Buffer, n: number, phone: string, field: string): Buffer {
  const edit = (text: string, f: (o: Record<string, unknown>) => void): string => {
    const o = JSON.parse(text) as Record<string, unknown>;
    f(o);
    return JSON.stringify(o);
  };
  switch (channel) {
    case 'resident-app (JSON)':
      return Buffer.from(edit(body.toString('utf8'), (o) => Object.assign(o, { reportId: `RA-LS-${n}`, phone })));
    case 'hotline-12345 (JSON)':
      return Buffer.from(edit(body.toString('utf8'), (o) => Object.assign(o, { GDBH: `GD-LS-${n}`, LDHM: phone })));
    case 'hotline-12345 (GBK JSON)':
      return iconv.encode(edit(iconv.decode(body, 'gbk'), (o) => Object.assign(o, { GDBH: `GD-LS-${n}`, LDHM: phone })), 'gbk');
    case 'police-110 (XML)':
      return Buffer.from(body.toString('utf8').replace(/<JQBH>[^<]*<\/JQBH>/, `<JQBH>J-LS-${n}</JQBH>`).replace(/<LXDH>[^<]*<\/LXDH>/, `<LXDH>${phone}</LXDH>`));
    case 'open311 (form)': {
      const p = new URLSearchParams(body.toString('utf8'));
      p.set('phone', phone);
      return Buffer.from(p.toString());
    }
    case 'mapped-webhook (JSON)':
      return Buffer.from(
        edit(body.toString('utf8'), (o) => {
          if (field !== 'id') o.id = `EBH-LS-${n}`;
          (o.user as Record<string, unknown>).mobile = phone;
        }),
      );
    case 'grid-worker (NATS JSON)':
      return Buffer.from(edit(body.toString('utf8'), (o) => Object.assign(o, { reportId: `GW-LS-${n}`, workerPhone: phone })));
    case 'city-management (JSON)':
      return Buffer.from(edit(body.toString('utf8'), (o) => Object.assign(o, { caseNo: `CG-LS-${n}`, reporterPhone: phone })));
    case 'message-board (HTML)':
      // a board whose user names are phone numbers
      return Buffer.from(edit(body.toString('utf8'), (o) => Object.assign(o, { tid: String(9000000 + n), createdAt: 1767574860000 + n * 1000, uid: phone })));
    default:
      throw new Error(`no channel ${channel}`);
  }
}

function traffic(s: Secrets, seed: number): Traffic {
  const ids: Identifier[] = [];
  const origin = new Map<string, string>();
  const push: Push[] = [];
  const board: Record<string, unknown>[] = [];
  const grid: Buffer[] = [];
  let n = 0;
  const sign311 = (body: Buffer): Buffer => {
    const p = new URLSearchParams(body.toString('utf8'));
    p.set('api_key', s.apiKey);
    return Buffer.from(p.toString());
  };
  const deliver = (channel: string, body: Buffer, expect: Push['expect'], note: string): void => {
    const connector = CONNECTOR_OF[channel] as string;
    if (connector === 'board') board.push(JSON.parse(body.toString('utf8')) as Record<string, unknown>);
    else if (connector === 'grid') grid.push(body);
    else if (connector === 'o311') push.push({ connector, path: '/open311/v2/requests.json', body: sign311(body), headers: { 'content-type': 'application/x-www-form-urlencoded' }, expect, note });
    else if (connector === 'mapped') push.push({ connector, path: `/intake/${connector}`, body, headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', s.hmac).update(body).digest('hex') }, expect, note });
    else {
      const type = connector === 'p110' ? 'application/xml' : channel.includes('GBK') ? 'application/json; charset=gbk' : 'application/json';
      push.push({ connector, path: `/intake/${connector}`, body, headers: standardHeaders(body, s.webhook, type), expect, note });
    }
  };

  // every shape in every channel format, in a field of that format that can carry it (rotating)
  SHAPES.forEach((shape, k) => {
    for (const c of CHANNELS) {
      const fields = placements(shape).filter((p) => p.channel === c);
      const id = sampleOf(shape.kind, seed + n);
      const fit = fields.filter((p) => shape.render(id).length <= (c.fields[p.field] ?? 0));
      if (fit.length === 0) continue;
      const field = (fit[k % fit.length] as { field: string }).field;
      const phone = sampleOf('mobile', seed + 100000 + n);
      ids.push(id, phone);
      const body = personalise(c.name, c.build(field, shape.render(id), shape.kind === 'reporter-name' ? id.needle : null), n, phone.needle, field);
      const note = `${shape.name} in ${c.name} ${field}`;
      origin.set(id.needle, note);
      origin.set(phone.needle, `${note} (reporter phone)`);
      deliver(c.name, body, 'accepted', note);
      n++;
    }
  });

  // reports that are refused, each carrying several identifiers
  const mixedIds = (from: string): Identifier[] => {
    const parts = (['name', 'mobile', 'id18', 'email', 'plate', 'qq', 'card', 'landline'] as const).map((kind) => sampleOf(kind, seed + 200000 + n++));
    ids.push(...parts);
    for (const p of parts) origin.set(p.needle, from);
    return parts;
  };
  const mixed = (from = 'a refused report'): string => {
    const parts = mixedIds(from);
    const [name, mobile, id18, email, plate, qq, card, landline] = parts.map((p) => p.needle) as string[];
    return `我叫${name}，手机${mobile}，身份证${id18}，邮箱${email}，车牌${plate}，QQ号${qq}，卡号${card}，座机${landline}`;
  };
  const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
  const app = (body: Buffer, headers: Record<string, string>, note: string): void => void push.push({ connector: 'app', path: '/intake/app', body, headers, expect: 'refused', note });
  {
    const b = Buffer.from(`{"reportId":"RA-BAD-1","openid":"o1","text":"${mixed()}","submittedAt":`);
    app(b, standardHeaders(b, s.webhook, 'application/json'), 'bad JSON');
  }
  {
    const phone = sampleOf('mobile', seed + 300000);
    ids.push(phone);
    const b = json({ reportId: 'RA-BAD-2', openid: 'o1', text: mixed(), submittedAt: `yesterday ${mixed()}`, [phone.needle]: 'x' });
    app(b, standardHeaders(b, s.webhook, 'application/json'), 'failing validation');
  }
  {
    const b = json({ reportId: 'RA-BAD-3', openid: 'o1', text: mixed(UNAUTHENTICATED), submittedAt: '2026-11-20T08:00:00+08:00' });
    app(b, standardHeaders(b, s.wrongWebhook, 'application/json'), 'bad signature');
  }
  {
    const b = Buffer.from(`${mixed(UNAUTHENTICATED)} `.repeat(4000));
    app(b, { 'content-type': 'application/json' }, 'oversized, unsigned');
  }
  {
    const b = Buffer.from(mixed(UNAUTHENTICATED));
    app(b, standardHeaders(b, s.webhook, 'text/plain'), 'wrong media type');
  }
  {
    const b = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><JQXX><JQBH>J-BAD-1</JQBH><JYQK>${mixed()}</JYQK>`);
    push.push({ connector: 'p110', path: '/intake/p110', body: b, headers: standardHeaders(b, s.webhook, 'application/xml'), expect: 'refused', note: 'bad XML' });
  }
  {
    const phone = sampleOf('mobile', seed + 300001);
    ids.push(phone);
    const b = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><JQXX><JQBH>J-BOUNCE-1</JQBH><BJSJ>2026-11-20 02:14:22</BJSJ><BJR>张某</BJR><LXDH>${phone.needle}</LXDH><NMBJ>0</NMBJ><JQLB>0201</JQLB><JQLBMC>治安案件</JQLBMC><SFDZ>包河区幸福小区3栋</SFDZ><XZQH>包河区</XZQH><JYQK>${mixed()}</JYQK><JJCD>3</JJCD></JQXX>`);
    push.push({ connector: 'p110', path: '/intake/p110', body: b, headers: standardHeaders(b, s.webhook, 'application/xml'), expect: 'refused', note: 'police matter (bounced)' });
  }
  {
    const form = (key: string, code: string): Buffer => Buffer.from(new URLSearchParams({ service_code: code, description: mixed(key !== s.apiKey ? UNAUTHENTICATED : undefined), address_string: mixed(key !== s.apiKey ? UNAUTHENTICATED : undefined), api_key: key }).toString());
    push.push({ connector: 'o311', path: '/open311/v2/requests.json', body: form(s.apiKey, 'Z99.999'), headers: { 'content-type': 'application/x-www-form-urlencoded' }, expect: 'refused', note: 'unknown service code' });
    push.push({ connector: 'o311', path: '/open311/v2/requests.json', body: form('not-the-key', 'C01.002'), headers: { 'content-type': 'application/x-www-form-urlencoded' }, expect: 'refused', note: 'bad api key' });
  }
  {
    const b = json({ id: 'EBH-BAD-1', content: { title: mixed(UNAUTHENTICATED), body: mixed(UNAUTHENTICATED) }, user: { nick: '网友', mobile: '' } });
    push.push({ connector: 'mapped', path: '/intake/mapped', body: b, headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', 'wrong-secret-0123456789').update(b).digest('hex') }, expect: 'refused', note: 'bad HMAC' });
    const c = json({ id: 'EBH-BAD-2', content: { title: mixed() }, user: { nick: '网友', mobile: 'x' } });
    push.push({ connector: 'mapped', path: '/intake/mapped', body: c, headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', s.hmac).update(c).digest('hex') }, expect: 'refused', note: 'no text' });
  }
  {
    const b = iconv.encode(JSON.stringify({ GDBH: 'GD-BAD-1', LDSJ: '2026-01-05 09:00:00', GXSJ: '2026-01-05 09:05:00', SQNR: mixed() }), 'gbk');
    push.push({ connector: 'hotline', path: '/intake/hotline', body: b, headers: standardHeaders(b, s.webhook, 'application/json; charset=utf-8'), expect: 'refused', note: 'GBK declared as UTF-8' });
  }
  {
    const b = json({ caseNo: 'CG-BAD-1', reportTime: '2026-01-05T08:01:00+08:00', updateTime: '2026-01-05T08:01:30+08:00', caseClass: '部件', typeCode: 'ZZ999', description: mixed() });
    push.push({ connector: 'city', path: '/intake/city', body: b, headers: standardHeaders(b, s.webhook, 'application/json'), expect: 'refused', note: 'unknown city-management code' });
  }
  const validElsewhere = grid.length + board.length;
  grid.push(Buffer.from(`{"reportId":"GW-BAD-1","text":"${mixed()}"`));
  {
    const phone = sampleOf('mobile', seed + 300002);
    ids.push(phone);
    grid.push(json({ reportId: 'GW-BAD-2', workerId: 'WGY-1', gridCode: '510114001001003', itemCode: 'A01', text: mixed(), reportedAt: '2026-11-20T09:07:00+08:00', [phone.needle]: mixed() }));
  }
  board.push({ tid: '9999998', title: mixed(), content: `<p>${mixed()}</p>`, createdAt: 1767574860000 + 999998 * 1000, typeName: 17 });
  const triageNote = `已回访，${mixed(TRIAGE_NOTE)}`;
  for (const i of ids) if (!origin.has(i.needle)) origin.set(i.needle, 'a refused report');
  return { ids, origin, push, board, grid, triageNote, refusedElsewhere: grid.length + board.length - validElsewhere };
}

// ---------------------------------------------------------------------------------------------
// what the hub wrote and served

interface Output {
  where: string;
  kind: 'bytes' | 'json' | 'text';
  bytes?: Buffer;
  json?: unknown;
  text?: string;
  /** JSON paths allowed to hold identifiers (raw bodies on hub-internal topics). */
  exempt?: (path: string) => boolean;
}

class Capture {
  readonly outputs: Output[] = [];
  bytes(where: string, bytes: Buffer, exempt?: (path: string) => boolean): void {
    this.outputs.push({ where, kind: 'bytes', bytes, ...(exempt ? { exempt } : {}) });
  }
  json(where: string, json: unknown, exempt?: (path: string) => boolean): void {
    this.outputs.push({ where, kind: 'json', json, ...(exempt ? { exempt } : {}) });
  }
  text(where: string, text: string): void {
    this.outputs.push({ where, kind: 'text', text });
  }
  /** Every identifier found, and every secret found, outside the exempt fields. */
  scan(ids: Identifier[], secrets: string[]): { hits: LeakHit[]; secretHits: string[]; scannedBytes: number } {
    const scanner = new LeakScanner(ids);
    const hits: LeakHit[] = [];
    const secretHits: string[] = [];
    let scannedBytes = 0;
    for (const o of this.outputs) {
      const plain = o.kind === 'bytes' ? (o.bytes as Buffer).toString('utf8') : o.kind === 'text' ? (o.text as string) : JSON.stringify(stripExempt(o.json, o.exempt));
      scannedBytes += Buffer.byteLength(plain);
      for (const sec of secrets) if (plain.includes(sec)) secretHits.push(`${o.where}: ${sec.slice(0, 6)}…`);
      if (o.kind === 'bytes') hits.push(...scanner.scanBytes(o.where, o.bytes as Buffer, o.exempt));
      else if (o.kind === 'json') hits.push(...scanner.scanJson(o.where, o.json, o.exempt));
      else hits.push(...scanner.scanText(o.where, o.text as string));
    }
    return { hits, secretHits, scannedBytes };
  }
}

function stripExempt(v: unknown, exempt: ((path: string) => boolean) | undefined, path = ''): unknown {
  if (!exempt) return v;
  if (exempt(path)) return null;
  if (Array.isArray(v)) return v.map((x, i) => stripExempt(x, exempt, `${path}/${i}`));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stripExempt(x, exempt, `${path}/${k}`)]));
  return v;
}

/** A line of the embedded log (core/outputs/embedded.ts): one batch of records. */
interface EmbeddedBatch {
  ts: number;
  r: { t: string; p?: number; o: number; k: string; v: string | null; h: Record<string, string> }[];
}

/** The raw body of a record on a hub-internal topic: `/raw/body` of reports, located reports and dead letters. */
const rawBody = (path: string): boolean => path === '/raw/body';

async function http(cap: Capture, method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}, body?: Buffer): Promise<{ status: number; text: string }> {
  const r = await request(url, { method, headers, ...(body ? { body } : {}), headersTimeout: 30000, bodyTimeout: 30000 });
  const buf = Buffer.from(await r.body.arrayBuffer());
  const u = new URL(url);
  const where = `${method} ${u.pathname}${u.search} → ${r.statusCode}`;
  cap.text(`${where} (headers)`, Object.entries(r.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n'));
  cap.bytes(where, buf);
  return { status: r.statusCode, text: buf.toString('utf8') };
}

// ---------------------------------------------------------------------------------------------
// one run of the hub

interface RunResult {
  cap: Capture;
  t: Traffic;
  secrets: string[];
  answers: Map<string, number>;
  tickets: number;
  deadLetters: { stage: string; code: string; connectorId: string }[];
  /** Hits in the exempt raw bodies (the embedded case: in the clear). */
  rawHits: LeakHit[];
  sealedBodies: number;
  /** Push deliveries meant to be accepted, and how many were. */
  pushes: { sent: number; accepted: number };
}

async function runHub(mode: 'kafka' | 'embedded', seed: number): Promise<RunResult> {
  const run = runTag();
  const s = makeSecrets();
  const t = traffic(s, seed);
  const cap = new Capture();
  const dir = mkdtempSync(join(tmpdir(), `leakscan-${mode}-`));
  const ns = testNamespace('leakscan');
  const db = mode === 'kafka' ? await freshDatabase('leakscan') : null;
  const pgPassword = db ? decodeURIComponent(new URL(db.url).password) : '';
  const stream = `LEAKSCAN_${run}`;
  const nc = await natsConnect({ servers: NATS });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  let sim: ListingSim<Record<string, unknown>> | null = null;
  let child: ChildProcess | null = null;
  const secrets = [s.tokenSecret, s.webhook, s.wrongWebhook, s.apiKey, s.hmac, s.rawKey, ...Object.values(s.tokens), ...(pgPassword ? [pgPassword] : [])];
  try {
    sim = await startListingSim<Record<string, unknown>>({
      path: '/api/messages',
      records: t.board,
      key: (p) => ({ t: p.createdAt as number, id: p.tid as string }),
      parseSince: (x) => (/^[0-9]{1,15}$/.test(x) ? Number(x) : null),
      envelope: (list, page, size, total) => ({ status: 'success', data: { total, page, size, list } }),
    });
    let storeUrl: URL | null = null;
    if (db) {
      storeUrl = new URL(db.url);
      storeUrl.password = '';
      writeFileSync(join(dir, 'pg-password'), pgPassword);
    }
    const mapped = CHANNELS.find((c) => c.name === 'mapped-webhook (JSON)')?.config as Record<string, unknown>;
    const config = {
      server: { host: '127.0.0.1', port: 0 },
      // the test reads every ticket and cluster one by one: no per-client limit for it
      admin: { host: '127.0.0.1', port: 0, rateLimit: { allowList: ['127.0.0.1'] }, tokens: ROLES.map((role) => ({ id: `leakscan-${role}`, role, sha256: hashToken(s.tokens[role]) })) },
      output: mode === 'kafka' ? kafkaOutput(ns, { writeTimeoutMs: 10000 }) : { type: 'embedded', embedded: { dir: join(dir, 'log') } },
      store: db && storeUrl ? { type: 'postgres', postgres: { url: storeUrl.toString(), passwordFile: join(dir, 'pg-password') } } : {},
      pii: { tokenSecret: s.tokenSecret, ...(mode === 'kafka' ? { rawKeys: { k1: s.rawKey }, rawKeyId: 'k1' } : {}) },
      locality: { districts: [{ name: '包河区', aliases: ['包河'] }, { name: '江岸区', aliases: [] }] },
      connectors: [
        { id: 'app', type: 'resident-app', config: { secrets: [s.webhook] } },
        { id: 'p110', type: 'police-110', config: { secrets: [s.webhook] } },
        { id: 'o311', type: 'open311', config: { apiKeys: [s.apiKey] } },
        { id: 'mapped', type: 'mapped-webhook', config: { ...mapped, signature: { scheme: 'hmac-sha256-hex', secrets: [s.hmac], header: 'x-signature' } } },
        { id: 'hotline', type: 'hotline-12345', config: { baseUrl: null, push: { enabled: true, secrets: [s.webhook] } } },
        { id: 'city', type: 'city-management', config: { mode: 'push', push: { secrets: [s.webhook] } } },
        { id: 'board', type: 'message-board', config: { baseUrl: sim.url, pageSize: 50, ...FAST_POLLER } },
        { id: 'grid', type: 'grid-worker', config: { servers: NATS, stream, subjects: [`leakscan.${run}.>`], durable: `d${run}`, ackWaitMs: 5000, fetchExpiresMs: 1000, batch: 32 } },
      ],
    };
    writeFileSync(join(dir, 'hub.yaml'), JSON.stringify(config, null, 2));

    // the hub, as operators run it: the CLI in its own process, JSON log lines on stderr
    let stdout = '';
    let stderr = '';
    const proc = spawn(process.execPath, [join(packageRoot(), 'core/testing/run-ts.js'), 'core/cli/main.ts', 'start', '--config', join(dir, 'hub.yaml'), '--role', 'all', '--instance-id', `leakscan-${run}`], {
      cwd: packageRoot(),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    const outChunks: Buffer[] = [];
    const errChunks: Buffer[] = [];
    proc.stdout?.on('data', (b: Buffer) => {
      outChunks.push(b);
      stdout += b.toString('utf8');
    });
    proc.stderr?.on('data', (b: Buffer) => {
      errChunks.push(b);
      stderr += b.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
    await until('the hub is listening', () => /listening on \S+ \(intake\) and \S+ \(admin\)/.test(stdout) || proc.exitCode !== null, 180000, 200);
    const m = /listening on (\S+) \(intake\) and (\S+) \(admin\)/.exec(stdout);
    if (!m) throw new Error(`the hub did not start: ${stderr.slice(-3000)}`);
    const intake = m[1] as string;
    const admin = m[2] as string;
    const auth = (role: AdminRole): Record<string, string> => ({ authorization: `Bearer ${s.tokens[role]}` });
    const readyz = async (): Promise<number> => {
      const r = await request(`${intake}/readyz`).catch(() => null);
      await r?.body.dump();
      return r?.statusCode ?? 0;
    };
    await until('ready', async () => (await readyz()) === 200, 120000, 500);

    // push deliveries, 8 at a time; Open311 status asked right after each accepted request
    const answers = new Map<string, number>();
    const o311Ids: string[] = [];
    let acceptedAsSent = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < t.push.length) {
          const p = t.push[next++] as Push;
          const r = await http(cap, 'POST', `${intake}${p.path}`, p.headers, p.body);
          const accepted = r.status === 202 || (r.status === 200 && !/<JG>(?:TH|CW)<\/JG>/.test(r.text));
          answers.set(`${p.connector} ${accepted ? 'accepted' : 'refused'}`, (answers.get(`${p.connector} ${accepted ? 'accepted' : 'refused'}`) ?? 0) + 1);
          if (p.expect === 'refused' && accepted) throw new Error(`${p.note}: accepted (${r.status} ${r.text.slice(0, 200)})`);
          if (p.expect === 'accepted' && accepted) acceptedAsSent++;
          if (p.connector === 'o311' && accepted) {
            const id = (JSON.parse(r.text) as { service_request_id: string }[])[0]?.service_request_id as string;
            o311Ids.push(id);
            await http(cap, 'GET', `${intake}/open311/v2/requests/${id}.json`);
          }
        }
      }),
    );
    for (const b of t.grid) await js.publish(`leakscan.${run}.510114`, b);

    // processed: every connector has answered for everything it got, every accepted report is a
    // ticket in the store (or a dead letter of the processor)
    const health = async (): Promise<{ id: string; counters: { received: number; accepted: number; rejected: number } }[]> =>
      ((await (await request(`${admin}/api/connectors`, { headers: auth('viewer') })).body.json()) as { connectors: { id: string; counters: { received: number; accepted: number; rejected: number } }[] }).connectors;
    await until(
      'the poller and the subscription took everything',
      async () => {
        const h = await health();
        const done = (id: string, n: number): boolean => {
          const c = h.find((x) => x.id === id)?.counters;
          return c !== undefined && c.accepted + c.rejected >= n;
        };
        return done('board', t.board.length) && done('grid', t.grid.length);
      },
      180000,
      1000,
    );
    const accepted = (await health()).reduce((n, c) => n + c.counters.accepted, 0);
    const storeCount = async (): Promise<number> => {
      let count = 0;
      let cursor: string | null = null;
      do {
        const r = (await (await request(`${admin}/api/tickets?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: auth('viewer') })).body.json()) as { items: unknown[]; next: string | null };
        count += r.items.length;
        cursor = r.next;
      } while (cursor);
      return count;
    };
    const pipelineDeadLetters = async (): Promise<number> => ((await (await request(`${admin}/api/deadletters?limit=500`, { headers: auth('viewer') })).body.json()) as { deadLetters: { stage: string }[] }).deadLetters.filter((d) => d.stage === 'pipeline').length;
    await until('every accepted report is in the store', async () => (await storeCount()) + (await pipelineDeadLetters()) >= accepted, 240000, 1000);
    // and every refusal is in the dead-letter index (fed from the topic)
    const refusals = t.push.filter((p) => p.expect === 'refused').length + t.refusedElsewhere;
    const indexed = async (): Promise<number> => ((await (await request(`${admin}/api/deadletters?limit=500`, { headers: auth('viewer') })).body.json()) as { deadLetters: unknown[] }).deadLetters.length;
    await until('every refusal is indexed', async () => (await indexed()) >= refusals, 120000, 500);

    // an operator replays dead letters: one that fails again (a new dead letter), one that may not be replayed
    const dls = ((await (await request(`${admin}/api/deadletters?limit=500`, { headers: auth('viewer') })).body.json()) as { deadLetters: { id: string; stage: string; replayable: boolean; connectorId: string }[] }).deadLetters;
    const replayable = dls.find((d) => d.connectorId === 'app' && d.replayable);
    const notReplayable = dls.find((d) => d.connectorId === 'app' && !d.replayable);
    expect(replayable && notReplayable).toBeTruthy();
    expect((await http(cap, 'POST', `${admin}/api/deadletters/${replayable?.id}/replay`, auth('operator'))).status).toBe(422);
    expect((await http(cap, 'POST', `${admin}/api/deadletters/${notReplayable?.id}/replay`, auth('operator'))).status).toBe(409);

    // an operator triages a ticket with a note naming the caller, pauses and resumes a connector
    const triage = JSON.parse((await http(cap, 'GET', `${admin}/api/triage?limit=1`, auth('viewer'))).text) as { items: { id: string }[] };
    const triaged = triage.items[0]?.id;
    expect(triaged).toBeDefined();
    expect((await http(cap, 'POST', `${admin}/api/triage/${triaged}`, { ...auth('operator'), 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ subcategory: 'C01.002', note: t.triageNote })))).status).toBe(200);
    for (const action of ['pause', 'resume']) expect((await http(cap, 'POST', `${admin}/api/connectors/board/${action}`, auth('operator'))).status).toBe(200);

    // every read API
    const get = async (path: string, role: AdminRole = 'viewer'): Promise<{ status: number; text: string }> => {
      const r = await http(cap, 'GET', `${admin}${path}`, auth(role));
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text.slice(0, 300)}`);
      return r;
    };
    const ticketIds: string[] = [];
    for (let cursor: string | null = null, first = true; first || cursor; first = false) {
      const r = await get(`/api/tickets?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      const page = JSON.parse(r.text) as { items: { id: string }[]; next: string | null };
      ticketIds.push(...page.items.map((i) => i.id));
      cursor = page.next;
    }
    for (const id of ticketIds) await get(`/api/tickets/${id}`);
    const clusterIds = new Set<string>();
    for (const q of ['?limit=200', '?sort=recent&limit=200', '?hot=true&limit=200']) for (const c of (JSON.parse((await get(`/api/clusters${q}`)).text) as { clusters: { id: string }[] }).clusters) clusterIds.add(c.id);
    for (const id of clusterIds) await get(`/api/clusters/${encodeURIComponent(id)}?members=1000`);
    for (let cursor: string | null = null, first = true; first || cursor; first = false) cursor = (JSON.parse((await get(`/api/triage?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).text) as { next: string | null }).next;
    for (const path of ['/api/triage/categories', '/api/stats/intake?hours=48&bucketMinutes=60', '/api/stats/intake?hours=48&bucketMinutes=60&by=connector', '/api/store', '/api/openapi.json', '/api/connectors', '/api/readiness', '/api/whoami', '/api/catalog', '/metrics', '/console/', '/healthz', '/readyz']) await get(path);
    const allDls = JSON.parse((await get('/api/deadletters?limit=500&sinceHours=8760')).text) as { deadLetters: { id: string; stage: string; error: { code: string }; connectorId: string }[] };
    for (const d of allDls.deadLetters) await get(`/api/deadletters/${d.id}`);
    for (const c of config.connectors) await get(`/api/connectors/${c.id}`);
    await http(cap, 'GET', `${intake}/open311/v2/services.json`);
    for (const id of o311Ids) await http(cap, 'GET', `${intake}/open311/v2/requests/${id}.json`);
    for (const path of ['/healthz', '/readyz', '/open311/v2/requests/01JDAPXXEAKHARNESS00000001.json']) await http(cap, 'GET', `${intake}${path}`);
    expect(ticketIds.length).toBeGreaterThan(0);

    // stop; then read everything it wrote
    proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 60000)))]);
    clearTimeout(timer);
    if (code === 'timeout') proc.kill('SIGKILL');
    expect(code).toBe(0);
    child = null;
    cap.bytes('stdout', Buffer.concat(outChunks));
    cap.bytes('stderr', Buffer.concat(errChunks));

    const sealer = createRawSealer({ k1: s.rawKey }, 'k1');
    let sealedBodies = 0;
    const rawScanner = new LeakScanner(t.ids);
    const rawHits: LeakHit[] = [];
    const record = (where: string, r: { topic: string; key: string; value: string | null; headers: Record<string, string> }, topicRole: string): void => {
      cap.text(`${where} key`, r.key);
      cap.json(`${where} headers`, r.headers);
      if (r.value === null) return;
      let v: unknown;
      try {
        v = JSON.parse(r.value);
      } catch {
        cap.text(where, r.value);
        return;
      }
      if (!RAW_TOPICS.has(topicRole)) return cap.json(where, v);
      const raw = (v as { raw?: RawEnvelope }).raw;
      if (raw) {
        if (mode === 'kafka') {
          // sealed: opened with the run's key (AES-GCM authenticates the ciphertext), then exempt
          expect(raw.bodyEncryption?.keyId).toBe('k1');
          sealer?.open(raw);
          sealedBodies++;
        } else {
          rawHits.push(...rawScanner.scanText(where, Buffer.from(raw.body, 'base64').toString('utf8')), ...rawScanner.scanText(where, iconv.decode(Buffer.from(raw.body, 'base64'), 'gbk')));
        }
      }
      cap.json(where, v, rawBody);
    };
    if (mode === 'kafka') {
      const conn = testConnection(ns);
      const kadmin = new KafkaAdmin(conn);
      await kadmin.connect();
      const topics = (await kadmin.listTopics()).filter((x) => x.startsWith(ns));
      await kadmin.disconnect();
      expect(topics.length).toBeGreaterThanOrEqual(9);
      const reader = new PartitionReader(conn, 'leakscan', 'read_uncommitted');
      try {
        for (const topic of topics) {
          const role = topic.slice(ns.length);
          const recs: StoredRecord[] = [];
          await reader.scan(topic, 0, (r) => recs.push(r));
          for (const r of recs) record(`topic ${role} ${r.partition}/${r.offset}`, r, role);
        }
      } finally {
        await reader.close();
      }
      const c = new pg.Client({ connectionString: db?.url });
      await c.connect();
      try {
        const tables = (await c.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).rows.map((x) => x.table_name);
        expect(tables).toContain('tickets');
        for (const table of tables) for (const row of (await c.query<{ j: unknown }>(`SELECT row_to_json(t) AS j FROM "${table}" t`)).rows) cap.json(`store ${table}`, row.j);
      } finally {
        await c.end();
      }
    } else {
      // the embedded log: one JSON line per batch of records; the store and anything else in the folder as bytes
      for (const f of readdirSync(join(dir, 'log'))) {
        const file = join(dir, 'log', f);
        if (!statSync(file).isFile()) continue;
        if (f !== 'log.jsonl') {
          cap.bytes(`file ${f}`, readFileSync(file));
          continue;
        }
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (line === '') return;
            let batch: EmbeddedBatch;
            try {
              batch = JSON.parse(line) as EmbeddedBatch;
            } catch {
              cap.text(`log.jsonl line ${i + 1}`, line);
              return;
            }
            for (const r of batch.r) {
              cap.text(`log.jsonl line ${i + 1} topic`, r.t);
              record(`log.jsonl line ${i + 1} ${r.t} ${r.p ?? 0}/${r.o}`, { topic: r.t, key: r.k, value: r.v, headers: r.h }, r.t);
            }
          });
      }
    }
    return { cap, t, secrets, answers, tickets: ticketIds.length, deadLetters: allDls.deadLetters.map((d) => ({ stage: d.stage, code: d.error.code, connectorId: d.connectorId })), rawHits, sealedBodies, pushes: { sent: t.push.filter((p) => p.expect === 'accepted').length, accepted: acceptedAsSent } };
  } finally {
    if (child) {
      child.kill('SIGKILL');
    }
    await sim?.close();
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
    if (mode === 'kafka') await dropNamespace(ns, testConnection(ns));
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the scan found: the count, per kind of output (topic, API route, stderr…), and the first hits. */
function report(r: RunResult): { leaks: number; byOutput: Record<string, number>; first: string[]; secretHits: string[] } {
  const scan = r.cap.scan(r.t.ids, r.secrets);
  const byOutput: Record<string, number> = {};
  for (const h of scan.hits) {
    const k = h.where.replace(/ line \d+.*$/, '').replace(/ \d+\/\d+.*$/, '').replace(/\/(?:cl_)?[0-9A-Z]{26}(\.json)?/, '/:id').replace(/\?.*$/, '');
    byOutput[k] = (byOutput[k] ?? 0) + 1;
  }
  return { leaks: scan.hits.length, byOutput, first: scan.hits.slice(0, 30).map((h) => `${h.kind} ${h.needle} in ${h.where} ${h.path}: …${h.excerpt}…`), secretHits: scan.secretHits.slice(0, 20) };
}

const CLEAN = { leaks: 0, byOutput: {}, first: [], secretHits: [] };

function expectCoverage(r: RunResult): void {
  // the run did what it claims: every connector accepted reports and refused the bad ones
  for (const c of ['app', 'p110', 'o311', 'mapped', 'hotline', 'city']) {
    expect({ c, accepted: (r.answers.get(`${c} accepted`) ?? 0) > 10 }).toEqual({ c, accepted: true });
    expect({ c, refused: (r.answers.get(`${c} refused`) ?? 0) > 0 }).toEqual({ c, refused: true });
  }
  expect(r.pushes.accepted / r.pushes.sent).toBeGreaterThan(0.95);
  const codes = new Set(r.deadLetters.map((d) => d.code));
  for (const code of ['INTAKE_ERR_SIGNATURE', 'INTAKE_ERR_PAYLOAD_TOO_LARGE', 'INTAKE_ERR_UNSUPPORTED_MEDIA_TYPE', 'INTAKE_ERR_BOUNCED']) expect(codes).toContain(code);
  for (const c of ['board', 'grid']) expect(r.deadLetters.some((d) => d.connectorId === c)).toBe(true);
  expect(r.deadLetters.some((d) => d.stage === 'normalize' || d.stage === 'validate')).toBe(true);
  expect(r.tickets).toBeGreaterThan(600);
  expect(new Set(r.t.ids.map((i) => i.kind)).size).toBe(12);
  const where = r.cap.outputs.map((o) => o.where);
  for (const w of ['stdout', 'stderr', 'GET /metrics', 'GET /api/tickets/', 'GET /api/clusters/', 'GET /api/deadletters/', 'GET /open311/v2/requests/', 'GET /open311/v2/services.json', 'POST /api/deadletters/']) expect({ w, seen: where.some((x) => x.startsWith(w)) }).toEqual({ w, seen: true });
  const stderr = r.cap.outputs.find((o) => o.where === 'stderr')?.bytes?.toString('utf8') ?? '';
  expect(stderr).toMatch(/"level":"(debug|info)"/);
}

describe('no identifier in anything the hub wrote or served', () => {
  it('Kafka (--role all, PostgreSQL store, raw bodies sealed): topics, store rows, stdout/stderr, every API and Open311 answer', async () => {
    const r = await runHub('kafka', 1100);
    expectCoverage(r);
    for (const topic of ['intake.reports.v1', 'intake.located.v1', 'tickets.canonical.v1', 'tickets.clusters.v1', 'intake.dlq.v1', 'intake.audit.v1', 'intake.dedup-changelog.v1', 'intake.ticket-changelog.v1'])
      expect({ topic, records: r.cap.outputs.some((o) => o.where.startsWith(`topic ${topic} `)) }).toEqual({ topic, records: true });
    expect(r.cap.outputs.some((o) => o.where === 'store tickets')).toBe(true);
    expect(r.sealedBodies).toBeGreaterThan(600);
    expect(report(r)).toEqual(CLEAN);
  }, 900_000);

  it('embedded (the default output, SQLite store, raw bodies in the clear on the internal topics): log folder, stdout/stderr, every API and Open311 answer', async () => {
    const r = await runHub('embedded', 2200);
    expectCoverage(r);
    expect(r.cap.outputs.some((o) => o.where === 'file store.db')).toBe(true);
    // the scanner sees the identifiers where they are allowed: the raw archive holds them in the clear
    const inRaw = new Set(r.rawHits.map((h) => `${h.kind}:${h.needle}`));
    expect(report(r)).toEqual(CLEAN);
    const notInRaw = r.t.ids.filter((i) => !inRaw.has(`${i.kind}:${i.needle}`) && r.t.origin.get(i.needle) !== UNAUTHENTICATED && r.t.origin.get(i.needle) !== TRIAGE_NOTE).map((i) => `${i.kind}:${i.needle} (${r.t.origin.get(i.needle)})`);
    expect(notInRaw).toEqual([]);
  }, 900_000);
});
