import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './util/paths';

let cached: string | null = null;

/** The hub's version (package.json). */
export function version(): string {
  cached ??= (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return cached;
}
