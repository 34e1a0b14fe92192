/**
 * The hub's topics. Every record names its partition explicitly (`core/kafka/partitioner.ts`,
 * Java-compatible murmur2), so co-partitioning never depends on a client's default partitioner.
 *
 * | topic | key | partition | written by |
 * |---|---|---|---|
 * | intake.reports.v1 | dedup key | murmur2(dedup key) | intake (webhooks, NATS) and pollers: one record per accepted delivery (raw envelope + masked draft ticket); the raw archive |
 * | intake.located.v1 | locality key | murmur2(locality key) | processor stage `dedup`: the first delivery of each report, re-keyed by locality (a repartition topic) |
 * | tickets.canonical.v1 | ticket id | = the located partition | processor stage `ticket` |
 * | tickets.clusters.v1 | cluster id | = the located partition | processor stage `ticket` |
 * | intake.dlq.v1 | connector id | murmur2(connector id) at intake; the stage partition in the processor | intake and processor |
 * | intake.checkpoints.v1 (compacted) | `<connectorId>/<name>` | murmur2(key) | pollers, in the same transaction as the page's reports |
 * | intake.dedup-changelog.v1 (compact,delete) | dedup key | = the reports partition | processor stage `dedup` |
 * | intake.ticket-changelog.v1 (delete) | ticket id | = the located partition | processor stage `ticket` |
 * | intake.poller-leases.v1 | — (no records) | one per lease slot | the poller lease group's subscription |
 * | intake.audit.v1 | actor id | murmur2(actor) | the admin plane |
 *
 * `namespace` (config `output.kafka.namespace`) prefixes every topic, consumer group and
 * transactional id, so several hubs or test runs can share one cluster without seeing each other.
 */
export const TOPIC_NAMES = {
  reports: 'intake.reports.v1',
  located: 'intake.located.v1',
  tickets: 'tickets.canonical.v1',
  clusters: 'tickets.clusters.v1',
  dlq: 'intake.dlq.v1',
  checkpoints: 'intake.checkpoints.v1',
  dedupChangelog: 'intake.dedup-changelog.v1',
  ticketChangelog: 'intake.ticket-changelog.v1',
  leases: 'intake.poller-leases.v1',
  audit: 'intake.audit.v1',
} as const;

export type TopicRole = keyof typeof TOPIC_NAMES;
export type Topics = { readonly [K in TopicRole]: string };

/** Topic names under a namespace (empty: the plain names). */
export function topicsFor(namespace = ''): Topics {
  const out = {} as Record<TopicRole, string>;
  for (const [k, v] of Object.entries(TOPIC_NAMES) as [TopicRole, string][]) out[k] = namespace + v;
  return out;
}

/** The plain topic names (no namespace): what the embedded log and most tests use. */
export const TOPICS: Topics = topicsFor('');

export const HEADER = {
  channel: 'intake-channel',
  schema: 'intake-schema',
  connector: 'intake-connector',
  contentType: 'content-type',
} as const;
