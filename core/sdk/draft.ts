import type { CanonicalTicket, Crs } from '../schema/types';

/**
 * What a connector's pure `normalize` returns: the channel's report mapped onto canonical fields,
 * personal data still in the clear (masking and tokenising happen in one place, the enrich stage),
 * coordinates in their source datum (converted to WGS-84 by enrich).
 */
export interface TicketDraft {
  sourceId: string;
  occurredAt: string | null;
  reporter: {
    name: string | null;
    phone: string | null;
    /** Channel user id (openid, worker id) used for the contact token when there is no phone. */
    userId: string | null;
    anonymous: boolean;
    role: CanonicalTicket['reporter']['role'];
  };
  title: string | null;
  text: string;
  appealType: CanonicalTicket['appealType'];
  location: {
    address: string | null;
    point: { lon: number; lat: number; crs: Crs } | null;
    district: string | null;
    street: string | null;
    community: string | null;
    grid: string | null;
  };
  channelCategory: CanonicalTicket['channelCategory'];
  urgency: CanonicalTicket['urgency'];
  attachments: CanonicalTicket['attachments'];
  channelFields: CanonicalTicket['channelFields'];
  mappingVersion: string | null;
  /**
   * Source values that identify a person and must not be published as sent: the enrich stage
   * replaces them with keyed tokens (HMAC-SHA256 with `pii.tokenSecret`, core/pii/mask.ts
   * `tokenizeValue`). `sourceId`: the id is personal or derived from personal data (an openid or
   * phone used as report id, a hash of the request). `channelFields`: keys of `channelFields`
   * holding personal ids (a worker id, a device id). A source id that contains a phone, ID number
   * or e-mail address is tokenised even without this flag.
   */
  personal?: { sourceId?: boolean; channelFields?: string[] };
}
