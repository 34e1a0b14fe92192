import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ConnectorSpec } from '../../core/sdk/connector';
import { runConformance } from '../../core/testing/conformance';
import { packageRoot } from '../../core/util/paths';
import { mappedWebhookSpec } from './spec';

// The fixtures are payloads of the district-app channel configured in examples/mapped-webhook.yaml.
const doc = parse(readFileSync(join(packageRoot(), 'examples/mapped-webhook.yaml'), 'utf8')) as { connectors: { id: string; config: Record<string, unknown> }[] };
const districtApp = doc.connectors.find((c) => c.id === 'district-app')?.config ?? {};

runConformance({
  spec: mappedWebhookSpec as ConnectorSpec<never>,
  config: districtApp,
  badConfig: { config: { ...districtApp, mapping: { sourceId: '/id', text: 'content.body' } }, dataPath: '/mapping/text must be a JSON Pointer' },
  minFixtures: 20,
  // codes outside the YAML table pass through as the app sent them; the catalog cannot know them
  unresolvedFixtures: ['02-consult.json', '16-unmapped-category.json'],
});
