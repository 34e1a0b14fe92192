import { readFileSync } from 'node:fs';
import pg from 'pg';
import { ConfigError } from '../errors';
import { SqlTicketStore, type Row, type SqlDriver } from './sql';

export interface PostgresOptions {
  /** postgres://user[:password]@host:port/db?sslmode=…; a password here makes the config a secret. */
  url: string;
  /** File holding the password (Kubernetes secret mount); wins over the URL's and PGPASSWORD. */
  passwordFile?: string | null;
  poolSize: number;
  statementTimeoutMs: number;
}

// BIGINT (int8) columns hold epoch ms and offsets: parse them as numbers (all < 2^53).
const types = {
  getTypeParser: (oid: number, format?: string) => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')),
};

/** Numbers `?` placeholders as `$1…` (the store's SQL has no `?` inside literals). */
export function numberPlaceholders(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

type Queryable = Pick<pg.PoolClient, 'query'>;

class PostgresDriver implements SqlDriver {
  readonly kind = 'postgres' as const;
  private readonly leases = new Map<string, pg.PoolClient>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly q: Queryable = pool,
  ) {}

  async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    const r = await this.q.query(numberPlaceholders(sql), params);
    return r.rows as Row[];
  }

  async run(sql: string, params: unknown[] = []): Promise<number> {
    const r = await this.q.query(numberPlaceholders(sql), params);
    return r.rowCount ?? 0;
  }

  async tx<T>(fn: (d: SqlDriver) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const r = await fn(new PostgresDriver(this.pool, client));
      await client.query('COMMIT');
      return r;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async lockMigrations(d: SqlDriver): Promise<void> {
    await d.all("SELECT pg_advisory_xact_lock(hashtext('intake-hub-store-migrations'))");
  }

  /** A session advisory lock on a dedicated connection, held until close (or the connection drops). */
  async tryLease(name: string): Promise<boolean> {
    if (this.leases.has(name)) return true;
    const client = await this.pool.connect();
    try {
      const r = await client.query('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [`intake-hub-store-lease:${name}`]);
      if (r.rows[0]?.ok === true) {
        client.on('error', () => this.leases.delete(name));
        this.leases.set(name, client);
        return true;
      }
      client.release();
      return false;
    } catch (e) {
      client.release();
      throw e;
    }
  }

  async close(): Promise<void> {
    for (const c of this.leases.values()) c.release();
    this.leases.clear();
    await this.pool.end();
  }
}

/**
 * The connection string the pool gets: the URL with the password of `passwordFile` in it. (pg lets
 * every field parsed from a connection string — an empty password too — override the pool's own
 * fields, so a `password` next to a URL without one was ignored: the login failed.) A URL that does
 * not parse is refused without quoting it (it may hold a password).
 */
export function connectionUrl(o: Pick<PostgresOptions, 'url' | 'passwordFile'>): string {
  if (!o.passwordFile) return o.url;
  const password = readFileSync(o.passwordFile, 'utf8').trim();
  let u: URL;
  try {
    u = new URL(o.url);
  } catch {
    throw new ConfigError('store.postgres.url is not a valid URL', { dataPath: '/store/postgres/url' });
  }
  u.password = encodeURIComponent(password);
  return u.toString();
}

export function openPostgresStore(o: PostgresOptions): SqlTicketStore {
  const pool = new pg.Pool({
    connectionString: connectionUrl(o),
    max: o.poolSize,
    statement_timeout: o.statementTimeoutMs,
    connectionTimeoutMillis: 5000,
    application_name: 'intake-hub-store',
    types,
  });
  // A client that loses its connection (database restart, failover, terminated backend) must not
  // crash the hub: the query in flight fails, the next one gets a new connection.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new SqlTicketStore(new PostgresDriver(pool));
}
