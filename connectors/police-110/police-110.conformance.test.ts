import { runConformance } from '../../core/testing/conformance';
import type { ConnectorSpec } from '../../core/sdk/connector';
import { police110Spec } from './spec';

runConformance({
  spec: police110Spec as ConnectorSpec<never>,
  config: { secrets: ['whsec_aW50YWtlLWh1Yi1kZW1vLXNlY3JldC1rZXk='] },
  badConfig: { config: { secrets: null, bounceCategories: ['02', '警务'] }, dataPath: '/bounceCategories/1' },
  minFixtures: 20,
});
