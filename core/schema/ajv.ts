import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/paths';

/**
 * Two ajv instances, as the house style asks:
 * - `configAjv` for trusted configuration: all errors at once, defaults filled in.
 * - `payloadAjv` for untrusted input and our own outputs: stop at the first error, no coercion,
 *   no defaults, strict mode.
 */
export const configAjv = new Ajv2020({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
export const payloadAjv = new Ajv2020({ allErrors: false, useDefaults: false, coerceTypes: false, strict: true, allowUnionTypes: true });
addFormats(configAjv);
addFormats(payloadAjv);
for (const ajv of [configAjv, payloadAjv]) {
  ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'x-example', schemaType: ['string', 'number', 'boolean', 'object', 'array'] });
}

export function loadSchema(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(packageRoot(), 'schemas', file), 'utf8')) as Record<string, unknown>;
}

export interface FormatOptions {
  /**
   * Whether names the data chose may appear in the text: `true` for trusted configuration
   * ("/outptu is not allowed"); by default (untrusted payloads) an unknown property is "a
   * property" and path segments that do not read like field names are `*`, so the keys a client
   * invented (a phone number as a key) are never echoed.
   */
  echoNames?: boolean;
}

/**
 * The instance path, untrusted: a segment is shown when it reads like a schema's field name
 * (`location`, `JQBH`, `reportId`) or an array index; any other key the data chose (a phone
 * number, a name, an e-mail as a key) is `*`.
 */
function safePath(e: ErrorObject, echo: boolean): string {
  if (echo || !e.instancePath) return e.instancePath;
  return e.instancePath
    .split('/')
    .map((seg, i) => (i === 0 || /^\d{1,6}$/.test(seg) || /^[A-Za-z_][A-Za-z_]{0,31}(?:[._-]?[A-Za-z0-9_]{1,16}){0,3}$/.test(seg) ? seg : '*'))
    .join('/');
}

/**
 * "/connectors/0/pollIntervalMs must be >= 1000" — the data path first, then the rule broken.
 * Never the value: ajv's messages name the rule (type, pattern, bounds from the schema), and for
 * untrusted data (the default) names the data invented are not echoed either (see FormatOptions).
 */
export function formatAjvErrors(errors: ErrorObject[] | null | undefined, root = '', opts: FormatOptions = {}): string {
  if (!errors || errors.length === 0) return 'invalid';
  const echo = opts.echoNames === true;
  return errors
    .map((e) => {
      let path = root + safePath(e, echo);
      if (e.keyword === 'required') path += '/' + String((e.params as { missingProperty: string }).missingProperty);
      if (e.keyword === 'additionalProperties' && echo) path += '/' + String((e.params as { additionalProperty: string }).additionalProperty);
      const msg = e.keyword === 'required' ? 'is required' : e.keyword === 'additionalProperties' ? (echo ? 'is not allowed' : 'has a property that is not allowed') : e.keyword === 'propertyNames' ? 'has a property name that is not allowed' : (e.message ?? 'is invalid');
      return `${path || '/'} ${msg}`;
    })
    .join('; ');
}

/** The data path of the first error (for dead-letter records); untrusted: see FormatOptions. */
export function firstErrorPath(errors: ErrorObject[] | null | undefined, opts: FormatOptions = {}): string | null {
  const e = errors?.[0];
  if (!e) return null;
  const p = safePath(e, opts.echoNames === true);
  if (e.keyword === 'required') return `${p}/${String((e.params as { missingProperty: string }).missingProperty)}`;
  return p || '/';
}

export type { ValidateFunction };
