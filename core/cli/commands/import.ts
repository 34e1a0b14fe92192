/**
 * `intake-hub import --connector ID [--config hub.yaml] [--format csv|jsonl] [--charset utf-8|gbk]
 *   [--concurrency N] [--map COLUMN=field[:type]]... [--restart] FILE`
 *
 * Backfills historical reports of one connector's channel through the hub pipeline (see
 * docs/import.md). Progress goes to stderr (a bar on a TTY, a line every few seconds otherwise);
 * the summary goes to stdout. Exit codes: 0 done, 1 failed (output down: re-run to resume),
 * 2 bad arguments, 130 interrupted by SIGINT/SIGTERM (re-run the same command to resume).
 */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { loadConfigFile, type HubConfig } from '../../config/config';
import { isIntakeError } from '../../errors';
import { Hub } from '../../hub';
import { createLogger } from '../../logger';
import { parseMapping, runImport, type ImportProgress, type ImportSummary } from '../../import/import';
import type { Charset, Format } from '../../import/records';
import { defaultStages } from '../../stages';

const USAGE = `usage: intake-hub import --connector ID [--config hub.yaml] [--format csv|jsonl] [--charset utf-8|gbk]
                          [--concurrency N] [--map COLUMN=field.path[:string|number|boolean|list|json]]... [--restart] FILE`;

class UsageError extends Error {}

interface Args {
  connector: string;
  config: string | undefined;
  format: Format;
  charset: Charset;
  concurrency: number;
  map: string[];
  restart: boolean;
  file: string;
}

function parseArgs(argv: string[]): Args {
  const flags = new Map<string, string>();
  const map: string[] = [];
  let restart = false;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--help' || a === '-h') throw new UsageError('');
    if (a === '--restart') {
      restart = true;
      continue;
    }
    if (!a.startsWith('--')) {
      files.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    let name: string;
    let value: string;
    if (eq > 0) {
      name = a.slice(2, eq);
      value = a.slice(eq + 1);
    } else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      name = a.slice(2);
      value = v;
      i++;
    }
    if (!['connector', 'config', 'format', 'charset', 'concurrency', 'map'].includes(name)) throw new UsageError(`unknown flag --${name}`);
    if (name === 'map') map.push(...value.split(',').filter(Boolean));
    else flags.set(name, value);
  }
  if (files.length !== 1) throw new UsageError(files.length ? `one FILE expected, got ${files.length}` : 'FILE is required');
  const file = files[0] as string;
  const connector = flags.get('connector');
  if (!connector) throw new UsageError('--connector is required');
  const ext = extname(file).toLowerCase();
  const format = (flags.get('format') ?? (ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : '')) as Format;
  if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl (cannot tell from "${ext}")`);
  const cs = (flags.get('charset') ?? 'utf-8').toLowerCase().replace('utf8', 'utf-8');
  if (cs !== 'utf-8' && cs !== 'gbk' && cs !== 'gb2312' && cs !== 'gb18030') throw new UsageError(`--charset must be utf-8 or gbk (got ${cs})`);
  const concurrency = Number(flags.get('concurrency') ?? '8');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UsageError('--concurrency must be an integer from 1 to 256');
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
  return { connector, config: flags.get('config') ?? process.env.HUB_CONFIG, format, charset: cs === 'utf-8' ? 'utf-8' : 'gbk', concurrency, map, restart, file };
}

/** Progress on stderr: a redrawn bar on a TTY, otherwise a plain line every 5 seconds. */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): { update: (p: ImportProgress) => void; end: () => void } {
  const tty = stream.isTTY === true;
  let last = 0;
  let lastLine = '';
  let printedEnd = false;
  const render = (p: ImportProgress): string => {
    const elapsed = Math.max(1, Date.now() - p.startedAt) / 1000;
    const rate = (p.done - p.skipped) / elapsed;
    const left = p.total - p.done;
    const eta = rate > 0 ? fmtDuration(left / rate) : '--:--';
    const pct = p.total ? (100 * p.done) / p.total : 100;
    const width = 30;
    const fill = Math.round((width * pct) / 100);
    const bar = tty ? `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ` : '';
    return `${bar}${p.done}/${p.total} records ${pct.toFixed(1)}%  ${rate.toFixed(0)} rec/s  ETA ${eta}${p.skipped ? `  (resumed after ${p.skipped})` : ''}`;
  };
  return {
    update(p) {
      const now = Date.now();
      if (p.done >= p.total ? printedEnd : now - last < (tty ? 100 : 5000)) return;
      printedEnd = p.done >= p.total;
      last = now;
      lastLine = render(p);
      stream.write(tty ? `\r${lastLine}\x1b[K` : `import: ${lastLine}\n`);
    },
    end() {
      if (tty && lastLine) stream.write('\n');
    },
  };
}

function fmtDuration(sec: number): string {
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

export function formatSummary(s: ImportSummary): string {
  const lines = [
    `${s.interrupted ? 'import interrupted' : 'import done'}: ${s.file} (sha256 ${s.sha256.slice(0, 12)}…)`,
    `  records    ${s.total}${s.skipped ? ` (${s.skipped} already imported by an earlier run, skipped)` : ''}`,
    `  accepted   ${s.accepted}`,
    `  duplicates ${s.duplicates}`,
    `  rejected   ${s.rejected}${s.rejected ? ' (dead-lettered; see below)' : ''}`,
    `  elapsed    ${fmtDuration(s.elapsedMs / 1000)}`,
  ];
  for (const d of s.deadLetters.slice(0, 50)) lines.push(`  dead letter ${d.id}  line ${d.line}  ${d.code}: ${d.message.slice(0, 160)}`);
  if (s.deadLetters.length > 50) lines.push(`  … ${s.deadLetters.length - 50} more dead letters`);
  if (s.interrupted) lines.push('  re-run the same command to resume where it stopped');
  return lines.join('\n') + '\n';
}

/** The import command; the process's SIGINT/SIGTERM stop it cleanly (checkpoint saved). */
export async function importCommand(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message ? e.message + '\n' : ''}${USAGE}\n`);
      return e.message ? 2 : 0;
    }
    throw e;
  }
  const loaded = loadConfigFile(args.config);
  // Only the pipeline is needed: no connector transport starts, no HTTP listener.
  const config: HubConfig = { ...loaded, connectors: loaded.connectors.map((c) => ({ ...c, enabled: false })) };
  if (!config.connectors.some((c) => c.id === args.connector)) {
    process.stderr.write(`no connector "${args.connector}" in the config (known: ${config.connectors.map((c) => c.id).join(', ') || 'none'})\n`);
    return 2;
  }
  const mapping = parseMapping(args.map);
  const logger = createLogger(process.env.LOG_LEVEL === 'debug' ? 'debug' : 'warn');
  const shipped = defaultStages(config);
  const hub = new Hub(config, { logger, stages: shipped.stages, catalog: shipped.catalog });
  const ac = new AbortController();
  const onSignal = (): void => {
    if (!ac.signal.aborted) process.stderr.write('\nstopping after the records in flight…\n');
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = progressReporter();
  try {
    await hub.start();
    const summary = await runImport({ hub, connectorId: args.connector, file: args.file, format: args.format, charset: args.charset, mapping, concurrency: args.concurrency, restart: args.restart, signal: ac.signal, progress: progress.update });
    progress.end();
    process.stdout.write(formatSummary(summary));
    return summary.interrupted ? 130 : 0;
  } catch (e) {
    progress.end();
    const summary = (e as { summary?: ImportSummary }).summary;
    if (summary) process.stdout.write(formatSummary({ ...summary, interrupted: true }));
    process.stderr.write(isIntakeError(e) ? `error ${e.code}: ${e.message}\n` : `error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await hub.stop().catch(() => undefined);
  }
}
