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
import { runCommand, str, UsageError, type CommandSpec, type Parsed } from '../args';
import { MergeMap, TIPDM_CONFIG, timeOrder, tipdmToInput, type TipdmMessage } from '../../cluster/tipdm';

const SPEC: CommandSpec = {
  name: 'cluster',
  summary: '多人一诉 clustering / 一人多诉 through the pipeline\'s engine',
  options: {
    input: { type: 'string', value: 'FILE.jsonl', help: 'reports, one JSON object per line (required)' },
    output: { type: 'string', value: 'FILE.jsonl', help: 'one line per report (required)' },
    format: { type: 'string', value: 'FORMAT', choices: ['tipdm', 'ticket'], help: 'input format (default tipdm)' },
    config: { type: 'string', value: 'FILE.json', help: 'clustering settings overlaid on the defaults' },
  },
  details: `Output lines:
  tipdm:  {"msg_id", "cluster", "role", "repeatOf"}
  ticket: {"id", "cluster", "role", "duplicateOf", "repeatOf", "repeatCount"}
Exit code 0 on success, 2 on bad arguments or input.`,
};

interface ClusterArgs {
  input: string;
  output: string;
  format: 'tipdm' | 'ticket';
  config: string | null;
}

function args(p: Parsed): ClusterArgs {
  const input = str(p, 'input');
  const output = str(p, 'output');
  if (input === undefined) throw new UsageError('--input is required');
  if (output === undefined) throw new UsageError('--output is required');
  return { input, output, format: str(p, 'format') === 'ticket' ? 'ticket' : 'tipdm', config: str(p, 'config') ?? null };
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
export function clusterCommand(argv: string[]): Promise<number> {
  return runCommand(SPEC, argv, (p) => cluster(args(p)));
}

async function cluster(args: ClusterArgs): Promise<number> {
  try {
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
    if (e instanceof UsageError) throw e;
    process.stderr.write(`intake-hub cluster: ${(e as Error).message}\n`);
    return 1;
  }
}
