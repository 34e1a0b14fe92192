import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../util/paths';
import { main } from './main';

// check-config applies environment overrides: the test command exports KAFKA_BROKERS for the
// integration tests, which would turn these embedded configs into Kafka ones
const savedBrokers = process.env.KAFKA_BROKERS;
beforeAll(() => {
  delete process.env.KAFKA_BROKERS;
});
afterAll(() => {
  if (savedBrokers !== undefined) process.env.KAFKA_BROKERS = savedBrokers;
});

interface Captured {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process with stdout/stderr (and console) captured. */
async function cli(...argv: string[]): Promise<Captured> {
  let out = '';
  let err = '';
  const so = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const se = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const cl = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += a.join(' ') + '\n'));
  const ce = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += a.join(' ') + '\n'));
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    so.mockRestore();
    se.mockRestore();
    cl.mockRestore();
    ce.mockRestore();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'cli-'));

describe('intake-hub CLI', () => {
  it.each(['start', 'check-config', 'token', 'import', 'classify', 'cluster', 'docs', 'catalog', 'catalog lint', 'catalog build', 'catalog stats', 'catalog train'])(
    '%s --help prints its usage and exits 0 without doing anything',
    async (cmd) => {
      const r = await cli(...cmd.split(' '), '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^usage: intake-hub /);
      expect(r.out).toContain(cmd);
      expect(r.err).toBe('');
    },
  );

  it('start --help lists --role and --instance-id (and does not start a hub)', async () => {
    const r = await cli('start', '--config', join(dir, 'missing.yaml'), '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('--role ROLE');
    expect(r.out).toContain('intake|processor|all');
    expect(r.out).toContain('--instance-id ID');
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
    const r = await cli('--version');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`intake-hub ${pkg.version}\n`);
  });

  it('help COMMAND is COMMAND --help; no command is a usage error', async () => {
    expect((await cli('help', 'import')).out).toMatch(/^usage: intake-hub import/);
    const none = await cli();
    expect(none.code).toBe(2);
    expect(none.err).toContain('commands:');
  });

  it.each([
    [['nope'], /unknown command "nope"/],
    [['start', '--bogus'], /unknown option '--bogus'/],
    [['start', '--role', 'leader'], /--role must be one of intake, processor, all/],
    [['start', '--config'], /--config.*argument missing/],
    [['start', '--instance-id', 'a b'], /--instance-id must be/],
    [['start', 'extra'], /unexpected argument "extra"/],
    [['check-config'], /FILE is required/],
    [['check-config', 'a.yaml', 'b.yaml'], /unexpected argument "b.yaml"/],
    [['import', '--connector', 'x'], /FILE.csv\|FILE.jsonl is required/],
    [['import', '--connector', 'x', '--concurrency', 'lots', 'f.csv'], /--concurrency must be an integer from 1 to 256/],
    [['cluster', '--input', 'a.jsonl'], /--output is required/],
    [['cluster', '--format', 'xml', '--input', 'a', '--output', 'b'], /--format must be one of tipdm, ticket/],
    [['classify', '--input', 'a'], /--input and --output are required/],
    [['docs', 'everything'], /unknown reference "everything"/],
    [['catalog', 'frobnicate'], /unknown command "frobnicate"/],
    [['catalog', '__proto__'], /unknown command "__proto__"/],
    [['catalog', 'lint', '--jsn'], /unknown option '--jsn'/],
  ])('%j is a usage error: exit 2 with the reason on stderr', async (argv, reason) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(reason);
    expect(r.out).toBe('');
  });

  it('check-config: ok for a valid file, exit 1 naming the data path for an invalid one', async () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, `admin: { tokens: [{ id: ops, role: operator, sha256: ${'a'.repeat(64)} }] }\npii: { tokenSecret: a-real-secret-nobody-else-knows-0123 }\nconnectors:\n  - id: app\n    type: resident-app\n    config: { secrets: ['whsec_${Buffer.from('a-secret-of-enough-length').toString('base64')}'] }\n`);
    const ok = await cli('check-config', good);
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('ok (1 connector(s), output embedded)');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'server:\n  port: 99999\n');
    const r = await cli('check-config', bad);
    expect(r.code).toBe(1);
    expect(r.err).toContain('/server/port');
  });

  describe('check-config fails on everything start would reject', () => {
    const write = (name: string, text: string): string => {
      const f = join(dir, name);
      writeFileSync(f, text);
      return f;
    };
    const app = (id: string, path?: string): string => `  - id: ${id}\n    type: resident-app\n    config: { secrets: null${path ? `, path: ${path}` : ''} }\n`;
    const saved = { ...process.env };
    delete saved.KAFKA_BROKERS;
    afterEach(() => {
      process.env = { ...saved };
    });

    it('two connectors declaring one route', async () => {
      const r = await cli('check-config', write('dup.yaml', `connectors:\n${app('a', '/intake/x')}${app('b', '/intake/x')}`));
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/connector b: Method 'POST' already declared for route '\/intake\/x'/);
    });

    it('an environment override start would refuse', async () => {
      const f = write('env.yaml', `connectors:\n${app('a')}`);
      process.env.PORT = 'eighty';
      const r = await cli('check-config', f);
      expect(r.code).toBe(1);
      expect(r.err).toContain('PORT must be an integer');
      process.env.PORT = '8090';
      process.env.HUB_ADMIN_TOKENS = 'ops:operator:abc';
      const t = await cli('check-config', f);
      expect(t.code).toBe(1);
      expect(t.err).toMatch(/HUB_ADMIN_TOKENS: \/0\/sha256/);
    });

    it('the admin port on the intake port, a missing tokens file, an unreadable TLS key', async () => {
      const clash = await cli('check-config', write('clash.yaml', `server: { port: 9000 }\nadmin: { port: 9000, host: 0.0.0.0 }\nconnectors:\n${app('a')}`));
      expect(clash.code).toBe(1);
      expect(clash.err).toContain('/admin/port 9000 is also the intake port');
      const tokens = await cli('check-config', write('tokens.yaml', `admin: { tokensFile: ${join(dir, 'no-such-tokens')} }\n`));
      expect(tokens.code).toBe(1);
      expect(tokens.err).toMatch(/\/admin\/tokensFile: cannot read .*ENOENT/);
      const tls = await cli('check-config', write('tls.yaml', `admin: { tls: { certFile: ${join(dir, 'c.pem')}, keyFile: ${join(dir, 'k.pem')} } }\n`));
      expect(tls.code).toBe(1);
      expect(tls.err).toMatch(/\/admin\/tls\/certFile: cannot read/);
    });

    it('warns about insecure settings and still passes them', async () => {
      const r = await cli('check-config', write('open.yaml', `admin: { host: 0.0.0.0 }\nserver: { rateLimit: { max: 0 } }\nconnectors:\n${app('a')}`));
      expect(r.code).toBe(0);
      expect(r.err).toContain('warning: /admin/tokens: no admin token is configured');
      expect(r.err).toContain('warning: /admin/tls: the admin API listens on 0.0.0.0 without TLS');
      expect(r.err).toContain('warning: /server/rateLimit/max is 0');
      expect(r.err).toContain('warning: /connectors/0/config/secrets is null');
      expect(r.out).toMatch(/ok \(1 connector\(s\), output embedded, \d+ warning\(s\)\)/);
    });
  });

  it('token prints a fresh token and an entry holding only its hash, which authenticates it', async () => {
    const r = await cli('token', '--id', 'alice', '--role', 'operator');
    expect(r.code).toBe(0);
    const token = /token: +(\S+)/.exec(r.out)?.[1] as string;
    const sha = /sha256: ([0-9a-f]{64})/.exec(r.out)?.[1] as string;
    expect(token).toMatch(/^ihk_[A-Za-z0-9_-]{43}$/);
    const { TokenStore } = await import('../admin/auth');
    expect(new TokenStore([{ id: 'alice', role: 'operator', sha256: sha }]).authenticate(`Bearer ${token}`)).toEqual({ tokenId: 'alice', role: 'operator' });
    expect(r.out).toContain(`HUB_ADMIN_TOKENS=alice:operator:${sha}`);
    expect((await cli('token', '--id', 'a b')).code).toBe(2);
    expect((await cli('token')).code).toBe(2);
  });
});
