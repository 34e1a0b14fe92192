import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connectionUrl } from './postgres';

const dir = mkdtempSync(join(tmpdir(), 'pg-url-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What pg logs in with for a connection string (it parses it when a client is made; nothing connects). */
const loginOf = (connectionString: string): { user: string; password: unknown; host: string; database: string } => {
  const c = new pg.Client({ connectionString }) as unknown as { user: string; password: unknown; host: string; database: string };
  return { user: c.user, password: c.password, host: c.host, database: c.database };
};

describe('store.postgres.passwordFile', () => {
  // regression (issue 11 leak scan): with a URL without password, the documented setting, pg took
  // the URL's empty password over the file's and the login failed
  it.each(['s3cret', 'p@ss:w/rd%41 ü#?&=', '  trailing newline is trimmed  \n'])('the file’s password is what pg logs in with (%j)', (password) => {
    const file = join(dir, 'pw');
    writeFileSync(file, password);
    expect(loginOf(connectionUrl({ url: 'postgres://intake@db.example:5432/hub?sslmode=disable', passwordFile: file }))).toEqual({ user: 'intake', password: password.trim(), host: 'db.example', database: 'hub' });
    // and it wins over a password in the URL
    expect(loginOf(connectionUrl({ url: 'postgres://intake:old@db.example:5432/hub', passwordFile: file })).password).toBe(password.trim());
  });

  it('the premise: pg takes the URL’s (empty) password over a password given next to it', () => {
    const c = new pg.Client({ connectionString: 'postgres://intake@db.example/hub', password: 's3cret' }) as unknown as { password: unknown };
    expect(c.password).not.toBe('s3cret');
  });

  it('without a file the URL is used as given; a URL that does not parse is refused without quoting it', () => {
    expect(connectionUrl({ url: 'postgres://intake:pw@db.example/hub', passwordFile: null })).toBe('postgres://intake:pw@db.example/hub');
    const file = join(dir, 'pw2');
    writeFileSync(file, 'x');
    expect(() => connectionUrl({ url: 'not a url with s3cret', passwordFile: file })).toThrow(/^store\.postgres\.url is not a valid URL$/);
  });
});
