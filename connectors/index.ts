import type { ConnectorSpec } from '../core/sdk/connector';
import { exampleSpec } from './_example/spec';
import { residentAppSpec } from './resident-app/spec';

/** The connectors that ship, by type name. An explicit registry: nothing registers itself. */
export const CONNECTORS: Record<string, ConnectorSpec<never>> = {
  [residentAppSpec.type]: residentAppSpec as ConnectorSpec<never>,
  [exampleSpec.type]: exampleSpec as ConnectorSpec<never>,
};
