import type { ConnectorSpec } from '../../core/sdk/connector';
import { runConformance } from '../../core/testing/conformance';
import { exampleSpec } from './spec';

runConformance({
  spec: exampleSpec as ConnectorSpec<never>,
  config: {},
  badConfig: { config: { maxBodyBytes: 10 }, dataPath: '/maxBodyBytes' },
});
