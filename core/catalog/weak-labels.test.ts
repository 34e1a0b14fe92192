import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedDataFile } from '../util/shared-data';
import { loadCatalog } from './catalog';
import { replyCategory, replyWeakDocuments } from './weak-labels';

describe('replyCategory', () => {
  it('takes the unit of the signature', () => {
    expect(replyCategory('网友您好！您反映的低保问题已收悉，经我局调查……特此回复。A市民政局 2019年5月10日')).toBe('C18');
    expect(replyCategory('……经核实，该处违法占地已立案查处。K县国土资源局 2018年3月1日')).toBe('C09');
    expect(replyCategory('……感谢您的监督。县纪委监委 2019年1月2日')).toBe('C20');
  });

  it('a signature naming two categories labels nothing', () => {
    expect(replyCategory('……已转交相关单位处理。A市民政局 A市教育局 2019年5月10日')).toBeNull();
  });

  it('without a signature: the category named at least twice and twice as often as any other', () => {
    const body = '您好！经县公安局调查，派出所已出警处理。' + '经查，该情况属实，我们将继续跟进，感谢您对我们工作的关心和支持，欢迎继续监督。'.repeat(3);
    expect(replyCategory(body)).toBe('C12');
    expect(replyCategory('经县公安局调查。' + '无关的说明文字，'.repeat(20))).toBeNull(); // named once
    expect(replyCategory('县公安局与县教育局联合调查。' + '无关的说明文字，'.repeat(20))).toBeNull(); // a tie
  });

  it('units of several categories (城管, 住建局, 街道) label nothing', () => {
    expect(replyCategory('……A市城管局 2019年5月10日')).toBeNull();
    expect(replyCategory('……A2区住建局 2019年5月10日')).toBeNull();
    expect(replyCategory('……洞井街道办事处 2019年5月10日')).toBeNull();
  });
});

describe('replyWeakDocuments', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weak-'));
  const file = join(dir, 'replies.jsonl');
  writeFileSync(
    file,
    [
      { title: '村里低保评定不公平', detail: '我们村的低保名额都给了村干部的亲戚，真正困难的人家吃不上低保。', reply: '……A市民政局 2019年5月10日' },
      { title: '学校乱收补课费', detail: '某中学每学期向学生收取补课费八百元，家长意见很大，请查处。', reply: '……县教育局 2019年5月10日' },
      { title: '没有单位', detail: '路灯坏了很久没人修，晚上出行很不方便，请尽快维修。', reply: '……洞井街道 2019年5月10日' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );

  it('title + detail, labelled and weighted; a message found in the excluded texts is left out', () => {
    const catalog = loadCatalog();
    const r = replyWeakDocuments(file, catalog, 0.3, ['某中学每学期向学生收取补课费八百元，家长意见很大，请查处。（已标注）']);
    expect(r).toEqual({ rows: 3, excluded: 1, docs: [{ text: '村里低保评定不公平我们村的低保名额都给了村干部的亲戚，真正困难的人家吃不上低保。', label: 'C18', weight: 0.3 }] });
  });

  it('refuses a weight outside (0, 1]', () => {
    expect(() => replyWeakDocuments(file, loadCatalog(), 0, [])).toThrow(/weight/);
  });

  it('labels a share of the real replies file, every label a category of the catalog', () => {
    const catalog = loadCatalog();
    const r = replyWeakDocuments(sharedDataFile('tipdm2020c', 'messages_with_replies.jsonl'), catalog, 0.3, []);
    expect(r.rows).toBe(2816);
    expect(r.docs.length).toBeGreaterThan(500);
    expect(r.docs.length).toBeLessThan(r.rows);
    for (const d of r.docs) expect(catalog.category(d.label)).toBeDefined();
    // the small categories the weak labels are for get examples
    for (const c of ['C12', 'C18', 'C20']) expect(r.docs.filter((d) => d.label === c).length).toBeGreaterThan(10);
  });
});
