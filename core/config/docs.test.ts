import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/paths';
import { configurationDoc, metricsDoc } from './docs';

describe('generated configuration docs', () => {
  it('docs/configuration.md matches the schemas (run `node dist/core/cli/main.js docs config > docs/configuration.md`)', () => {
    expect(readFileSync(join(packageRoot(), 'docs', 'configuration.md'), 'utf8')).toBe(configurationDoc());
  });
});

describe('generated metrics docs', () => {
  it('docs/metrics.md lists every metric the hub registers (run `node dist/core/cli/main.js docs metrics > docs/metrics.md`)', async () => {
    expect(readFileSync(join(packageRoot(), 'docs', 'metrics.md'), 'utf8')).toBe(await metricsDoc());
  });
});
