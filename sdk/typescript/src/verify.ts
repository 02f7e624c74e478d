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

import { createPublicKey, verify as verifyEd25519, type KeyObject } from "node:crypto";

import { LatchkeyError, LatchkeyTokenError, type TokenErrorCode } from "./errors";
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

export const DEFAULT_CLOCK_SKEW_SEC = 60;
export const MAX_CLOCK_SKEW_SEC = 60;
export const DEFAULT_JWKS_TTL_MS = 5 * 60_000;
export const DEFAULT_JWKS_MIN_REFETCH_INTERVAL_MS = 30_000;
/** Longer than any access token Latchkey mints; bounds the work a hostile string can cause. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** A JWK Set of a few Ed25519 keys is well under this. */
const MAX_JWKS_LENGTH = 1024 * 1024;
/** Header members that would let the token choose its own key. */
const FORBIDDEN_HEADER_MEMBERS = ["jwk", "jku", "x5u", "x5c", "crit"] as const;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function refuse(code: TokenErrorCode, message: string, cause?: unknown): never {
  throw new LatchkeyTokenError(code, message, cause === undefined ? undefined : { cause });
}

function invalidArgument(message: string): LatchkeyError {
  return new LatchkeyError({ status: 0, code: "client/invalid-argument", error: message });
}

/** Strict base64url: no padding, no stray characters, and the canonical encoding of its bytes. */
function decodeSegment(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment)) return undefined;
  const bytes = Buffer.from(segment, "base64url");
  return bytes.toString("base64url") === segment ? bytes : undefined;
}

function jsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

interface KeySet {
  keys: Map<string, KeyObject>;
  /** `performance.now()` of the fetch. */
  fetchedAt: number;
}

/** The project's public keys by `kid`, fetched on demand and cached. */
class JwksCache {
  readonly #url: string;
  readonly #fetch: typeof globalThis.fetch;
  readonly #timeoutMs: number;
  readonly #ttlMs: number;
  readonly #minRefetchMs: number;
  #current: KeySet | undefined;
  /** When the last fetch started (successful or not). */
  #lastFetch: number | undefined;
  /** Serialises the slow path, so concurrent misses share one fetch. */
  #queue: Promise<unknown> = Promise.resolve();
  fetches = 0;

  constructor(url: string, fetchImpl: typeof globalThis.fetch, timeoutMs: number, ttlMs: number, minRefetchMs: number) {
    this.#url = url;
    this.#fetch = fetchImpl;
    this.#timeoutMs = timeoutMs;
    this.#ttlMs = ttlMs;
    this.#minRefetchMs = minRefetchMs;
  }

  #fresh(set: KeySet | undefined): set is KeySet {
    return set !== undefined && performance.now() - set.fetchedAt < this.#ttlMs;
  }

  async key(kid: string): Promise<KeyObject> {
    const hit = this.#fresh(this.#current) ? this.#current.keys.get(kid) : undefined;
    if (hit !== undefined) return hit;
    const slow = this.#queue.then(() => this.#slowKey(kid));
    this.#queue = slow.catch(() => undefined);
    return slow;
  }

  async #slowKey(kid: string): Promise<KeyObject> {
    // Another caller may have fetched while this one waited.
    const set = this.#current;
    if (this.#fresh(set)) {
      const key = set.keys.get(kid);
      if (key !== undefined) return key;
    }
    // Fetch when there is no set yet, when the set has outlived its lifetime (once: a failed
    // refetch is not retried on every call), or for an unknown kid, each at most once per
    // interval.
    const sinceLast = this.#lastFetch === undefined ? Infinity : performance.now() - this.#lastFetch;
    const failedSince = set !== undefined && this.#lastFetch !== undefined && this.#lastFetch > set.fetchedAt;
    const due = set === undefined || sinceLast >= this.#minRefetchMs || (!this.#fresh(set) && !failedSince);
    let current = set;
    if (due) {
      this.#lastFetch = performance.now();
      try {
        current = await this.#load();
        this.#current = current;
      } catch (e) {
        // Keep serving from the stale set while the server is briefly unreachable.
        if (set === undefined) throw e;
      }
    }
    const key = current?.keys.get(kid);
    if (key === undefined) refuse("token/unknown-kid", `no key with kid ${shown(kid)} in the project's JWKS`);
    return key;
  }

  async #load(): Promise<KeySet> {
    this.fetches += 1;
    const unavailable = (why: string, cause?: unknown): never =>
      refuse("token/jwks-unavailable", `cannot load the JWKS from ${this.#url}: ${why}`, cause);
    const controller = new AbortController();
    const timer = this.#timeoutMs > 0 ? setTimeout(() => controller.abort(), this.#timeoutMs) : undefined;
    let text: string;
    let status: number;
    try {
      const response = await this.#fetch(this.#url, {
        headers: { Accept: "application/json" },
        signal: controller.signal,
        redirect: "error",
      });
      status = response.status;
      text = await response.text();
    } catch (cause) {
      return unavailable(controller.signal.aborted ? `timed out after ${this.#timeoutMs} ms` : describe(cause), cause);
    } finally {
      clearTimeout(timer);
    }
    if (status < 200 || status > 299) return unavailable(`HTTP ${status}`);
    if (text.length > MAX_JWKS_LENGTH) return unavailable("the answer is too large");
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (cause) {
      return unavailable("the answer is not JSON", cause);
    }
    const entries = (doc as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(entries)) return unavailable("the answer is not a JWK Set");
    const keys = new Map<string, KeyObject>();
    for (const jwk of entries as unknown[]) {
      const key = ed25519Key(jwk);
      if (key !== undefined) keys.set(key.kid, key.key);
    }
    return { keys, fetchedAt: performance.now() };
  }
}

/** An Ed25519 signing key of the set, or undefined for anything else (other types are skipped). */
function ed25519Key(jwk: unknown): { kid: string; key: KeyObject } | undefined {
  if (typeof jwk !== "object" || jwk === null) return undefined;
  const { kty, crv, alg, use, kid, x } = jwk as Record<string, unknown>;
  if (kty !== "OKP" || crv !== "Ed25519") return undefined;
  if (alg !== undefined && alg !== "EdDSA") return undefined;
  if (use !== undefined && use !== "sig") return undefined;
  if (typeof kid !== "string" || kid === "" || typeof x !== "string") return undefined;
  if (decodeSegment(x)?.length !== 32) return undefined;
  try {
    return { kid, key: createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" }) };
  } catch {
    return undefined;
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as Error & { cause?: unknown }).cause;
    return inner instanceof Error ? `${cause.message} (${inner.message})` : cause.message;
  }
  return String(cause);
}

/**
 * Verifies a project's access tokens locally. Make one per project and keep it: it caches
 * the JWKS. Needs no API key (the JWKS is public).
 *
 * ```ts
 * const verifier = createAccessTokenVerifier({ baseUrl: "https://auth.example.com", projectId });
 * const claims = await verifier.verify(token); // throws LatchkeyTokenError
 * ```
 */
export class AccessTokenVerifier {
  readonly projectId: string;
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly clockSkewSec: number;
  readonly #jwks: JwksCache;
  readonly #now: () => number;

  constructor(options: AccessTokenVerifierOptions) {
    const what = "Latchkey access-token verifier";
    if (typeof options.baseUrl !== "string" || !/^https?:\/\/[^/]/i.test(options.baseUrl)) {
      throw invalidArgument(`${what}: baseUrl must be an http(s) URL, got ${JSON.stringify(options.baseUrl)}`);
    }
    if (typeof options.projectId !== "string" || options.projectId.trim() === "") {
      throw invalidArgument(`${what}: projectId is required`);
    }
    const baseUrl = options.baseUrl.replace(/\/+$/, "");
    const issuer = options.issuer ?? baseUrl;
    if (typeof issuer !== "string" || issuer === "")
      throw invalidArgument(`${what}: issuer must be a non-empty string`);
    const clockSkewSec = options.clockSkewSec ?? DEFAULT_CLOCK_SKEW_SEC;
    if (!Number.isFinite(clockSkewSec) || clockSkewSec < 0 || clockSkewSec > MAX_CLOCK_SKEW_SEC) {
      throw invalidArgument(`${what}: clockSkewSec must be between 0 and ${MAX_CLOCK_SKEW_SEC} seconds`);
    }
    const durations = {
      jwksTtlMs: options.jwksTtlMs ?? DEFAULT_JWKS_TTL_MS,
      jwksMinRefetchIntervalMs: options.jwksMinRefetchIntervalMs ?? DEFAULT_JWKS_MIN_REFETCH_INTERVAL_MS,
      timeoutMs: options.timeoutMs ?? 10_000,
    };
    for (const [name, value] of Object.entries(durations)) {
      if (!Number.isFinite(value) || value < 0) throw invalidArgument(`${what}: ${name} must be a non-negative number`);
    }
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== "function") {
      throw invalidArgument(`${what}: no global fetch (Node 18+ required) and none passed as \`fetch\``);
    }
    this.projectId = options.projectId;
    this.issuer = issuer;
    this.clockSkewSec = clockSkewSec;
    this.jwksUrl = `${baseUrl}/v7/${encodeURIComponent(options.projectId)}/.well-known/jwks.json`;
    this.#now = options.now ?? Date.now;
    this.#jwks = new JwksCache(
      this.jwksUrl,
      fetchImpl,
      durations.timeoutMs,
      durations.jwksTtlMs,
      durations.jwksMinRefetchIntervalMs,
    );
  }

  /** How many times this verifier has fetched the JWKS (for metrics and tests). */
  get jwksFetchCount(): number {
    return this.#jwks.fetches;
  }

  /**
   * The claims of `token` if it is a live access token of this project; otherwise rejects
   * with a `LatchkeyTokenError` (`token/expired`, `token/invalid-signature`, ...).
   */
  async verify(token: string): Promise<AccessTokenClaims> {
    if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) {
      refuse("token/malformed", "not a JWT (a string of at most 16 KiB)");
    }
    const parts = token.split(".");
    if (parts.length !== 3) refuse("token/malformed", "not a JWT (three dot-separated parts)");
    const [headerPart = "", payloadPart = "", signaturePart = ""] = parts;
    const headerBytes = decodeSegment(headerPart);
    const header = headerBytes === undefined ? undefined : jsonObject(headerBytes);
    if (header === undefined) refuse("token/malformed", "the header is not base64url JSON");

    // The algorithm is pinned before any key is looked up: a refresh token (HS256) or an
    // `alg: none` token costs no JWKS fetch.
    if (header.alg !== "EdDSA") {
      refuse("token/unsupported-algorithm", `alg ${shown(header.alg)} is not accepted (only EdDSA)`);
    }
    for (const member of FORBIDDEN_HEADER_MEMBERS) {
      if (member in header) refuse("token/unsupported-header", `the header member ${member} is not accepted`);
    }
    const kid = header.kid;
    if (typeof kid !== "string" || kid === "") refuse("token/missing-kid", "the header has no kid");

    const signature = decodeSegment(signaturePart);
    const payloadBytes = decodeSegment(payloadPart);
    if (signature === undefined || payloadBytes === undefined) {
      refuse("token/malformed", "the payload or signature is not base64url");
    }
    const key = await this.#jwks.key(kid);
    let valid = false;
    if (signature.length === 64) {
      try {
        valid = verifyEd25519(null, Buffer.from(`${headerPart}.${payloadPart}`, "ascii"), key, signature);
      } catch {
        valid = false;
      }
    }
    if (!valid) refuse("token/invalid-signature", "the signature does not match");

    const claims = jsonObject(payloadBytes);
    if (claims === undefined) refuse("token/malformed", "the payload is not a JSON object");
    return this.#checkClaims(claims);
  }

  #checkClaims(claims: Record<string, unknown>): AccessTokenClaims {
    const { sub, projectId, sid, role, iss, aud, iat, exp, nbf } = claims;
    const number = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);
    // The registered claims first, so a refresh token signed by a trusted key would still be
    // refused for its audience, not for lacking `role`.
    if (!number(exp) || !number(iat) || (nbf !== undefined && !number(nbf))) {
      refuse("token/invalid-claims", "exp and iat must be numbers (and nbf, when present)");
    }
    if (typeof sub !== "string" || sub === "" || typeof iss !== "string") {
      refuse("token/invalid-claims", "sub and iss must be strings");
    }
    const now = this.#now() / 1000;
    const skew = this.clockSkewSec;
    if (exp + skew <= now) refuse("token/expired", `the token expired at ${new Date(exp * 1000).toISOString()}`);
    if (nbf !== undefined && nbf > now + skew) {
      refuse("token/not-yet-valid", `the token is not valid before ${new Date(nbf * 1000).toISOString()}`);
    }
    if (iat > now + skew) refuse("token/not-yet-valid", `the token was issued in the future (iat ${iat})`);
    if (aud !== this.projectId) refuse("token/wrong-audience", `aud ${shown(aud)} is not project ${this.projectId}`);
    if (iss !== this.issuer) refuse("token/wrong-issuer", `iss ${shown(iss)} is not ${shown(this.issuer)}`);
    if (typeof projectId !== "string" || typeof sid !== "string" || sid === "" || typeof role !== "string") {
      refuse("token/invalid-claims", "projectId, sid and role must be strings");
    }
    if (projectId !== this.projectId) {
      refuse("token/wrong-audience", `projectId ${shown(projectId)} is not ${this.projectId}`);
    }
    return { sub, projectId, sid, role: role as Role, iss, aud, iat, exp };
  }
}

/** A verifier of one project's access tokens (see `AccessTokenVerifier`). */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  return new AccessTokenVerifier(options);
}
