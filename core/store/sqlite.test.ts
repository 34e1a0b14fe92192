import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from './sqlite';
import { describeStoreContract, ticketAt } from '../testing/store-contract';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function fresh(): string {
  const d = mkdtempSync(join(tmpdir(), 'store-'));
  dirs.push(d);
  return join(d, 'tickets.db');
}

describeStoreContract('SQLite', async () => {
  const s = openSqliteStore(fresh());
  await s.migrate();
  return s;
});

test('SQLite: the store survives a reopen of the file (tickets, positions, schema version)', async () => {
  const file = fresh();
  const a = openSqliteStore(file);
  await a.migrate();
  await a.apply({ consumer: 'c', tickets: [ticketAt(1)], events: [], positions: [{ topic: 't', partition: 0, next: '7' }] });
  await a.close();
  const b = openSqliteStore(file);
  expect(await b.migrate()).toBe(1);
  expect(await b.count()).toBe(1);
  expect(await b.positions('c')).toEqual([{ topic: 't', partition: 0, next: '7' }]);
  await b.close();
});
