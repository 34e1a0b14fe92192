import { readJsonl, type TipdmMessage } from './tipdm';
import { sharedDataFile } from '../util/shared-data';
import { normalizationPatterns, normalizeText } from './text';

/** normalizeText as it was before the patterns had guard words: every pattern applied in turn. */
function unguarded(raw: string): string {
  let s = raw.normalize('NFKC').toLowerCase();
  for (const [re] of normalizationPatterns()) s = s.replace(re, ' ');
  return s.replace(/[^\u4e00-\u9fff0-9a-z]+/g, '');
}

describe('normalizeText guard words', () => {
  const texts: string[] = [];
  beforeAll(() => {
    for (const f of ['train.jsonl', 'unlabeled.jsonl', 'messages_with_votes.jsonl']) {
      for (const m of readJsonl<TipdmMessage>(sharedDataFile('tipdm2020c', f))) texts.push(m.title ?? '', m.detail ?? '');
    }
  });

  it('every match of every pattern contains one of its guard words (real message-board texts)', () => {
    const misses: string[] = [];
    let matches = 0;
    for (const [re, needs] of normalizationPatterns()) {
      if (needs === null) continue;
      for (const t of texts) {
        for (const m of t.normalize('NFKC').toLowerCase().matchAll(new RegExp(re.source, 'g'))) {
          matches++;
          if (!needs.some((w) => m[0].includes(w))) misses.push(`${re.source}: ${m[0]}`);
        }
      }
    }
    expect(matches).toBeGreaterThan(1000);
    expect(misses).toEqual([]);
  });

  it('gives the same text as applying every pattern unguarded, on every real text and on crafted boilerplate', () => {
    const crafted = ['尊敬的领导您好：我是某小区的业主，反映问题：电话：138****5678，请相关部门尽快处理，谢谢！此致敬礼', '经研判属非警务警情，转12345处置。报警人称：xxx路井盖缺失', '网格员巡查发现：已拍照上报 0000-0000000'];
    const differ = [...texts, ...crafted].filter((t) => normalizeText(t) !== unguarded(t));
    expect(differ).toEqual([]);
    expect(normalizeText(crafted[0] as string)).not.toContain('尊敬');
  });
});
