/**
 * Versioned schema migrations of the ticket store. Append only: a released migration is never
 * edited; a change is a new version. Each version runs in one transaction together with its row
 * in `store_migrations`, so a crash mid-migration leaves the previous version intact.
 *
 * The SQL is the common subset of SQLite ≥ 3.35 and PostgreSQL ≥ 13 (ON CONFLICT upserts, row
 * values, partial indexes, RETURNING); where the two differ a migration gives both texts.
 * Times are epoch milliseconds (BIGINT), so ordering and arithmetic are the same in both.
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string[];
  postgres: string[];
}

const common = (docType: string): string[] => [
  `CREATE TABLE tickets (
    id TEXT NOT NULL PRIMARY KEY,
    channel TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    source_id TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    due_ms BIGINT,
    closed_ms BIGINT,
    cluster_id TEXT,
    cluster_root TEXT,
    doc ${docType} NOT NULL
  )`,
  'CREATE INDEX tickets_received ON tickets (received_ms, id)',
  'CREATE INDEX tickets_channel_received ON tickets (channel, received_ms, id)',
  'CREATE INDEX tickets_status_received ON tickets (status, received_ms, id)',
  'CREATE INDEX tickets_source ON tickets (source_id, connector_id)',
  'CREATE INDEX tickets_cluster_root ON tickets (cluster_root)',
  'CREATE INDEX tickets_open_due ON tickets (due_ms) WHERE closed_ms IS NULL',
  `CREATE TABLE triage_assignments (
    ticket_id TEXT NOT NULL PRIMARY KEY,
    category_code TEXT NOT NULL,
    category_name TEXT NOT NULL,
    subcategory_code TEXT NOT NULL,
    subcategory_name TEXT NOT NULL,
    department TEXT,
    actor TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    note TEXT
  )`,
  `CREATE TABLE clusters (
    id TEXT NOT NULL PRIMARY KEY,
    primary_ticket_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    reporter_count INTEGER NOT NULL,
    block TEXT,
    hot INTEGER NOT NULL DEFAULT 0,
    hot_reporters INTEGER,
    hot_ms BIGINT,
    first_ms BIGINT NOT NULL,
    last_ms BIGINT NOT NULL,
    merged_into TEXT
  )`,
  'CREATE INDEX clusters_size ON clusters (size, id) WHERE merged_into IS NULL',
  'CREATE INDEX clusters_last ON clusters (last_ms, id) WHERE merged_into IS NULL',
  'CREATE INDEX clusters_hot ON clusters (hot_ms, id) WHERE hot = 1 AND merged_into IS NULL',
  'CREATE TABLE cluster_merges (from_id TEXT NOT NULL PRIMARY KEY, into_id TEXT NOT NULL)',
  'CREATE INDEX cluster_merges_into ON cluster_merges (into_id)',
  `CREATE TABLE cluster_events (
    id TEXT NOT NULL PRIMARY KEY,
    cluster_id TEXT NOT NULL,
    type TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    ticket_id TEXT,
    size INTEGER NOT NULL,
    reporter_count INTEGER NOT NULL,
    score TEXT
  )`,
  'CREATE INDEX cluster_events_cluster ON cluster_events (cluster_id, at_ms)',
  `CREATE TABLE consumer_positions (
    consumer TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (consumer, topic, partition)
  )`,
];

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'tickets, triage, clusters, cluster events, consumer positions', sqlite: common('TEXT'), postgres: common('JSONB') },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
