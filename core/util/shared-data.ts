import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from './paths';

/**
 * Where the shared evaluation data lives: `$INTAKE_SHARED_DATA`, else `../shared/data` beside the
 * repository. Tools and tests read it at run time; it is never copied into the repo.
 */
export function sharedDataDir(): string {
  return process.env.INTAKE_SHARED_DATA ?? resolve(packageRoot(), '..', 'shared', 'data');
}

/** Path of a shared data file; throws a clear error when the data folder is absent. */
export function sharedDataFile(...parts: string[]): string {
  const p = join(sharedDataDir(), ...parts);
  if (!existsSync(p)) {
    throw new Error(`shared data file not found: ${p} (set INTAKE_SHARED_DATA or place ../shared/data beside the repo)`);
  }
  return p;
}
