/** The one error type the SDK throws. */

/** Codes produced by the SDK itself (the server's codes look like `auth/invalid-credentials`). */
export type ClientErrorCode =
  | "client/timeout"
  | "client/aborted"
  | "client/network-error"
  | "client/invalid-response"
  | "client/invalid-argument";

/**
 * A failed call. For API errors, `status` is the HTTP status and `code`, `error` and `field`
 * are the server's `{error, code, field}` body. For failures before a response (timeout,
 * abort, network), `status` is 0 and `code` starts with `client/`.
 */
export class LatchkeyError extends Error {
  /** HTTP status, or 0 when no response was received. */
  readonly status: number;
  /** Stable machine-readable code, e.g. `auth/invalid-credentials`, `DUPLICATE_EMAIL`, `client/timeout`. */
  readonly code: string;
  /** The server's human-readable message (also `message`). */
  readonly error: string;
  /** The request field at fault, when the server named one. */
  readonly field: string | undefined;
  /** Seconds to wait before retrying (from `Retry-After` on 429/503). */
  readonly retryAfter: number | undefined;

  constructor(init: {
    status: number;
    code: string;
    error: string;
    field?: string | undefined;
    retryAfter?: number | undefined;
    cause?: unknown;
  }) {
    super(init.error, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "LatchkeyError";
    this.status = init.status;
    this.code = init.code;
    this.error = init.error;
    this.field = init.field;
    this.retryAfter = init.retryAfter;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, status: this.status, code: this.code, error: this.error, field: this.field };
  }
}

export function isLatchkeyError(value: unknown): value is LatchkeyError {
  return value instanceof LatchkeyError;
}
