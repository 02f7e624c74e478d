"use strict";
/**
 * `latchkey.admin`: the admin API, `/v7/{projectId}/admin/...` (docs/ADMIN.md). Every call
 * needs a key with the `admin` scope (`latchkey api-key create --project ID --scope admin`);
 * an `auth` key is refused with 403 `auth/insufficient-scope`.
 *
 * Lists come two ways: `list(query)` fetches ONE page (`{ users | events, nextCursor }`), and
 * `iterate(query)` is an async iterator over every item of every page from there on, fetching
 * the next page only when the previous one is used up.
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.AdminModule = exports.AdminAuditModule = exports.AdminSigningKeysModule = exports.AdminProjectModule = exports.AdminUsersModule = exports.AdminSessionsModule = void 0;
const errors_1 = require("./errors");
/** The admin routes of one project, relative to `/admin` (each module holds one over the shared transport). */
class AdminRoutes {
    #http;
    constructor(http) {
        this.#http = http;
    }
    /** `segments` are path parts (ids are percent-encoded); `query` drops undefined values. */
    call(method, segments, options = {}) {
        const path = segments.map(encodeURIComponent).join("/");
        const url = this.#http.projectUrl(`/admin/${path}${queryString(options.query)}`);
        return this.#http.request(method, url, options.body, options.call);
    }
}
function queryString(query) {
    if (query === undefined)
        return "";
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
        if (value === undefined || value === null)
            continue;
        params.append(name, value instanceof Date ? value.toISOString() : String(value));
    }
    const text = params.toString();
    return text === "" ? "" : `?${text}`;
}
function instant(value) {
    return value instanceof Date ? value.toISOString() : value;
}
/**
 * An id for a path segment: an empty one would silently address another route. Every method
 * is `async`, so this throw reaches the caller as a rejection like any other error.
 */
function id(name, value) {
    if (typeof value !== "string" || value.trim() === "") {
        throw new errors_1.LatchkeyError({ status: 0, code: "client/invalid-argument", error: `${name} is required` });
    }
    return value;
}
/** Walks the pages from `cursor` on, yielding their items. */
async function* walk(cursor, fetchPage, items) {
    let next = cursor;
    do {
        const page = await fetchPage(next);
        yield* items(page);
        next = page.nextCursor ?? undefined;
    } while (next !== undefined);
}
/** `latchkey.admin.users.sessions`: a user's live sessions. */
class AdminSessionsModule {
    #routes;
    constructor(http) {
        this.#routes = new AdminRoutes(http);
    }
    /** The user's live sessions. Rejects with 404 `user/not-found`. */
    async list(userId, options) {
        const path = ["users", id("userId", userId), "sessions"];
        return (await this.#routes.call("GET", path, { call: options })).sessions;
    }
    /** Ends one session. Rejects with 404 `session/not-found` (or `user/not-found`). */
    async revoke(userId, sessionId, options) {
        const path = ["users", id("userId", userId), "sessions", id("sessionId", sessionId)];
        await this.#routes.call("DELETE", path, { call: options });
    }
    /** Signs the user out everywhere. */
    async revokeAll(userId, options) {
        const body = await this.#routes.call("DELETE", ["users", id("userId", userId), "sessions"], {
            call: options,
        });
        return { revoked: body.revoked };
    }
}
exports.AdminSessionsModule = AdminSessionsModule;
/** `latchkey.admin.users`. */
class AdminUsersModule {
    #routes;
    sessions;
    constructor(http) {
        this.#routes = new AdminRoutes(http);
        this.sessions = new AdminSessionsModule(http);
    }
    /** One page of users, oldest first. Rejects with 400 `request/invalid-cursor`, 400 `auth/invalid-body` (`limit`). */
    async list(query = {}, options) {
        const wire = { ...query, createdAfter: instant(query.createdAfter), createdBefore: instant(query.createdBefore) };
        return this.#routes.call("GET", ["users"], { query: wire, call: options });
    }
    /** Every user matching `query`, page by page (`query.limit` is the page size). */
    iterate(query = {}, options) {
        return walk(query.cursor, (cursor) => this.list({ ...query, cursor }, options), (page) => page.users);
    }
    /** Rejects with 404 `user/not-found`. */
    async get(userId, options) {
        return this.#routes.call("GET", ["users", id("userId", userId)], { call: options });
    }
    /** Rejects with 404 `user/not-found`. */
    async getByEmail(email, options) {
        return this.#routes.call("GET", ["users", "lookup"], { query: { email }, call: options });
    }
    /** The user linked to your own user id (`verifyExternalUser`'s `sub`). Rejects with 404 `user/not-found`. */
    async getByForeignId(foreignId, options) {
        return this.#routes.call("GET", ["users", "lookup"], { query: { foreignId }, call: options });
    }
    /**
     * Rejects with 409 `DUPLICATE_EMAIL` / `DUPLICATE_USERNAME` / `auth/foreign-id-conflict`,
     * 400 `auth/weak-password`, `auth/invalid-body` (with `field`).
     */
    async create(params, options) {
        return this.#routes.call("POST", ["users"], { body: params, call: options });
    }
    /** Changes only the fields present; `null` clears a profile field. */
    async update(userId, params, options) {
        return this.#routes.call("PATCH", ["users", id("userId", userId)], { body: params, call: options });
    }
    /** Suspends the user and revokes their sessions; sign-in then fails with 403 `auth/user-suspended`. */
    async suspend(userId, params, options) {
        const body = { reason: params.reason, endsAt: instant(params.endsAt) };
        return this.#routes.call("POST", ["users", id("userId", userId), "suspend"], { body, call: options });
    }
    /** Lifts the suspensions in force. */
    async unsuspend(userId, options) {
        return this.#routes.call("POST", ["users", id("userId", userId), "unsuspend"], { call: options });
    }
    /** Erases the user and every row about them; the email and username become free. */
    async delete(userId, options) {
        await this.#routes.call("DELETE", ["users", id("userId", userId)], { call: options });
    }
    /** Sets the password and revokes the user's sessions. Rejects with 400 `auth/weak-password`. */
    async setPassword(userId, params, options) {
        await this.#routes.call("POST", ["users", id("userId", userId), "password"], {
            body: { password: params.password },
            call: options,
        });
    }
    async issueLink(userId, params, options) {
        return this.#routes.call("POST", ["users", id("userId", userId), "links"], {
            body: { kind: params.kind, delivery: params.delivery },
            call: options,
        });
    }
    /** Clears the user's sign-in lockout. */
    async unlock(userId, options) {
        await this.#routes.call("POST", ["users", id("userId", userId), "unlock"], { call: options });
    }
}
exports.AdminUsersModule = AdminUsersModule;
/** `latchkey.admin.project`: the project's own settings. */
class AdminProjectModule {
    #routes;
    constructor(http) {
        this.#routes = new AdminRoutes(http);
    }
    async get(options) {
        return this.#routes.call("GET", ["project"], { call: options });
    }
    /** The name shown in emails and hosted pages, 1 to 100 characters. Rejects with 400 `auth/invalid-body`. */
    async rename(name, options) {
        return this.#routes.call("PATCH", ["project"], { body: { name }, call: options });
    }
}
exports.AdminProjectModule = AdminProjectModule;
/** `latchkey.admin.signingKeys`: the access-token signing keys. */
class AdminSigningKeysModule {
    #routes;
    constructor(http) {
        this.#routes = new AdminRoutes(http);
    }
    /** Newest first; the `active` one signs new tokens, retired ones stay in the JWKS until `publishedUntil`. */
    async list(options) {
        return (await this.#routes.call("GET", ["signing-keys"], { call: options })).keys;
    }
    /**
     * Makes a new key active at once and retires the previous one; resolves to the list after
     * the rotation. Rejects with 409 `signing-key/standby-too-new` (with `retryAfter`) when the
     * next key was published too recently for every verifier's cached JWKS to hold it; pass
     * `{ force: true }` for an emergency (a leaked key) to rotate anyway.
     */
    async rotate(params = {}, options) {
        const query = params.force === true ? { force: true } : undefined;
        const path = ["signing-keys", "rotate"];
        return (await this.#routes.call("POST", path, { query, call: options })).keys;
    }
}
exports.AdminSigningKeysModule = AdminSigningKeysModule;
/** `latchkey.admin.audit`: the audit trail, newest first. */
class AdminAuditModule {
    #routes;
    constructor(http) {
        this.#routes = new AdminRoutes(http);
    }
    /** One page of events. Rejects with 400 `request/invalid-cursor`, `auth/invalid-body` (field `limit`). */
    async list(query = {}, options) {
        const wire = { ...query, after: instant(query.after), before: instant(query.before) };
        return this.#routes.call("GET", ["audit"], { query: wire, call: options });
    }
    /** Every event matching `query`, page by page (`query.limit` is the page size). */
    iterate(query = {}, options) {
        return walk(query.cursor, (cursor) => this.list({ ...query, cursor }, options), (page) => page.events);
    }
}
exports.AdminAuditModule = AdminAuditModule;
/** `latchkey.admin`. */
class AdminModule {
    users;
    project;
    signingKeys;
    audit;
    constructor(http) {
        this.users = new AdminUsersModule(http);
        this.project = new AdminProjectModule(http);
        this.signingKeys = new AdminSigningKeysModule(http);
        this.audit = new AdminAuditModule(http);
    }
}
exports.AdminModule = AdminModule;
//# sourceMappingURL=admin.js.map