/**
 * `latchkey.admin`: the admin API, `/v7/{projectId}/admin/...` (docs/ADMIN.md). Every call
 * needs a key with the `admin` scope (`latchkey api-key create --project ID --scope admin`);
 * an `auth` key is refused with 403 `auth/insufficient-scope`.
 *
 * Lists come two ways: `list(query)` fetches ONE page (`{ users | events, nextCursor }`), and
 * `iterate(query)` is an async iterator over every item of every page from there on, fetching
 * the next page only when the previous one is used up.
 */

import type {
  AdminProject,
  AdminUser,
  AuditEvent,
  AuditPage,
  AuditQuery,
  CreateUserParams,
  Instant,
  IssuedLink,
  IssueLinkParams,
  RevokedSessions,
  RotateSigningKeyParams,
  SessionInfo,
  SetPasswordParams,
  SigningKeyInfo,
  SuspendUserParams,
  UpdateUserParams,
  UserListQuery,
  UserPage,
} from "./admin-types";
import { LatchkeyError } from "./errors";
import type { Method, Transport } from "./http";
import type { CallOptions } from "./types";

/** The admin routes of one project, relative to `/admin` (each module holds one over the shared transport). */
class AdminRoutes {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** `segments` are path parts (ids are percent-encoded); `query` drops undefined values. */
  call<T>(
    method: Method,
    segments: string[],
    options: { body?: unknown; query?: object; call?: CallOptions | undefined } = {},
  ): Promise<T> {
    const path = segments.map(encodeURIComponent).join("/");
    const url = this.#http.projectUrl(`/admin/${path}${queryString(options.query)}`);
    return this.#http.request<T>(method, url, options.body, options.call);
  }
}

function queryString(query: object | undefined): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    params.append(name, value instanceof Date ? value.toISOString() : String(value));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

function instant(value: Instant | undefined): string | undefined {
  return value instanceof Date ? value.toISOString() : value;
}

/**
 * An id for a path segment: an empty one would silently address another route. Every method
 * is `async`, so this throw reaches the caller as a rejection like any other error.
 */
function id(name: string, value: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new LatchkeyError({ status: 0, code: "client/invalid-argument", error: `${name} is required` });
  }
  return value;
}

/** Walks the pages from `cursor` on, yielding their items. */
async function* walk<P extends { nextCursor: string | null }, T>(
  cursor: string | undefined,
  fetchPage: (cursor: string | undefined) => Promise<P>,
  items: (page: P) => T[],
): AsyncGenerator<T, void, undefined> {
  let next = cursor;
  do {
    const page = await fetchPage(next);
    yield* items(page);
    next = page.nextCursor ?? undefined;
  } while (next !== undefined);
}

/** `latchkey.admin.users.sessions`: a user's live sessions. */
export class AdminSessionsModule {
  readonly #routes: AdminRoutes;

  constructor(http: Transport) {
    this.#routes = new AdminRoutes(http);
  }

  /** The user's live sessions. Rejects with 404 `user/not-found`. */
  async list(userId: string, options?: CallOptions): Promise<SessionInfo[]> {
    const path = ["users", id("userId", userId), "sessions"];
    return (await this.#routes.call<{ sessions: SessionInfo[] }>("GET", path, { call: options })).sessions;
  }

  /** Ends one session. Rejects with 404 `session/not-found` (or `user/not-found`). */
  async revoke(userId: string, sessionId: string, options?: CallOptions): Promise<void> {
    const path = ["users", id("userId", userId), "sessions", id("sessionId", sessionId)];
    await this.#routes.call<undefined>("DELETE", path, { call: options });
  }

  /** Signs the user out everywhere. */
  async revokeAll(userId: string, options?: CallOptions): Promise<RevokedSessions> {
    const body = await this.#routes.call<RevokedSessions>("DELETE", ["users", id("userId", userId), "sessions"], {
      call: options,
    });
    return { revoked: body.revoked };
  }
}

/** `latchkey.admin.users`. */
export class AdminUsersModule {
  readonly #routes: AdminRoutes;
  readonly sessions: AdminSessionsModule;

  constructor(http: Transport) {
    this.#routes = new AdminRoutes(http);
    this.sessions = new AdminSessionsModule(http);
  }

  /** One page of users, oldest first. Rejects with 400 `request/invalid-cursor`, 400 `auth/invalid-body` (`limit`). */
  async list(query: UserListQuery = {}, options?: CallOptions): Promise<UserPage> {
    const wire = { ...query, createdAfter: instant(query.createdAfter), createdBefore: instant(query.createdBefore) };
    return this.#routes.call<UserPage>("GET", ["users"], { query: wire, call: options });
  }

  /** Every user matching `query`, page by page (`query.limit` is the page size). */
  iterate(query: UserListQuery = {}, options?: CallOptions): AsyncGenerator<AdminUser, void, undefined> {
    return walk(
      query.cursor,
      (cursor) => this.list({ ...query, cursor }, options),
      (page) => page.users,
    );
  }

  /** Rejects with 404 `user/not-found`. */
  async get(userId: string, options?: CallOptions): Promise<AdminUser> {
    return this.#routes.call<AdminUser>("GET", ["users", id("userId", userId)], { call: options });
  }

  /** Rejects with 404 `user/not-found`. */
  async getByEmail(email: string, options?: CallOptions): Promise<AdminUser> {
    return this.#routes.call<AdminUser>("GET", ["users", "lookup"], { query: { email }, call: options });
  }

  /** The user linked to your own user id (`verifyExternalUser`'s `sub`). Rejects with 404 `user/not-found`. */
  async getByForeignId(foreignId: string, options?: CallOptions): Promise<AdminUser> {
    return this.#routes.call<AdminUser>("GET", ["users", "lookup"], { query: { foreignId }, call: options });
  }

  /**
   * Rejects with 409 `DUPLICATE_EMAIL` / `DUPLICATE_USERNAME` / `auth/foreign-id-conflict`,
   * 400 `auth/weak-password`, `auth/invalid-body` (with `field`).
   */
  async create(params: CreateUserParams, options?: CallOptions): Promise<AdminUser> {
    return this.#routes.call<AdminUser>("POST", ["users"], { body: params, call: options });
  }

  /** Changes only the fields present; `null` clears a profile field. */
  async update(userId: string, params: UpdateUserParams, options?: CallOptions): Promise<AdminUser> {
    return this.#routes.call<AdminUser>("PATCH", ["users", id("userId", userId)], { body: params, call: options });
  }

  /** Suspends the user and revokes their sessions; sign-in then fails with 403 `auth/user-suspended`. */
  async suspend(userId: string, params: SuspendUserParams, options?: CallOptions): Promise<AdminUser> {
    const body = { reason: params.reason, endsAt: instant(params.endsAt) };
    return this.#routes.call<AdminUser>("POST", ["users", id("userId", userId), "suspend"], { body, call: options });
  }

  /** Lifts the suspensions in force. */
  async unsuspend(userId: string, options?: CallOptions): Promise<AdminUser> {
    return this.#routes.call<AdminUser>("POST", ["users", id("userId", userId), "unsuspend"], { call: options });
  }

  /** Erases the user and every row about them; the email and username become free. */
  async delete(userId: string, options?: CallOptions): Promise<void> {
    await this.#routes.call<undefined>("DELETE", ["users", id("userId", userId)], { call: options });
  }

  /** Sets the password and revokes the user's sessions. Rejects with 400 `auth/weak-password`. */
  async setPassword(userId: string, params: SetPasswordParams, options?: CallOptions): Promise<void> {
    await this.#routes.call<undefined>("POST", ["users", id("userId", userId), "password"], {
      body: { password: params.password },
      call: options,
    });
  }

  /**
   * A password-reset or verification link: `delivery: "return"` resolves to the link (nothing
   * is sent); `delivery: "email"` queues the usual email and resolves to `undefined`.
   */
  issueLink(userId: string, params: IssueLinkParams<"return">, options?: CallOptions): Promise<IssuedLink>;
  issueLink(userId: string, params: IssueLinkParams<"email">, options?: CallOptions): Promise<void>;
  issueLink(userId: string, params: IssueLinkParams, options?: CallOptions): Promise<IssuedLink | void>;
  async issueLink(userId: string, params: IssueLinkParams, options?: CallOptions): Promise<IssuedLink | void> {
    return this.#routes.call<IssuedLink | undefined>("POST", ["users", id("userId", userId), "links"], {
      body: { kind: params.kind, delivery: params.delivery },
      call: options,
    });
  }

  /** Clears the user's sign-in lockout. */
  async unlock(userId: string, options?: CallOptions): Promise<void> {
    await this.#routes.call<undefined>("POST", ["users", id("userId", userId), "unlock"], { call: options });
  }
}

/** `latchkey.admin.project`: the project's own settings. */
export class AdminProjectModule {
  readonly #routes: AdminRoutes;

  constructor(http: Transport) {
    this.#routes = new AdminRoutes(http);
  }

  async get(options?: CallOptions): Promise<AdminProject> {
    return this.#routes.call<AdminProject>("GET", ["project"], { call: options });
  }

  /** The name shown in emails and hosted pages, 1 to 100 characters. Rejects with 400 `auth/invalid-body`. */
  async rename(name: string, options?: CallOptions): Promise<AdminProject> {
    return this.#routes.call<AdminProject>("PATCH", ["project"], { body: { name }, call: options });
  }
}

/** `latchkey.admin.signingKeys`: the access-token signing keys. */
export class AdminSigningKeysModule {
  readonly #routes: AdminRoutes;

  constructor(http: Transport) {
    this.#routes = new AdminRoutes(http);
  }

  /** Newest first; the `active` one signs new tokens, retired ones stay in the JWKS until `publishedUntil`. */
  async list(options?: CallOptions): Promise<SigningKeyInfo[]> {
    return (await this.#routes.call<{ keys: SigningKeyInfo[] }>("GET", ["signing-keys"], { call: options })).keys;
  }

  /**
   * Makes a new key active at once and retires the previous one; resolves to the list after
   * the rotation. Rejects with 409 `signing-key/standby-too-new` (with `retryAfter`) when the
   * next key was published too recently for every verifier's cached JWKS to hold it; pass
   * `{ force: true }` for an emergency (a leaked key) to rotate anyway.
   */
  async rotate(params: RotateSigningKeyParams = {}, options?: CallOptions): Promise<SigningKeyInfo[]> {
    const query = params.force === true ? { force: true } : undefined;
    const path = ["signing-keys", "rotate"];
    return (await this.#routes.call<{ keys: SigningKeyInfo[] }>("POST", path, { query, call: options })).keys;
  }
}

/** `latchkey.admin.audit`: the audit trail, newest first. */
export class AdminAuditModule {
  readonly #routes: AdminRoutes;

  constructor(http: Transport) {
    this.#routes = new AdminRoutes(http);
  }

  /** One page of events. Rejects with 400 `request/invalid-cursor`, `auth/invalid-body` (field `limit`). */
  async list(query: AuditQuery = {}, options?: CallOptions): Promise<AuditPage> {
    const wire = { ...query, after: instant(query.after), before: instant(query.before) };
    return this.#routes.call<AuditPage>("GET", ["audit"], { query: wire, call: options });
  }

  /** Every event matching `query`, page by page (`query.limit` is the page size). */
  iterate(query: AuditQuery = {}, options?: CallOptions): AsyncGenerator<AuditEvent, void, undefined> {
    return walk(
      query.cursor,
      (cursor) => this.list({ ...query, cursor }, options),
      (page) => page.events,
    );
  }
}

/** `latchkey.admin`. */
export class AdminModule {
  readonly users: AdminUsersModule;
  readonly project: AdminProjectModule;
  readonly signingKeys: AdminSigningKeysModule;
  readonly audit: AdminAuditModule;

  constructor(http: Transport) {
    this.users = new AdminUsersModule(http);
    this.project = new AdminProjectModule(http);
    this.signingKeys = new AdminSigningKeysModule(http);
    this.audit = new AdminAuditModule(http);
  }
}
