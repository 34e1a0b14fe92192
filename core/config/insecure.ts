import { CONNECTORS } from '../../connectors';
import { ConfigError } from '../errors';
import { loadSchema } from '../schema/ajv';
import type { HubConfig } from './config';

/** A setting that leaves the hub open: a secret anyone can read in this repository, or an inbound check switched off. */
export interface InsecureSetting {
  /** Data path of the setting, as in config errors: `/pii/tokenSecret`, `/connectors/2/config/secrets/0`. */
  path: string;
  message: string;
}

/**
 * Secrets that are public: the schemas' defaults and examples, and every secret written in this
 * repository (examples/*.yaml, docs, the `npm start` demo, the test kit). A hub using one of them
 * can be impersonated (webhook signatures, api keys) or its tokens recomputed (contact tokens and
 * Open311 ids are HMACs under `pii.tokenSecret`: with a public key, a masked phone number's four
 * hidden digits are found in 10,000 tries). A test keeps this list in step with the repository.
 */
export const PUBLIC_SECRETS: ReadonlySet<string> = new Set([
  'intake-hub-dev-secret-change-me',
  'change-me-in-production-please',
  'whsec_aW50YWtlLWh1Yi1kZW1vLXNlY3JldC1rZXk=',
  'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  'whsec_c3RyZWV0LWg1LWRlbW8tc2VjcmV0LWtleQ==',
  'whsec_aW50YWtlLWh1Yi10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5',
  'district-app-demo-secret-0123456789',
  'demo-open311-key',
  // the test kit's token secrets (core/testing)
  'conformance-secret',
  'test-token-secret-123',
  'pii-leak-harness-secret-5f1c9e',
]);

type Schema = Record<string, unknown>;
// inbound checks: a null or missing value here switches authentication off
const INBOUND = new Set(['secrets', 'apiKeys']);

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function publicValues(schema: Schema): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === 'string') out.add(v);
    else if (Array.isArray(v)) v.forEach(add);
    else if (isObj(v)) Object.values(v).forEach(add);
  };
  add(schema.default);
  add(schema.examples);
  add(schema['x-example']);
  return out;
}

/** Every x-secret node of `schema` with the value at its place in `value`. */
function walk(schema: unknown, value: unknown, path: string, key: string, visit: (path: string, key: string, schema: Schema, value: unknown, parent: unknown) => void, parent: unknown): void {
  if (!isObj(schema)) return;
  if (schema['x-secret'] === true) {
    visit(path, key, schema, value, parent);
    return;
  }
  const props = schema.properties;
  if (isObj(props)) for (const [k, s] of Object.entries(props)) walk(s, isObj(value) ? value[k] : undefined, `${path}/${k}`, k, visit, value);
  for (const alt of ['anyOf', 'oneOf', 'allOf']) {
    const list = schema[alt];
    if (Array.isArray(list)) for (const s of list) walk(s, value, path, key, visit, parent);
  }
  for (const k of ['then', 'else']) if (isObj(schema[k])) walk(schema[k], value, path, key, visit, parent);
}

/**
 * Every secret of `config` still at a public value (documented default, example, demo) and every
 * inbound check switched off (webhook `secrets: null`, Open311 `apiKeys: null`, mapped-webhook
 * `signature.scheme: none`), with the data path naming the setting. Empty when the config is fit
 * to expose. `intake-hub check-config` prints these as warnings; `intake-hub start` refuses to
 * start with any of them outside the demo.
 */
export function insecureSettings(config: HubConfig): InsecureSetting[] {
  const found = new Map<string, InsecureSetting>();
  const flag = (path: string, message: string): void => {
    if (!found.has(path)) found.set(path, { path, message });
  };
  const check = (where: string) => (path: string, key: string, schema: Schema, value: unknown, parent: unknown): void => {
    const known = publicValues(schema);
    const isPublic = (v: string): boolean => PUBLIC_SECRETS.has(v) || known.has(v);
    if (typeof value === 'string') {
      if (isPublic(value)) flag(path, `${where}${path.split('/').pop()} is a public value (a documented default, example or demo secret): set your own`);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => {
        if (typeof v === 'string' && isPublic(v)) flag(`${path}/${i}`, `${where}${key} holds a public value (a documented default, example or demo secret): set your own`);
      });
    } else if (isObj(value)) {
      for (const [k, v] of Object.entries(value)) if (typeof v === 'string' && isPublic(v)) flag(`${path}/${k}`, `${where}${key}.${k} is a public value: set your own`);
    } else if (value == null && INBOUND.has(key) && !(isObj(parent) && (parent.enabled === false || parent.scheme === 'none'))) {
      flag(path, `${where}${key} is null: requests are accepted without authentication (testing only)`);
    }
  };
  walk(loadSchema('hub-config.v1.schema.json'), config, '', '', check(''), null);
  config.connectors.forEach((c, i) => {
    if (!c.enabled) return;
    const spec = CONNECTORS[c.type];
    if (!spec) return;
    const where = `connector ${c.id}: `;
    walk(spec.configSchema, c.config, `/connectors/${i}/config`, '', check(where), null);
    const sig = c.config.signature;
    if (isObj(sig) && sig.scheme === 'none') flag(`/connectors/${i}/config/signature/scheme`, `${where}signature.scheme is none: requests are accepted without authentication (testing only)`);
  });
  const tokenSecret = found.get('/pii/tokenSecret');
  if (tokenSecret) tokenSecret.message = 'pii.tokenSecret is a public value (the documented default or an example): anyone can recompute contact tokens and Open311 ids and so recover masked phone numbers; set pii.tokenSecret or HUB_TOKEN_SECRET';
  return [...found.values()];
}

/**
 * Refuses a config with insecure settings unless `demo` (the `npm start` demo, which runs on its
 * own public secrets by design). Returns the findings so that the caller can print them as warnings.
 */
export function refuseInsecure(config: HubConfig, opts: { demo: boolean }): InsecureSetting[] {
  const found = insecureSettings(config);
  if (found.length > 0 && !opts.demo) {
    throw new ConfigError(`refusing to start with insecure settings (run intake-hub check-config): ${found.map((f) => `${f.path}: ${f.message}`).join('; ')}`, { dataPath: found[0]?.path ?? null });
  }
  return found;
}
