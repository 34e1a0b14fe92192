import { maskText } from './pii/mask';

/**
 * One base error with a stable code, a retriable flag and a cause. A duplicate is an outcome, not an
 * error. `retriable` tells transports what to do: a retriable error means "the hub could not make
 * this durable now, try again" (HTTP 503 + Retry-After, NATS nak, poller keeps its cursor); a
 * non-retriable error means "this input is bad": it is dead-lettered and the source is answered
 * (HTTP 4xx, NATS ack, poller advances).
 *
 * Messages and data paths name the field and the rule broken, never the value sent. As a second
 * line, both are masked at construction (core/pii/mask.ts): whatever reaches a dead letter, a 4xx
 * body or a log line through an IntakeError carries no phone, ID number, e-mail or name in clear.
 */
export type IntakeErrorCode =
  | 'INTAKE_ERR_CONFIG'
  | 'INTAKE_ERR_PAYLOAD_INVALID'
  | 'INTAKE_ERR_PAYLOAD_TOO_LARGE'
  | 'INTAKE_ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'INTAKE_ERR_BAD_ENCODING'
  | 'INTAKE_ERR_SIGNATURE'
  | 'INTAKE_ERR_STALE'
  | 'INTAKE_ERR_TICKET_INVALID'
  | 'INTAKE_ERR_UPSTREAM'
  | 'INTAKE_ERR_CIRCUIT_OPEN'
  | 'INTAKE_ERR_SINK_UNAVAILABLE'
  | 'INTAKE_ERR_NOT_FOUND'
  /** Admin API: no valid bearer token (401). */
  | 'INTAKE_ERR_UNAUTHORIZED'
  /** Admin API: the token's role may not do this (403). */
  | 'INTAKE_ERR_FORBIDDEN'
  /** A dead letter refused at transport or auth: replay would bypass the checks it failed (409). */
  | 'INTAKE_ERR_NOT_REPLAYABLE'
  /** Per-client request rate limit exceeded (429). */
  | 'INTAKE_ERR_RATE_LIMITED'
  /** Connection refused by the total or per-client connection cap (503, connection closed). */
  | 'INTAKE_ERR_CONNECTION_LIMIT'
  /** Not an error but an outcome: a hand-over the hub refused by policy (110 police matter, 退回), recorded in the dead-letter topic. */
  | 'INTAKE_ERR_BOUNCED'
  | 'INTAKE_ERR_INTERNAL';

export interface IntakeErrorOptions {
  cause?: unknown;
  dataPath?: string | null;
  httpStatus?: number;
}

export class IntakeError extends Error {
  readonly code: IntakeErrorCode;
  readonly retriable: boolean;
  readonly dataPath: string | null;
  readonly httpStatus: number;

  constructor(code: IntakeErrorCode, message: string, retriable: boolean, opts: IntakeErrorOptions = {}) {
    super(maskText(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = retriable;
    this.dataPath = opts.dataPath == null ? null : maskText(opts.dataPath);
    this.httpStatus = opts.httpStatus ?? (retriable ? 503 : 400);
  }

  toJSON(): { code: string; message: string; dataPath: string | null; retriable: boolean } {
    return { code: this.code, message: this.message, dataPath: this.dataPath, retriable: this.retriable };
  }
}

/** Invalid configuration (hub.yaml, connector config, catalog). Names the data path. */
export class ConfigError extends IntakeError {
  constructor(message: string, opts: IntakeErrorOptions = {}) {
    super('INTAKE_ERR_CONFIG', message, false, opts);
  }
}

/** Bad input from a source: dead-lettered, answered with a 4xx, never retried as is. */
export class PayloadError extends IntakeError {
  constructor(
    code: Extract<IntakeErrorCode, 'INTAKE_ERR_PAYLOAD_INVALID' | 'INTAKE_ERR_PAYLOAD_TOO_LARGE' | 'INTAKE_ERR_UNSUPPORTED_MEDIA_TYPE' | 'INTAKE_ERR_BAD_ENCODING' | 'INTAKE_ERR_SIGNATURE' | 'INTAKE_ERR_STALE' | 'INTAKE_ERR_TICKET_INVALID'>,
    message: string,
    opts: IntakeErrorOptions = {},
  ) {
    const status: Record<string, number> = {
      INTAKE_ERR_PAYLOAD_TOO_LARGE: 413,
      INTAKE_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
      INTAKE_ERR_SIGNATURE: 401,
      INTAKE_ERR_STALE: 401,
    };
    super(code, message, false, { httpStatus: status[code] ?? 400, ...opts });
  }
}

/** A pulled upstream failed (5xx, timeout, oversized body). Retriable. */
export class UpstreamError extends IntakeError {
  constructor(message: string, opts: IntakeErrorOptions = {}) {
    super('INTAKE_ERR_UPSTREAM', message, true, { httpStatus: 502, ...opts });
  }
}

/** The circuit breaker in front of an upstream is open. Retriable after its reset timeout. */
export class CircuitOpenError extends IntakeError {
  constructor(message: string, opts: IntakeErrorOptions = {}) {
    super('INTAKE_ERR_CIRCUIT_OPEN', message, true, { httpStatus: 503, ...opts });
  }
}

/** The output (Kafka or the embedded log) could not make a write durable. Retriable. */
export class SinkError extends IntakeError {
  constructor(message: string, opts: IntakeErrorOptions = {}) {
    super('INTAKE_ERR_SINK_UNAVAILABLE', message, true, { httpStatus: 503, ...opts });
  }
}

export function isIntakeError(e: unknown): e is IntakeError {
  return e instanceof IntakeError;
}
