import { DedupIndex } from './dedup-index';

describe('DedupIndex', () => {
  let n = 0;
  const newId = (): string => `T${++n}`;

  it('answers a redelivery of a committed key with the same ticket id', async () => {
    const idx = new DedupIndex(1000);
    const a = await idx.claim('k', newId, 0);
    expect(a.kind).toBe('new');
    if (a.kind === 'new') a.release(true);
    const b = await idx.claim('k', newId, 1);
    expect(b).toEqual({ kind: 'duplicate', ticketId: a.ticketId });
  });

  it('makes a concurrent redelivery wait for the first outcome', async () => {
    const idx = new DedupIndex(1000);
    const a = await idx.claim('k', newId, 0);
    const second = idx.claim('k', newId, 0);
    let settled = false;
    void second.then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    if (a.kind === 'new') a.release(true);
    expect(await second).toEqual({ kind: 'duplicate', ticketId: a.ticketId });
  });

  it('retries an uncertain write under the same ticket id', async () => {
    const idx = new DedupIndex(1000);
    const a = await idx.claim('k', newId, 0);
    if (a.kind === 'new') a.release(false);
    const b = await idx.claim('k', newId, 5);
    expect(b.kind).toBe('new');
    expect(b.ticketId).toBe(a.ticketId);
  });

  it('evicts committed entries older than the window and rebuilds from remembered tickets', async () => {
    const idx = new DedupIndex(100);
    idx.remember('old', 'T-old', 0);
    idx.remember('new', 'T-new', 150);
    expect(idx.evict(200)).toBe(1);
    expect(idx.lookup('old')).toBeNull();
    expect(idx.lookup('new')).toBe('T-new');
  });
});
