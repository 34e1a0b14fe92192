import { runConformance } from '../../core/testing/conformance';
import type { ConnectorSpec } from '../../core/sdk/connector';
import { DEMO_CODE_TABLE } from './sim';
import { gridWorkerSpec } from './spec';

// Port 1 refuses connections: the lifecycle runs without a NATS server (degraded, retrying), and
// the failing-upstream check must see the refusal in health.
const DEAD = ['nats://127.0.0.1:1'];

runConformance({
  spec: gridWorkerSpec as ConnectorSpec<never>,
  config: { servers: DEAD, codeTable: DEMO_CODE_TABLE, fetchExpiresMs: 1000, reconnectWaitMs: 200, connectTimeoutMs: 500 },
  badConfig: { config: { servers: DEAD, codeTable: { '5101': '成都' } }, dataPath: '/codeTable' },
  failingUpstream: { config: { servers: DEAD, reconnectWaitMs: 200, connectTimeoutMs: 500 }, withinMs: 5000 },
  minFixtures: 20,
});
