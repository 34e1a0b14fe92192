import type { RecordLog } from '../outputs/output';
import type { AuditRecord } from '../schema/types.generated';
import { validateAuditRecord } from '../schema/validators';
import { formatAjvErrors } from '../schema/ajv';

export type { AuditRecord };
export type AuditAction = AuditRecord['action'];
export type AuditOutcome = AuditRecord['outcome'];

/** The topic audit records go to (Kafka and the embedded log). */
export const AUDIT_TOPIC = 'intake.audit.v1';

/**
 * Where audit records go. `write` resolves once the record is durable (or rejects): the admin
 * plane writes the record of an action before it answers the request, so an answered action has
 * its record. Records validate against schemas/audit.v1.schema.json and carry no token and no
 * personal data.
 */
export interface AuditSink {
  write(record: AuditRecord): Promise<void>;
}

/** Keeps records in memory, for tests and for a hub without an output. */
export class MemoryAuditSink implements AuditSink {
  readonly records: AuditRecord[] = [];

  async write(record: AuditRecord): Promise<void> {
    assertValid(record);
    this.records.push(record);
  }
}

/**
 * Writes records to `intake.audit.v1` on the hub's output (Kafka, or the embedded log), keyed by
 * the token id so one caller's actions stay ordered.
 */
export class OutputAuditSink implements AuditSink {
  constructor(
    private readonly log: RecordLog,
    private readonly topic = AUDIT_TOPIC,
  ) {}

  async write(record: AuditRecord): Promise<void> {
    assertValid(record);
    // one partition: the audit trail of the whole fleet in one order
    await this.log.write([{ topic: this.topic, partition: 0, key: record.actor.tokenId ?? '-', value: JSON.stringify(record), headers: { 'intake-schema': 'audit/v1', 'content-type': 'application/json' } }]);
  }
}

function assertValid(record: AuditRecord): void {
  if (!validateAuditRecord(record)) throw new Error(`invalid audit record: ${formatAjvErrors(validateAuditRecord.errors, '/audit')}`);
}
