import { parseArgs } from 'node:util';

/**
 * The one argument parser of the CLI: every command declares its options and positionals here and
 * is parsed by `node:util` `parseArgs` (strict: an unknown option, a missing value or a value given
 * to a boolean is a usage error). Contract shared by every command:
 * - `--help` / `-h` prints the command's usage on stdout and exits 0, whatever else is given;
 * - a usage error prints the reason and the usage on stderr and exits 2;
 * - a failure of the work itself exits 1 (or the command's documented code).
 */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The option may repeat (`--map a --map b`); its value is then a list. */
  multiple?: boolean;
  short?: string;
  /** Placeholder of the value in the usage text, e.g. FILE. */
  value?: string;
  /** Allowed values of a string option (checked; listed in the usage). */
  choices?: readonly string[];
  help: string;
}

export interface CommandSpec {
  /** Full name as typed, e.g. `catalog lint`. */
  name: string;
  /** One line: what the command does. */
  summary: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments: their names for the usage line and how many are allowed. */
  positionals?: { names: string; min: number; max: number };
  /** Free text after the options (formats, exit codes). */
  details?: string;
}

/** A usage error: the process exits 2 and prints the usage of the command. */
export class UsageError extends Error {}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'print this help and exit' };

export function usage(spec: CommandSpec): string {
  const opts = Object.entries({ ...spec.options, help: HELP });
  const synopsis = [`intake-hub ${spec.name}`, opts.length > 1 ? '[options]' : '', spec.positionals?.names ?? ''].filter(Boolean).join(' ');
  const lines = [`usage: ${synopsis}`, '', spec.summary, ''];
  if (opts.length) {
    lines.push('options:');
    const left = opts.map(([k, o]) => `${o.short ? `-${o.short}, ` : '    '}--${k}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`);
    const width = Math.min(36, Math.max(...left.map((l) => l.length)) + 2);
    opts.forEach(([, o], i) => {
      const l = left[i] as string;
      const help = `${o.help}${o.choices ? ` (${o.choices.join('|')})` : ''}${o.multiple ? ' (repeatable)' : ''}`;
      lines.push(l.length < width ? `  ${l.padEnd(width)}${help}` : `  ${l}\n  ${''.padEnd(width)}${help}`);
    });
  }
  if (spec.details) lines.push('', spec.details.trimEnd());
  return lines.join('\n') + '\n';
}

/** Parses `argv` for `spec`; null when help was asked for. Throws a UsageError on bad arguments. */
export function parseCommand(spec: CommandSpec, argv: string[]): Parsed | null {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [k, o] of Object.entries(spec.options)) options[k] = { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) };
  // --help wins over any other error, so that `cmd --bogus --help` still helps
  if (argv.includes('--help') || argv.includes('-h')) return null;
  let r: ReturnType<typeof parseArgs>;
  try {
    r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/^Unknown option/, 'unknown option'));
  }
  const values = r.values as Parsed['values'];
  for (const [k, o] of Object.entries(spec.options)) {
    const v = values[k];
    if (o.choices && v !== undefined) {
      for (const x of Array.isArray(v) ? v : [v]) {
        if (!o.choices.includes(String(x))) throw new UsageError(`--${k} must be one of ${o.choices.join(', ')} (got "${String(x)}")`);
      }
    }
  }
  const pos = spec.positionals ?? { names: '', min: 0, max: 0 };
  if (r.positionals.length < pos.min) throw new UsageError(`${pos.names || 'an argument'} is required`);
  if (r.positionals.length > pos.max) throw new UsageError(pos.max === 0 ? `unexpected argument "${r.positionals[0]}"` : `unexpected argument "${r.positionals[pos.max]}"`);
  return { values, positionals: r.positionals };
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const STDIO: Io = { out: (s) => void process.stdout.write(s), err: (s) => void process.stderr.write(s) };

/**
 * Parses and runs one command with the shared contract: help → usage on stdout, 0; a UsageError
 * (from parsing or thrown by `run`) → reason and usage on stderr, 2.
 */
export async function runCommand(spec: CommandSpec, argv: string[], run: (p: Parsed) => Promise<number> | number, io: Io = STDIO): Promise<number> {
  try {
    const p = parseCommand(spec, argv);
    if (p === null) {
      io.out(usage(spec));
      return 0;
    }
    return await run(p);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`intake-hub ${spec.name}: ${e.message}\n\n${usage(spec)}`);
      return 2;
    }
    throw e;
  }
}

export function str(p: Parsed, k: string): string | undefined {
  const v = p.values[k];
  return typeof v === 'string' ? v : undefined;
}

export function strs(p: Parsed, k: string): string[] {
  const v = p.values[k];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function bool(p: Parsed, k: string): boolean {
  return p.values[k] === true;
}

/** A string option as a number within [min, max]; a UsageError otherwise. */
export function num(p: Parsed, k: string, d: number, min = -Infinity, max = Infinity, integer = false): number {
  const v = str(p, k);
  if (v === undefined) return d;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${k} must be ${integer ? 'an integer' : 'a number'}${Number.isFinite(min) ? ` from ${min}` : ''}${Number.isFinite(max) ? ` to ${max}` : ''} (got "${v}")`);
  }
  return n;
}

/** A command with subcommands (`catalog lint`): dispatches on the first argument. */
export async function runGroup(name: string, summary: string, subs: Record<string, { spec: CommandSpec; run: (p: Parsed) => Promise<number> | number }>, argv: string[], io: Io = STDIO): Promise<number> {
  const [sub, ...rest] = argv;
  const list = `usage: intake-hub ${name} <command> [options]\n\n${summary}\n\ncommands:\n${Object.values(subs)
    .map((s) => `  ${s.spec.name.slice(name.length + 1).padEnd(10)}${s.spec.summary}`)
    .join('\n')}\n\n'intake-hub ${name} <command> --help' describes each.\n`;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(list);
    return 0;
  }
  const s = sub !== undefined && Object.hasOwn(subs, sub) ? subs[sub] : undefined;
  if (!s) {
    io.err(`intake-hub ${name}: ${sub === undefined ? 'a command is required' : `unknown command "${sub}"`}\n\n${list}`);
    return 2;
  }
  return runCommand(s.spec, rest, s.run, io);
}
