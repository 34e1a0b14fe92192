import type { ConnectorContext, ConnectorSpec } from './connector';
import { ConnectorRunner } from './runner';

/**
 * A push (webhook) connector: the connector runner with no transport loop. Its routes are
 * registered once at `create`, and start/stop/pause/resume only move the state the routes check
 * (`accepting`) — a stopped or paused connector answers 503 + Retry-After, so the source keeps the
 * report and retries. All four are idempotent (see `ConnectorRunner`).
 */
export abstract class PushConnector extends ConnectorRunner {
  protected constructor(spec: ConnectorSpec<never>, ctx: ConnectorContext) {
    super(spec, ctx, { kind: 'webhook' });
  }
}
