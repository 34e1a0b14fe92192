import type { Hub } from '../hub';

/**
 * `onFatal` for the hubs of tests. Production exits on a fatal processor outcome (crash-only rule)
 * and the restarted process restores its state from the changelogs; a test cannot exit, so the hub
 * replaces its processor in place (`Hub.restartProcessor`). Without it a processor that hit an
 * uncertain outcome (a transactional call past its deadline on a loaded machine, a broker stop)
 * would stay failed and the test would wait for tickets that never come.
 */
export function restartOnFatal(_reason: string, _err: unknown, hub: Hub): void {
  void hub.restartProcessor();
}
