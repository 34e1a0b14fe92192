import { createHash } from 'node:crypto';
import type { Clock } from '../clock';
import { IntakeError, PayloadError, SinkError, isIntakeError } from '../errors';
import { ulid, ulidTime } from '../ids';
import type { Logger } from '../logger';
import type { HubMetrics } from '../metrics';
import { HEADER, TOPICS } from '../outputs/topics';
import type { OutRecord, Output } from '../outputs/output';
import { firstErrorPath, formatAjvErrors } from '../schema/ajv';
import type { CanonicalTicket, Channel, DeadLetter, RawEnvelope } from '../schema/types';
import { validateTicket } from '../schema/validators';
import type { ConnectorSpec, RawInput, SubmitResult } from '../sdk/connector';
import type { TicketDraft } from '../sdk/draft';
import { DedupIndex } from './dedup-index';
import { assembleTicket, dedupKey } from './enrich';
import type { Stage, StageOutput } from './stage';
import type { RawSealer } from '../pii/raw-seal';

export interface PipelineDeps {
  output: Output;
  metrics: HubMetrics;
  clock: Clock;
  logger: Logger;
  tokenSecret: string;
  dedup: DedupIndex;
  /** Stages after exact dedup, in order: cluster, classify, route. */
  stages: Stage[];
  /** Seals raw bodies at rest (pii.rawKeyId); null keeps them in the clear. */
  rawSealer?: RawSealer | null;
}

/** Who is submitting: a configured connector instance. */
export interface Source {
  connectorId: string;
  channel: Channel;
  spec: ConnectorSpec<never>;
  config: unknown;
}

const DROP_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization', 'x-api-key']);
const MAX_HEADERS = 32;

/**
 * raw → normalize → enrich → validate → dedup → cluster → classify → route → publish.
 *
 * The whole result of one report (raw archive record + ticket + cluster events, or the dead-letter
 * record) is written in one durable batch, and `submit` resolves only after it is durable.
 */
export class Pipeline {
  constructor(private readonly d: PipelineDeps) {}

  envelope(src: Source, raw: RawInput, receivedAt: number, bodyLimitForArchive = Infinity): RawEnvelope {
    const headers: Record<string, string> = {};
    let n = 0;
    for (const [k, v] of Object.entries(raw.headers)) {
      const key = k.toLowerCase();
      if (DROP_HEADERS.has(key) || n >= MAX_HEADERS) continue;
      headers[key.slice(0, 64)] = String(v).slice(0, 1024);
      n++;
    }
    const body = raw.body.length > bodyLimitForArchive ? raw.body.subarray(0, bodyLimitForArchive) : raw.body;
    const sealed = this.d.rawSealer ? this.d.rawSealer.seal(body) : null;
    return {
      schemaVersion: 'raw/v1',
      id: ulid(receivedAt),
      connectorId: src.connectorId,
      channel: src.channel,
      transport: raw.transport,
      sourceId: raw.sourceId ? raw.sourceId.slice(0, 128) : null,
      receivedAt: new Date(receivedAt).toISOString(),
      contentType: raw.contentType.slice(0, 128),
      headers,
      body: sealed ? sealed.body : body.toString('base64'),
      ...(sealed ? { bodyEncryption: sealed.bodyEncryption } : {}),
      sha256: createHash('sha256').update(raw.body).digest('hex'),
    };
  }

  async submit(src: Source, raw: RawInput, opts: { replayOf?: string | null } = {}): Promise<SubmitResult> {
    const replayOf = opts.replayOf ?? null;
    const { metrics, clock } = this.d;
    const receivedAt = raw.receivedAt ?? clock.now();
    metrics.received.inc({ connector: src.connectorId, channel: src.channel });
    const env = this.envelope(src, raw, receivedAt);

    let draft: TicketDraft;
    try {
      draft = this.timed('normalize', () => src.spec.normalize(raw, src.config as never));
    } catch (e) {
      return this.deadLetter(src, env, asPayloadError(e), 'normalize', replayOf);
    }

    const key = dedupKey(src.channel, draft.sourceId);
    const claim = await this.d.dedup.claim(key, () => ulid(receivedAt), receivedAt);
    if (claim.kind === 'duplicate') {
      metrics.duplicates.inc({ channel: src.channel });
      return { outcome: 'duplicate', ticketId: claim.ticketId };
    }
    let committed = false;
    try {
      let ticket = this.timed('enrich', () =>
        assembleTicket(draft, {
          ticketId: claim.ticketId,
          channel: src.channel,
          connectorId: src.connectorId,
          receivedAt: ulidTime(claim.ticketId),
          rawTopic: TOPICS.raw,
          envelopeId: env.id,
          sha256: env.sha256,
          tokenSecret: this.d.tokenSecret,
          now: clock.now(),
        }),
      );
      const invalid = this.timed('validate', () => (validateTicket(ticket) ? null : validateTicket.errors));
      if (invalid) {
        const err = new PayloadError('INTAKE_ERR_TICKET_INVALID', `normalised ticket is invalid: ${formatAjvErrors(invalid, '/ticket')}`, { dataPath: firstErrorPath(invalid) });
        committed = true; // nothing for this key is pending: a corrected redelivery may try again
        this.d.dedup.forget(key);
        return await this.deadLetter(src, env, err, 'validate', replayOf);
      }
      ticket.trace.stages.push('validate', 'dedup');
      const out: StageOutput = { events: [] };
      try {
        for (const stage of this.d.stages) {
          const started = process.hrtime.bigint();
          ticket = await stage.run(ticket, out);
          metrics.stageDuration.observe({ stage: stage.name }, Number(process.hrtime.bigint() - started) / 1e9);
          ticket.trace.stages.push(stage.name);
        }
        this.assertPublishable(ticket);
      } catch (e) {
        if (e instanceof SinkError) throw e;
        // A stage failed on this report (a bug or an input it cannot handle): dead-letter it with
        // the raw bytes so it can be replayed after a fix; the connector keeps running.
        this.d.logger.error('pipeline stage failed', { connector: src.connectorId, err: e });
        committed = true;
        this.d.dedup.forget(key);
        const err = isIntakeError(e) ? e : new IntakeError('INTAKE_ERR_INTERNAL', `pipeline failed: ${e instanceof Error ? e.message : String(e)}`, false, { httpStatus: 500, cause: e });
        return await this.deadLetter(src, env, err, 'pipeline', replayOf);
      }
      await this.publish(src, env, ticket, out);
      committed = true;
      metrics.published.inc({ channel: src.channel });
      for (const ev of out.events) metrics.clusterEvents.inc({ type: ev.type });
      return { outcome: 'accepted', ticketId: ticket.id };
    } finally {
      claim.release(committed);
    }
  }

  private async publish(src: Source, env: RawEnvelope, ticket: CanonicalTicket, out: StageOutput): Promise<void> {
    const started = process.hrtime.bigint();
    const headers = { [HEADER.channel]: src.channel, [HEADER.connector]: src.connectorId };
    const records: OutRecord[] = [
      { topic: TOPICS.raw, key: ticket.dedup.key, value: JSON.stringify(env), headers: { ...headers, [HEADER.schema]: 'raw/v1' } },
      { topic: TOPICS.tickets, key: ticket.id, value: JSON.stringify(ticket), headers: { ...headers, [HEADER.schema]: 'ticket/v1', [HEADER.contentType]: 'application/json' } },
      ...out.events.map((ev) => ({ topic: TOPICS.clusters, key: ev.clusterId, value: JSON.stringify(ev), headers: { ...headers, [HEADER.schema]: 'cluster-event/v1', [HEADER.contentType]: 'application/json' } })),
    ];
    await this.d.output.write(records);
    this.d.metrics.stageDuration.observe({ stage: 'publish' }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  private assertPublishable(ticket: CanonicalTicket): void {
    ticket.trace.stages.push('publish');
    if (!validateTicket(ticket)) {
      // A stage produced an invalid ticket: a bug, not bad input. Never publish it.
      throw new IntakeError('INTAKE_ERR_INTERNAL', `pipeline produced an invalid ticket: ${formatAjvErrors(validateTicket.errors, '/ticket')}`, false, { httpStatus: 500 });
    }
  }

  /** Dead-letters a report rejected by the transport before normalisation. */
  async reject(src: Source, raw: RawInput, error: IntakeError, stage: DeadLetter['stage'], archiveLimit = 65536): Promise<string> {
    const receivedAt = raw.receivedAt ?? this.d.clock.now();
    this.d.metrics.received.inc({ connector: src.connectorId, channel: src.channel });
    const env = this.envelope(src, raw, receivedAt, archiveLimit);
    const r = await this.deadLetter(src, env, error, stage);
    return r.deadLetterId;
  }

  private async deadLetter(src: Source, env: RawEnvelope, error: IntakeError, stage: DeadLetter['stage'], replayOf: string | null = null): Promise<{ outcome: 'rejected'; error: IntakeError; deadLetterId: string }> {
    const dl: DeadLetter = {
      schemaVersion: 'dead-letter/v1',
      id: ulid(this.d.clock.now()),
      at: new Date(this.d.clock.now()).toISOString(),
      connectorId: src.connectorId,
      channel: src.channel,
      stage,
      error: { code: error.code, message: error.message.slice(0, 2000), dataPath: error.dataPath ? error.dataPath.slice(0, 500) : null, httpStatus: error.httpStatus },
      raw: env,
      replayOf,
    };
    await this.d.output.write([
      { topic: TOPICS.dlq, key: src.connectorId, value: JSON.stringify(dl), headers: { [HEADER.channel]: src.channel, [HEADER.connector]: src.connectorId, [HEADER.schema]: 'dead-letter/v1' } },
    ]);
    this.d.metrics.rejected.inc({ connector: src.connectorId, reason: error.code });
    return { outcome: 'rejected', error, deadLetterId: dl.id };
  }

  private timed<T>(stage: string, f: () => T): T {
    const started = process.hrtime.bigint();
    try {
      return f();
    } finally {
      this.d.metrics.stageDuration.observe({ stage }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
}

function asPayloadError(e: unknown): IntakeError {
  if (isIntakeError(e) && !e.retriable) return e;
  if (e instanceof SinkError) throw e;
  return new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', `normalize failed: ${e instanceof Error ? e.message : String(e)}`);
}
