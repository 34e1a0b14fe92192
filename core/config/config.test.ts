import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors';
import { applyEnv, loadConfigFile, validateConfig } from './config';

function errorOf(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('hub config', () => {
  it('fills defaults: embedded output on port 8080', () => {
    const c = validateConfig({});
    expect(c.output.type).toBe('embedded');
    expect(c.server.port).toBe(8080);
    expect(c.connectors).toEqual([]);
  });

  it('names the data path of a bad connector config', () => {
    const e = errorOf(() => validateConfig({ connectors: [{ id: 'app', type: 'resident-app', config: { secrets: null, toleranceSeconds: 0 } }] }));
    expect(e.message).toContain('/connectors/0/config/toleranceSeconds must be >= 1');
    expect(e.code).toBe('INTAKE_ERR_CONFIG');
  });

  it('names unknown keys, unknown connector types and duplicate ids', () => {
    expect(errorOf(() => validateConfig({ outptu: {} })).message).toContain('/outptu is not allowed');
    expect(errorOf(() => validateConfig({ connectors: [{ id: 'x', type: 'fax' }] })).message).toContain('/connectors/0/type "fax" is not a known connector type');
    const dup = { id: 'a', type: 'resident-app', config: { secrets: null } };
    expect(errorOf(() => validateConfig({ connectors: [dup, dup] })).message).toContain('/connectors/1/id "a" is used twice');
    expect(errorOf(() => validateConfig({ server: { port: 70000 } })).message).toContain('/server/port must be <= 65535');
  });

  it('a push route cannot be opened without saying how it is authenticated', () => {
    expect(errorOf(() => validateConfig({ connectors: [{ id: 'h', type: 'hotline-12345', config: { baseUrl: 'http://x:1', push: { enabled: true } } }] })).message).toContain('/connectors/0/config/push/secrets is required');
    expect(errorOf(() => validateConfig({ connectors: [{ id: 'c', type: 'city-management', config: { mode: 'push' } }] })).message).toContain('/connectors/0/config/push is required');
    expect(errorOf(() => validateConfig({ connectors: [{ id: 'c', type: 'city-management', config: { mode: 'push', push: {} } }] })).message).toContain('/connectors/0/config/push/secrets is required');
    expect(() => validateConfig({ connectors: [{ id: 'h', type: 'hotline-12345', config: { baseUrl: 'http://x:1' } }] })).not.toThrow();
  });

  it('validates the clustering section against its schema, with data paths', () => {
    expect(errorOf(() => validateConfig({ clustering: { hotReporters: 0 } })).message).toContain('/clustering/hotReporters must be >= 1');
    expect(errorOf(() => validateConfig({ clustering: { windowHourz: 5 } })).message).toContain('/clustering/windowHourz is not allowed');
    expect(validateConfig({ clustering: { hotReporters: 3, hotWindowHours: 12 } }).clustering).toMatchObject({ hotReporters: 3 });
  });

  it('environment overrides: KAFKA_BROKERS switches to Kafka, PORT, HUB_TOKEN_SECRET', () => {
    const c = validateConfig(applyEnv({}, { KAFKA_BROKERS: 'k1:9092, k2:9092', PORT: '9999', HUB_TOKEN_SECRET: 'a-long-enough-secret-value' }));
    expect(c.output.type).toBe('kafka');
    expect(c.output.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(c.server.port).toBe(9999);
    expect(c.pii.tokenSecret).toBe('a-long-enough-secret-value');
    expect(errorOf(() => applyEnv({}, { PORT: 'eighty' })).message).toContain('PORT must be an integer');
  });

  it('loads YAML files and reports YAML syntax errors clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const good = join(dir, 'hub.yaml');
    writeFileSync(good, 'server:\n  port: 8181\nconnectors:\n  - id: app\n    type: resident-app\n    config:\n      secrets: null\n');
    expect(loadConfigFile(good, {}).server.port).toBe(8181);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'server: [\n');
    expect(errorOf(() => loadConfigFile(bad, {})).message).toContain('is not valid YAML');
    expect(errorOf(() => loadConfigFile(join(dir, 'missing.yaml'), {})).message).toContain('cannot read config file');
  });

  it('the shipped example config is valid', () => {
    expect(loadConfigFile(join(__dirname, '..', '..', 'examples', 'hub.yaml'), {}).connectors.length).toBeGreaterThan(0);
  });
});
