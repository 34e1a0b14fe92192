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
}
