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

/** Why `verifyAccessToken` refused a token (stable; match on these, not on the message). */
export type TokenErrorCode =
  /** Not a compact JWS: three base64url parts, a JSON header and payload, at most 16 KiB. */
  | "token/malformed"
  /** The header's `alg` is not `EdDSA` (`none`, `HS256` — every refresh token —, `RS256`, ...). */
  | "token/unsupported-algorithm"
  /** The header carries its own key or key location (`jwk`, `jku`, `x5u`, `x5c`) or `crit`. */
  | "token/unsupported-header"
  /** The header has no `kid`. */
  | "token/missing-kid"
  /** No key of the project's JWKS has this `kid`, even after a refetch. */
  | "token/unknown-kid"
  /** The signature does not match the header and payload under the key of its `kid`. */
  | "token/invalid-signature"
  /** `exp` has passed (beyond the clock skew). */
  | "token/expired"
  /** `nbf` or `iat` lies in the future (beyond the clock skew). */
  | "token/not-yet-valid"
  /** `aud` (or `projectId`) is not this project: another project's token, or a refresh token. */
  | "token/wrong-audience"
  /** `iss` is not the expected issuer (the server's `LATCHKEY_PUBLIC_URL`). */
  | "token/wrong-issuer"
  /** A claim an access token carries is missing or of the wrong type. */
  | "token/invalid-claims"
  /** The project's JWKS could not be fetched and no cached copy holds the key: answer 503, not 401. */
  | "token/jwks-unavailable";

/**
 * An access token refused by `verifyAccessToken`. Every code but `token/jwks-unavailable`
 * means the caller is not authenticated (answer 401); that one means the keys could not be
 * loaded (answer 503).
 */
export class LatchkeyTokenError extends Error {
  readonly code: TokenErrorCode;

  constructor(code: TokenErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LatchkeyTokenError";
    this.code = code;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message };
  }
}

export function isLatchkeyTokenError(value: unknown): value is LatchkeyTokenError {
  return value instanceof LatchkeyTokenError;
}
