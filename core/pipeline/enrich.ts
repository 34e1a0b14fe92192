import { toWgs84 } from '../geo/coords';
import { deterministicUlid } from '../ids';
import { NO_IDENTITY, contactToken, findIdentifiers, foldText, maskName, maskPhone, maskText, maskUrl, prepareIdentity, tokenizeValue, type Finding, type Identity } from '../pii/mask';
import type { CanonicalTicket, Channel } from '../schema/types';
import type { TicketDraft } from '../sdk/draft';

export const PIPELINE_VERSION = '1.0.0';

export interface AssembleInput {
  channel: Channel;
  connectorId: string;
  /** Namespace of the connector's source ids in the dedup key (the connector id unless configured). */
  dedupScope: string;
  /** When the hub received this delivery (epoch ms); also the ticket's `trace.processedAt`. */
  receivedAt: number;
  rawTopic: string;
  envelopeId: string;
  sha256: string;
  tokenSecret: string;
}

const MAX_TEXT = 20000;
const MAX_TITLE = 300;

function clip(s: string | null, n: number): string | null {
  if (s == null) return null;
  const t = s.trim();
  if (t.length === 0) return null;
  return t.length > n ? t.slice(0, n) : t;
}

// report numbers: digits, or a short letter prefix and digits ("J340111202611200001", a 110
// incident number, is region + date + sequence by design, like an ID number)
const REPORT_NUMBER = /^(?:[A-Za-z]{1,6}[-_]?)?\d{1,24}$/;
const PREFIXED_NUMBER_KINDS = new Set(['id18', 'id15', 'card', 'landline']);
const PLAIN_NUMBER_KINDS = new Set(['id15', 'card']);

/**
 * An ID-number-shaped part of a source id whose "birth date" is within a year before the report, or
 * after it, is a date-stamped report number (grid-worker `GW-510114-20261120-0001`: division +
 * date + sequence), not a person's ID number.
 */
function dateStamped(digits: string, occurredAt: string | null): boolean {
  if (occurredAt === null || digits.length < 14) return false;
  const born = Date.UTC(Number(digits.slice(6, 10)), Number(digits.slice(10, 12)) - 1, Number(digits.slice(12, 14)));
  return born >= Date.parse(occurredAt) - 366 * 86400_000;
}

/**
 * The source id as published (ticket `source.sourceId`, and inside `dedup.key`): the channel's id,
 * or a keyed token when it is personal: `draft.personal.sourceId`, or it holds a phone, ID number,
 * e-mail, plate, name… (a plain or letter-prefixed report number may look like an ID or card
 * number and stays, as does a date-stamped one). Deterministic for one secret, so exact dedup
 * keeps working; the pipeline computes the dedup key from this, never from the raw id.
 */
export function publishedSourceId(d: Pick<TicketDraft, 'sourceId' | 'personal' | 'occurredAt'>, tokenSecret: string): string {
  const exempt = REPORT_NUMBER.test(d.sourceId) ? (/^\d/.test(d.sourceId) ? PLAIN_NUMBER_KINDS : PREFIXED_NUMBER_KINDS) : null;
  const personal = (f: Finding): boolean => {
    if (exempt?.has(f.kind)) return false;
    if (f.kind === 'id18' && dateStamped(foldText(d.sourceId.slice(f.start, f.end)).replace(/\D/g, ''), d.occurredAt)) return false;
    return true;
  };
  if (d.personal?.sourceId || findIdentifiers(d.sourceId).some(personal)) return tokenizeValue(tokenSecret, 'source', d.sourceId);
  return d.sourceId;
}

/**
 * Masks a code-like value (grid, category code) like text, except a 15-digit unit-grid code
 * (6-digit division + street + community + grid), which the ID-number rule would take for a
 * legacy ID number.
 */
function maskCode(s: string, id: Identity): string {
  return /^[1-8]\d{14}$/.test(s) ? s : maskText(s, id);
}

/**
 * The enrich stage: turns a connector's draft into a canonical ticket. This is the one place where
 * personal data is masked and tokenised, and where coordinates are converted to WGS-84. Every field
 * that carries text or a source value goes through the masking engine (core/pii/mask.ts) with the
 * reporter's own name, phone and user id, so they are masked wherever they recur: text, title,
 * address, district/street/community, category names, channel fields, attachment URLs. Personal
 * source ids and channel fields become keyed tokens. Pure: same input, same ticket.
 *
 * The dedup key is built from the published (possibly tokenised) source id, never the raw one. The
 * ticket id is derived from the report itself — a ULID whose time is the source's own report time
 * (`occurredAt`, else this delivery's receipt time) and whose random part is a hash of the dedup
 * key — so every intake instance gives every delivery of one report the same id.
 */
export function assembleTicket(d: TicketDraft, a: AssembleInput): CanonicalTicket {
  const sourceId = publishedSourceId(d, a.tokenSecret);
  const key = dedupKey(a.dedupScope, sourceId);
  const ticketId = ticketIdFor(key, d.occurredAt, a.receivedAt);
  const r = d.reporter;
  const token = r.anonymous ? null : contactToken(a.tokenSecret, r.phone ? 'phone' : 'user', r.phone ?? r.userId);
  const id = r.name || r.phone || r.userId ? prepareIdentity({ names: [r.name], phones: [r.phone], ids: [r.userId] }) : NO_IDENTITY;
  const mask = (s: string | null): string | null => (s === null ? null : maskText(s, id));
  const point = d.location.point ? { ...toWgs84({ lon: d.location.point.lon, lat: d.location.point.lat }, d.location.point.crs), crs: 'WGS-84' as const, sourceCrs: d.location.point.crs } : null;
  const personalFields = new Set(d.personal?.channelFields ?? []);
  const channelFields: CanonicalTicket['channelFields'] = {};
  for (const [k, v] of Object.entries(d.channelFields)) {
    const key = maskText(k, id).replace(/\*/g, 'x').slice(0, 64);
    if (v == null || typeof v === 'boolean') channelFields[key] = v ?? null;
    else if (personalFields.has(k)) channelFields[key] = tokenizeValue(a.tokenSecret, `field:${k}`, String(v));
    else if (typeof v === 'number') {
      const s = String(v);
      const m = maskText(s, id);
      channelFields[key] = m === s ? v : m;
    } else channelFields[key] = maskText(v, id).slice(0, 1024);
  }
  const attachments: CanonicalTicket['attachments'] = [];
  for (const att of d.attachments.slice(0, 20)) {
    const url = maskUrl(att.url, id);
    if (url !== null && url.length <= 2048) attachments.push({ ...att, url, mediaType: att.mediaType == null ? null : clip(maskText(att.mediaType, id), 128) });
  }
  const cat = d.channelCategory;
  return {
    schemaVersion: 'ticket/v1',
    id: ticketId,
    source: {
      channel: a.channel,
      connectorId: a.connectorId,
      sourceId,
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
    title: clip(mask(d.title), MAX_TITLE),
    text: maskText(d.text, id).slice(0, MAX_TEXT),
    appealType: d.appealType,
    location: {
      address: clip(mask(d.location.address), 500),
      point,
      district: clip(mask(d.location.district), 64),
      street: clip(mask(d.location.street), 64),
      community: clip(mask(d.location.community), 64),
      grid: clip(d.location.grid === null ? null : maskCode(d.location.grid, id), 32),
    },
    channelCategory: cat ? { scheme: cat.scheme, code: maskCode(cat.code, id).slice(0, 64), name: cat.name === null ? null : clip(maskText(cat.name, id), 128) } : null,
    classification: { catalogVersion: null, category: null, subcategory: null, confidence: 0, method: 'none', alternatives: [] },
    routing: { status: 'unrouted', department: null, coHandlers: [], jurisdiction: null, territorial: null, rule: null, reason: null, dueAt: null, priority: null },
    urgency: d.urgency,
    attachments,
    dedup: { key, duplicateOf: null, repeatOf: null, repeatCount: 0 },
    cluster: { id: null, role: 'none', score: null },
    channelFields,
    trace: { pipelineVersion: PIPELINE_VERSION, mappingVersion: d.mappingVersion, catalogVersion: null, stages: ['normalize', 'enrich'], processedAt: new Date(a.receivedAt).toISOString() },
  };
}

/**
 * The exact-dedup key: `<scope>:<source id>`, where the scope is the connector instance (or its
 * configured `dedupScope`), so two channels whose ids collide never answer each other's reports.
 */
export function dedupKey(scope: string, sourceId: string): string {
  return `${scope}:${sourceId}`;
}

const DAY = 24 * 3600 * 1000;

/** Deterministic ticket id (see `assembleTicket`). An implausible source time falls back to receipt. */
export function ticketIdFor(key: string, occurredAt: string | null, receivedAt: number): string {
  const t = occurredAt === null ? Number.NaN : Date.parse(occurredAt);
  const time = Number.isFinite(t) && t >= 0 && t <= receivedAt + DAY ? t : receivedAt;
  return deterministicUlid(time, key);
}
