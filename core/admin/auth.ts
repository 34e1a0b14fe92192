import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors';
import { configAjv, formatAjvErrors } from '../schema/ajv';

/**
 * Roles of the admin plane, each including the ones before it:
 * - `viewer`   health, readiness details, connectors, metrics, dead letters (masked), catalog version;
 * - `operator` + pause / resume / restart connectors, replay dead letters;
 * - `admin`    + catalog reload.
 */
export const ADMIN_ROLES = ['viewer', 'operator', 'admin'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

const RANK: Record<AdminRole, number> = { viewer: 1, operator: 2, admin: 3 };

export function roleAllows(has: AdminRole, needs: AdminRole): boolean {
  return RANK[has] >= RANK[needs];
}

/** A configured token: only the SHA-256 of the secret is stored anywhere. */
export interface TokenEntry {
  /** Who holds it: named in every audit record (a person, a team, a scraper). */
  id: string;
  role: AdminRole;
  /** Lower-case hex SHA-256 of the token as the client sends it. */
  sha256: string;
}

/** The authenticated caller of an admin request. */
export interface Principal {
  tokenId: string;
  role: AdminRole;
}

export const TOKEN_ENTRY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'role', 'sha256'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$', description: 'Who holds the token; named in every audit record.' },
    role: { enum: [...ADMIN_ROLES], description: 'viewer (read), operator (+ pause/resume/restart, replay), admin (+ catalog reload).' },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Lower-case hex SHA-256 of the token (`intake-hub token` prints one).' },
  },
} as const;

const validateEntries = configAjv.compile({ type: 'array', maxItems: 256, items: TOKEN_ENTRY_SCHEMA });

/** SHA-256 (hex) of a token, as configured in `admin.tokens[].sha256`. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token (256 bits, base64url, prefixed so that secret scanners recognise it). */
export function generateToken(): string {
  return `ihk_${randomBytes(32).toString('base64url')}`;
}

/**
 * Parses tokens given in the environment (`HUB_ADMIN_TOKENS`) or in a tokens file: a YAML/JSON
 * list of `{id, role, sha256}`, or `id:role:sha256` entries separated by commas or new lines.
 */
export function parseTokenList(text: string, where: string): TokenEntry[] {
  const t = text.trim();
  if (t === '') return [];
  let doc: unknown;
  if (t.startsWith('[') || t.startsWith('-') || t.startsWith('{')) {
    try {
      doc = parseYaml(t, { maxAliasCount: 0 });
    } catch (e) {
      throw new ConfigError(`${where}: not a YAML/JSON list of tokens (${(e as Error).message.split('\n')[0]})`);
    }
  } else {
    doc = t
      .split(/[,\n]/)
      .map((s) => s.trim())
      .filter((s) => s && !s.startsWith('#'))
      .map((s) => {
        const [id, role, sha256, ...rest] = s.split(':');
        if (rest.length || !sha256) throw new ConfigError(`${where}: an entry is not id:role:sha256`);
        return { id, role, sha256 };
      });
  }
  if (!validateEntries(doc)) throw new ConfigError(`${where}: ${formatAjvErrors(validateEntries.errors, '')}`);
  return doc as TokenEntry[];
}

function checkUnique(entries: TokenEntry[], where: string): void {
  const ids = new Set<string>();
  const hashes = new Set<string>();
  for (const e of entries) {
    if (ids.has(e.id)) throw new ConfigError(`${where}: token id "${e.id}" is used twice`);
    if (hashes.has(e.sha256)) throw new ConfigError(`${where}: token "${e.id}" has the hash of another token`);
    ids.add(e.id);
    hashes.add(e.sha256);
  }
}

interface Compiled {
  entry: TokenEntry;
  digest: Buffer;
}

/**
 * The admin tokens: the configured entries plus those of `tokensFile`, which is re-read when it
 * changes (checked at most every `recheckMs`), so a Kubernetes Secret mounted as a file rotates
 * tokens without a restart. A presented token is hashed and compared with every configured hash
 * in constant time (`timingSafeEqual`, no early exit), so neither the token nor which entry it
 * is close to leaks through timing.
 */
export class TokenStore {
  private fileEntries: Compiled[] = [];
  private fixed: Compiled[];
  private fileStamp = '';
  private checkedAt = 0;

  constructor(
    entries: TokenEntry[],
    private readonly file: string | null = null,
    private readonly recheckMs = 5000,
    private readonly now: () => number = Date.now,
    private readonly onReloadError: (e: Error) => void = () => undefined,
  ) {
    checkUnique(entries, '/admin/tokens');
    this.fixed = entries.map(compile);
    if (file) this.loadFile(true);
  }

  /** Number of tokens that can currently authenticate. */
  get size(): number {
    return this.fixed.length + this.fileEntries.length;
  }

  private loadFile(strict: boolean): void {
    const file = this.file as string;
    try {
      const st = statSync(file);
      const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (stamp === this.fileStamp) return;
      const entries = parseTokenList(readFileSync(file, 'utf8'), `/admin/tokensFile ${file}`);
      checkUnique([...this.fixed.map((c) => c.entry), ...entries], '/admin/tokens + /admin/tokensFile');
      this.fileEntries = entries.map(compile);
      this.fileStamp = stamp;
    } catch (e) {
      const err = e instanceof ConfigError ? e : new ConfigError(`/admin/tokensFile: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { dataPath: '/admin/tokensFile' });
      if (strict) throw err;
      // a broken rotation keeps the tokens that worked until now
      this.onReloadError(err);
    }
  }

  /** The principal of an `Authorization` header value, or null (missing, malformed, unknown). */
  authenticate(header: string | undefined): Principal | null {
    if (this.file && this.now() - this.checkedAt >= this.recheckMs) {
      this.checkedAt = this.now();
      this.loadFile(false);
    }
    if (!header || header.length > 600) return null;
    const m = /^Bearer +([!-~]{16,512})$/i.exec(header);
    if (!m) return null;
    const digest = createHash('sha256').update(m[1] as string, 'utf8').digest();
    let found: TokenEntry | null = null;
    for (const c of [...this.fixed, ...this.fileEntries]) {
      if (timingSafeEqual(digest, c.digest) && found === null) found = c.entry;
    }
    return found ? { tokenId: found.id, role: found.role } : null;
  }
}

function compile(entry: TokenEntry): Compiled {
  return { entry, digest: Buffer.from(entry.sha256, 'hex') };
}
