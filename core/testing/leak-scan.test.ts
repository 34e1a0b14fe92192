import fc from 'fast-check';
import iconv from 'iconv-lite';
import { maskText } from '../pii/mask';
import { LeakScanner } from './leak-scan';
import { IDENTIFIERS, SHAPES, type Identifier } from './pii-leaks';

/** The scanner behind core/pii/leak-scan.itest.ts: it must find every rendering the harness makes. */
describe('LeakScanner', () => {
  const samples = SHAPES.flatMap((shape, k) => fc.sample(IDENTIFIERS[shape.kind], { seed: 500 + k, numRuns: 4 }).map((id) => ({ shape, id, text: shape.render(id) })));

  it('finds every shape of the harness, as text, key, URL, form, markup, base64 (UTF-8 and GBK) and character references', () => {
    const missed: string[] = [];
    for (const { shape, id, text } of samples) {
      const s = new LeakScanner([id]);
      const forms: [string, () => number][] = [
        ['text', () => s.scanJson('t', { a: { b: [`前文${text}后文`] } }).length],
        ['key', () => s.scanJson('t', { [text]: 1 }).length],
        ['url', () => s.scanText('t', `https://img.example.cn/a.jpg?note=${encodeURIComponent(text)}`).length],
        ['form', () => s.scanText('t', new URLSearchParams({ note: text }).toString()).length],
        ['URL in a form', () => s.scanText('t', new URLSearchParams({ media_url: `https://img.example.cn/a.jpg?note=${encodeURIComponent(text)}` }).toString()).length],
        ['markup inside', () => s.scanText('t', `<p>${text.slice(0, Math.ceil(text.length / 2))}<b>${text.slice(Math.ceil(text.length / 2))}</b></p>`).length],
        ['base64', () => s.scanJson('t', { body: Buffer.from(`{"text":"${text}"}`).toString('base64') }).length],
        ['base64 gbk', () => s.scanJson('t', { body: iconv.encode(`{"text":"${text}","pad":"市民来电反映"}`, 'gbk').toString('base64') }).length],
        ['entities', () => s.scanText('t', Array.from(text).map((c) => `&#${c.codePointAt(0)};`).join('')).length],
        ['log line', () => s.scanBytes('t', Buffer.from(`{"level":"info","msg":"x"}\nplain ${text} line\n`)).length],
      ];
      for (const [form, count] of forms) if (count() === 0) missed.push(`${shape.name} as ${form}: ${text}`);
    }
    expect(missed).toEqual([]);
  });

  it('does not flag the masked forms', () => {
    const flagged: string[] = [];
    for (const { shape, id, text } of samples) {
      if (shape.kind === 'reporter-name') continue; // masked only with the reporter's identity
      const masked = maskText(text);
      const hits = new LeakScanner([id]).scanText('t', masked);
      if (hits.length > 0) flagged.push(`${shape.name}: ${text} → ${masked}`);
    }
    expect(flagged).toEqual([]);
  });

  it('ignores values the hub makes (times, ULIDs, digests, tokens, epoch times) but not the same digits in text', () => {
    const id = (kind: Identifier['kind'], needle: string): Identifier => ({ kind, needle, parts: { n: needle } });
    const ids = [id('landline', '7574860'), id('landline', '62345678'), id('qq', '20261120'), id('wechat', 'jdapxx')];
    const s = new LeakScanner(ids);
    const hubMade = {
      at: 1767574860000,
      ts: '1767574860',
      receivedAt: '2026-11-20T08:00:00.123+08:00',
      id: '01JDAPXXEAK623456780000001',
      sha256: 'ab62345678cd'.padEnd(64, '0'),
      token: 'ct1_0062345678ffffffffffffffffffffff',
    };
    expect(s.scanJson('t', hubMade)).toEqual([]);
    expect(s.scanText('t', '电话 757-4860，座机 6234 5678，QQ 20261120，微信 jdapxx').map((h) => h.needle).sort()).toEqual(['20261120', '62345678', '7574860', 'jdapxx']);
  });
});
