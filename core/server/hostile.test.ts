import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Agent, request } from 'undici';
import { validateConfig } from '../config/config';
import { Hub } from '../hub';
import { silentLogger } from '../logger';
import { TOPICS } from '../outputs/topics';
import type { DeadLetter } from '../schema/types';
import type { RecordLog } from '../outputs/output';
import { bearer, TEST_TOKEN_ENTRIES } from '../testing/admin';
import { residentReport, signedHeaders, TEST_SECRET } from '../testing/signed';

const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let portSeq = 19200;
const nextPort = (): number => portSeq++;

async function hubOn(extra: Record<string, unknown>, name: string): Promise<{ hub: Hub; base: string; admin: string; log: string }> {
  const out = join(dir, name);
  const port = nextPort();
  const adminPort = nextPort();
  const base = extra.server as Record<string, unknown> | undefined;
  const adm = extra.admin as Record<string, unknown> | undefined;
  const config = validateConfig({
    output: { type: 'embedded', embedded: { dir: out } },
    connectors: [{ id: 'app', type: 'resident-app', config: { secrets: [TEST_SECRET] } }],
    ...extra,
    server: { host: '127.0.0.1', port, ...base },
    admin: { tokens: TEST_TOKEN_ENTRIES, host: '127.0.0.1', port: adminPort, ...adm },
  });
  const hub = new Hub(config, { logger: silentLogger, registry: new Registry() });
  await hub.listen();
  await hub.start();
  const scheme = (base?.tls ? 'https' : 'http') as string;
  return { hub, base: `${scheme}://127.0.0.1:${port}`, admin: `${adm?.tls ? 'https' : 'http'}://127.0.0.1:${adminPort}`, log: join(out, 'log.jsonl') };
}

async function deadLetters(hub: Hub): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  await hub.settled();
  await hub.log.scan(TOPICS.dlq, 0, (r) => {
    if (r.value !== null) out.push(JSON.parse(r.value) as DeadLetter);
  });
  return out;
}

const metricValue = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : NaN;
};

describe('hostile input costs the attacker, not the hub', () => {
  it('1,000 unsigned 250 KiB posts: all refused with 401, bounded disk use, /healthz answers throughout', async () => {
    const { hub, base, admin, log } = await hubOn({ server: { unauthenticated: { keepBytes: 512, perClientPerMinute: 10, totalPerMinute: 40 } } }, 'flood');
    const agent = new Agent({ connections: 32 });
    try {
      const before = statSync(log).size;
      const body = Buffer.alloc(250 * 1024, 0x61);
      const statuses = new Map<number, number>();
      let healthOk = 0;
      let healthBad = 0;
      let flooding = true;
      const probe = (async () => {
        while (flooding) {
          const r = await request(`${base}/healthz`, { headersTimeout: 5000, bodyTimeout: 5000 }).catch(() => null);
          if (r?.statusCode === 200) healthOk++;
          else healthBad++;
          await r?.body.dump();
          await new Promise((res) => setTimeout(res, 20));
        }
      })();
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < 1000) {
            next++;
            const r = await request(`${base}/intake/app`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
            statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
            const text = await r.body.text();
            expect(text).not.toMatch(/deadLetterId|[0-9A-HJKMNP-TV-Z]{26}/);
          }
        }),
      );
      flooding = false;
      await probe;
      expect(Object.fromEntries(statuses)).toEqual({ 401: 1000 });
      expect(healthBad).toBe(0);
      expect(healthOk).toBeGreaterThan(0);
      const dls = await deadLetters(hub);
      expect(dls.length).toBe(10); // one client: its per-minute budget
      for (const d of dls) expect(Buffer.from(d.raw.body, 'base64').length).toBe(512);
      const grown = statSync(log).size - before;
      expect(grown).toBeLessThan(10 * 4096); // 250 MB sent, a few KiB written
      const m = await (await request(`${admin}/metrics`, { headers: bearer('viewer') })).body.text();
      expect(metricValue(m, 'intake_rejected_total{connector="app",reason="INTAKE_ERR_SIGNATURE"}')).toBe(1000);
      expect(metricValue(m, 'intake_rejections_unrecorded_total{connector="app"}')).toBe(990);
      // a signed report still gets through
      const ok = Buffer.from(JSON.stringify(residentReport(1)));
      expect((await request(`${base}/intake/app`, { method: 'POST', body: ok, headers: signedHeaders(ok) })).statusCode).toBe(202);
    } finally {
      await agent.close();
      await hub.stop();
    }
  }, 120_000);

  it('the total budget bounds unauthenticated dead letters over many clients', async () => {
    const { hub, base } = await hubOn({ server: { unauthenticated: { keepBytes: 64, perClientPerMinute: 3, totalPerMinute: 7 } } }, 'many-clients');
    try {
      for (let c = 2; c <= 6; c++) {
        const agent = new Agent({ localAddress: `127.0.0.${c}` });
        for (let i = 0; i < 5; i++) {
          const r = await request(`${base}/intake/app`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, dispatcher: agent });
          expect(r.statusCode).toBe(401);
          await r.body.dump();
        }
        await agent.close();
      }
      const per = new Map<string, number>();
      const dls = await deadLetters(hub);
      expect(dls).toHaveLength(7); // 3 + 3 + 1, then the total budget is spent
      for (const d of dls) per.set(d.error.code, (per.get(d.error.code) ?? 0) + 1);
      expect(Object.fromEntries(per)).toEqual({ INTAKE_ERR_SIGNATURE: 7 });
    } finally {
      await hub.stop();
    }
  });

  it('connection exhaustion from one client is refused cleanly (503, closed) and signed reports from others get through', async () => {
    const { hub, base, admin } = await hubOn({ server: { maxConnections: 40, maxConnectionsPerClient: 8 } }, 'conns');
    const sockets: Socket[] = [];
    try {
      const port = Number(new URL(base).port);
      const refusals: string[] = [];
      const opened = await Promise.all(
        Array.from({ length: 60 }, () =>
          new Promise<'held' | 'refused'>((resolve) => {
            const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
            sockets.push(s);
            let got = '';
            s.on('data', (c) => (got += c.toString()));
            s.on('close', () => {
              refusals.push(got);
              resolve('refused');
            });
            s.on('error', () => undefined);
            setTimeout(() => resolve('held'), 1500);
          }),
        ),
      );
      expect(opened.filter((o) => o === 'held')).toHaveLength(8);
      expect(refusals).toHaveLength(52);
      for (const r of refusals) {
        expect(r).toMatch(/^HTTP\/1\.1 503 /);
        expect(r).toContain('INTAKE_ERR_CONNECTION_LIMIT');
      }
      // the held sockets do not lock anyone else out
      const other = new Agent({ localAddress: '127.0.0.3' });
      const ok = Buffer.from(JSON.stringify(residentReport(7)));
      const res = await request(`${base}/intake/app`, { method: 'POST', body: ok, headers: signedHeaders(ok), dispatcher: other });
      expect(res.statusCode).toBe(202);
      await res.body.dump();
      await other.close();
      const m = await (await request(`${admin}/metrics`, { headers: bearer('viewer') })).body.text();
      expect(metricValue(m, 'intake_connections_refused_total{listener="intake",cap="client"}')).toBe(52);
      // the total cap: 4 more clients fill it, the next connection is refused
      for (let c = 4; c < 8; c++) {
        for (let i = 0; i < 8; i++) sockets.push(connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${c}` }).on('error', () => undefined));
      }
      await new Promise((r) => setTimeout(r, 300));
      const last = await new Promise<string>((resolve) => {
        const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.9' });
        let got = '';
        s.on('data', (c) => (got += c.toString()));
        s.on('close', () => resolve(got));
        s.on('error', () => undefined);
      });
      expect(last).toMatch(/^HTTP\/1\.1 503 /);
    } finally {
      for (const s of sockets) s.destroy();
      await hub.stop();
    }
  }, 30_000);

  it('a client over the request rate limit gets 429 (counted); the probes are never limited', async () => {
    const { hub, base, admin } = await hubOn({ server: { rateLimit: { max: 5, windowMs: 60000 } }, admin: { rateLimit: { max: 3, windowMs: 60000 } } }, 'rate');
    try {
      const codes: number[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await request(`${base}/intake/app`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
        codes.push(r.statusCode);
        if (r.statusCode === 429) expect(((await r.body.json()) as { error: { code: string } }).error.code).toBe('INTAKE_ERR_RATE_LIMITED');
        else await r.body.dump();
      }
      expect(codes).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
      for (let i = 0; i < 10; i++) {
        const r = await request(`${base}/healthz`);
        expect(r.statusCode).toBe(200);
        await r.body.dump();
      }
      const adminCodes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await request(`${admin}/api/connectors`, { headers: bearer('viewer') });
        adminCodes.push(r.statusCode);
        await r.body.dump();
      }
      expect(adminCodes).toEqual([200, 200, 200, 429, 429]);
      const other = new Agent({ localAddress: '127.0.0.5' });
      const m = await (await request(`${admin}/metrics`, { headers: bearer('viewer'), dispatcher: other })).body.text();
      await other.close();
      expect(metricValue(m, 'intake_ratelimited_total{listener="intake"}')).toBe(3);
      expect(metricValue(m, 'intake_ratelimited_total{listener="admin"}')).toBe(2);
    } finally {
      await hub.stop();
    }
  });

  it('optional TLS on both listeners from cert/key files', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const tls = { certFile: cert, keyFile: key };
    const { hub, base, admin } = await hubOn({ server: { tls }, admin: { tls } }, 'tls');
    const agent = new Agent({ connect: { ca: execFileSync('cat', [cert]) } });
    try {
      expect(base).toMatch(/^https:/);
      const h = await request(`${base}/healthz`, { dispatcher: agent });
      expect(h.statusCode).toBe(200);
      await h.body.dump();
      const a = await request(`${admin}/api/connectors`, { headers: bearer('viewer'), dispatcher: agent });
      expect(a.statusCode).toBe(200);
      await a.body.dump();
      // plain HTTP to a TLS listener gets no answer from the hub
      await expect(request(base.replace('https', 'http') + '/healthz', { headersTimeout: 2000 }).then((r) => r.statusCode)).rejects.toThrow();
      expect(() => validateConfig({ server: { tls: { certFile: cert } } })).toThrow(/\/server\/tls\/keyFile is required/);
    } finally {
      await agent.close();
      await hub.stop();
    }
    const missing = validateConfig({ server: { tls: { certFile: join(dir, 'none.pem'), keyFile: key } } });
    expect(() => new Hub(missing, { logger: silentLogger, registry: new Registry() })).toThrow(/\/server\/tls\/certFile: cannot read .*ENOENT/);
  });
});

describe('dead-letter listing reads an index, not the log', () => {
  it('6 concurrent listings of 3,000 dead letters read nothing from the output; a replay of a recent one reads nothing, of an old one one scan', async () => {
    const { hub, admin } = await hubOn({}, 'dlq-index');
    try {
      // 3,000 dead letters with 4 KiB bodies from an authenticated sender (normalize failures)
      const bad = (i: number): Buffer => Buffer.from(JSON.stringify({ reportId: `X-${i}`, padding: 'p'.repeat(4096) }));
      for (let i = 0; i < 3000; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, k) => hub.app.inject({ method: 'POST', url: '/intake/app', payload: bad(i + k), headers: signedHeaders(bad(i + k)) })));
      }
      expect(hub.deadLetters.size).toBe(3000);
      const out = hub.log as RecordLog;
      const scan = jest.spyOn(out, 'scan');
      const heap0 = process.memoryUsage().heapUsed;
      const lists = await Promise.all(Array.from({ length: 6 }, () => request(`${admin}/api/deadletters?limit=500`, { headers: bearer('viewer') }).then((r) => r.body.json() as Promise<{ deadLetters: { id: string }[]; next: string | null }>)));
      expect(scan).not.toHaveBeenCalled();
      for (const l of lists) expect(l.deadLetters).toHaveLength(500);
      expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(64 * 1024 * 1024);
      // pages: newest first, then older by cursor
      const page2 = (await (await request(`${admin}/api/deadletters?limit=500&before=${lists[0]?.next}`, { headers: bearer('viewer') })).body.json()) as { deadLetters: { id: string }[] };
      expect((page2.deadLetters[0]?.id ?? 'Z') < (lists[0]?.deadLetters[499]?.id ?? '')).toBe(true);
      const newest = lists[0]?.deadLetters[0]?.id as string;
      scan.mockClear();
      const replay = await request(`${admin}/api/deadletters/${newest}/replay`, { method: 'POST', headers: bearer('operator') });
      expect(replay.statusCode).toBe(422); // still invalid: a new dead letter names the original
      await replay.body.dump();
      expect(scan).not.toHaveBeenCalled(); // recent records are kept for replay (16 MB)
      expect(hub.deadLetters.list({ limit: 1, sinceMs: 0 })[0]?.replayOf).toBe(newest);
      const oldest = hub.deadLetters.list({ limit: 5000, sinceMs: 0 }).at(-1)?.id as string;
      const again = await request(`${admin}/api/deadletters/${oldest}/replay`, { method: 'POST', headers: bearer('operator') });
      expect(again.statusCode).toBe(422);
      await again.body.dump();
      expect(scan).toHaveBeenCalledTimes(1); // past the cache: one read of the topic
      expect(hub.deadLetters.list({ limit: 1, sinceMs: 0 })[0]?.replayOf).toBe(oldest);
    } finally {
      await hub.stop();
    }
  }, 60_000);
});
