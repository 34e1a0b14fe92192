import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors';
import { loadCatalog } from './catalog';
import { extraAnnotatedDocuments, messageTexts, readExtraAnnotations } from './extra-labels';

const dir = mkdtempSync(join(tmpdir(), 'extra-'));
const write = (name: string, rows: unknown[]): string => {
  const f = join(dir, name);
  writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return f;
};

describe('extra annotations', () => {
  const catalog = loadCatalog();
  const trainFile = write('train.jsonl', [
    { row: 1, text: '村里低保评定不公平，名额都给了村干部的亲戚，真正困难的人家吃不上低保。', label_l1: '劳动和社会保障' },
    { row: 2, text: '某中学每学期向学生收取补课费八百元，家长意见很大，请教育局查处。', label_l1: '教育文体' },
  ]);
  const unlabeledFile = write('unlabeled.jsonl', [{ msg_id: '7', title: '违建厂房占用基本农田', detail: '某村有人在基本农田上违规建设厂房，已经盖了三层，请国土部门查处。' }]);
  // the same msg_id in two files names two messages: the source decides
  const votesFile = write('votes.jsonl', [{ msg_id: '7', title: '小区门口路灯不亮', detail: '小区门口的三盏路灯坏了一个多月，晚上出行很不安全。', likes: 3 }]);
  const texts = messageTexts(trainFile, unlabeledFile, votesFile);

  it('reads train rows and unlabeled messages, primary first among the acceptable, a message once', () => {
    const f = write('a.jsonl', [
      { source: 'train', row: 1, primary: 'C18', acceptable: ['C20', 'C18'], triage_ok: false, note: '低保评定不公', sample: 'helper-boost' },
      { source: 'unlabeled', msg_id: '7', primary: 'C09', acceptable: ['C09'], triage_ok: true, note: '占用农田建厂', sample: 'helper-boost' },
      { source: 'train', row: 1, primary: 'C15', acceptable: ['C15'], note: 'a second line for row 1' },
      { source: 'votes', msg_id: '7', primary: 'C01', acceptable: ['C01'], triage_ok: false, note: '', sample: 'helper-boost' },
    ]);
    const a = readExtraAnnotations([f]);
    expect(a.map((x) => [x.source, x.id, x.primary, x.acceptable, x.triageOk])).toEqual([
      ['train', '1', 'C18', ['C18', 'C20'], false],
      ['unlabeled', '7', 'C09', ['C09'], true],
      ['votes', '7', 'C01', ['C01'], false],
    ]);
    const d = extraAnnotatedDocuments(a, texts, catalog, 0.5, []);
    expect(d.used).toBe(3);
    expect(d.byCategory).toEqual({ C18: 1, C09: 1, C01: 1 });
    // text + note for the primary, the text again for C20; the unlabeled message is title + detail
    expect(d.docs.map((x) => [x.label, x.text.slice(0, 6), x.weight])).toEqual([
      ['C18', '村里低保评定', 0.5],
      ['C18', '低保评定不公', 0.5],
      ['C20', '村里低保评定', 0.5],
      ['C09', '违建厂房占用', 0.5],
      ['C09', '占用农田建厂', 0.5],
      ['C01', '小区门口路灯', 0.5],
    ]);
  });

  it('leaves out a message whose text overlaps an annotated (evaluated) one', () => {
    const a = readExtraAnnotations([write('b.jsonl', [{ source: 'train', row: 2, primary: 'C13', acceptable: ['C13'] }, { source: 'train', row: 1, primary: 'C18', acceptable: ['C18'] }])]);
    const d = extraAnnotatedDocuments(a, texts, catalog, 1, ['前言。某中学每学期向学生收取补课费八百元，家长意见很大，请教育局查处。']);
    expect(d.excluded).toBe(1);
    expect(d.used).toBe(1);
    expect(d.docs.every((x) => x.label === 'C18')).toBe(true);
  });

  it('refuses bad lines with the file and line, unknown messages and bad weights', () => {
    expect(() => readExtraAnnotations([write('c.jsonl', [{ source: 'train', row: 1, primary: 'C18', acceptable: ['C18'] }, { source: 'board', row: 1, primary: 'C18', acceptable: [] }])])).toThrow(/c\.jsonl:2: source must be one of train, unlabeled, votes/);
    expect(() => readExtraAnnotations([write('d.jsonl', [{ source: 'train', row: 1, primary: '民政', acceptable: ['C18'] }])])).toThrow(ConfigError);
    expect(() => readExtraAnnotations([write('e.jsonl', [{ source: 'unlabeled', msg_id: 7, primary: 'C18', acceptable: ['C18'] }])])).toThrow(/msg_id/);
    expect(() => readExtraAnnotations([write('f.jsonl', [{ source: 'train', row: 1, primary: 'C18', acceptable: ['C18', 'C20', 'C12', 'C15'] }])])).toThrow(/1–3/);
    const missing = readExtraAnnotations([write('g.jsonl', [{ source: 'train', row: 99, primary: 'C18', acceptable: ['C18'] }])]);
    expect(() => extraAnnotatedDocuments(missing, texts, catalog, 1, [])).toThrow(/train:99: no such message/);
    expect(() => extraAnnotatedDocuments([], texts, catalog, 0, [])).toThrow(/weight/);
  });
});
