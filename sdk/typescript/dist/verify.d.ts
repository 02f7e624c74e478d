/**
 * Local access-token verification against the project's JWKS, with `node:crypto` only.
 *
 * - Keys come from `{baseUrl}/v7/{projectId}/.well-known/jwks.json` on first use and are
 *   reused for `jwksTtlMs` (default 5 min, the server's `Cache-Control: max-age`).
 * - A `kid` not in the set triggers one refetch (a key rotation), at most once per
 *   `jwksMinRefetchIntervalMs` (default 30 s), so forged `kid`s cannot turn into requests.
 *   Concurrent misses wait for one fetch. A failed refetch keeps serving the stale set.
 * - Only EdDSA (Ed25519) is accepted, whatever the header says: refresh tokens are HS256 and
 *   carry the audience `latchkey:refresh:{projectId}`, so they are refused twice over. A
 *   header that brings its own key (`jwk`, `jku`, `x5u`, `x5c`) or `crit` is refused.
 * - `aud` and `projectId` must be the project, `iss` the issuer (default: the base URL), `exp`
 *   in the future and `nbf`/`iat` not in the future, each with at most 60 s of clock skew.
 */
import type { Role } from "./types";
/** The claims of a verified access token. */
export interface AccessTokenClaims {
    /** The user id. */
    sub: string;
    /** The project id (equal to `aud`). */
    projectId: string;
    /** The session id (ends with sign-out, password reset or an admin's revoke). */
    sid: string;
    /** The user's role in the project. */
    role: Role;
    /** The issuer: the server's public URL. */
    iss: string;
    /** The audience: the project id. */
    aud: string;
    /** Issued at, seconds since the epoch. */
    iat: number;
    /** Expires at, seconds since the epoch. */
    exp: number;
}
/** How access tokens are checked; every field has a default. */
export interface AccessTokenOptions {
    /** The expected `iss`: the server's `LATCHKEY_PUBLIC_URL` (default: `baseUrl`). */
    issuer?: string;
    /** Tolerated clock difference for `exp`, `nbf` and `iat`, in seconds: 0 to 60 (default 60). */
    clockSkewSec?: number;
    /** How long a fetched JWKS is used before it is fetched again, in ms (default 300000). */
    jwksTtlMs?: number;
    /** The least time between two JWKS fetches prompted by unknown `kid`s, in ms (default 30000). */
    jwksMinRefetchIntervalMs?: number;
    /** The current time in ms since the epoch (default `Date.now`); for tests. */
    now?: () => number;
}
export interface AccessTokenVerifierOptions extends AccessTokenOptions {
    /** Where Latchkey is served, e.g. `https://auth.example.com` (no `/v7`). */
    baseUrl: string;
    projectId: string;
    /** Timeout of a JWKS fetch in ms (default 10000; 0 disables). */
    timeoutMs?: number;
    /** A `fetch` implementation (default: the global one). */
    fetch?: typeof globalThis.fetch;
}
export declare const DEFAULT_CLOCK_SKEW_SEC = 60;
export declare const MAX_CLOCK_SKEW_SEC = 60;
export declare const DEFAULT_JWKS_TTL_MS: number;
export declare const DEFAULT_JWKS_MIN_REFETCH_INTERVAL_MS = 30000;
/**
 * Verifies a project's access tokens locally. Make one per project and keep it: it caches
 * the JWKS. Needs no API key (the JWKS is public).
 *
 * ```ts
 * const verifier = createAccessTokenVerifier({ baseUrl: "https://auth.example.com", projectId });
 * const claims = await verifier.verify(token); // throws LatchkeyTokenError
 * ```
 */
export declare class AccessTokenVerifier {
    #private;
    readonly projectId: string;
    readonly issuer: string;
    readonly jwksUrl: string;
    readonly clockSkewSec: number;
    constructor(options: AccessTokenVerifierOptions);
    /** How many times this verifier has fetched the JWKS (for metrics and tests). */
    get jwksFetchCount(): number;
    /**
     * The claims of `token` if it is a live access token of this project; otherwise rejects
     * with a `LatchkeyTokenError` (`token/expired`, `token/invalid-signature`, ...).
     */
    verify(token: string): Promise<AccessTokenClaims>;
}
/** A verifier of one project's access tokens (see `AccessTokenVerifier`). */
export declare function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier;
