import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SqlTicketStore, type Row, type SqlDriver } from './sql';

/**
 * SQLite driver (better-sqlite3, synchronous, in process): the embedded default. WAL journal, so
 * readers (the API) never block the materialiser's writes; synchronous=NORMAL, which in WAL mode
 * can lose the last transactions on power loss but never corrupts, and the consumer positions are
 * in the same transactions, so the materialiser simply re-reads what was lost.
 * One process owns the file: two hubs must not share a SQLite store (use PostgreSQL).
 */
class SqliteDriver implements SqlDriver {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private chain: Promise<unknown> = Promise.resolve();
  private inTx = false;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
  }

  async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.db.prepare(sql).all(...params.map(bind)) as Row[];
  }

  async run(sql: string, params: unknown[] = []): Promise<number> {
    const st = this.db.prepare(sql);
    if (!st.reader) return st.run(...params.map(bind)).changes;
    st.all(...params.map(bind));
    return 0;
  }

  /**
   * Every statement is synchronous, so a transaction body never yields to another one except at
   * its own awaits; bodies are chained so two transactions never interleave.
   */
  tx<T>(fn: (d: SqlDriver) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.db.exec('BEGIN IMMEDIATE');
      this.inTx = true;
      try {
        const r = await fn(this);
        this.db.exec('COMMIT');
        return r;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      } finally {
        this.inTx = false;
      }
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  async lockMigrations(): Promise<void> {
    // BEGIN IMMEDIATE already holds SQLite's single write lock.
  }

  async tryLease(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    await this.chain;
    if (this.db.open) this.db.close();
  }
}

/** better-sqlite3 binds numbers, strings, bigints, buffers and null; booleans become 0/1. */
function bind(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

export function openSqliteStore(file: string): SqlTicketStore {
  return new SqlTicketStore(new SqliteDriver(file));
}
