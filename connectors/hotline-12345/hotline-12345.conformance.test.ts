import { runConformance } from '../../core/testing/conformance';
import type { ConnectorSpec, RawInput } from '../../core/sdk/connector';
import { hotlineSpec } from './spec';

/** Fixtures named *.gbk.* are GBK bytes, declared as such (as the legacy system sends them). */
export function hotlineRaw(file: string, bytes: Buffer): RawInput {
  return { transport: 'replay', body: bytes, contentType: file.includes('.gbk.') ? 'application/json; charset=GBK' : 'application/json', headers: {} };
}

runConformance({
  spec: hotlineSpec as ConnectorSpec<never>,
  config: { baseUrl: 'http://127.0.0.1:9', push: { enabled: true, secrets: ['whsec_aW50YWtlLWh1Yi1kZW1vLXNlY3JldC1rZXk='] } },
  badConfig: { config: { baseUrl: 'http://127.0.0.1:9', pollIntervalMs: 10 }, dataPath: '/pollIntervalMs' },
  rawFromFixture: hotlineRaw,
  failingUpstream: { config: { baseUrl: 'http://127.0.0.1:9', pollIntervalMs: 1000, timeouts: { connectMs: 500 } }, withinMs: 5000 },
  minFixtures: 20,
});
