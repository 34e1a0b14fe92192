import type { AuditRecord, CanonicalTicket, ClusterEvent, DeadLetter, RawEnvelope } from './types.generated';
import { loadSchema, payloadAjv, type ValidateFunction } from './ajv';

const raw = loadSchema('raw-envelope.v1.schema.json');
payloadAjv.addSchema(raw);

/** Compiled validators for the hub's own records (the payload ajv: strict, first error). */
export const validateTicket = payloadAjv.compile<CanonicalTicket>(loadSchema('ticket.v1.schema.json')) as ValidateFunction<CanonicalTicket>;
export const validateRawEnvelope = payloadAjv.getSchema<RawEnvelope>(String(raw.$id)) as ValidateFunction<RawEnvelope>;
export const validateDeadLetter = payloadAjv.compile<DeadLetter>(loadSchema('dead-letter.v1.schema.json')) as ValidateFunction<DeadLetter>;
export const validateClusterEvent = payloadAjv.compile<ClusterEvent>(loadSchema('cluster-event.v1.schema.json')) as ValidateFunction<ClusterEvent>;
export const validateAuditRecord = payloadAjv.compile<AuditRecord>(loadSchema('audit.v1.schema.json')) as ValidateFunction<AuditRecord>;

export const SCHEMA_VERSIONS = {
  ticket: 'ticket/v1',
  raw: 'raw/v1',
  deadLetter: 'dead-letter/v1',
  clusterEvent: 'cluster-event/v1',
  audit: 'audit/v1',
} as const;
