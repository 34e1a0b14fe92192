import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../cli/main';
import { packageRoot } from '../util/paths';
import { loadConfigFile, validateConfig } from './config';
import { PUBLIC_SECRETS, insecureSettings, refuseInsecure } from './insecure';

// check-config applies environment overrides: the test command exports KAFKA_BROKERS for the
// integration tests, which would turn these embedded configs into Kafka ones
const savedBrokers = process.env.KAFKA_BROKERS;
beforeAll(() => {
  delete process.env.KAFKA_BROKERS;
});
afterAll(() => {
  if (savedBrokers !== undefined) process.env.KAFKA_BROKERS = savedBrokers;
});

const own = { tokenSecret: 'a-real-secret-of-this-deployment-1' };
const cfg = (doc: Record<string, unknown>) => validateConfig(doc);

describe('insecure settings', () => {
  it('flags the documented token secret and public webhook secrets, naming the setting', () => {
    const found = insecureSettings(cfg({ connectors: [{ id: 'app', type: 'resident-app', config: { secrets: ['whsec_aW50YWtlLWh1Yi1kZW1vLXNlY3JldC1rZXk='] } }] }));
    expect(found.map((f) => f.path)).toEqual(['/pii/tokenSecret', '/connectors/0/config/secrets/0']);
    expect(found[0]?.message).toContain('pii.tokenSecret');
    expect(found[1]?.message).toContain('connector app');
  });

  it('flags inbound checks switched off: secrets null, apiKeys null, signature scheme none', () => {
    const found = insecureSettings(
      cfg({
        pii: own,
        connectors: [
          { id: 'a', type: 'police-110', config: { secrets: null } },
          { id: 'b', type: 'open311', config: {} },
          { id: 'c', type: 'mapped-webhook', config: { signature: { scheme: 'none' }, mapping: { sourceId: '/id', text: '/t' } } },
          { id: 'd', type: 'hotline-12345', config: { baseUrl: 'http://x.cn' } },
        ],
      }),
    );
    expect(found.map((f) => f.path)).toEqual(['/connectors/0/config/secrets', '/connectors/1/config/apiKeys', '/connectors/2/config/signature/scheme']);
  });

  it('accepts a config with its own secrets; disabled connectors are not checked', () => {
    expect(
      insecureSettings(
        cfg({
          pii: own,
          connectors: [
            { id: 'a', type: 'resident-app', config: { secrets: ['whsec_b3duLXNlY3JldC1vZi10aGlzLWh1Yg=='] } },
            { id: 'b', type: 'open311', config: { apiKeys: ['our-own-open311-key-1'] } },
            { id: 'c', type: 'police-110', enabled: false, config: { secrets: null } },
          ],
        }),
      ),
    ).toEqual([]);
  });

  it('refuses to start outside the demo, and only warns in the demo', () => {
    const bad = cfg({});
    expect(() => refuseInsecure(bad, { demo: false })).toThrow(/refusing to start.*\/pii\/tokenSecret/);
    expect(refuseInsecure(bad, { demo: true }).map((f) => f.path)).toEqual(['/pii/tokenSecret']);
  });

  it('every secret written in the repository (examples, docs, demo, test kit) is in PUBLIC_SECRETS', () => {
    const root = packageRoot();
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const f of readdirSync(join(root, dir))) {
        const p = join(dir, f);
        if (statSync(join(root, p)).isDirectory()) walk(p);
        else if (/\.(ts|md|ya?ml|json)$/.test(f) && !f.endsWith('.test.ts')) files.push(p);
      }
    };
    for (const d of ['examples', 'docs', 'core/sim', 'core/testing', 'connectors', 'schemas', 'helm', 'deploy']) walk(d);
    const found = new Set<string>();
    for (const f of files) {
      const text = readFileSync(join(root, f), 'utf8');
      for (const m of text.matchAll(/whsec_[A-Za-z0-9+/=]{10,}/g)) found.add(m[0]);
      for (const m of text.matchAll(/(?:tokenSecret|SECRET|OPEN311_KEY)\s*[:=]\s*['"]([^'"\s]{8,})['"]/g)) found.add(m[1] as string);
      if (/\.(ya?ml|md)$/.test(f)) for (const m of text.matchAll(/tokenSecret:\s*([A-Za-z0-9_+/=-]{8,})/g)) found.add(m[1] as string);
      for (const m of text.matchAll(/createHmac\('sha256', '([^']{8,})'\)/g)) found.add(m[1] as string);
    }
    found.add(JSON.parse(readFileSync(join(root, 'schemas/hub-config.v1.schema.json'), 'utf8')).properties.pii.properties.tokenSecret.default);
    // the test kit's secret is computed, not written
    found.add(`whsec_${Buffer.from('intake-hub-test-secret-0123456789').toString('base64')}`);
    expect([...found].filter((s) => !PUBLIC_SECRETS.has(s))).toEqual([]);
    // and the shipped examples are flagged as they stand
    for (const f of ['examples/hub.yaml', 'examples/mapped-webhook.yaml']) expect(insecureSettings(loadConfigFile(join(root, f), {})).length).toBeGreaterThan(0);
  });

  it('check-config prints the insecure settings as warnings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'insecure-'));
    const file = join(dir, 'hub.yaml');
    writeFileSync(file, 'connectors: [{ id: app, type: resident-app, config: { secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] } }]\n');
    const out: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    const spyErr = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    const saved = process.env.HUB_TOKEN_SECRET;
    delete process.env.HUB_TOKEN_SECRET;
    try {
      expect(await main(['check-config', file])).toBe(0);
    } finally {
      spy.mockRestore();
      spyErr.mockRestore();
      if (saved !== undefined) process.env.HUB_TOKEN_SECRET = saved;
    }
    const text = out.join('');
    expect(text).toMatch(/warning: \/pii\/tokenSecret: .*intake-hub start refuses this/);
    expect(text).toMatch(/warning: \/connectors\/0\/config\/secrets\/0: .*intake-hub start refuses this/);
    expect(text).toMatch(/ok \(1 connector\(s\), output embedded, \d+ warning\(s\)\)/);
  });
});
