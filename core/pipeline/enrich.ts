import { toWgs84 } from '../geo/coords';
import { contactToken, maskName, maskPhone, maskText } from '../pii/mask';
import type { CanonicalTicket, Channel } from '../schema/types';
import type { TicketDraft } from '../sdk/draft';

export const PIPELINE_VERSION = '1.0.0';

export interface AssembleInput {
  ticketId: string;
  channel: Channel;
  connectorId: string;
  receivedAt: number;
  rawTopic: string;
  envelopeId: string;
  sha256: string;
  tokenSecret: string;
  now: number;
}

const MAX_TEXT = 20000;
const MAX_TITLE = 300;

function clip(s: string | null, n: number): string | null {
  if (s == null) return null;
  const t = s.trim();
  if (t.length === 0) return null;
  return t.length > n ? t.slice(0, n) : t;
}

/**
 * The enrich stage: turns a connector's draft into a canonical ticket. This is the one place where
 * personal data is masked (names, phones, numbers inside the text, channel fields) and contact
 * tokens are computed, and where coordinates are converted to WGS-84. Pure: same input, same ticket.
 */
export function assembleTicket(d: TicketDraft, a: AssembleInput): CanonicalTicket {
  const r = d.reporter;
  const token = r.anonymous ? null : contactToken(a.tokenSecret, r.phone ? 'phone' : 'user', r.phone ?? r.userId);
  const point = d.location.point ? { ...toWgs84({ lon: d.location.point.lon, lat: d.location.point.lat }, d.location.point.crs), crs: 'WGS-84' as const, sourceCrs: d.location.point.crs } : null;
  const channelFields: CanonicalTicket['channelFields'] = {};
  for (const [k, v] of Object.entries(d.channelFields)) channelFields[k] = typeof v === 'string' ? maskText(v).slice(0, 1024) : (v ?? null);
  const text = maskText(d.text).slice(0, MAX_TEXT);
  return {
    schemaVersion: 'ticket/v1',
    id: a.ticketId,
    source: {
      channel: a.channel,
      connectorId: a.connectorId,
      sourceId: d.sourceId,
      receivedAt: new Date(a.receivedAt).toISOString(),
      occurredAt: d.occurredAt,
      rawRef: { topic: a.rawTopic, envelopeId: a.envelopeId, sha256: a.sha256 },
    },
    reporter: {
      nameMasked: r.anonymous ? null : maskName(r.name),
      phoneMasked: r.anonymous ? null : maskPhone(r.phone),
      contactToken: token,
      anonymous: r.anonymous,
      role: r.role,
    },
    title: clip(d.title === null ? null : maskText(d.title), MAX_TITLE),
    text,
    appealType: d.appealType,
    location: {
      address: clip(d.location.address === null ? null : maskText(d.location.address), 500),
      point,
      district: clip(d.location.district, 64),
      street: clip(d.location.street, 64),
      community: clip(d.location.community, 64),
      grid: clip(d.location.grid, 32),
    },
    channelCategory: d.channelCategory,
    classification: { catalogVersion: null, category: null, subcategory: null, confidence: 0, method: 'none', alternatives: [] },
    routing: { status: 'unrouted', department: null, coHandlers: [], jurisdiction: null, territorial: null, rule: null, reason: null, dueAt: null, priority: null },
    urgency: d.urgency,
    attachments: d.attachments.slice(0, 20),
    dedup: { key: dedupKey(a.channel, d.sourceId), duplicateOf: null, repeatOf: null, repeatCount: 0 },
    cluster: { id: null, role: 'none', score: null },
    channelFields,
    trace: { pipelineVersion: PIPELINE_VERSION, mappingVersion: d.mappingVersion, catalogVersion: null, stages: ['normalize', 'enrich'], processedAt: new Date(a.now).toISOString() },
  };
}

export function dedupKey(channel: Channel, sourceId: string): string {
  return `${channel}:${sourceId}`;
}
