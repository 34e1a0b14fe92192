import { randomBytes } from 'node:crypto';

/**
 * A run-unique tag for the source ids of one test run (the topics are shared across runs): 8
 * letters from a–p only. A tag with digits would make the id look personal now and then, e.g.
 * `GD202601050023-73324280` holds an 8-digit landline number, and the hub publishes a keyed token
 * instead of such a source id, so the test would not find its ticket (a CI failure of 2026-12-02);
 * a–p also cannot spell the `qq`/`wx`/`vx` cues of the masker.
 */
export function runTag(): string {
  return [...randomBytes(4).toString('hex')].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');
}
