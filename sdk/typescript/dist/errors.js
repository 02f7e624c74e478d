"use strict";
/** The one error type the SDK throws. */
Object.defineProperty(exports, "__esModule", { value: true });
exports.LatchkeyTokenError = exports.LatchkeyError = void 0;
exports.isLatchkeyError = isLatchkeyError;
exports.isLatchkeyTokenError = isLatchkeyTokenError;
/**
 * A failed call. For API errors, `status` is the HTTP status and `code`, `error` and `field`
 * are the server's `{error, code, field}` body. For failures before a response (timeout,
 * abort, network), `status` is 0 and `code` starts with `client/`.
 */
class LatchkeyError extends Error {
    /** HTTP status, or 0 when no response was received. */
    status;
    /** Stable machine-readable code, e.g. `auth/invalid-credentials`, `DUPLICATE_EMAIL`, `client/timeout`. */
    code;
    /** The server's human-readable message (also `message`). */
    error;
    /** The request field at fault, when the server named one. */
    field;
    /** Seconds to wait before retrying (from `Retry-After` on 429/503). */
    retryAfter;
    constructor(init) {
        super(init.error, init.cause === undefined ? undefined : { cause: init.cause });
        this.name = "LatchkeyError";
        this.status = init.status;
        this.code = init.code;
        this.error = init.error;
        this.field = init.field;
        this.retryAfter = init.retryAfter;
    }
    toJSON() {
        return { name: this.name, status: this.status, code: this.code, error: this.error, field: this.field };
    }
}
exports.LatchkeyError = LatchkeyError;
function isLatchkeyError(value) {
    return value instanceof LatchkeyError;
}
/**
 * An access token refused by `verifyAccessToken`. Every code but `token/jwks-unavailable`
 * means the caller is not authenticated (answer 401); that one means the keys could not be
 * loaded (answer 503).
 */
class LatchkeyTokenError extends Error {
    code;
    constructor(code, message, options) {
        super(message, options?.cause === undefined ? undefined : { cause: options.cause });
        this.name = "LatchkeyTokenError";
        this.code = code;
    }
    toJSON() {
        return { name: this.name, code: this.code, message: this.message };
    }
}
exports.LatchkeyTokenError = LatchkeyTokenError;
function isLatchkeyTokenError(value) {
    return value instanceof LatchkeyTokenError;
}
//# sourceMappingURL=errors.js.map