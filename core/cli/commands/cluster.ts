/**
 * `intake-hub cluster --input FILE.jsonl --format tipdm|ticket --output FILE.jsonl [--config FILE.json]`
 *
 * Runs reports through the clustering engine the pipeline uses, in time order, and writes one line
 * per report:
 *   tipdm:  {"msg_id", "cluster", "role", "repeatOf"}          (message-board messages)
 *   ticket: {"id", "cluster", "role", "duplicateOf", "repeatOf", "repeatCount"}  (canonical tickets)
 * `cluster` is the report's final cluster (merges applied); a report with no link has its own.
 * Progress goes to stderr. Exit code 0 on success, 2 on bad arguments or input.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { CanonicalTicket } from '../../schema/types.generated';
import type { ClusterConfigInput } from '../../cluster/config';
import { ClusterEngine, type ClusterInput, type ClusterOutcome } from '../../cluster/engine';
import { ticketToClusterInput } from '../../cluster/stage';
import { MergeMap, TIPDM_CONFIG, timeOrder, tipdmToInput, type TipdmMessage } from '../../cluster/tipdm';

const USAGE =
  'usage: intake-hub cluster --input FILE.jsonl --format tipdm|ticket --output FILE.jsonl [--config FILE.json]';

class UsageError extends Error {}

function parseArgs(argv: string[]): { input: string; output: string; format: 'tipdm' | 'ticket'; config: string | null } {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--help' || a === '-h') throw new UsageError('');
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      flags.set(a.slice(2), v);
      i++;
    }
  }
  for (const k of flags.keys()) {
    if (!['input', 'output', 'format', 'config'].includes(k)) throw new UsageError(`unknown flag --${k}`);
  }
  const input = flags.get('input');
  const output = flags.get('output');
  const format = flags.get('format') ?? 'tipdm';
  if (input === undefined) throw new UsageError('--input is required');
  if (output === undefined) throw new UsageError('--output is required');
  if (format !== 'tipdm' && format !== 'ticket') throw new UsageError(`--format must be tipdm or ticket (got ${format})`);
  return { input, output, format, config: flags.get('config') ?? null };
}

function readLines(path: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const out: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    try {
      out.push(JSON.parse(line));
    } catch (e) {
      throw new UsageError(`${path}:${i + 1}: not JSON (${(e as Error).message})`);
    }
  }
  return out;
}

function toTipdm(x: unknown, line: number): ClusterInput {
  const m = x as Partial<TipdmMessage>;
  if (typeof m !== 'object' || m === null || m.msg_id === undefined || typeof m.time !== 'string') {
    throw new UsageError(`record ${line}: a tipdm message needs msg_id and time`);
  }
  try {
    return tipdmToInput({ msg_id: String(m.msg_id), user: m.user ?? '', title: m.title ?? '', time: m.time, detail: m.detail ?? '' });
  } catch (e) {
    throw new UsageError(`record ${line} (msg_id ${String(m.msg_id)}): ${(e as Error).message}`);
  }
}

function toTicket(x: unknown, line: number): ClusterInput {
  const t = x as CanonicalTicket;
  if (typeof t !== 'object' || t === null || t.schemaVersion !== 'ticket/v1' || typeof t.id !== 'string') {
    throw new UsageError(`record ${line}: not a canonical ticket (schemaVersion ticket/v1)`);
  }
  return ticketToClusterInput(t);
}

/** The `cluster` command; returns the process exit code. */
export async function clusterCommand(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv);
    let config: ClusterConfigInput = args.format === 'tipdm' ? { ...TIPDM_CONFIG } : {};
    if (args.config !== null) {
      let overlay: ClusterConfigInput;
      try {
        overlay = JSON.parse(readFileSync(args.config, 'utf8')) as ClusterConfigInput;
      } catch (e) {
        throw new UsageError(`--config ${args.config}: ${(e as Error).message}`);
      }
      config = { ...config, ...overlay };
    }
    const records = readLines(args.input);
    const inputs = records.map((r, i) => (args.format === 'tipdm' ? toTipdm(r, i + 1) : toTicket(r, i + 1)));
    const engine = new ClusterEngine(config);
    const merges = new MergeMap();
    const outcomes = new Map<string, ClusterOutcome>();
    const ordered = timeOrder(inputs);
    const started = Date.now();
    for (let i = 0; i < ordered.length; i++) {
      const input = ordered[i] as ClusterInput;
      if (outcomes.has(input.ticketId)) throw new UsageError(`duplicate id ${input.ticketId}`);
      const o = engine.process(input);
      merges.apply(o.events);
      outcomes.set(input.ticketId, o);
      if ((i + 1) % 1000 === 0) process.stderr.write(`cluster: ${i + 1}/${ordered.length} processed\n`);
    }
    const lines: string[] = [];
    const clusters = new Set<string>();
    for (const input of inputs) {
      const o = outcomes.get(input.ticketId) as ClusterOutcome;
      const cluster = merges.resolve(o.clusterId);
      clusters.add(cluster);
      const role = cluster === `cl_${input.ticketId}` ? 'primary' : 'member';
      const row =
        args.format === 'tipdm'
          ? { msg_id: input.ticketId, cluster, role, repeatOf: o.repeatOf }
          : { id: input.ticketId, cluster, role, duplicateOf: o.duplicateOf, repeatOf: o.repeatOf, repeatCount: o.repeatCount };
      lines.push(JSON.stringify(row));
    }
    writeFileSync(args.output, lines.join('\n') + (lines.length > 0 ? '\n' : ''));
    process.stderr.write(
      `cluster: ${inputs.length} reports → ${clusters.size} clusters in ${Date.now() - started} ms; wrote ${args.output}\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message !== '') process.stderr.write(`intake-hub cluster: ${e.message}\n`);
      process.stderr.write(USAGE + '\n');
      return 2;
    }
    process.stderr.write(`intake-hub cluster: ${(e as Error).message}\n`);
    return 1;
  }
}
