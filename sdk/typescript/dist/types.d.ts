/** Types of the Latchkey wire API (docs/API.md), as the SDK exposes them. */
import type { AccessTokenOptions } from "./verify";
/** A user's role within a project. */
export type Role = "visitor" | "moderator" | "admin";
/** How a user can authenticate: with a password, through `verifyExternalUser`, or both. */
export type AuthMethod = "password" | "external";
/** GeoJSON point; `coordinates` is `[longitude, latitude]`. */
export interface GeoPoint {
    type: "Point";
    coordinates: [number, number];
}
/** A location as sent on sign-up. */
export interface LocationInput {
    latitude: number;
    longitude: number;
}
/** A suspension record (always `[]` in the current server). */
export type Suspension = Record<string, unknown>;
/**
 * The `user` object returned by sign-up, sign-in, token refresh and external verification.
 * Exactly the fields of API.md "Objects"; `null` where unset. `secureMetadata` is never returned.
 */
export interface AuthUser {
    id: string;
    projectId: string;
    foreignId: string | null;
    role: Role;
    email: string | null;
    name: string | null;
    username: string | null;
    avatar: string | null;
    bio: string | null;
    /** `YYYY-MM-DD`. */
    birthdate: string | null;
    location: GeoPoint | null;
    metadata: Record<string, unknown>;
    reputation: number;
    isVerified: boolean;
    isActive: boolean;
    /** ISO 8601. */
    lastActive: string | null;
    /** ISO 8601. */
    createdAt: string;
    /** ISO 8601. */
    updatedAt: string;
    suspensions: Suspension[];
    authMethods: AuthMethod[];
}
/** What sign-up, sign-in and verifyExternalUser resolve to. */
export interface Credentials {
    user: AuthUser;
    /** EdDSA JWT; verify it against `{baseUrl}/v7/{projectId}/.well-known/jwks.json`. */
    accessToken: string;
    /** Opaque to callers; exchange it with `requestNewAccessToken`. */
    refreshToken: string;
}
/**
 * What `requestNewAccessToken` resolves to: the seed's `{ accessToken }`, plus the rotated
 * `refreshToken` and the `user`. The refresh token ROTATES on every exchange: store the new
 * one and discard the old (replaying the old one after the server's grace window revokes
 * the session with `auth/token-reuse-detected`).
 */
export interface RefreshedCredentials {
    accessToken: string;
    refreshToken: string;
    user: AuthUser;
}
export interface SignUpParams {
    email: string;
    password: string;
    name?: string;
    username?: string;
    avatar?: string;
    bio?: string;
    /** ISO 8601 date or date-time. */
    birthdate?: string;
    location?: LocationInput;
    /** Arbitrary key-value data, returned with the user. */
    metadata?: Record<string, unknown>;
    /** Arbitrary key-value data that is stored but never returned by the auth routes. */
    secureMetadata?: Record<string, unknown>;
}
export interface SignInParams {
    email: string;
    password: string;
}
export interface RefreshTokenParams {
    refreshToken: string;
}
export interface VerifyExternalUserParams {
    /** A JWT signed (HS256) with the project's signing secret, with the user's identity claims. */
    userJwt: string;
}
export interface RequestPasswordResetParams {
    email: string;
}
export interface ResetPasswordParams {
    /** The token from the password-reset email link. */
    token: string;
    newPassword: string;
}
export interface VerifyEmailParams {
    /** The token from the verification email link. */
    token: string;
}
export interface SendVerificationEmailParams {
    userId: string;
}
export interface CheckUsernameParams {
    username: string;
}
export interface UsernameAvailability {
    available: boolean;
}
/** Per-call options, accepted as the last argument of every method. */
export interface CallOptions {
    /** Abort the request (rejects with `LatchkeyError` code `client/aborted`). */
    signal?: AbortSignal;
    /** Overrides the client's `timeoutMs` for this call (rejects with code `client/timeout`). */
    timeoutMs?: number;
}
export interface InitOptions {
    /** Where Latchkey is served, e.g. `https://auth.example.com` (no `/v7`). */
    baseUrl: string;
    projectId: string;
    /** The project's API key (`lk_…`). Server-side only: never ship it to a browser. */
    apiKey: string;
    /** Default per-request timeout in milliseconds (default 10000; 0 disables). */
    timeoutMs?: number;
    /** A `fetch` implementation (default: the global one). */
    fetch?: typeof globalThis.fetch;
    /** Abort or time out the init check itself. */
    signal?: AbortSignal;
    /** How `latchkey.verifyAccessToken` checks tokens (issuer, clock skew, JWKS cache). */
    accessTokens?: AccessTokenOptions;
}
