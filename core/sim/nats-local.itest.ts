import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startLocalNats } from './nats-local';
import { findNatsServer } from './nats-local';

test('the demo NATS: a private nats-server with JetStream on a free port (never 4222), gone after stop', async () => {
  // the machine's Debian nats-server (deploy/local/nats.sh install); CI installs it for the integration tests
  expect(findNatsServer()).not.toBeNull();
  const nats = await startLocalNats();
  expect(nats).not.toBeNull();
  const url = nats?.url ?? '';
  expect(url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
  expect(url.endsWith(':4222')).toBe(false);
  const nc = await connect({ servers: url, reconnect: false });
  const jsm = await jetstreamManager(nc);
  expect((await jsm.getAccountInfo()).streams).toBe(0);
  await nc.close();
  await nats?.stop();
  await expect(connect({ servers: url, reconnect: false, timeout: 1000, maxReconnectAttempts: 0 })).rejects.toThrow();
});

test('no nats-server installed: no server, no error (the demo runs without grid workers)', async () => {
  expect(await startLocalNats({ bin: null })).toBeNull();
});
