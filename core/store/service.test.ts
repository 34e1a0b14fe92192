import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { FakeClock } from '../clock';
import { validateConfig } from '../config/config';
import { silentLogger } from '../logger';
import { topicsFor, TOPICS } from '../outputs/topics';
import { ticketAt } from '../testing/store-contract';
import { until } from '../testing/wait';
import { Materializer, type RecordSource, type SourceBatch } from './materializer';
import { StoreService } from './service';
import { openSqliteStore } from './sqlite';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'svc-'));
  dirs.push(d);
  return d;
}

const opts = () => ({ logger: silentLogger, registry: new Registry(), clock: new FakeClock(0) });

// Regression: `store materialize` (which builds the service from the config alone) read the
// namespaced topics but matched records by the plain names, so it stored nothing and moved its
// positions past everything.
test('fromConfig: on Kafka the materialiser matches records by the namespaced topic names, without being told them', () => {
  const dir = tmp();
  const config = validateConfig({ output: { type: 'kafka', kafka: { brokers: ['127.0.0.1:1'], namespace: 'site-a.' } }, store: { type: 'sqlite', sqlite: { path: join(dir, 'store.db') } } });
  const svc = StoreService.fromConfig(config, opts());
  expect(svc?.materializer?.topics).toEqual({ tickets: topicsFor('site-a.').tickets, clusters: topicsFor('site-a.').clusters });
  const embedded = StoreService.fromConfig(validateConfig({ output: { type: 'embedded', embedded: { dir } } }), opts());
  expect(embedded?.materializer?.topics).toEqual({ tickets: TOPICS.tickets, clusters: TOPICS.clusters });
});

test('a record of a topic the materialiser does not know is counted as skipped, not dropped silently', async () => {
  const dir = tmp();
  const store = openSqliteStore(join(dir, 'store.db'));
  await store.migrate();
  const t = ticketAt(1);
  let delivered = false;
  const source: RecordSource = {
    name: 'kafka',
    run: async (_from, onBatch: (b: SourceBatch) => Promise<void>) => {
      await onBatch({
        records: [
          { topic: topicsFor('other.').tickets, partition: 0, offset: '0', value: JSON.stringify(ticketAt(0)) },
          { topic: TOPICS.tickets, partition: 0, offset: '0', value: JSON.stringify(t) },
        ],
        positions: [{ topic: TOPICS.tickets, partition: 0, next: '1' }],
      });
      delivered = true;
      await new Promise<void>((resolve) => setTimeout(resolve, 50));
    },
    stop: async () => undefined,
    ends: async () => null,
  };
  const m = new Materializer(store, source, { consumer: 'm', logger: silentLogger, retryMs: 1000 });
  m.start();
  await until('the batch to be applied', async () => delivered, 5000, 10);
  await m.stop();
  expect(m.skipped).toBe(1);
  expect(await store.count()).toBe(1);
  expect((await store.ticket(t.id))?.ticket.id).toBe(t.id);
  await store.close();
});
