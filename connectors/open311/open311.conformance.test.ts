import type { ConnectorSpec, RawInput } from '../../core/sdk/connector';
import { runConformance } from '../../core/testing/conformance';
import { open311Spec } from './spec';

// Fixtures: *.form are application/x-www-form-urlencoded (the GeoReport v2 format), *.json JSON.
const rawFromFixture = (file: string, body: Buffer): RawInput => ({
  transport: 'replay',
  body,
  contentType: file.endsWith('.json') ? 'application/json' : 'application/x-www-form-urlencoded',
  headers: {},
});

runConformance({
  spec: open311Spec as ConnectorSpec<never>,
  config: { apiKeys: ['demo-api-key-0001'] },
  badConfig: { config: { services: { source: 'somewhere' } }, dataPath: '/services/source' },
  rawFromFixture,
  minFixtures: 20,
});
