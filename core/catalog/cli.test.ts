import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogCommand } from '../cli/commands/catalog';
import { classifyCommand } from '../cli/commands/classify';
import { defaultCatalogPath } from './catalog';
import { loadCategoryModel } from './category-model';
import { loadModel, saveModel, toModelFile, train } from './model';
import { toyRows, TOY_OPTIONS } from './testing';

const dir = mkdtempSync(join(tmpdir(), 'catalog-cli-'));

function capture(): { out: string[]; err: string[]; restore: () => void } {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  return { out, err, restore: () => (log.mockRestore(), error.mockRestore()) };
}

describe('intake-hub catalog', () => {
  it('stats --json reports 20 and 828', async () => {
    const c = capture();
    expect(await catalogCommand(['stats', '--json'])).toBe(0);
    c.restore();
    const s = JSON.parse(c.out[0] ?? '{}') as { categories: number; subcategories: number; channelSchemes: Record<string, { codes: number; mapped: number }> };
    expect(s.categories).toBe(20);
    expect(s.subcategories).toBe(828);
    expect(s.channelSchemes['gbt47678.5']).toEqual({ codes: 403, mapped: 403 });
  });

  it('lint passes on the default catalog and fails (exit 1) on a broken one', async () => {
    let c = capture();
    expect(await catalogCommand(['lint'])).toBe(0);
    c.restore();
    expect(c.out.join('\n')).toMatch(/0 error\(s\)/);
    const doc = JSON.parse(readFileSync(defaultCatalogPath(), 'utf8')) as { categories: Array<{ subcategories: Array<{ department: string }> }> };
    (doc.categories[0]?.subcategories[0] as { department: string }).department = '';
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify(doc));
    c = capture();
    expect(await catalogCommand(['lint', bad, '--json'])).toBe(1);
    c.restore();
    expect((JSON.parse(c.out.join('\n')) as { findings: Array<{ code: string }> }).findings.map((f) => f.code)).toContain('NOT_ROUTABLE');
  });

  it('train refuses the holdout set and needs --data', async () => {
    const c = capture();
    expect(await catalogCommand(['train', '--data', '/x/holdout.jsonl'])).toBe(2);
    expect(await catalogCommand(['train'])).toBe(2);
    expect(await catalogCommand(['nope'])).toBe(2);
    c.restore();
    expect(c.err.join('\n')).toMatch(/acceptance evaluation only/);
  });

  it('train writes a model file from labelled JSONL', async () => {
    const data = join(dir, 'toy.jsonl');
    writeFileSync(data, toyRows().map((r, i) => JSON.stringify({ row: i, text: r.text, label_l1: r.label })).join('\n'));
    const out = join(dir, 'toy-model.json.gz');
    const c = capture();
    expect(await catalogCommand(['train', '--data', data, '--out', out, '--bits', '12', '--epochs', '3', '--version', 'toy-9'])).toBe(0);
    c.restore();
    expect(c.out.join('\n')).toMatch(/trained toy-9 on 90 rows \(3 labels\)/);
  });

  it('train --categories writes a category model that loads and mixes with its label model', async () => {
    // toy messages labelled with categories of the default catalog, as in catalog-labels
    const rows = toyRows();
    const cat: Record<string, string> = { 城乡建设: 'C08', 教育文体: 'C13', 卫生计生: 'C16' };
    const data = join(dir, 'toy-train.jsonl');
    writeFileSync(data, rows.map((r, i) => JSON.stringify({ row: i, text: r.text, label_l1: r.label })).join('\n'));
    const labels = join(dir, 'toy-labels.jsonl');
    writeFileSync(labels, rows.map((r, i) => JSON.stringify({ row: i, primary: cat[r.label], acceptable: [cat[r.label]], triage_ok: false, note: '', sample: 'random' })).join('\n'));
    const t = train(rows, TOY_OPTIONS);
    const lm = join(dir, 'toy-label-model.json.gz');
    saveModel(lm, toModelFile(t.labels, 'toy-l1', TOY_OPTIONS, t.w, t.idf, t.bias, [], '2026-01-01T00:00:00Z'));
    const out = join(dir, 'toy-cat.json.gz');
    const c = capture();
    expect(await catalogCommand(['train', '--categories', '--labels', labels, '--data', data, '--label-model', lm, '--out', out, '--version', 'toy-cat-2'])).toBe(0);
    expect(await catalogCommand(['train', '--categories', '--labels', join(dir, 'x-holdout.jsonl'), '--data', data])).toBe(2);
    c.restore();
    expect(c.out.join('\n')).toMatch(/trained toy-cat-2 \(20 categories; teacherT [\d.]+, alpha \d+, T [\d.]+; CV: threshold [\d.]+/);
    const m = loadCategoryModel(out);
    expect(m).toMatchObject({ version: 'toy-cat-2', l1Model: 'toy-l1' });
    expect(m.mixesWith(loadModel(lm))).toBe(true);
    const p = m.predict('孩子幼儿园入学难，学校乱收费', loadModel(lm).predict('孩子幼儿园入学难，学校乱收费').probs);
    expect(p.category).toBe('C13');
    expect(Array.from(p.probs).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });
});

describe('intake-hub classify', () => {
  const model = join(dir, 'm.json.gz');
  const t = train(toyRows(), TOY_OPTIONS);
  saveModel(model, toModelFile(t.labels, 'toy-1', TOY_OPTIONS, t.w, t.idf, t.bias, [], '2026-01-01T00:00:00Z'));

  it('writes one line per input with ids, category, subcategory, confidence, method, label_l1', async () => {
    const input = join(dir, 'in.jsonl');
    const output = join(dir, 'out.jsonl');
    writeFileSync(
      input,
      [
        JSON.stringify({ msg_id: 7, title: '路灯不亮', detail: '小区门口路灯不亮一个月了' }),
        JSON.stringify({ id: 'a', text: '孩子幼儿园入学难，学校要求补课' }),
        JSON.stringify({ row: 3, text: '随便', channelCategory: { scheme: 'gbt47678.5', code: '06028' } }),
        '{broken',
        JSON.stringify({ id: 'empty' }),
      ].join('\n') + '\n',
    );
    const c = capture();
    expect(await classifyCommand(['--input', input, '--output', output, '--model', model])).toBe(1);
    c.restore();
    const lines = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatchObject({ msg_id: 7, method: 'rules', category: 'C01', label_l1: '城乡建设' });
    expect(lines[1]).toMatchObject({ id: 'a', label_l1: '教育文体' });
    expect(['model', 'manual']).toContain(lines[1]?.method);
    expect(lines[2]).toMatchObject({ row: 3, method: 'channel-code', confidence: 1 });
    expect(lines[3]).toMatchObject({ line: 4 });
    expect(lines[4]).toMatchObject({ id: 'empty', error: expect.stringMatching(/no "text"/) });
    expect(c.err.join('\n')).toMatch(/in\.jsonl:4/);
  });

  it('--explain --text shows every step of the cascade', async () => {
    const c = capture();
    expect(await classifyCommand(['--explain', '--text', '报警人称厨房有煤气味', '--scheme', 'police-110', '--code', '1302', '--name', '燃气泄漏'])).toBe(0);
    c.restore();
    const out = c.out.join('\n');
    expect(out).toMatch(/^channel-code: C10 /);
    expect(out).toMatch(/\[channel-code\] police-110:1302 燃气泄漏 → C10\.\d{3} 天然气抢修类问题/);
    expect(out).toMatch(/\[decision\]/);
  });

  it('--explain adds evidence and steps to each output line', async () => {
    const input = join(dir, 'in2.jsonl');
    const output = join(dir, 'out2.jsonl');
    writeFileSync(input, JSON.stringify({ id: 'x', text: '小区门口垃圾堆积无人清运', channelCategory: { scheme: 'police-110', code: '1109', name: '楼上噪音' } }) + '\n');
    const c = capture();
    expect(await classifyCommand(['--input', input, '--output', output, '--explain'])).toBe(0);
    c.restore();
    const line = JSON.parse(readFileSync(output, 'utf8').trim()) as { steps: Array<{ step: string; detail?: { via?: string } }>; evidence: string; subcategory_confidence: number };
    expect(line.steps[0]).toMatchObject({ step: 'channel-code', detail: { via: 'prefix' } });
    expect(line.evidence).toMatch(/police-110:1109/);
    expect(typeof line.subcategory_confidence).toBe('number');
  });

  it('needs --input and --output', async () => {
    const c = capture();
    expect(await classifyCommand([])).toBe(2);
    c.restore();
  });
});
