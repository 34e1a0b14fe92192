import { runConformance } from '../../core/testing/conformance';
import type { ConnectorSpec } from '../../core/sdk/connector';
import { boardSpec } from './spec';

runConformance({
  spec: boardSpec as ConnectorSpec<never>,
  config: { baseUrl: 'http://127.0.0.1:9' },
  badConfig: { config: { baseUrl: 'ftp://example.cn' }, dataPath: '/baseUrl' },
  failingUpstream: { config: { baseUrl: 'http://127.0.0.1:9', pollIntervalMs: 1000, timeouts: { connectMs: 500 } }, withinMs: 5000 },
  minFixtures: 20,
});
