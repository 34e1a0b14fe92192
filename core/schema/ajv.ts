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

/** "/connectors/0/pollIntervalMs must be >= 1000" — the data path first, then ajv's message. */
export function formatAjvErrors(errors: ErrorObject[] | null | undefined, root = ''): string {
  if (!errors || errors.length === 0) return 'invalid';
  return errors
    .map((e) => {
      let path = root + e.instancePath;
      if (e.keyword === 'required') path += '/' + String((e.params as { missingProperty: string }).missingProperty);
      if (e.keyword === 'additionalProperties') path += '/' + String((e.params as { additionalProperty: string }).additionalProperty);
      const msg = e.keyword === 'required' ? 'is required' : e.keyword === 'additionalProperties' ? 'is not allowed' : e.message ?? 'is invalid';
      return `${path || '/'} ${msg}`;
    })
    .join('; ');
}

/** The data path of the first error (for dead-letter records). */
export function firstErrorPath(errors: ErrorObject[] | null | undefined): string | null {
  const e = errors?.[0];
  if (!e) return null;
  if (e.keyword === 'required') return `${e.instancePath}/${String((e.params as { missingProperty: string }).missingProperty)}`;
  return e.instancePath || '/';
}

export type { ValidateFunction };
