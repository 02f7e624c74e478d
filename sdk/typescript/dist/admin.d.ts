/**
 * `latchkey.admin`: the admin API, `/v7/{projectId}/admin/...` (docs/ADMIN.md). Every call
 * needs a key with the `admin` scope (`latchkey api-key create --project ID --scope admin`);
 * an `auth` key is refused with 403 `auth/insufficient-scope`.
 *
 * Lists come two ways: `list(query)` fetches ONE page (`{ users | events, nextCursor }`), and
 * `iterate(query)` is an async iterator over every item of every page from there on, fetching
 * the next page only when the previous one is used up.
 */
import type { AdminProject, AdminUser, AuditEvent, AuditPage, AuditQuery, CreateUserParams, IssuedLink, IssueLinkParams, RevokedSessions, RotateSigningKeyParams, SessionInfo, SetPasswordParams, SigningKeyInfo, SuspendUserParams, UpdateUserParams, UserListQuery, UserPage } from "./admin-types";
import type { Transport } from "./http";
import type { CallOptions } from "./types";
/** `latchkey.admin.users.sessions`: a user's live sessions. */
export declare class AdminSessionsModule {
    #private;
    constructor(http: Transport);
    /** The user's live sessions. Rejects with 404 `user/not-found`. */
    list(userId: string, options?: CallOptions): Promise<SessionInfo[]>;
    /** Ends one session. Rejects with 404 `session/not-found` (or `user/not-found`). */
    revoke(userId: string, sessionId: string, options?: CallOptions): Promise<void>;
    /** Signs the user out everywhere. */
    revokeAll(userId: string, options?: CallOptions): Promise<RevokedSessions>;
}
/** `latchkey.admin.users`. */
export declare class AdminUsersModule {
    #private;
    readonly sessions: AdminSessionsModule;
    constructor(http: Transport);
    /** One page of users, oldest first. Rejects with 400 `request/invalid-cursor`, 400 `auth/invalid-body` (`limit`). */
    list(query?: UserListQuery, options?: CallOptions): Promise<UserPage>;
    /** Every user matching `query`, page by page (`query.limit` is the page size). */
    iterate(query?: UserListQuery, options?: CallOptions): AsyncGenerator<AdminUser, void, undefined>;
    /** Rejects with 404 `user/not-found`. */
    get(userId: string, options?: CallOptions): Promise<AdminUser>;
    /** Rejects with 404 `user/not-found`. */
    getByEmail(email: string, options?: CallOptions): Promise<AdminUser>;
    /** The user linked to your own user id (`verifyExternalUser`'s `sub`). Rejects with 404 `user/not-found`. */
    getByForeignId(foreignId: string, options?: CallOptions): Promise<AdminUser>;
    /**
     * Rejects with 409 `DUPLICATE_EMAIL` / `DUPLICATE_USERNAME` / `auth/foreign-id-conflict`,
     * 400 `auth/weak-password`, `auth/invalid-body` (with `field`).
     */
    create(params: CreateUserParams, options?: CallOptions): Promise<AdminUser>;
    /** Changes only the fields present; `null` clears a profile field. */
    update(userId: string, params: UpdateUserParams, options?: CallOptions): Promise<AdminUser>;
    /** Suspends the user and revokes their sessions; sign-in then fails with 403 `auth/user-suspended`. */
    suspend(userId: string, params: SuspendUserParams, options?: CallOptions): Promise<AdminUser>;
    /** Lifts the suspensions in force. */
    unsuspend(userId: string, options?: CallOptions): Promise<AdminUser>;
    /** Erases the user and every row about them; the email and username become free. */
    delete(userId: string, options?: CallOptions): Promise<void>;
    /** Sets the password and revokes the user's sessions. Rejects with 400 `auth/weak-password`. */
    setPassword(userId: string, params: SetPasswordParams, options?: CallOptions): Promise<void>;
    /**
     * A password-reset or verification link: `delivery: "return"` resolves to the link (nothing
     * is sent); `delivery: "email"` queues the usual email and resolves to `undefined`.
     */
    issueLink(userId: string, params: IssueLinkParams<"return">, options?: CallOptions): Promise<IssuedLink>;
    issueLink(userId: string, params: IssueLinkParams<"email">, options?: CallOptions): Promise<void>;
    issueLink(userId: string, params: IssueLinkParams, options?: CallOptions): Promise<IssuedLink | void>;
    /** Clears the user's sign-in lockout. */
    unlock(userId: string, options?: CallOptions): Promise<void>;
}
/** `latchkey.admin.project`: the project's own settings. */
export declare class AdminProjectModule {
    #private;
    constructor(http: Transport);
    get(options?: CallOptions): Promise<AdminProject>;
    /** The name shown in emails and hosted pages, 1 to 100 characters. Rejects with 400 `auth/invalid-body`. */
    rename(name: string, options?: CallOptions): Promise<AdminProject>;
}
/** `latchkey.admin.signingKeys`: the access-token signing keys. */
export declare class AdminSigningKeysModule {
    #private;
    constructor(http: Transport);
    /** Newest first; the `active` one signs new tokens, retired ones stay in the JWKS until `publishedUntil`. */
    list(options?: CallOptions): Promise<SigningKeyInfo[]>;
    /**
     * Makes a new key active at once and retires the previous one; resolves to the list after
     * the rotation. Rejects with 409 `signing-key/standby-too-new` (with `retryAfter`) when the
     * next key was published too recently for every verifier's cached JWKS to hold it; pass
     * `{ force: true }` for an emergency (a leaked key) to rotate anyway.
     */
    rotate(params?: RotateSigningKeyParams, options?: CallOptions): Promise<SigningKeyInfo[]>;
}
/** `latchkey.admin.audit`: the audit trail, newest first. */
export declare class AdminAuditModule {
    #private;
    constructor(http: Transport);
    /** One page of events. Rejects with 400 `request/invalid-cursor`, `auth/invalid-body` (field `limit`). */
    list(query?: AuditQuery, options?: CallOptions): Promise<AuditPage>;
    /** Every event matching `query`, page by page (`query.limit` is the page size). */
    iterate(query?: AuditQuery, options?: CallOptions): AsyncGenerator<AuditEvent, void, undefined>;
}
/** `latchkey.admin`. */
export declare class AdminModule {
    readonly users: AdminUsersModule;
    readonly project: AdminProjectModule;
    readonly signingKeys: AdminSigningKeysModule;
    readonly audit: AdminAuditModule;
    constructor(http: Transport);
}
