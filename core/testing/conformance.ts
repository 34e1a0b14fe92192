import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { loadCatalog, type Catalog } from '../catalog/catalog';
import { validateConfig } from '../config/config';
import { ConfigError, PayloadError } from '../errors';
import { assembleTicket } from '../pipeline/enrich';
import { formatAjvErrors } from '../schema/ajv';
import { validateTicket } from '../schema/validators';
import type { ConnectorSpec, RawInput } from '../sdk/connector';
import { configAjv } from '../schema/ajv';
import { packageRoot } from '../util/paths';
import { testContext } from './context';

/**
 * The conformance suite every connector passes (call it from `<connector>.conformance.test.ts`):
 * - start/stop (and pause/resume) are idempotent;
 * - health reports a failing upstream (pollers and subscriptions: give `failingUpstream`);
 * - a bad config fails with a data path;
 * - every fixture normalizes to a schema-valid ticket (fixtures named `*.invalid.*` must be
 *   rejected with a PayloadError instead);
 * - normalize is pure and deterministic;
 * - every fixture's channel code (`channelCategory`) resolves in the default catalog
 *   (`Catalog.resolveChannel`: by code, name or family prefix), so no shipped code reaches the
 *   classifier unknown.
 */
export interface ConformanceOptions {
  spec: ConnectorSpec<never>;
  /** A working config (before defaults), used for lifecycle and normalisation. */
  config: Record<string, unknown>;
  /** A broken config and the data path (inside the connector config) its error must name. */
  badConfig: { config: Record<string, unknown>; dataPath: string };
  /** How a fixture file becomes a raw input (content type, headers); defaults to JSON. */
  rawFromFixture?: (file: string, bytes: Buffer) => RawInput;
  /** For pollers/subscriptions: a config whose upstream fails; health must show it within `withinMs`. */
  failingUpstream?: { config: Record<string, unknown>; withinMs?: number };
  /** Minimum number of valid fixtures (the issue asks for 20 per channel). */
  minFixtures?: number;
  /** The catalog fixture codes must resolve in (default: the committed default catalog). */
  catalog?: () => Catalog;
  /**
   * Fixtures that deliberately carry a code the catalog does not know (e.g. a code outside a mapped
   * channel's table, passed through as is). The check asserts they do NOT resolve, so the list
   * cannot go stale.
   */
  unresolvedFixtures?: string[];
}

const CONTENT_TYPES: Record<string, string> = { '.json': 'application/json', '.xml': 'application/xml', '.csv': 'text/csv', '.jsonl': 'application/x-ndjson' };

export function defaultRaw(file: string, bytes: Buffer): RawInput {
  return { transport: 'replay', body: bytes, contentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', headers: {} };
}

export function fixtureFiles(spec: ConnectorSpec<never>): string[] {
  if (!spec.fixturesDir) return [];
  const dir = join(packageRoot(), spec.fixturesDir);
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.') && !f.endsWith('.md'))
    .sort()
    .map((f) => join(dir, f));
}

function withDefaults(spec: ConnectorSpec<never>, config: Record<string, unknown>): Record<string, unknown> {
  const c = structuredClone(config);
  const v = configAjv.compile(spec.configSchema);
  if (!v(c)) throw new ConfigError(formatAjvErrors(v.errors));
  return c;
}

export function runConformance(o: ConformanceOptions): void {
  const { spec } = o;
  const toRaw = o.rawFromFixture ?? defaultRaw;

  describe(`connector conformance: ${spec.type}`, () => {
    it('declares a complete spec with a documented config schema', () => {
      expect(spec.type).toMatch(/^[a-z0-9_][a-z0-9-]*$/);
      expect(['webhook', 'poller', 'subscription']).toContain(spec.kind);
      expect(['experimental', 'beta', 'stable']).toContain(spec.stability);
      expect(spec.summary.length).toBeGreaterThan(10);
      const props = (spec.configSchema.properties ?? {}) as Record<string, { description?: string }>;
      for (const [k, p] of Object.entries(props)) expect({ key: k, described: typeof p.description === 'string' && p.description.length > 3 }).toEqual({ key: k, described: true });
    });

    it('start/stop/pause/resume are idempotent', async () => {
      const cfg = withDefaults(spec, o.config);
      const ctx = testContext(spec, cfg, 'conf');
      const c = spec.create(cfg as never, ctx);
      await c.start();
      await c.start();
      if (c.lease) {
        // a poller polls only with its source's lease (single owner): standby until the hub hands it over
        expect(c.health().state).toBe('standby');
        await c.lease.acquire();
        await c.lease.acquire();
        // acquiring (a rebalance callback) does not wait for the first step; it settles soon after
        for (let i = 0; i < 200 && c.health().state === 'starting'; i++) await new Promise((r) => setTimeout(r, 25));
      }
      expect(['running', 'degraded']).toContain(c.health().state);
      await c.pause();
      await c.pause();
      expect(c.health().state).toBe('paused');
      await c.resume();
      await c.resume();
      expect(['running', 'degraded']).toContain(c.health().state);
      if (c.lease) {
        await c.lease.release();
        expect(c.health().state).toBe('standby');
        await c.lease.acquire();
      }
      await c.stop();
      await c.stop();
      expect(c.health().state).toBe('stopped');
      await ctx.http.close();
    });

    it('a bad config fails with its data path', () => {
      let err: unknown;
      try {
        validateConfig({ connectors: [{ id: 'conf', type: spec.type, config: o.badConfig.config }] });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(`/connectors/0/config${o.badConfig.dataPath}`);
    });

    const files = fixtureFiles(spec);
    const valid = files.filter((f) => !/\.invalid\./.test(f));

    it(`ships at least ${o.minFixtures ?? 1} fixtures in the native format`, () => {
      expect(valid.length).toBeGreaterThanOrEqual(o.minFixtures ?? 1);
    });

    it.each(files.map((f) => [f.slice(f.lastIndexOf('/') + 1), f]))('fixture %s normalizes to a schema-valid ticket (or is rejected if *.invalid.*)', (_name, file) => {
      const cfg = withDefaults(spec, o.config);
      const raw = toRaw(file, readFileSync(file));
      if (/\.invalid\./.test(file)) {
        expect(() => spec.normalize(raw, cfg as never)).toThrow(PayloadError);
        return;
      }
      const draft = spec.normalize(raw, cfg as never);
      const t = assembleTicket(draft, { channel: spec.channel, connectorId: 'conf', dedupScope: 'conf', receivedAt: 0, rawTopic: 'intake.reports.v1', envelopeId: '01JC0000000000000000000002', sha256: '0'.repeat(64), tokenSecret: 'conformance-secret' });
      const ok = validateTicket(t);
      expect(ok ? null : formatAjvErrors(validateTicket.errors)).toBeNull();
    });

    it("every fixture's channel code resolves in the catalog", () => {
      const cfg = withDefaults(spec, o.config);
      const catalog = (o.catalog ?? loadCatalog)();
      const unresolved: string[] = [];
      const expected: string[] = [];
      for (const file of valid) {
        const name = file.slice(file.lastIndexOf('/') + 1);
        const cc = spec.normalize(toRaw(file, readFileSync(file)), cfg as never).channelCategory;
        if (o.unresolvedFixtures?.includes(name)) expected.push(name);
        if (cc && !catalog.resolveChannel(cc.scheme, cc.code, cc.name)) unresolved.push(`${name}: ${cc.scheme} ${cc.code} ${cc.name ?? ''}`);
      }
      expect(unresolved).toEqual((o.unresolvedFixtures ?? []).map((n) => expect.stringContaining(n)));
      expect(expected).toEqual(o.unresolvedFixtures ?? []);
    });

    it('normalize is pure and deterministic', () => {
      const cfg = withDefaults(spec, o.config);
      for (const file of valid) {
        const bytes = readFileSync(file);
        const copy = Buffer.from(bytes);
        const a = spec.normalize(toRaw(file, bytes), cfg as never);
        const b = spec.normalize(toRaw(file, bytes), cfg as never);
        expect(b).toEqual(a);
        expect(bytes.equals(copy)).toBe(true);
      }
    });

    if (o.failingUpstream) {
      const fu = o.failingUpstream;
      it('health reports a failing upstream', async () => {
        const cfg = withDefaults(spec, fu.config);
        const ctx = testContext(spec, cfg, 'conf-fail');
        const c = spec.create(cfg as never, ctx);
        await c.start();
        await c.lease?.acquire();
        const deadline = Date.now() + (fu.withinMs ?? 10000);
        while (c.health().lastError === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const h = c.health();
        await c.stop();
        await ctx.http.close();
        expect(h.lastError).not.toBeNull();
        expect(h.counters.failed).toBeGreaterThan(0);
      });
    }
  });
}
