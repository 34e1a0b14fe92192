import { PayloadError } from '../../core/errors';
import { lookup } from '../../core/sdk/tables';
import type { RawInput } from '../../core/sdk/connector';
import { compilePayloadSchema, decodeUtf8, parseJson } from '../../core/sdk/decode';
import type { TicketDraft } from '../../core/sdk/draft';
import { htmlToText } from '../../core/sdk/html';
import nativeSchema from './native.schema.json';

/** One leadership message-board post (see native.schema.json and docs/connectors/message-board.md). */
export interface BoardPost {
  tid: string;
  title: string;
  content: string;
  domainId?: string | null;
  domainName?: string | null;
  typeName: '投诉' | '求助' | '咨询' | '建言';
  toLeader?: string | null;
  province?: string | null;
  city?: string | null;
  county?: string | null;
  createdAt: number;
  uid?: string | null;
  nickName?: string | null;
  anonymous?: boolean | null;
  attachments?: string[];
  replyStatus?: string | null;
}

export const MAPPING_VERSION = 'message-board/1';
const parse = compilePayloadSchema<BoardPost>(nativeSchema as Record<string, unknown>);
const APPEAL: Record<string, TicketDraft['appealType']> = { 投诉: 'complaint', 求助: 'help', 咨询: 'consult', 建言: 'suggestion' };

function blank(s: string | null | undefined): string | null {
  if (s == null) return null;
  const t = s.trim();
  return t.length === 0 ? null : t;
}

/** Pure: one post → ticket draft. HTML in title and content is converted to text safely. */
export function normalizeBoardPost(raw: RawInput): TicketDraft {
  const p = parse(parseJson(decodeUtf8(raw.body)));
  const text = htmlToText(p.content, { maxOutputChars: 20000 });
  if (text.length === 0) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', '/content has no text once HTML is removed', { dataPath: '/content' });
  const title = htmlToText(p.title, { maxOutputChars: 300 }).replace(/\n/g, ' ');
  const anonymous = p.anonymous === true;
  const channelFields: TicketDraft['channelFields'] = {};
  if (blank(p.toLeader)) channelFields.addressee = blank(p.toLeader);
  if (blank(p.province)) channelFields.province = blank(p.province);
  if (blank(p.city)) channelFields.city = blank(p.city);
  if (blank(p.replyStatus)) channelFields.replyStatus = blank(p.replyStatus);
  const domainCode = blank(p.domainId) ?? blank(p.domainName);
  return {
    sourceId: p.tid,
    occurredAt: new Date(p.createdAt).toISOString(),
    reporter: { name: anonymous ? null : blank(p.nickName), phone: null, userId: anonymous ? null : blank(p.uid), anonymous, role: 'resident' },
    title: title.length > 0 ? title : null,
    text,
    appealType: lookup(APPEAL, p.typeName) ?? 'unknown',
    location: { address: null, point: null, district: blank(p.county), street: null, community: null, grid: null },
    channelCategory: domainCode ? { scheme: 'message-board-domain', code: domainCode, name: blank(p.domainName) } : null,
    urgency: 'normal',
    attachments: (p.attachments ?? []).map((url) => ({ kind: 'photo' as const, url, mediaType: null })),
    channelFields,
    mappingVersion: MAPPING_VERSION,
  };
}
