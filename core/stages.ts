import type { HubConfig } from './config/config';
import type { Stage } from './pipeline/stage';

/**
 * The stages after exact dedup, in order: cluster → classify → route. Each is owned by its module
 * (core/cluster, core/catalog, core/routing); until a module is wired here, its ticket fields keep
 * their "untouched" markers (cluster.role "none", classification.method "none", routing.status
 * "unrouted") — nothing pretends to have classified or routed a ticket.
 */
export function defaultStages(_config: HubConfig): Stage[] {
  return [];
}
