import { sign } from '../sdk/signature';

export const TEST_SECRET = 'whsec_' + Buffer.from('intake-hub-test-secret-0123456789').toString('base64');

/** Headers for a Standard Webhooks request, as an app gateway would send them. */
export function signedHeaders(body: Buffer, opts: { secret?: string; id?: string; timestampSec?: number; contentType?: string } = {}): Record<string, string> {
  const id = opts.id ?? `msg_${Math.random().toString(36).slice(2)}`;
  const ts = opts.timestampSec ?? Math.floor(Date.now() / 1000);
  return {
    'content-type': opts.contentType ?? 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': sign(opts.secret ?? TEST_SECRET, id, ts, body),
  };
}

/** A valid resident-app report with the given id. */
export function residentReport(i: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    reportId: `RA-T-${String(i).padStart(6, '0')}`,
    openid: `oTestUser${i % 97}`,
    phone: `138${String(10000000 + i).slice(-8)}`,
    nickname: '张三',
    appealType: '投诉',
    category: '市政设施',
    text: `第${i}号测试：幸福小区${i % 50}栋门口的井盖破损，请尽快维修。联系电话13812345678。`,
    photos: [`https://img.example.cn/t/${i}.jpg`],
    location: { lng: 117.2845 + (i % 100) * 1e-4, lat: 31.7406, coordType: 'gcj02', address: `包河区幸福小区${i % 50}栋`, district: '包河区' },
    submittedAt: '2026-11-20T08:00:00+08:00',
    ...overrides,
  };
}
