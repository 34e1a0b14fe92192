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
import { bool, num, runCommand, str, strs, UsageError, type CommandSpec, type Parsed } from '../args';

const SPEC: CommandSpec = {
  name: 'import',
  summary: 'backfill historical tickets of one connector through the pipeline (resumable, deduplicated)',
  options: {
    connector: { type: 'string', value: 'ID', help: 'connector instance whose channel the records belong to (required)' },
    config: { type: 'string', value: 'FILE', help: 'hub.yaml (default: HUB_CONFIG, else the built-in config)' },
    format: { type: 'string', value: 'FORMAT', choices: ['csv', 'jsonl'], help: 'input format (default: from the file extension)' },
    charset: { type: 'string', value: 'CHARSET', choices: ['utf-8', 'utf8', 'gbk', 'gb2312', 'gb18030'], help: 'input charset (default utf-8)' },
    concurrency: { type: 'string', value: 'N', help: 'records in flight, 1–256 (default 8)' },
    map: { type: 'string', multiple: true, value: 'COLUMN=field.path[:type]', help: 'column mapping; type string|number|boolean|list|json; comma-separated lists allowed' },
    restart: { type: 'boolean', help: 'ignore the checkpoint of an earlier run and start from the first record' },
  },
  positionals: { names: 'FILE.csv|FILE.jsonl', min: 1, max: 1 },
  details: 'Exit codes: 0 done, 1 failed (output down: re-run to resume), 2 bad arguments, 130 interrupted (re-run the same command to resume). See docs/import.md.',
};

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

function args(p: Parsed): Args {
  const file = p.positionals[0] as string;
  const connector = str(p, 'connector');
  if (!connector) throw new UsageError('--connector is required');
  const ext = extname(file).toLowerCase();
  const format = (str(p, 'format') ?? (ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : '')) as Format;
  if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl (cannot tell from "${ext}")`);
  const cs = (str(p, 'charset') ?? 'utf-8').toLowerCase().replace('utf8', 'utf-8');
  const concurrency = num(p, 'concurrency', 8, 1, 256, true);
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
  const map = strs(p, 'map').flatMap((v) => v.split(',').filter(Boolean));
  return { connector, config: str(p, 'config') ?? process.env.HUB_CONFIG, format, charset: cs === 'utf-8' ? 'utf-8' : 'gbk', concurrency, map, restart: bool(p, 'restart'), file };
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
    `  rejected   ${s.rejected}${s.rejected ? ' (dead-lettered; see below)' : ''}`,
    `  elapsed    ${fmtDuration(s.elapsedMs / 1000)}`,
  ];
  for (const d of s.deadLetters.slice(0, 50)) lines.push(`  dead letter ${d.id}  line ${d.line}  ${d.code}: ${d.message.slice(0, 160)}`);
  if (s.deadLetters.length > 50) lines.push(`  … ${s.deadLetters.length - 50} more dead letters`);
  if (s.interrupted) lines.push('  re-run the same command to resume where it stopped');
  return lines.join('\n') + '\n';
}

/** The import command; the process's SIGINT/SIGTERM stop it cleanly (checkpoint saved). */
export function importCommand(argv: string[]): Promise<number> {
  return runCommand(SPEC, argv, (p) => runImportCommand(args(p)));
}

async function runImportCommand(args: Args): Promise<number> {
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
  // On Kafka the import is an intake client only: the fleet's processors make the tickets. The
  // embedded log has no other process, so the import runs the processor too (and needs the models).
  if (config.output.type !== 'kafka') shipped.load();
  const hub = new Hub(config, { role: config.output.type === 'kafka' ? 'intake' : 'all', instanceId: `import-${process.pid}`, logger, stages: shipped.stages, catalog: shipped.catalog, restoreHorizonMs: shipped.restoreHorizonMs });
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
