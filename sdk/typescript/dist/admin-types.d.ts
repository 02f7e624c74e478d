/**
 * Types of the admin API, `/v7/{projectId}/admin/...` (docs/ADMIN.md). They mirror
 * `crates/latchkey-proto/src/admin.rs`, the server's own wire types.
 */
import type { AuthUser, LocationInput, Role } from "./types";
/** An instant: an ISO 8601 string (`2025-01-31T12:00:00.000Z`) or a `Date`. */
export type Instant = string | Date;
/** A suspension as listed in an `AdminUser`'s `suspensions`. */
export interface AdminSuspension {
    id: string;
    reason: string;
    /** ISO 8601. */
    startsAt: string;
    /** ISO 8601; `null` for a suspension without an end. */
    endsAt: string | null;
    /** Who suspended: `apiKey:<id>` or `cli`. */
    createdBy: string;
}
/** The admin view of a user: the API's `user` object plus what only an operator sees. */
export interface AdminUser extends Omit<AuthUser, "suspensions"> {
    /** Only the admin API returns it. */
    secureMetadata: Record<string, unknown>;
    /** True while a suspension is in force (sign-in then fails with `auth/user-suspended`). */
    isSuspended: boolean;
    /** Suspensions in force or still to end, newest first. */
    suspensions: AdminSuspension[];
    /** True when the user has a password (the hash itself is never returned). */
    hasPassword: boolean;
}
/** One page of a list: `nextCursor` is `null` on the last page. */
export interface UserPage {
    users: AdminUser[];
    nextCursor: string | null;
}
export type UserStatus = "active" | "suspended";
/** `admin.users.list` / `iterate` filters; all combine with AND. */
export interface UserListQuery {
    /** Page size, 1 to 1000 (server default 100). */
    limit?: number;
    /** A `nextCursor` from the previous page. */
    cursor?: string;
    /** Email prefix (case-insensitive). */
    email?: string;
    /** Username prefix (case-insensitive). */
    username?: string;
    verified?: boolean;
    /** `active` (no suspension in force) or `suspended`. */
    status?: UserStatus;
    foreignId?: string;
    /** Inclusive. */
    createdAfter?: Instant;
    /** Exclusive. */
    createdBefore?: Instant;
}
export interface CreateUserParams {
    email: string;
    /** Optional: without one the user signs in by a reset link or as an external user. */
    password?: string;
    username?: string;
    name?: string;
    avatar?: string;
    bio?: string;
    birthdate?: string;
    location?: LocationInput;
    /** Default `visitor`. */
    role?: Role;
    foreignId?: string;
    metadata?: Record<string, unknown>;
    secureMetadata?: Record<string, unknown>;
    /** Default false. */
    emailVerified?: boolean;
}
/** Only the fields present change; `null` clears a profile field. */
export interface UpdateUserParams {
    /** A changed email becomes unverified. */
    email?: string;
    /** With a changed email: queue a verification email to the new address. */
    sendVerification?: boolean;
    username?: string | null;
    name?: string | null;
    avatar?: string | null;
    bio?: string | null;
    birthdate?: string | null;
    location?: LocationInput | null;
    role?: Role;
    /** Replaces the whole object. */
    metadata?: Record<string, unknown>;
    /** Replaces the whole object. */
    secureMetadata?: Record<string, unknown>;
    emailVerified?: boolean;
    /** False disables the account (its sessions are revoked); true enables it again. */
    isActive?: boolean;
}
export interface SuspendUserParams {
    /** 1 to 500 characters; shown to operators, never to the user. */
    reason: string;
    /** In the future; omit for a suspension without an end. */
    endsAt?: Instant;
}
export interface SetPasswordParams {
    password: string;
}
export type LinkKind = "password-reset" | "email-verification";
/** `email`: queue the usual email (resolves to `undefined`); `return`: hand the link back, send nothing. */
export type LinkDelivery = "email" | "return";
export interface IssueLinkParams<D extends LinkDelivery = LinkDelivery> {
    kind: LinkKind;
    delivery: D;
}
/** A link issued with `delivery: "return"`. */
export interface IssuedLink {
    /** The page link (the project's page URL, or the hosted page), token included. */
    url: string;
    /** The bare token, for a page of your own. */
    token: string;
    expiresAt: string;
}
/** How a session began (`unknown` for sessions older than the record, or a newer method). */
export type SessionMethod = "sign-up" | "password" | "external" | "unknown";
/** One live session of a user. */
export interface SessionInfo {
    id: string;
    createdAt: string;
    lastRefreshedAt: string;
    expiresAt: string;
    generation: number;
    method: SessionMethod;
}
export interface RevokedSessions {
    /** How many live sessions were ended. */
    revoked: number;
}
export interface AdminProject {
    id: string;
    name: string;
    /** Seconds. */
    accessTokenTtl: number;
    /** Seconds. */
    refreshTokenTtl: number;
    /** The hosted pages' "Back to <name>" link; `null`: no link. */
    appUrl: string | null;
    createdAt: string;
}
/** One access-token signing key. */
export interface SigningKeyInfo {
    kid: string;
    createdAt: string;
    /** `null` for the key that signs new tokens. */
    retiredAt: string | null;
    /** When a retired key leaves the JWKS (the last token it signed has expired by then). */
    publishedUntil: string | null;
    /** True for the key that signs new tokens. */
    active: boolean;
}
export interface RotateSigningKeyParams {
    /** Rotate even though the next key was published too recently (an emergency: a leaked key). */
    force?: boolean;
}
/** One audit-trail record. Never holds a secret. */
export interface AuditEvent {
    id: string;
    /** ISO 8601. */
    at: string;
    projectId: string;
    /** `apiKey:<id>`, `cli`, or `system` (security events of the auth flows). */
    actor: string;
    /** For example `user.suspended`, `sign-in.failed` (docs/ADMIN.md lists them all). */
    action: string;
    userId: string | null;
    requestId: string | null;
    /** Action-specific facts (changed field names, a reason, a kid); never a secret. */
    details: Record<string, unknown>;
}
/** One page of the audit trail, newest first; `nextCursor` is `null` on the last page. */
export interface AuditPage {
    events: AuditEvent[];
    nextCursor: string | null;
}
/** `admin.audit.list` / `iterate` filters; all combine with AND. */
export interface AuditQuery {
    /** Page size, 1 to 1000 (server default 100). */
    limit?: number;
    cursor?: string;
    userId?: string;
    /** An exact action, or a prefix ending in `.` (`user.`). */
    action?: string;
    /** `apiKey:<id>`, `cli` or `system`. */
    actor?: string;
    /** Inclusive. */
    after?: Instant;
    /** Exclusive. */
    before?: Instant;
}
