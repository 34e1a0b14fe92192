import type { FastifyInstance } from 'fastify';
import type { Clock } from '../clock';
import type { Output } from '../outputs/output';
import { TOPICS } from '../outputs/topics';
import type { RawSealer } from '../pii/raw-seal';
import type { DeadLetter } from '../schema/types';
import type { RawInput, SubmitResult } from '../sdk/connector';

export interface DeadLetterDeps {
  output: Output;
  sealer: RawSealer | null;
  clock: Clock;
  /** Submits a raw report through a connector's pipeline (no transport checks). */
  submitAs(connectorId: string, raw: RawInput, replayOf: string): Promise<SubmitResult>;
}

const MAX_LIMIT = 500;
const notFound = (message: string) => ({ error: { code: 'INTAKE_ERR_NOT_FOUND', message, retriable: false } });

/**
 * Operators' dead-letter API: browse recent rejections, and replay one after a fix (a corrected
 * mapping or catalog, a bug fixed in a stage): its archived raw bytes go through the connector's
 * pipeline again, so an accepted replay makes a ticket exactly as the original delivery would have.
 * A replay that fails again writes a new dead letter whose `replayOf` names the original.
 */
export function installDeadLetterRoutes(app: FastifyInstance, d: DeadLetterDeps): void {
  const scan = async (sinceHours: number, keep: (dl: DeadLetter) => boolean, limit: number): Promise<DeadLetter[]> => {
    const found: DeadLetter[] = [];
    await d.output.scan(TOPICS.dlq, d.clock.now() - sinceHours * 3600_000, (r) => {
      const dl = JSON.parse(r.value) as DeadLetter;
      if (keep(dl)) {
        found.push(dl);
        if (found.length > limit) found.shift();
      }
    });
    return found;
  };

  app.get<{ Querystring: { connector?: string; limit?: string; sinceHours?: string } }>('/api/deadletters', async (req) => {
    const limit = Math.min(Math.max(Number(req.query.limit ?? 50) || 50, 1), MAX_LIMIT);
    const sinceHours = Math.min(Math.max(Number(req.query.sinceHours ?? 168) || 168, 1), 24 * 365);
    const connector = req.query.connector;
    const items = await scan(sinceHours, (dl) => connector === undefined || dl.connectorId === connector, limit);
    return {
      deadLetters: items.reverse().map((dl) => ({
        id: dl.id,
        at: dl.at,
        connectorId: dl.connectorId,
        channel: dl.channel,
        stage: dl.stage,
        error: dl.error,
        replayOf: dl.replayOf,
        contentType: dl.raw.contentType,
        sealed: dl.raw.bodyEncryption !== undefined,
      })),
    };
  });

  app.post<{ Params: { id: string }; Querystring: { sinceHours?: string } }>('/api/deadletters/:id/replay', async (req, reply) => {
    const sinceHours = Math.min(Math.max(Number(req.query.sinceHours ?? 24 * 30) || 720, 1), 24 * 365);
    const [dl] = await scan(sinceHours, (x) => x.id === req.params.id, 1);
    if (!dl) return reply.code(404).send(notFound(`no dead letter ${req.params.id} in the last ${sinceHours} h`));
    if (dl.raw.bodyEncryption && !d.sealer) return reply.code(409).send({ error: { code: 'INTAKE_ERR_CONFIG', message: 'the record is sealed and no raw key is configured', retriable: false } });
    const body = d.sealer ? d.sealer.open(dl.raw) : Buffer.from(dl.raw.body, 'base64');
    const r = await d.submitAs(dl.connectorId, { transport: 'replay', body, contentType: dl.raw.contentType, headers: Object.fromEntries(Object.entries(dl.raw.headers).filter((e): e is [string, string] => e[1] !== undefined)), sourceId: dl.raw.sourceId }, dl.id);
    if (r.outcome === 'rejected') return reply.code(422).send({ outcome: 'rejected', error: r.error.toJSON(), deadLetterId: r.deadLetterId });
    return { outcome: r.outcome, ticketId: r.ticketId };
  });
}
