import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyEnv, validateConfig } from '../config/config';
import { generateToken, hashToken, parseTokenList, roleAllows, TokenStore } from './auth';

const dir = mkdtempSync(join(tmpdir(), 'auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('admin tokens', () => {
  const alice = generateToken();
  const bob = generateToken();

  it('authenticates a configured token by its hash, and nothing else', () => {
    const store = new TokenStore([{ id: 'alice', role: 'operator', sha256: hashToken(alice) }]);
    expect(store.authenticate(`Bearer ${alice}`)).toEqual({ tokenId: 'alice', role: 'operator' });
    expect(store.authenticate(`bearer ${alice}`)).toEqual({ tokenId: 'alice', role: 'operator' });
    for (const h of [undefined, '', alice, `Bearer ${alice.slice(0, -1)}`, `Bearer ${alice}x`, `Bearer ${bob}`, `Basic ${alice}`, `Bearer ${hashToken(alice)}`, `Bearer ${'a'.repeat(700)}`]) {
      expect(store.authenticate(h)).toBeNull();
    }
  });

  it('never stores or needs the token itself: a config holds only the hash', () => {
    const cfg = validateConfig({ admin: { tokens: [{ id: 'alice', role: 'admin', sha256: hashToken(alice) }] } });
    expect(JSON.stringify(cfg)).not.toContain(alice);
    expect(() => validateConfig({ admin: { tokens: [{ id: 'alice', role: 'admin', sha256: alice }] } })).toThrow(/\/admin\/tokens\/0\/sha256/);
    expect(() => validateConfig({ admin: { tokens: [{ id: 'alice', role: 'root', sha256: hashToken(alice) }] } })).toThrow(/\/admin\/tokens\/0\/role/);
  });

  it('refuses duplicate ids and duplicate hashes', () => {
    expect(() => new TokenStore([{ id: 'a', role: 'viewer', sha256: hashToken(alice) }, { id: 'a', role: 'admin', sha256: hashToken(bob) }])).toThrow(/"a" is used twice/);
    expect(() => new TokenStore([{ id: 'a', role: 'viewer', sha256: hashToken(alice) }, { id: 'b', role: 'admin', sha256: hashToken(alice) }])).toThrow(/hash of another token/);
  });

  it('roles include the ones below them', () => {
    expect([roleAllows('viewer', 'viewer'), roleAllows('viewer', 'operator'), roleAllows('operator', 'viewer'), roleAllows('operator', 'admin'), roleAllows('admin', 'operator')]).toEqual([true, false, true, false, true]);
  });

  it('HUB_ADMIN_TOKENS adds entries in id:role:sha256 or JSON form; HUB_ADMIN_TOKENS_FILE names the file', () => {
    const list = `ci:viewer:${hashToken(alice)}, ops:operator:${hashToken(bob)}`;
    const cfg = validateConfig(applyEnv({}, { HUB_ADMIN_TOKENS: list, HUB_ADMIN_TOKENS_FILE: '/run/secrets/tokens', ADMIN_PORT: '19999' }));
    expect(cfg.admin.tokens.map((t) => [t.id, t.role])).toEqual([['ci', 'viewer'], ['ops', 'operator']]);
    expect(cfg.admin.tokensFile).toBe('/run/secrets/tokens');
    expect(cfg.admin.port).toBe(19999);
    expect(parseTokenList(JSON.stringify([{ id: 'x', role: 'admin', sha256: hashToken(alice) }]), 'env')).toEqual([{ id: 'x', role: 'admin', sha256: hashToken(alice) }]);
    expect(() => applyEnv({}, { HUB_ADMIN_TOKENS: 'ci:viewer' })).toThrow(/HUB_ADMIN_TOKENS: an entry is not id:role:sha256/);
    expect(() => applyEnv({}, { HUB_ADMIN_TOKENS: `ci:boss:${hashToken(alice)}` })).toThrow(/HUB_ADMIN_TOKENS: \/0\/role/);
    expect(() => applyEnv({}, { ADMIN_PORT: 'http' })).toThrow(/ADMIN_PORT must be an integer/);
  });

  it('a tokens file rotates without a restart: the new token works and the removed one stops, within the recheck interval', () => {
    const file = join(dir, 'tokens.yaml');
    writeFileSync(file, `- id: alice\n  role: operator\n  sha256: ${hashToken(alice)}\n`);
    let now = 1_000_000;
    const errors: Error[] = [];
    const store = new TokenStore([], file, 5000, () => now, (e) => errors.push(e));
    expect(store.authenticate(`Bearer ${alice}`)?.tokenId).toBe('alice');
    // rotation: bob added, alice removed (a Secret volume swaps the file)
    writeFileSync(file, `bob:admin:${hashToken(bob)}\n`);
    now += 1000;
    expect(store.authenticate(`Bearer ${alice}`)?.tokenId).toBe('alice'); // not re-read yet
    now += 5000;
    expect(store.authenticate(`Bearer ${bob}`)).toEqual({ tokenId: 'bob', role: 'admin' });
    expect(store.authenticate(`Bearer ${alice}`)).toBeNull();
    // a broken file keeps the tokens in force and reports the error
    writeFileSync(file, 'bob:admin:nothex\n');
    now += 6000;
    expect(store.authenticate(`Bearer ${bob}`)?.tokenId).toBe('bob');
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/tokensFile.*\/0\/sha256/)]);
  });

  it('a missing tokens file is a config error at start, naming the setting', () => {
    expect(() => new TokenStore([], join(dir, 'nope.yaml'))).toThrow(/\/admin\/tokensFile: cannot read .*ENOENT/);
  });
});
