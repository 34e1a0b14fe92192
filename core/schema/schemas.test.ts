import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/paths';
import { validateTicket } from './validators';

import { spawnSync } from 'node:child_process';

describe('schemas', () => {
  it('the committed TypeScript types are exactly what the JSON Schemas generate (no drift)', () => {
    const r = spawnSync(process.execPath, [join(packageRoot(), 'deploy', 'scripts', 'gen-types.js'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('every string in our schemas is bounded and every object we own is closed', () => {
    const problems: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}/${i}`));
      if (!node || typeof node !== 'object') return;
      const s = node as Record<string, unknown>;
      const types = Array.isArray(s.type) ? s.type : [s.type];
      if (types.includes('string') && s.maxLength === undefined && s.enum === undefined && s.const === undefined) problems.push(`${path}: string without maxLength`);
      if (types.includes('object') && s.properties !== undefined && s.additionalProperties === undefined) problems.push(`${path}: object without additionalProperties`);
      for (const [k, v] of Object.entries(s)) walk(v, `${path}/${k}`);
    };
    const dir = join(packageRoot(), 'schemas');
    for (const f of readdirSync(dir).filter((f) => /^(ticket|raw-envelope|dead-letter|cluster-event|audit)\.v\d+\.schema\.json$/.test(f))) {
      const s = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { $id: string };
      expect(s.$id).toMatch(/\/v\d+\.json$/);
      walk(s, f);
    }
    expect(problems).toEqual([]);
  });

  it('rejects a ticket with an unknown field or an over-long string', () => {
    const t = { schemaVersion: 'ticket/v1', extra: 1 };
    expect(validateTicket(t)).toBe(false);
  });
});
