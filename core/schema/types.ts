export type { CanonicalTicket, RawEnvelope, DeadLetter, ClusterEvent, Channel, Crs, CodeName } from './types.generated';
