import type { TicketDraft } from '../sdk/draft';
import { assembleTicket, publishedSourceId } from './enrich';

const draft = (o: Partial<TicketDraft> = {}): TicketDraft => ({
  sourceId: 'R-1',
  occurredAt: '2026-11-20T00:00:00.000Z',
  reporter: { name: '张三', phone: '13812345678', userId: 'oUserA1B2C3', anonymous: false, role: 'resident' },
  title: null,
  text: '张三反映：门口井盖破损',
  appealType: 'complaint',
  location: { address: null, point: null, district: null, street: null, community: null, grid: null },
  channelCategory: null,
  urgency: 'normal',
  attachments: [],
  channelFields: {},
  mappingVersion: null,
  ...o,
});
const a = { channel: 'resident-app' as const, connectorId: 'c', dedupScope: 'c', receivedAt: 0, rawTopic: 't', envelopeId: '01JC0000000000000000000002', sha256: '0'.repeat(64), tokenSecret: 'enrich-test-secret-0123' };

describe('enrich: source ids and channel fields', () => {
  it.each([
    ['a report number', 'GD202601050001', false],
    ['a dispatch incident number (region + date + sequence)', 'J340111202611200001', false],
    ['a date-stamped grid report id', 'GW-510114-20261120-0001', false],
    ['a long numeric post id', '17000000000001234', false],
    ['a phone used as id', '13812345678', true],
    ['an ID number used as id', 'id-340104199001011234-x', true],
    ['an e-mail used as id', 'zhang@qq.com', true],
  ])('%s (%s) tokenised: %s', (_what, id, tokenised) => {
    const p = publishedSourceId(draft({ sourceId: id }), a.tokenSecret);
    expect(p !== id).toBe(tokenised);
    if (tokenised) expect(p).toMatch(/^[a-z][a-z0-9]{1,7}-[0-9a-f]{32}$/);
  });

  it('personal flags tokenise the id and the listed channel fields; the dedup key uses the published id', () => {
    const t = assembleTicket(draft({ sourceId: 'oOpenid-7', personal: { sourceId: true, channelFields: ['workerId'] }, channelFields: { workerId: 'WGY-1', status: '电话13912345678' } }), a);
    expect(t.source.sourceId).toMatch(/^tk1-[0-9a-f]{32}$/);
    expect(t.dedup.key).toBe(`c:${t.source.sourceId}`);
    expect(t.channelFields.workerId).toMatch(/^tk1-[0-9a-f]{32}$/);
    expect(t.channelFields.status).toBe('电话139****5678');
  });

  it('masks the reporter everywhere, and numbers in channel fields and keys', () => {
    const t = assembleTicket(draft({ title: '张三的投诉', location: { address: '张三家', point: null, district: '电话13812345678', street: null, community: null, grid: '13912345678' }, channelFields: { 'attr.13712345678': 13612345678 }, attachments: [{ kind: 'photo', url: 'https://x.cn/a.jpg?openid=oUserA1B2C3', mediaType: null }] }), a);
    const json = JSON.stringify(t);
    for (const v of ['张三', '13812345678', '13912345678', '13712345678', '13612345678', 'oUserA1B2C3']) expect(json).not.toContain(v);
    expect(t.text).toBe('张*反映：门口井盖破损');
    expect(Object.keys(t.channelFields)).toEqual(['attr.137xxxx5678']);
  });
});
