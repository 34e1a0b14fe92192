import { runConformance } from '../../core/testing/conformance';
import type { ConnectorSpec } from '../../core/sdk/connector';
import { residentAppSpec } from './spec';

runConformance({
  spec: residentAppSpec as ConnectorSpec<never>,
  config: { secrets: ['whsec_aW50YWtlLWh1Yi1kZW1vLXNlY3JldC1rZXk='] },
  badConfig: { config: { secrets: ['short'] }, dataPath: '/secrets/0' },
  minFixtures: 20,
});
