import { runConformance } from '../../core/testing/conformance';
import type { ConnectorSpec } from '../../core/sdk/connector';
import { citySpec } from './spec';

runConformance({
  spec: citySpec as ConnectorSpec<never>,
  config: { mode: 'pull', baseUrl: 'http://127.0.0.1:9' },
  badConfig: { config: { mode: 'pull', baseUrl: 'http://127.0.0.1:9', gridDivisions: { districts: { '4201': '江岸区' } } }, dataPath: '/gridDivisions/districts' },
  failingUpstream: { config: { mode: 'pull', baseUrl: 'http://127.0.0.1:9', pollIntervalMs: 1000, timeouts: { connectMs: 500 } }, withinMs: 5000 },
  minFixtures: 20,
});
