import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ConfigError, PayloadError, isIntakeError, type IntakeError } from '../errors';
import type { Hub } from '../hub';
import { OutputCheckpoints, type CheckpointStore } from '../outputs/checkpoints';
import type { RawInput, SubmitResult } from '../sdk/connector';
import { jsonDepth } from '../sdk/decode';
import { decodeBytes, readRecords, DEFAULT_LIMITS, type Charset, type FileRecord, type Format, type RecordLimits } from './records';

/**
 * Backfill import: historical reports of one connector's channel, read from a CSV or JSONL export,
 * submitted through the same hub pipeline as live traffic (normalise → … → durable output), with
 * the same exact dedup (re-importing makes no new tickets).
 *
 * Resumable: after each contiguous run of durably submitted records, a checkpoint
 * `{offset, line, records}` is written with the hub's checkpoint store under
 * `<connector id>/import/<file sha256>`; a later run over the same file starts at that byte offset.
 * Records in flight when the run stopped may be submitted again: the processor's exact dedup drops
 * them (one ticket per source id).
 */

/** How a CSV column becomes a native field: dotted paths nest; the type converts the cell. */
export interface ColumnMapping {
  field: string;
  type: 'string' | 'number' | 'boolean' | 'list' | 'json';
}

export interface ImportOptions {
  hub: Hub;
  connectorId: string;
  file: string;
  format: Format;
  charset: Charset;
  /** CSV only: column name → mapping; columns not listed map to the field of the same name. */
  mapping?: Record<string, ColumnMapping>;
  concurrency?: number;
  limits?: RecordLimits;
  /** Ignore an existing checkpoint and start from the beginning. */
  restart?: boolean;
  /** Stops reading new records; in-flight ones finish and the checkpoint is saved. */
  signal?: AbortSignal;
  /** Checkpoint at most this often (ms); always at the end. */
  checkpointEveryMs?: number;
  /** How long to keep retrying a record while the output is unavailable before giving up. */
  sinkRetryMs?: number;
  progress?: (p: ImportProgress) => void;
  /** Called after each record's outcome (tests interrupt with it). */
  onOutcome?: (index: number, r: SubmitResult) => void;
}

export interface ImportProgress {
  done: number;
  total: number;
  skipped: number;
  startedAt: number;
}

export interface ImportSummary {
  file: string;
  sha256: string;
  total: number;
  /** Records skipped because an earlier run had already made them durable. */
  skipped: number;
  /** Records made durable on intake.reports.v1 (re-imported ones included: the processor drops those as duplicates). */
  accepted: number;
  rejected: number;
  /** Dead-letter ids of the rejected records (first 1,000). */
  deadLetters: { record: number; line: number; id: string; code: string; message: string }[];
  /** True when stopped early (signal or the output stayed down); re-run to resume. */
  interrupted: boolean;
  resumedFrom: { offset: number; records: number } | null;
  elapsedMs: number;
}

interface Checkpoint {
  v: 1;
  offset: number;
  line: number;
  records: number;
  done: boolean;
}

const MAX_DEAD_LETTERS = 1000;

/** SHA-256 of the file and its number of records (one streaming pass, bounded memory). */
export async function scanFile(file: string, format: Format, limits: RecordLimits = DEFAULT_LIMITS): Promise<{ sha256: string; records: number; header: FileRecord | null }> {
  const hash = createHash('sha256');
  let records = 0;
  let header: FileRecord | null = null;
  for await (const r of readRecords(file, { format, limits, onChunk: (c) => hash.update(c) })) {
    if (format === 'csv' && r.index === 0) header = r;
    else records++;
  }
  return { sha256: hash.digest('hex'), records, header };
}

export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const c of createReadStream(file)) hash.update(c as Buffer);
  return hash.digest('hex');
}

/** Turns one CSV row into the connector's native JSON object. */
export function rowToObject(columns: string[], fields: string[], mapping: Record<string, ColumnMapping>, line: number): Record<string, unknown> {
  if (fields.length !== columns.length) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', `CSV line ${line}: ${fields.length} fields, the header has ${columns.length}`);
  const out: Record<string, unknown> = {};
  columns.forEach((col, i) => {
    const cell = fields[i] ?? '';
    if (cell === '') return; // an empty cell is an absent field
    const m = mapping[col] ?? headerMapping(col);
    if (m.field === '') return; // mapped away
    setPath(out, m.field, convert(cell, m.type, col, line));
  });
  return out;
}

function convert(cell: string, type: ColumnMapping['type'], col: string, line: number): unknown {
  const bad = (what: string): PayloadError => new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', `CSV line ${line}, column ${col}: ${what}`);
  switch (type) {
    case 'string':
      return cell;
    case 'number': {
      const n = Number(cell.trim());
      if (!Number.isFinite(n) || cell.trim() === '') throw bad('is not a number');
      return n;
    }
    case 'boolean': {
      const v = cell.trim().toLowerCase();
      if (['true', '1', 'yes', 'y', '是'].includes(v)) return true;
      if (['false', '0', 'no', 'n', '否'].includes(v)) return false;
      throw bad('is not a boolean');
    }
    case 'list':
      return cell
        .split('|')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'json':
      if (jsonDepth(cell) > 16) throw bad('JSON nested too deeply');
      try {
        return JSON.parse(cell) as unknown;
      } catch {
        throw bad('not valid JSON');
      }
  }
}

/** A header `location.lng:number` maps to field location.lng with type number; no suffix = string. */
function headerMapping(col: string): ColumnMapping {
  const m = /^(.*):(string|number|boolean|list|json)$/.exec(col);
  return m ? { field: m[1] as string, type: m[2] as ColumnMapping['type'] } : { field: col, type: 'string' };
}

const UNSAFE = new Set(['__proto__', 'prototype', 'constructor']);

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  keys.forEach((k, i) => {
    if (UNSAFE.has(k)) throw new ConfigError(`field path ${path} is not allowed`);
    if (i === keys.length - 1) o[k] = value;
    else {
      if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
      o = o[k] as Record<string, unknown>;
    }
  });
}

/** Parses `--map` entries: `COLUMN=field.path[:type]`. */
export function parseMapping(entries: string[]): Record<string, ColumnMapping> {
  const out: Record<string, ColumnMapping> = {};
  for (const e of entries) {
    const m = /^([^=]+)=([A-Za-z0-9_.]*)(?::(string|number|boolean|list|json))?$/.exec(e.trim());
    if (!m) throw new ConfigError(`--map "${e}" must look like COLUMN=field.path[:string|number|boolean|list|json]`);
    out[(m[1] as string).trim()] = { field: m[2] as string, type: (m[3] as ColumnMapping['type'] | undefined) ?? 'string' };
  }
  return out;
}

/** Runs one import; resolves with the summary (also when interrupted). */
export async function runImport(o: ImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const limits = o.limits ?? DEFAULT_LIMITS;
  const concurrency = Math.max(1, Math.min(o.concurrency ?? 8, 256));
  if (!o.hub.hasConnector(o.connectorId)) throw new ConfigError(`no connector "${o.connectorId}" in the config`);
  const scan = await scanFile(o.file, o.format, limits);
  const key = `import/${scan.sha256}`;
  const store: CheckpointStore = await checkpointStore(o.hub, o.connectorId);

  let columns: string[] = [];
  let startOffset = 0;
  let startLine = 1;
  if (o.format === 'csv') {
    if (!scan.header) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', `${o.file} has no header row`);
    columns = scan.header.fields.map((f, i) => {
      const name = decodeBytes(f, o.charset).trim();
      return i === 0 ? name.replace(/^\uFEFF/, '') : name;
    });
    if (columns.some((c) => c === '')) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', 'the CSV header has an empty column name');
    startOffset = scan.header.end;
    startLine = scan.header.line + 1;
  }

  let cp: Checkpoint | null = null;
  if (!o.restart) {
    const text = await store.get(key);
    if (text) cp = JSON.parse(text) as Checkpoint;
  }
  const skipped = cp ? cp.records : 0;
  const resumedFrom = cp ? { offset: cp.offset, records: cp.records } : null;
  if (cp) {
    startOffset = cp.offset;
    startLine = cp.line;
  }

  const summary: ImportSummary = { file: o.file, sha256: scan.sha256, total: scan.records, skipped, accepted: 0, rejected: 0, deadLetters: [], interrupted: false, resumedFrom, elapsedMs: 0 };
  if (cp?.done) {
    summary.elapsedMs = Date.now() - started;
    return summary;
  }

  // Completed records by index; the checkpoint advances over the contiguous prefix only.
  const completed = new Map<number, FileRecord>();
  let next = skipped; // lowest index not yet durable
  let mark: Checkpoint = { v: 1, offset: startOffset, line: startLine, records: skipped, done: false };
  let lastSaved = Date.now();
  let saving: Promise<void> = Promise.resolve();
  const saveNow = (c: Checkpoint): Promise<void> => (saving = saving.then(() => store.put(key, JSON.stringify(c))));

  let failure: unknown = null;
  const inflight = new Set<Promise<void>>();
  const progress = (): void => o.progress?.({ done: skipped + summary.accepted + summary.rejected, total: scan.records, skipped, startedAt: started });

  const finish = (index: number, r: FileRecord): void => {
    completed.set(index, r);
    while (completed.has(next)) {
      const c = completed.get(next) as FileRecord;
      completed.delete(next);
      next++;
      mark = { v: 1, offset: c.end, line: nextLine(c), records: next, done: false };
    }
    if (Date.now() - lastSaved >= (o.checkpointEveryMs ?? 1000)) {
      lastSaved = Date.now();
      void saveNow(mark);
    }
    progress();
  };

  const submitOne = async (index: number, r: FileRecord): Promise<void> => {
    const { raw, error } = toRaw(r, o, columns);
    const deadline = Date.now() + (o.sinkRetryMs ?? 60000);
    for (let attempt = 0; ; attempt++) {
      try {
        // a record that could not be turned into the connector's native form is dead-lettered
        // with that reason (and its own bytes) instead of going through normalize
        const res: SubmitResult = error
          ? { outcome: 'rejected', error, deadLetterId: await o.hub.rejectAs(o.connectorId, raw, error, 'decode') }
          : await o.hub.submitAs(o.connectorId, raw);
        if (res.outcome === 'accepted') summary.accepted++;
        else {
          summary.rejected++;
          if (summary.deadLetters.length < MAX_DEAD_LETTERS) summary.deadLetters.push({ record: index, line: r.line, id: res.deadLetterId, code: res.error.code, message: res.error.message.slice(0, 300) });
        }
        o.onOutcome?.(index, res);
        finish(index, r);
        return;
      } catch (e) {
        if (!(isIntakeError(e) && e.retriable) || Date.now() > deadline || o.signal?.aborted) throw e;
        await new Promise((res) => setTimeout(res, Math.min(5000, 200 * 2 ** Math.min(attempt, 5))));
      }
    }
  };

  let index = skipped;
  try {
    for await (const r of readRecords(o.file, { format: o.format, limits, startOffset, startLine })) {
      if (o.signal?.aborted || failure) break;
      while (inflight.size >= concurrency) await Promise.race(inflight);
      if (o.signal?.aborted || failure) break;
      const i = index++;
      const p = submitOne(i, r).catch((e: unknown) => {
        failure ??= e;
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
  } catch (e) {
    failure ??= e;
  }
  await Promise.allSettled([...inflight]);
  const complete = !failure && !o.signal?.aborted && next >= scan.records;
  summary.interrupted = !complete;
  await saving.catch(() => undefined);
  try {
    await saveNow({ ...mark, done: complete });
  } catch (e) {
    failure ??= e;
  }
  progress();
  summary.elapsedMs = Date.now() - started;
  if (failure) throw Object.assign(failure instanceof Error ? failure : new Error(String(failure)), { summary });
  return summary;
}

function nextLine(r: FileRecord): number {
  return r.line + 1 + countLf(r);
}

function countLf(r: FileRecord): number {
  let n = 0;
  for (const f of r.fields) for (const b of f) if (b === 0x0a) n++;
  return n;
}

function toRaw(r: FileRecord, o: ImportOptions, columns: string[]): { raw: RawInput; error: IntakeError | null } {
  const headers: Record<string, string> = { 'x-import-file': o.file.slice(-200), 'x-import-line': String(r.line) };
  let body: Buffer;
  let error: IntakeError | null = null;
  try {
    if (o.format === 'csv') {
      const obj = rowToObject(
        columns,
        r.fields.map((f) => decodeBytes(f, o.charset)),
        o.mapping ?? {},
        r.line,
      );
      body = Buffer.from(JSON.stringify(obj));
    } else {
      const text = decodeBytes(r.fields[0] as Buffer, o.charset);
      if (jsonDepth(text) > 16) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', 'JSON nested too deeply');
      body = Buffer.from(JSON.stringify(JSON.parse(text) as unknown));
    }
  } catch (e) {
    // not convertible: dead-letter the record's own bytes with the reason
    const message = `line ${r.line}: ${(e instanceof Error ? e.message : String(e)).slice(0, 500)}`;
    error = isIntakeError(e) && !e.retriable ? new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', message, { dataPath: e.dataPath }) : new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', message);
    body = Buffer.concat(o.format === 'csv' ? r.fields.flatMap((f, i) => (i ? [Buffer.from(','), f] : [f])) : r.fields);
  }
  return { raw: { transport: 'import', body, contentType: 'application/json', headers }, error };
}

async function checkpointStore(hub: Hub, connectorId: string): Promise<CheckpointStore> {
  const cps = new OutputCheckpoints(hub.log, hub.topics);
  await cps.load();
  return cps.forConnector(connectorId);
}
