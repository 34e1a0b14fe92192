import fc from 'fast-check';
import { collapse, htmlToText } from './html';

describe('htmlToText', () => {
  it('strips tags, scripts, styles and comments and keeps block breaks', () => {
    const html = '<p>尊敬的<b>书记</b>：</p><script>alert("x")</script><style>p{color:red}</style><!-- 备注 --><div>小区&nbsp;&nbsp;门口<br/>积水严重</div>';
    expect(htmlToText(html)).toBe('尊敬的书记：\n小区 门口\n积水严重');
  });

  it('inline formatting inside a word or number joins it (a phone split by <b> stays one number to mask)', () => {
    expect(htmlToText('<p>电话138<b>1234</b><span>5678</span></p>')).toBe('电话13812345678');
    expect(htmlToText('我叫侯<i>英刚</i>，住<img src="x">在')).toBe('我叫侯英刚，住 在');
  });

  it('decodes named and numeric entities exactly once', () => {
    expect(htmlToText('&lt;b&gt; &amp;lt; &#24066;&#x6C11; &#128512; &ldquo;好&rdquo;')).toBe('<b> &lt; 市民 😀 “好”');
    expect(htmlToText('&#0; &#xD800; &#x110000; &#99999999999;')).toBe('\uFFFD \uFFFD \uFFFD &#99999999999;');
    expect(htmlToText('AT&T &unknown; & alone')).toBe('AT&T &unknown; & alone');
  });

  it('keeps a literal < that does not start a tag', () => {
    expect(htmlToText('温度<5度，a < b')).toBe('温度<5度，a < b');
  });

  it('drops content of script even with attributes, case and quotes containing >', () => {
    expect(htmlToText('前<SCRIPT type="text/javascript" data-x="a>b">var s="</p>";</ScRiPt>后')).toBe('前 后');
    expect(htmlToText('<a href="x" title=\'1>2\'>链接</a>')).toBe('链接');
  });

  it('handles unclosed constructs without hanging', () => {
    expect(htmlToText('文本<!-- 未闭合注释')).toBe('文本');
    expect(htmlToText('文本<script>永不结束')).toBe('文本');
    expect(htmlToText('文本<div class="x')).toBe('文本');
  });

  it('collapses whitespace including full-width spaces and blank lines', () => {
    expect(htmlToText('  一　　二 \t三\n\n\n\r\n四  ')).toBe('一 二 三\n四');
    expect(collapse('a\u0000b\u0007c')).toBe('abc');
  });

  it('bounds the output length without splitting a surrogate pair', () => {
    const out = htmlToText('😀'.repeat(100), { maxOutputChars: 11 });
    expect(out.length).toBe(10);
    expect(htmlToText('长'.repeat(50000), { maxOutputChars: 20000 })).toHaveLength(20000);
  });

  it('stays linear on hostile input (no catastrophic backtracking)', () => {
    const hostile = [
      '<'.repeat(100000),
      '<a'.repeat(50000),
      '<!--'.repeat(50000),
      '&#'.repeat(50000) + ';',
      '&'.repeat(100000),
      '<a title="'.repeat(20000),
      '<script>'.repeat(20000),
      '<div>'.repeat(40000) + 'x' + '</div>'.repeat(40000),
    ];
    for (const h of hostile) {
      const started = process.hrtime.bigint();
      const t = htmlToText(h);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      expect(typeof t).toBe('string');
      expect(ms).toBeLessThan(2000); // generous: a quadratic scan of 200k characters takes far longer
    }
  });

  it('never outputs a tag-like sequence that came from markup, and never exceeds the bound (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('<', '>', '/', 'a', 'b', 's', 'c', 'r', 'i', 'p', 't', '&', ';', '#', 'x', '1', '"', "'", '-', '!', ' ', '市', '\n'), maxLength: 300 }), (s) => {
        const out = htmlToText(s, { maxOutputChars: 100 });
        expect(out.length).toBeLessThanOrEqual(100);
        expect(out).not.toMatch(/<script/i);
        expect(out).not.toMatch(/^\s|\s$/);
      }),
    );
  });
});
