import { freshDatabase } from '../testing/postgres';
import { openPostgresStore } from './postgres';
import { describeStoreContract, ticketAt } from '../testing/store-contract';

const opts = (url: string) => ({ url, poolSize: 4, statementTimeoutMs: 10_000 });
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d();
});

describeStoreContract('PostgreSQL', async () => {
  const db = await freshDatabase('store');
  drops.push(db.drop);
  const s = openPostgresStore(opts(db.url));
  await s.migrate();
  return s;
});

test('PostgreSQL: concurrent migrations from several instances apply each version once', async () => {
  const db = await freshDatabase('store');
  drops.push(db.drop);
  const stores = [0, 1, 2].map(() => openPostgresStore(opts(db.url)));
  expect(await Promise.all(stores.map((s) => s.migrate()))).toEqual([1, 1, 1]);
  await Promise.all(stores.map((s) => s.close()));
});

test('PostgreSQL: one materialiser lease per consumer name across instances, released on close', async () => {
  const db = await freshDatabase('store');
  drops.push(db.drop);
  const a = openPostgresStore(opts(db.url));
  const b = openPostgresStore(opts(db.url));
  await a.migrate();
  expect(await a.tryLease('m')).toBe(true);
  expect(await a.tryLease('m')).toBe(true);
  expect(await b.tryLease('m')).toBe(false);
  expect(await b.tryLease('other')).toBe(true);
  await a.apply({ consumer: 'm', tickets: [ticketAt(1)], events: [], positions: [] });
  await a.close();
  expect(await b.tryLease('m')).toBe(true);
  expect(await b.count()).toBe(1);
  await b.close();
});
