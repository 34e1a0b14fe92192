import { createReadStream } from 'node:fs';
import iconv from 'iconv-lite';
import { PayloadError } from '../errors';

/**
 * Streaming record readers for backfill files, working on BYTES so that every record has an exact
 * byte offset (the resume checkpoint). Splitting on bytes is safe for UTF-8 and GBK alike: the
 * structural characters (`"`, `,`, CR, LF) are ASCII, and neither encoding uses bytes below 0x40
 * inside a multi-byte character. Fields are decoded after splitting.
 */

export type Charset = 'utf-8' | 'gbk';
export type Format = 'csv' | 'jsonl';

export interface RecordLimits {
  /** Largest record (a CSV row, possibly spanning lines, or a JSON line), in bytes. */
  maxRecordBytes: number;
  /** Largest CSV field, in bytes. */
  maxFieldBytes: number;
  /** Most CSV fields per row. */
  maxFields: number;
}

export const DEFAULT_LIMITS: RecordLimits = { maxRecordBytes: 1 << 20, maxFieldBytes: 256 << 10, maxFields: 512 };

/** One record: where it starts and ends in the file, and its content. */
export interface FileRecord {
  /** 0-based record number in the file (the CSV header is not a record). */
  index: number;
  /** Byte offset of its first byte. */
  start: number;
  /** Byte offset just after it (and its line terminator): where the next record starts. */
  end: number;
  /** 1-based physical line it starts on. */
  line: number;
  /** CSV: the raw bytes of each field (quotes removed, "" unescaped). JSONL: one element, the line. */
  fields: Buffer[];
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes strictly: invalid UTF-8 is an error, never a replacement character. */
export function decodeBytes(buf: Buffer, charset: Charset): string {
  // GB18030 is a superset of GBK and GB2312 and decodes all three
  if (charset === 'gbk') return iconv.decode(buf, 'gb18030');
  try {
    return utf8.decode(buf);
  } catch {
    throw new PayloadError('INTAKE_ERR_BAD_ENCODING', 'not valid UTF-8 (use --charset gbk for GBK exports)');
  }
}

/**
 * A push parser for RFC 4180 CSV (quoted fields with commas, quotes as "" and line breaks inside
 * quotes; CRLF or LF line ends; a final line without a terminator). Feed bytes with `push`, call
 * `end` at EOF; complete records are handed to `onRecord`.
 */
export class CsvSplitter {
  private fields: Buffer[] = [];
  private field: number[] = [];
  private fieldChunks: Buffer[] = [];
  private fieldBytes = 0;
  private recordBytes = 0;
  private inQuotes = false;
  private quoteSeen = false; // a quote just closed (or "" pending)
  private fieldStarted = false;
  private recordQuoted = false;
  private offset: number;
  private recordStart: number;
  private line: number;
  private recordLine: number;
  private index = 0;

  constructor(
    private readonly onRecord: (r: FileRecord) => void,
    private readonly limits: RecordLimits = DEFAULT_LIMITS,
    startOffset = 0,
    startLine = 1,
  ) {
    this.offset = startOffset;
    this.recordStart = startOffset;
    this.line = startLine;
    this.recordLine = startLine;
  }

  push(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      this.offset++;
      if (++this.recordBytes > this.limits.maxRecordBytes) throw this.error(`record exceeds ${this.limits.maxRecordBytes} bytes`);
      if (this.inQuotes) {
        if (b === QUOTE) {
          this.inQuotes = false;
          this.quoteSeen = true;
        } else {
          if (b === LF) this.line++;
          this.byte(b);
        }
        continue;
      }
      if (this.quoteSeen) {
        this.quoteSeen = false;
        if (b === QUOTE) {
          // "" inside a quoted field
          this.byte(QUOTE);
          this.inQuotes = true;
          continue;
        }
        if (b !== COMMA && b !== LF && b !== CR) throw this.error('unexpected character after a closing quote');
      }
      if (b === QUOTE) {
        if (this.fieldStarted) throw this.error('quote inside an unquoted field');
        this.inQuotes = true;
        this.fieldStarted = true;
        this.recordQuoted = true;
      } else if (b === COMMA) {
        this.endField();
      } else if (b === LF) {
        this.endRecord();
        this.line++;
      } else if (b === CR) {
        // CR is dropped outside quotes (CRLF); a lone CR is not a line end here
      } else {
        this.fieldStarted = true;
        this.byte(b);
      }
    }
  }

  /** At EOF: emits a last record without a line terminator; an open quote is an error. */
  end(): void {
    if (this.inQuotes) throw this.error('unterminated quoted field at end of file');
    if (this.fieldStarted || this.fields.length > 0 || this.field.length > 0 || this.fieldChunks.length > 0) this.endRecord();
  }

  private byte(b: number): void {
    if (++this.fieldBytes > this.limits.maxFieldBytes) throw this.error(`field exceeds ${this.limits.maxFieldBytes} bytes`);
    this.field.push(b);
    if (this.field.length >= 4096) {
      this.fieldChunks.push(Buffer.from(this.field));
      this.field = [];
    }
  }

  private endField(): void {
    const tail = Buffer.from(this.field);
    this.fields.push(this.fieldChunks.length ? Buffer.concat([...this.fieldChunks, tail]) : tail);
    if (this.fields.length > this.limits.maxFields) throw this.error(`more than ${this.limits.maxFields} fields`);
    this.field = [];
    this.fieldChunks = [];
    this.fieldBytes = 0;
    this.fieldStarted = false;
  }

  private endRecord(): void {
    this.endField();
    const fields = this.fields;
    this.fields = [];
    const blank = fields.length === 1 && (fields[0] as Buffer).length === 0 && !this.recordQuoted;
    this.recordQuoted = false;
    if (!blank) this.onRecord({ index: this.index++, start: this.recordStart, end: this.offset, line: this.recordLine, fields });
    this.recordStart = this.offset;
    this.recordLine = this.line + 1;
    this.recordBytes = 0;
  }

  private error(msg: string): PayloadError {
    return new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', `CSV line ${this.line}: ${msg}`);
  }
}

/** A push splitter for JSON Lines: one record per LF-terminated line; blank lines are skipped. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private bytes = 0;
  private offset: number;
  private recordStart: number;
  private line: number;
  private index = 0;

  constructor(
    private readonly onRecord: (r: FileRecord) => void,
    private readonly limits: RecordLimits = DEFAULT_LIMITS,
    startOffset = 0,
    startLine = 1,
  ) {
    this.offset = startOffset;
    this.recordStart = startOffset;
    this.line = startLine;
  }

  push(chunk: Buffer): void {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, from);
      const piece = chunk.subarray(from, nl < 0 ? chunk.length : nl);
      this.bytes += piece.length;
      if (this.bytes > this.limits.maxRecordBytes) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', `JSONL line ${this.line}: line exceeds ${this.limits.maxRecordBytes} bytes`);
      if (piece.length) this.parts.push(Buffer.from(piece));
      if (nl < 0) {
        this.offset += piece.length;
        return;
      }
      this.offset += piece.length + 1;
      this.emit();
      from = nl + 1;
    }
  }

  end(): void {
    if (this.parts.length) this.emit();
  }

  private emit(): void {
    let body = Buffer.concat(this.parts);
    if (body.length && body[body.length - 1] === CR) body = body.subarray(0, body.length - 1);
    if (body.toString('latin1').trim().length > 0) this.onRecord({ index: this.index++, start: this.recordStart, end: this.offset, line: this.line, fields: [body] });
    this.parts = [];
    this.bytes = 0;
    this.recordStart = this.offset;
    this.line++;
  }
}

export interface ReadOptions {
  format: Format;
  limits?: RecordLimits;
  /** Byte offset to start at (a record boundary from a checkpoint); the CSV header is read separately. */
  startOffset?: number;
  startLine?: number;
  /** Called with every raw chunk read (hashing). */
  onChunk?: (chunk: Buffer) => void;
}

/**
 * Reads a file's records from `startOffset` as an async iterator, with backpressure: the file is
 * read in 64 KiB chunks and parsing pauses while the consumer is busy.
 */
export async function* readRecords(file: string, o: ReadOptions): AsyncGenerator<FileRecord> {
  const queue: FileRecord[] = [];
  const onRecord = (r: FileRecord): void => void queue.push(r);
  const limits = o.limits ?? DEFAULT_LIMITS;
  const splitter = o.format === 'csv' ? new CsvSplitter(onRecord, limits, o.startOffset ?? 0, o.startLine ?? 1) : new LineSplitter(onRecord, limits, o.startOffset ?? 0, o.startLine ?? 1);
  const stream = createReadStream(file, { start: o.startOffset ?? 0, highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      o.onChunk?.(buf);
      splitter.push(buf);
      while (queue.length) yield queue.shift() as FileRecord;
    }
    splitter.end();
    while (queue.length) yield queue.shift() as FileRecord;
  } finally {
    stream.destroy();
  }
}

/** Parses a whole CSV text (tests, small files): rows of decoded fields. */
export function parseCsv(bytes: Buffer, charset: Charset = 'utf-8', limits: RecordLimits = DEFAULT_LIMITS): string[][] {
  const rows: string[][] = [];
  const s = new CsvSplitter((r) => rows.push(r.fields.map((f) => decodeBytes(f, charset))), limits);
  s.push(bytes);
  s.end();
  return rows;
}
