import { PayloadError } from '../errors';
import { firstErrorPath, formatAjvErrors, payloadAjv, type ValidateFunction } from '../schema/ajv';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 strictly: invalid byte sequences are a 400, never replaced silently. */
export function decodeUtf8(buf: Buffer): string {
  try {
    return utf8.decode(buf);
  } catch {
    throw new PayloadError('INTAKE_ERR_BAD_ENCODING', 'body is not valid UTF-8');
  }
}

/** Nesting depth of a JSON text, counted without parsing (strings are skipped). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
      continue;
    }
    if (c === 34) inStr = true;
    else if (c === 123 || c === 91) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}

/** Parses a JSON body with a nesting limit; errors are 400s naming what is wrong. */
export function parseJson(text: string, maxDepth = 16): unknown {
  const d = jsonDepth(text);
  if (d > maxDepth) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', `JSON nesting depth ${d} exceeds the limit of ${maxDepth}`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    // V8's message quotes the text around the error: keep only where it is
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', `body is not valid JSON${at ? ` (at character ${at})` : ''}`);
  }
}

/** Compiles a native payload schema with the untrusted-input ajv (strict, first error, no coercion). */
export function compilePayloadSchema<T>(schema: Record<string, unknown>): (data: unknown) => T {
  const validate = payloadAjv.compile(schema) as ValidateFunction<T>;
  return (data: unknown): T => {
    if (!validate(data)) {
      throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', formatAjvErrors(validate.errors), { dataPath: firstErrorPath(validate.errors) });
    }
    return data;
  };
}
