import { publishedSourceId } from '../pipeline/enrich';
import { runTag } from './run-tag';

describe('runTag', () => {
  it('gives 8 letters that never make a tagged source id personal (so it is published as is)', () => {
    const tags = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const tag = runTag();
      expect(tag).toMatch(/^[a-p]{8}$/);
      tags.add(tag);
      for (const base of ['GD202601050023', 'GDX0001', 'NP1101-0042', 'MB-1380', '20260105']) {
        const sourceId = `${base}-${tag}`;
        expect(publishedSourceId({ sourceId, occurredAt: '2026-01-05T00:00:00Z' }, 'k')).toBe(sourceId);
      }
    }
    expect(tags.size).toBeGreaterThan(2990);
  });

  it('the digit tag it replaces did make such an id personal', () => {
    expect(publishedSourceId({ sourceId: 'GD202601050023-73324280', occurredAt: '2026-01-05T00:00:00Z' }, 'k')).not.toBe('GD202601050023-73324280');
  });
});
