/**
 * The hub's topics. Keys are chosen for per-entity ordering and even spread:
 * - intake.raw.v1        key = dedup key (`channel:sourceId`): every delivery of one source report
 *                        lands in one partition, in order, for re-normalisation replay.
 * - tickets.canonical.v1 key = hub ticket id: one ticket's versions stay ordered; ids are random
 *                        in their low bits, so load spreads evenly.
 * - tickets.clusters.v1  key = cluster id: a cluster's created/grew/merged/hot events stay ordered.
 * - intake.dlq.v1        key = connector id: one connector's rejections stay ordered for replay.
 * - intake.checkpoints.v1 (compacted) key = `<connectorId>/<name>`: poll cursors.
 */
export const TOPICS = {
  raw: 'intake.raw.v1',
  tickets: 'tickets.canonical.v1',
  clusters: 'tickets.clusters.v1',
  dlq: 'intake.dlq.v1',
  checkpoints: 'intake.checkpoints.v1',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

export const HEADER = {
  channel: 'intake-channel',
  schema: 'intake-schema',
  connector: 'intake-connector',
  contentType: 'content-type',
} as const;
