import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { PayloadError } from '../errors';
import { CsvSplitter, decodeBytes, parseCsv, readRecords, type FileRecord } from './records';

const csv = (s: string): string[][] => parseCsv(Buffer.from(s));

describe('CSV parser (RFC 4180)', () => {
  it('splits plain rows, LF or CRLF, with or without a final line end', () => {
    expect(csv('a,b,c\n1,2,3\n')).toEqual([['a', 'b', 'c'], ['1', '2', '3']]);
    expect(csv('a,b\r\n1,2\r\n')).toEqual([['a', 'b'], ['1', '2']]);
    expect(csv('a,b\n1,2')).toEqual([['a', 'b'], ['1', '2']]);
  });

  it('handles quoted fields with commas, doubled quotes and line breaks', () => {
    expect(csv('id,text\n1,"井盖, 破损"\n2,"他说""快修"""\n3,"第一行\r\n第二行"\n')).toEqual([['id', 'text'], ['1', '井盖, 破损'], ['2', '他说"快修"'], ['3', '第一行\r\n第二行']]);
  });

  it('keeps empty fields and skips blank lines', () => {
    expect(csv('a,b,c\n,,\n\n1,,3\n')).toEqual([['a', 'b', 'c'], ['', '', ''], ['1', '', '3']]);
    expect(csv('a\n""\n')).toEqual([['a'], ['']]);
  });

  it('rejects malformed quoting', () => {
    expect(() => csv('a,b\n1,"open\n')).toThrow(/unterminated/);
    expect(() => csv('a,b\n1,"x"y\n')).toThrow(/after a closing quote/);
    expect(() => csv('a,b\n1,x"y"\n')).toThrow(/quote inside an unquoted field/);
  });

  it('bounds field, record and column sizes', () => {
    const limits = { maxRecordBytes: 100, maxFieldBytes: 10, maxFields: 3 };
    expect(() => parseCsv(Buffer.from('a\n' + 'x'.repeat(11) + '\n'), 'utf-8', limits)).toThrow(PayloadError);
    expect(() => parseCsv(Buffer.from('a,b,c,d\n'), 'utf-8', limits)).toThrow(/more than 3 fields/);
    expect(() => parseCsv(Buffer.from('a\n"' + 'x,'.repeat(60) + '"\n'), 'utf-8', { ...limits, maxFieldBytes: 1000 })).toThrow(/record exceeds/);
  });

  it('decodes GBK after splitting on bytes (no GBK trail byte is a CSV delimiter)', () => {
    const text = 'reportId,text\nGW-1,"桂湖社区5栋漏水，""紧急""\n请处理"\nGW-2,繁體測試\n';
    const rows = parseCsv(iconv.encode(text, 'gbk'), 'gbk');
    expect(rows).toEqual([['reportId', 'text'], ['GW-1', '桂湖社区5栋漏水，"紧急"\n请处理'], ['GW-2', '繁體測試']]);
  });

  it('refuses invalid UTF-8 instead of replacing it', () => {
    expect(() => decodeBytes(iconv.encode('桂湖', 'gbk'), 'utf-8')).toThrow(/not valid UTF-8/);
  });

  it('property: any table survives quoting and parsing, in any chunking', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', '井', ',', '"', '\n', '\r\n', ' ', '😀'), maxLength: 8 });
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 7 }), (rows, step) => {
        const text = rows.map((r) => r.map((c) => `"${c.replace(/"/g, '""')}"`).join(',')).join('\n') + '\n';
        const bytes = Buffer.from(text);
        const out: string[][] = [];
        const s = new CsvSplitter((r) => out.push(r.fields.map((f) => decodeBytes(f, 'utf-8'))));
        for (let i = 0; i < bytes.length; i += step) s.push(bytes.subarray(i, i + step));
        s.end();
        expect(out).toEqual(rows);
      }),
    );
  });
});

describe('readRecords', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'records-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const all = async (file: string, format: 'csv' | 'jsonl', startOffset = 0, startLine = 1): Promise<FileRecord[]> => {
    const out: FileRecord[] = [];
    for await (const r of readRecords(file, { format, startOffset, startLine })) out.push(r);
    return out;
  };

  it('gives CSV records exact byte offsets and start lines, so reading can resume at any record', async () => {
    const file = join(dir, 'a.csv');
    const text = 'id,text\n1,"两行\n文本"\n2,b\r\n3,c';
    writeFileSync(file, text);
    const recs = await all(file, 'csv');
    expect(recs.map((r) => [r.line, r.start, r.end])).toEqual([
      [1, 0, 8],
      [2, 8, 8 + Buffer.byteLength('1,"两行\n文本"\n')],
      [4, 8 + Buffer.byteLength('1,"两行\n文本"\n'), Buffer.byteLength(text) - 3],
      [5, Buffer.byteLength(text) - 3, Buffer.byteLength(text)],
    ]);
    const resumed = await all(file, 'csv', (recs[2] as FileRecord).start, 4);
    expect(resumed.map((r) => r.fields.map((f) => f.toString()))).toEqual([['2', 'b'], ['3', 'c']]);
    expect(resumed[0]?.line).toBe(4);
  });

  it('splits JSONL on LF (CRLF tolerated), skipping blank lines', async () => {
    const file = join(dir, 'a.jsonl');
    writeFileSync(file, '{"a":1}\r\n\n{"a":"井"}\n{"a":3}');
    const recs = await all(file, 'jsonl');
    expect(recs.map((r) => [r.line, r.fields[0]?.toString()])).toEqual([
      [1, '{"a":1}'],
      [3, '{"a":"井"}'],
      [4, '{"a":3}'],
    ]);
    expect(recs[1]?.start).toBe(Buffer.byteLength('{"a":1}\r\n\n'));
  });
});
