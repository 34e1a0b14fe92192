import type { ConnectorSpec } from '../core/sdk/connector';
import { gridWorkerSpec } from './grid-worker/spec';
import { exampleSpec } from './_example/spec';
import { residentAppSpec } from './resident-app/spec';
import { hotlineSpec } from './hotline-12345/spec';
import { citySpec } from './city-management/spec';
import { boardSpec } from './message-board/spec';
import { police110Spec } from './police-110/spec';
import { mappedWebhookSpec } from './mapped-webhook/spec';
import { open311Spec } from './open311/spec';

/** The connectors that ship, by type name. An explicit registry: nothing registers itself. */
export const CONNECTORS: Record<string, ConnectorSpec<never>> = {
  [gridWorkerSpec.type]: gridWorkerSpec as ConnectorSpec<never>,
  [residentAppSpec.type]: residentAppSpec as ConnectorSpec<never>,
  [hotlineSpec.type]: hotlineSpec as ConnectorSpec<never>,
  [citySpec.type]: citySpec as ConnectorSpec<never>,
  [boardSpec.type]: boardSpec as ConnectorSpec<never>,
  [exampleSpec.type]: exampleSpec as ConnectorSpec<never>,
  [police110Spec.type]: police110Spec as ConnectorSpec<never>,
  [mappedWebhookSpec.type]: mappedWebhookSpec as ConnectorSpec<never>,
  [open311Spec.type]: open311Spec as ConnectorSpec<never>,
};
