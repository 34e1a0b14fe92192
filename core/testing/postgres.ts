import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL server of the integration tests: `PG_URL`, set by deploy/local/postgres.sh env
 * (test-all.sh exports it). Missing → the test fails with how to start one (never skips).
 */
export function pgUrl(): string {
  const url = process.env.PG_URL;
  if (!url) throw new Error('PG_URL is not set: run `eval "$(bash deploy/local/postgres.sh install start wait env)"` (npm run test:all does)');
  return url;
}

/**
 * A fresh database on the test server for one test file (dropped by the returned cleanup), so
 * tests never see each other's rows and can run against a shared server.
 */
export async function freshDatabase(prefix = 'itest'): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = new URL(pgUrl());
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
