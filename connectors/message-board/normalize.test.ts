import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PayloadError } from '../../core/errors';
import type { RawInput } from '../../core/sdk/connector';
import { normalizeBoardPost } from './normalize';
import { splitBoardPage } from './spec';

const dir = join(__dirname, 'fixtures');
const raw = (name: string): RawInput => ({ transport: 'replay', body: readFileSync(join(dir, name)), contentType: 'application/json', headers: {} });

describe('message-board normalize', () => {
  it('maps a post: HTML → text, domain, type, addressee, region', () => {
    const d = normalizeBoardPost(raw('01-html-complaint.json'));
    expect(d).toMatchObject({
      sourceId: '3100001',
      occurredAt: '2026-01-05T01:01:00.000Z',
      reporter: { name: '网友某某', phone: null, userId: 'u900001', anonymous: false, role: 'resident' },
      title: '小区旁工地夜间施工扰民',
      text: '尊敬的市长：\n江岸区后湖大道某工地每天夜里施工到凌晨，噪音严重影响休息。\n恳请相关部门处理！',
      appealType: 'complaint',
      location: { district: '江岸区', point: null, address: null },
      channelCategory: { scheme: 'message-board-domain', code: '3', name: '城建' },
      channelFields: { addressee: '武汉市市长', province: '湖北省', city: '武汉市', replyStatus: '待回复' },
    });
  });

  it('maps 投诉/求助/咨询/建言 (建言 → suggestion)', () => {
    expect(['01-html-complaint.json', '02-help.json', '03-consult.json', '04-suggestion.json'].map((f) => normalizeBoardPost(raw(f)).appealType)).toEqual(['complaint', 'help', 'consult', 'suggestion']);
  });

  it('strips scripts, styles and comments and decodes entities once', () => {
    expect(normalizeBoardPost(raw('06-script-style-comment.json'))).toMatchObject({ title: '路灯不亮', text: '某路段路灯已坏一个月。\n夜间出行不安全。' });
    expect(normalizeBoardPost(raw('05-entities.json'))).toMatchObject({ title: '关于“停车难”的问题 & 建议', text: '小区车位比例<1:1，晚上 停车难…🚗' });
    expect(normalizeBoardPost(raw('21-nested-lists.json')).text).toBe('加装电梯\n改造管网\n增加停车位');
  });

  it('edge cases: anonymous, no domain, long text, emoji and traditional characters', () => {
    expect(normalizeBoardPost(raw('07-anonymous.json')).reporter).toMatchObject({ anonymous: true, name: null, userId: null });
    expect(normalizeBoardPost(raw('08-no-domain.json')).channelCategory).toBeNull();
    expect(normalizeBoardPost(raw('10-very-long.json')).text.length).toBeLessThanOrEqual(20000);
    expect(normalizeBoardPost(raw('11-emoji-traditional.json')).text).toBe('樓下燒烤店油煙很大😷，請環保部門處理🙏。');
    expect(normalizeBoardPost(raw('12-duplicate-a.json')).sourceId).toBe(normalizeBoardPost(raw('13-duplicate-b-same-tid.json')).sourceId);
  });

  it('rejects bad posts with a data path', () => {
    const cases: Record<string, string> = { '90-bad-type.invalid.json': '/typeName', '91-only-markup.invalid.json': '/content', '92-bad-tid.invalid.json': '/tid', '93-missing-time.invalid.json': '/createdAt' };
    for (const [f, path] of Object.entries(cases)) {
      let err: unknown;
      try {
        normalizeBoardPost(raw(f));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PayloadError);
      expect({ f, path: (err as PayloadError).dataPath }).toEqual({ f, path });
    }
  });

  it('splits a listing page with (createdAt, tid) cursor keys', () => {
    const p = JSON.parse(readFileSync(join(dir, '03-consult.json'), 'utf8')) as { tid: string; createdAt: number };
    const items = splitBoardPage(Buffer.from(JSON.stringify({ status: 'success', data: { total: 1, list: [p, { tid: 'x' }] } })), 'application/json');
    expect(items.map((i) => i.key)).toEqual([{ t: p.createdAt, id: p.tid }, null]);
    expect(() => splitBoardPage(Buffer.from('{"status":"error","message":"限流"}'), 'application/json')).toThrow(/限流/);
  });
});
