/**
 * `latchkey.admin` against the REAL binary: every call of the namespace, its success shape,
 * its typed errors (`LatchkeyError` with the API's code, status and field), scope and
 * project isolation, and page iteration. The admin key comes from the CLI, as an operator
 * makes one: `latchkey api-key create --project ID --scope admin --json`.
 */

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";

import { init, LatchkeyError, type AdminUser, type Latchkey } from "../src/index";
import { LatchkeyServer } from "./helpers/server";

const PASSWORD = "s3cur3P@ss";
const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let server: LatchkeyServer;
/** A client with an `admin`-scope key. */
let latchkey: Latchkey;
let adminKeyId: string;

interface CreatedKey {
  id: string;
  apiKey: string;
}

async function createKey(projectId: string, scope: "auth" | "admin"): Promise<CreatedKey> {
  const out = await server.admin("api-key", "create", "--project", projectId, "--scope", scope, "--json");
  return JSON.parse(out) as CreatedKey;
}

before(async () => {
  server = await LatchkeyServer.start();
  const key = await createKey(server.projectId, "admin");
  adminKeyId = key.id;
  latchkey = await init({ baseUrl: server.baseUrl, projectId: server.projectId, apiKey: key.apiKey });
});

after(async () => {
  await server?.stop();
});

/** Asserts a rejection with a `LatchkeyError` of this status, code and (when given) field. */
async function rejectsWith(
  promise: Promise<unknown>,
  expected: { status: number; code: string; field?: string },
): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof LatchkeyError, `a LatchkeyError, got ${String(e)}`);
    assert.equal(e.status, expected.status, `status of ${e.code}: ${e.error}`);
    assert.equal(e.code, expected.code, e.error);
    if (expected.field !== undefined) assert.equal(e.field, expected.field);
    return true;
  });
}

/** A fresh, unique email address. */
function email(prefix = "user"): string {
  return `${prefix}-${randomUUID().slice(0, 8)}@example.com`;
}

async function createUser(prefix = "user"): Promise<AdminUser> {
  return latchkey.admin.users.create({ email: email(prefix), password: PASSWORD });
}

describe("admin.project", () => {
  it("get returns the project's settings", async () => {
    const project = await latchkey.admin.project.get();
    assert.deepEqual(Object.keys(project).sort(), ["accessTokenTtl", "appUrl", "createdAt", "id", "name", "refreshTokenTtl"]);
    assert.equal(project.id, server.projectId);
    assert.equal(typeof project.name, "string");
    assert.ok(Number.isInteger(project.accessTokenTtl) && project.accessTokenTtl > 0);
    assert.ok(Number.isInteger(project.refreshTokenTtl) && project.refreshTokenTtl > 0);
    assert.match(project.createdAt, ISO_MILLIS);
  });

  it("rename changes the name; an empty name is 400 auth/invalid-body", async () => {
    const renamed = await latchkey.admin.project.rename("Acme accounts");
    assert.equal(renamed.name, "Acme accounts");
    assert.equal((await latchkey.admin.project.get()).name, "Acme accounts");
    await rejectsWith(latchkey.admin.project.rename(""), { status: 400, code: "auth/invalid-body", field: "name" });
  });
});

describe("admin scope and project isolation", () => {
  it("an auth-scope key is refused with 403 auth/insufficient-scope", async () => {
    const authKey = await createKey(server.projectId, "auth");
    const client = await init({ baseUrl: server.baseUrl, projectId: server.projectId, apiKey: authKey.apiKey });
    await rejectsWith(client.admin.project.get(), { status: 403, code: "auth/insufficient-scope" });
    await rejectsWith(client.admin.users.list(), { status: 403, code: "auth/insufficient-scope" });
    // The bootstrap key printed at first start is an auth key too.
    const bootstrap = await init({ baseUrl: server.baseUrl, projectId: server.projectId, apiKey: server.apiKey });
    await rejectsWith(bootstrap.admin.signingKeys.list(), { status: 403, code: "auth/insufficient-scope" });
  });

  it("a revoked admin key is 401 auth/invalid-api-key", async () => {
    const key = await createKey(server.projectId, "admin");
    const client = await init({ baseUrl: server.baseUrl, projectId: server.projectId, apiKey: key.apiKey });
    assert.equal((await client.admin.project.get()).id, server.projectId);
    await server.admin("api-key", "revoke", "--project", server.projectId, key.id);
    await rejectsWith(client.admin.project.get(), { status: 401, code: "auth/invalid-api-key" });
  });

  it("another project's users are not found through this project's key", async () => {
    const other = JSON.parse(await server.admin("project", "create", "--name", "Other", "--json")) as { id: string };
    const otherKey = await createKey(other.id, "admin");
    const otherClient = await init({ baseUrl: server.baseUrl, projectId: other.id, apiKey: otherKey.apiKey });
    const stranger = await otherClient.admin.users.create({ email: email("stranger"), foreignId: "ext-stranger" });
    assert.equal(stranger.projectId, other.id);
    assert.equal((await otherClient.admin.project.get()).id, other.id);

    const notFound = { status: 404, code: "user/not-found" };
    await rejectsWith(latchkey.admin.users.get(stranger.id), notFound);
    await rejectsWith(latchkey.admin.users.getByEmail(stranger.email ?? ""), notFound);
    await rejectsWith(latchkey.admin.users.getByForeignId("ext-stranger"), notFound);
    await rejectsWith(latchkey.admin.users.update(stranger.id, { name: "x" }), notFound);
    await rejectsWith(latchkey.admin.users.delete(stranger.id), notFound);
    await rejectsWith(latchkey.admin.users.sessions.list(stranger.id), notFound);
    const mine = await latchkey.admin.users.list({ foreignId: "ext-stranger" });
    assert.deepEqual(mine.users, []);
    assert.equal((await otherClient.admin.users.get(stranger.id)).id, stranger.id, "still there in its own project");
  });
});

describe("admin.users: create, read, update, delete", () => {
  it("create returns the admin view of the user", async () => {
    const address = email("create");
    const user = await latchkey.admin.users.create({
      email: address,
      password: PASSWORD,
      username: `u${randomUUID().slice(0, 8)}`,
      name: "Ada",
      role: "moderator",
      foreignId: `ext-${address}`,
      metadata: { plan: "pro" },
      secureMetadata: { stripeId: "cus_123" },
      emailVerified: true,
    });
    assert.match(user.id, /^[0-9a-f-]{36}$/);
    assert.equal(user.projectId, server.projectId);
    assert.equal(user.email, address);
    assert.equal(user.name, "Ada");
    assert.equal(user.role, "moderator");
    assert.equal(user.foreignId, `ext-${address}`);
    assert.deepEqual(user.metadata, { plan: "pro" });
    assert.deepEqual(user.secureMetadata, { stripeId: "cus_123" });
    assert.equal(user.isVerified, true);
    assert.equal(user.isActive, true);
    assert.equal(user.isSuspended, false);
    assert.equal(user.hasPassword, true);
    assert.deepEqual(user.suspensions, []);
    assert.match(user.createdAt, ISO_MILLIS);
    assert.ok(!("password" in user) && !("passwordHash" in user), "no password material");

    const signedIn = await latchkey.auth.signIn({ email: address, password: PASSWORD });
    assert.equal(signedIn.user.id, user.id);
  });

  it("get, getByEmail and getByForeignId find the same user", async () => {
    const address = email("lookup");
    const created = await latchkey.admin.users.create({ email: address, foreignId: `ext-${address}` });
    assert.equal(created.hasPassword, false);
    assert.deepEqual(await latchkey.admin.users.get(created.id), created);
    assert.equal((await latchkey.admin.users.getByEmail(address)).id, created.id);
    assert.equal((await latchkey.admin.users.getByForeignId(`ext-${address}`)).id, created.id);
  });

  it("unknown and malformed ids are 404 user/not-found", async () => {
    const notFound = { status: 404, code: "user/not-found" };
    await rejectsWith(latchkey.admin.users.get(randomUUID()), notFound);
    await rejectsWith(latchkey.admin.users.get("not-a-uuid"), notFound);
    await rejectsWith(latchkey.admin.users.getByEmail("nobody@example.com"), notFound);
    await rejectsWith(latchkey.admin.users.getByForeignId("nobody"), notFound);
  });

  it("an empty id is refused before any request", async () => {
    await rejectsWith(latchkey.admin.users.get(""), { status: 0, code: "client/invalid-argument" });
    await rejectsWith(latchkey.admin.users.sessions.revoke(randomUUID(), " "), {
      status: 0,
      code: "client/invalid-argument",
    });
  });

  it("create's errors are typed: duplicates (409), weak password and invalid body (400)", async () => {
    const existing = await createUser("dup");
    await rejectsWith(latchkey.admin.users.create({ email: existing.email ?? "" }), {
      status: 409,
      code: "DUPLICATE_EMAIL",
      field: "email",
    });
    const username = `u${randomUUID().slice(0, 8)}`;
    await latchkey.admin.users.create({ email: email("dup"), username });
    await rejectsWith(latchkey.admin.users.create({ email: email("dup"), username }), {
      status: 409,
      code: "DUPLICATE_USERNAME",
      field: "username",
    });
    await latchkey.admin.users.create({ email: email("dup"), foreignId: "ext-dup" });
    await rejectsWith(latchkey.admin.users.create({ email: email("dup"), foreignId: "ext-dup" }), {
      status: 409,
      code: "auth/foreign-id-conflict",
    });
    await rejectsWith(latchkey.admin.users.create({ email: email("weak"), password: "short" }), {
      status: 400,
      code: "auth/weak-password",
      field: "password",
    });
    await rejectsWith(latchkey.admin.users.create({ email: "not an email" }), {
      status: 400,
      code: "auth/invalid-body",
      field: "email",
    });
  });

  it("update changes only the fields present; null clears a profile field", async () => {
    const user = await latchkey.admin.users.create({ email: email("update"), name: "Ada", bio: "hello" });
    const updated = await latchkey.admin.users.update(user.id, {
      name: null,
      role: "admin",
      metadata: { tier: 2 },
      secureMetadata: { note: "vip" },
    });
    assert.equal(updated.name, null);
    assert.equal(updated.bio, "hello", "absent fields are unchanged");
    assert.equal(updated.role, "admin");
    assert.deepEqual(updated.metadata, { tier: 2 });
    assert.deepEqual(updated.secureMetadata, { note: "vip" });

    const verified = await latchkey.admin.users.update(user.id, { emailVerified: true });
    assert.equal(verified.isVerified, true);
    const moved = await latchkey.admin.users.update(user.id, { email: email("moved") });
    assert.equal(moved.isVerified, false, "a changed email becomes unverified");

    const disabled = await latchkey.admin.users.update(user.id, { isActive: false });
    assert.equal(disabled.isActive, false);
  });

  it("a disabled user's sign-in is 403 auth/account-disabled", async () => {
    const user = await createUser("disabled");
    await latchkey.admin.users.update(user.id, { isActive: false });
    await rejectsWith(latchkey.auth.signIn({ email: user.email ?? "", password: PASSWORD }), {
      status: 403,
      code: "auth/account-disabled",
    });
  });

  it("delete erases the user and frees the email", async () => {
    const user = await createUser("delete");
    await latchkey.auth.signIn({ email: user.email ?? "", password: PASSWORD });
    assert.equal(await latchkey.admin.users.delete(user.id), undefined);
    await rejectsWith(latchkey.admin.users.get(user.id), { status: 404, code: "user/not-found" });
    await rejectsWith(latchkey.admin.users.delete(user.id), { status: 404, code: "user/not-found" });
    const again = await latchkey.admin.users.create({ email: user.email ?? "" });
    assert.notEqual(again.id, user.id);
  });
});

describe("admin.users.list and iterate", () => {
  const created: string[] = [];
  const prefix = `page${randomUUID().slice(0, 6)}`;

  before(async () => {
    for (let i = 0; i < 7; i += 1) created.push((await createUser(prefix)).id);
  });

  it("list returns one page, oldest first, with a cursor to the next", async () => {
    const first = await latchkey.admin.users.list({ email: prefix, limit: 3 });
    assert.deepEqual(
      first.users.map((u) => u.id),
      created.slice(0, 3),
    );
    assert.equal(typeof first.nextCursor, "string");
    const second = await latchkey.admin.users.list({ email: prefix, limit: 3, cursor: first.nextCursor ?? "" });
    assert.deepEqual(
      second.users.map((u) => u.id),
      created.slice(3, 6),
    );
    const last = await latchkey.admin.users.list({ email: prefix, limit: 3, cursor: second.nextCursor ?? "" });
    assert.deepEqual(
      last.users.map((u) => u.id),
      created.slice(6),
    );
    assert.equal(last.nextCursor, null);
  });

  it("iterate walks every page, neither repeating nor skipping a user", async () => {
    const seen: string[] = [];
    for await (const user of latchkey.admin.users.iterate({ email: prefix, limit: 2 })) {
      assert.ok(user.email?.startsWith(prefix));
      seen.push(user.id);
    }
    assert.deepEqual(seen, created);
  });

  it("iterate stops early when the loop breaks", async () => {
    const seen: string[] = [];
    for await (const user of latchkey.admin.users.iterate({ email: prefix, limit: 2 })) {
      seen.push(user.id);
      if (seen.length === 3) break;
    }
    assert.deepEqual(seen, created.slice(0, 3));
  });

  it("filters combine; Date bounds are sent as ISO 8601", async () => {
    const future = new Date(Date.now() + 3_600_000);
    assert.equal((await latchkey.admin.users.list({ email: prefix, createdBefore: future })).users.length, 7);
    assert.deepEqual((await latchkey.admin.users.list({ email: prefix, createdAfter: future })).users, []);
    assert.deepEqual((await latchkey.admin.users.list({ email: prefix, verified: true })).users, []);
    assert.equal((await latchkey.admin.users.list({ email: prefix, status: "active" })).users.length, 7);
    assert.deepEqual((await latchkey.admin.users.list({ email: prefix, status: "suspended" })).users, []);
  });

  it("a bad cursor is 400 request/invalid-cursor; a bad limit is 400 auth/invalid-body", async () => {
    await rejectsWith(latchkey.admin.users.list({ cursor: "garbage" }), {
      status: 400,
      code: "request/invalid-cursor",
      field: "cursor",
    });
    await rejectsWith(latchkey.admin.users.list({ limit: 0 }), { status: 400, code: "auth/invalid-body", field: "limit" });
    await rejectsWith(latchkey.admin.users.list({ limit: 1001 }), {
      status: 400,
      code: "auth/invalid-body",
      field: "limit",
    });
    // The error surfaces from the loop, typed the same way.
    await rejectsWith(
      (async () => {
        for await (const _ of latchkey.admin.users.iterate({ cursor: "garbage" })) void _;
      })(),
      { status: 400, code: "request/invalid-cursor" },
    );
  });
});

describe("admin.users: suspension, password, links, lockout", () => {
  it("suspend blocks sign-in with 403 auth/user-suspended and revokes sessions; unsuspend lifts it", async () => {
    const user = await createUser("suspend");
    const address = user.email ?? "";
    await latchkey.auth.signIn({ email: address, password: PASSWORD });
    const endsAt = new Date(Date.now() + 86_400_000);
    const suspended = await latchkey.admin.users.suspend(user.id, { reason: "chargeback", endsAt });
    assert.equal(suspended.isSuspended, true);
    assert.equal(suspended.suspensions.length, 1);
    const [suspension] = suspended.suspensions;
    assert.equal(suspension?.reason, "chargeback");
    assert.equal(suspension?.createdBy, `apiKey:${adminKeyId}`);
    assert.equal(suspension?.endsAt, endsAt.toISOString());
    assert.match(suspension?.startsAt ?? "", ISO_MILLIS);
    assert.deepEqual(await latchkey.admin.users.sessions.list(user.id), []);
    await rejectsWith(latchkey.auth.signIn({ email: address, password: PASSWORD }), {
      status: 403,
      code: "auth/user-suspended",
    });
    assert.ok((await latchkey.admin.users.list({ status: "suspended" })).users.some((u) => u.id === user.id));

    const lifted = await latchkey.admin.users.unsuspend(user.id);
    assert.equal(lifted.isSuspended, false);
    await latchkey.auth.signIn({ email: address, password: PASSWORD });
  });

  it("suspend without an end; an empty reason is 400 auth/invalid-body", async () => {
    const user = await createUser("suspend");
    const suspended = await latchkey.admin.users.suspend(user.id, { reason: "abuse" });
    assert.equal(suspended.suspensions[0]?.endsAt, null);
    await rejectsWith(latchkey.admin.users.suspend(user.id, { reason: "" }), {
      status: 400,
      code: "auth/invalid-body",
      field: "reason",
    });
  });

  it("setPassword replaces the password and revokes sessions", async () => {
    const user = await createUser("password");
    const address = user.email ?? "";
    const { refreshToken } = await latchkey.auth.signIn({ email: address, password: PASSWORD });
    assert.equal(await latchkey.admin.users.setPassword(user.id, { password: "n3wS3cret!pass" }), undefined);
    await rejectsWith(latchkey.auth.signIn({ email: address, password: PASSWORD }), {
      status: 401,
      code: "auth/invalid-credentials",
    });
    await latchkey.auth.signIn({ email: address, password: "n3wS3cret!pass" });
    await assert.rejects(latchkey.auth.requestNewAccessToken({ refreshToken }), LatchkeyError);
    await rejectsWith(latchkey.admin.users.setPassword(user.id, { password: "short" }), {
      status: 400,
      code: "auth/weak-password",
      field: "password",
    });
  });

  it("issueLink returns a link, or queues the email and resolves to undefined", async () => {
    const user = await createUser("link");
    const verification = await latchkey.admin.users.issueLink(user.id, {
      kind: "email-verification",
      delivery: "return",
    });
    assert.ok(verification.url.includes(verification.token), verification.url);
    assert.ok(Date.parse(verification.expiresAt) > Date.now());
    await latchkey.auth.verifyEmail({ token: verification.token });
    assert.equal((await latchkey.admin.users.get(user.id)).isVerified, true);
    await rejectsWith(latchkey.admin.users.issueLink(user.id, { kind: "email-verification", delivery: "return" }), {
      status: 409,
      code: "auth/already-verified",
    });

    const link = await latchkey.admin.users.issueLink(user.id, { kind: "password-reset", delivery: "return" });
    assert.equal(typeof link.token, "string");
    assert.ok(link.url.includes(link.token), link.url);
    await latchkey.auth.resetPassword({ token: link.token, newPassword: "r3setS3cret!" });
    await latchkey.auth.signIn({ email: user.email ?? "", password: "r3setS3cret!" });

    const emailed = await latchkey.admin.users.issueLink(user.id, { kind: "password-reset", delivery: "email" });
    assert.equal(emailed, undefined);
  });

  it("unlock clears the sign-in lockout", async () => {
    const user = await createUser("lockout");
    const address = user.email ?? "";
    let locked: LatchkeyError | undefined;
    for (let attempt = 0; attempt < 30 && locked === undefined; attempt += 1) {
      try {
        await latchkey.auth.signIn({ email: address, password: "wrongPassw0rd" });
      } catch (e) {
        if (e instanceof LatchkeyError && e.code === "auth/too-many-attempts") locked = e;
      }
    }
    assert.equal(locked?.status, 429, "the account locks after repeated failures");
    await rejectsWith(latchkey.auth.signIn({ email: address, password: PASSWORD }), {
      status: 429,
      code: "auth/too-many-attempts",
    });
    assert.equal(await latchkey.admin.users.unlock(user.id), undefined);
    await latchkey.auth.signIn({ email: address, password: PASSWORD });
  });
});

describe("admin.users.sessions", () => {
  it("list shows live sessions; revoke ends one; revokeAll ends the rest", async () => {
    const address = email("sessions");
    const signedUp = await latchkey.auth.signUp({ email: address, password: PASSWORD });
    const userId = signedUp.user.id;
    const signedIn = await latchkey.auth.signIn({ email: address, password: PASSWORD });
    await latchkey.auth.signIn({ email: address, password: PASSWORD });

    const sessions = await latchkey.admin.users.sessions.list(userId);
    assert.equal(sessions.length, 3);
    assert.deepEqual(sessions.map((s) => s.method).sort(), ["password", "password", "sign-up"]);
    for (const session of sessions) {
      assert.deepEqual(Object.keys(session).sort(), [
        "createdAt",
        "expiresAt",
        "generation",
        "id",
        "lastRefreshedAt",
        "method",
      ]);
      assert.match(session.expiresAt, ISO_MILLIS);
      assert.ok(Number.isInteger(session.generation));
    }

    const signUpSession = sessions.find((s) => s.method === "sign-up");
    assert.ok(signUpSession);
    assert.equal(await latchkey.admin.users.sessions.revoke(userId, signUpSession.id), undefined);
    await rejectsWith(latchkey.auth.requestNewAccessToken({ refreshToken: signedUp.refreshToken }), {
      status: 403,
      code: "auth/refresh-token-invalid",
    });
    await rejectsWith(latchkey.admin.users.sessions.revoke(userId, randomUUID()), {
      status: 404,
      code: "session/not-found",
    });
    assert.equal((await latchkey.admin.users.sessions.list(userId)).length, 2);

    assert.deepEqual(await latchkey.admin.users.sessions.revokeAll(userId), { revoked: 2 });
    assert.deepEqual(await latchkey.admin.users.sessions.list(userId), []);
    await rejectsWith(latchkey.auth.requestNewAccessToken({ refreshToken: signedIn.refreshToken }), {
      status: 403,
      code: "auth/refresh-token-invalid",
    });
    assert.deepEqual(await latchkey.admin.users.sessions.revokeAll(userId), { revoked: 0 });
  });
});

describe("admin.signingKeys", () => {
  it("rotate makes a new active key; the JWKS keeps the old one", async () => {
    const before = await latchkey.admin.signingKeys.list();
    const previous = before.filter((k) => k.active);
    assert.equal(previous.length, 1, "one active key");
    const [old] = previous;
    assert.ok(old);
    assert.equal(old.retiredAt, null);

    // The project was created moments ago, so its standby is younger than a cached JWKS
    // (5 min 30 s): only a forced rotation is allowed yet (the next test checks the refusal).
    const after = await latchkey.admin.signingKeys.rotate({ force: true });
    const active = after.filter((k) => k.active);
    assert.equal(active.length, 1, "one active key");
    const [current] = active;
    assert.ok(current);
    assert.notEqual(current.kid, old.kid);
    const retired = after.find((k) => k.kid === old.kid);
    assert.equal(retired?.active, false);
    assert.match(retired?.retiredAt ?? "", ISO_MILLIS);
    assert.match(retired?.publishedUntil ?? "", ISO_MILLIS);
    for (let i = 1; i < after.length; i += 1) {
      assert.ok((after[i - 1]?.createdAt ?? "") >= (after[i]?.createdAt ?? ""), "newest first");
    }
    assert.deepEqual(await latchkey.admin.signingKeys.list(), after);

    const jwks = (await (await fetch(latchkey.jwksUrl)).json()) as { keys: { kid: string }[] };
    const kids = jwks.keys.map((k) => k.kid);
    assert.ok(kids.includes(current.kid) && kids.includes(old.kid), kids.join(","));

    const { accessToken } = await latchkey.auth.signUp({ email: email("rotated"), password: PASSWORD });
    const header = JSON.parse(Buffer.from(accessToken.split(".")[0] ?? "", "base64url").toString()) as { kid: string };
    assert.equal(header.kid, current.kid, "new tokens carry the new kid at once");
  });
});

describe("admin.signingKeys: a rotation too soon after the last", () => {
  it("is 409 signing-key/standby-too-new with retryAfter; force rotates anyway", async () => {
    // The previous test rotated a moment ago, so the next key is younger than a cached JWKS.
    await assert.rejects(latchkey.admin.signingKeys.rotate(), (e: unknown) => {
      assert.ok(e instanceof LatchkeyError);
      assert.equal(e.status, 409);
      assert.equal(e.code, "signing-key/standby-too-new");
      assert.ok((e.retryAfter ?? 0) > 0, `retryAfter ${e.retryAfter}`);
      return true;
    });
    const before = (await latchkey.admin.signingKeys.list()).find((k) => k.active);
    const after = (await latchkey.admin.signingKeys.rotate({ force: true })).find((k) => k.active);
    assert.ok(before && after);
    assert.notEqual(after.kid, before.kid);
  });
});

describe("admin.audit", () => {
  it("records admin actions with the key as actor and never the email", async () => {
    const user = await createUser("audited");
    await latchkey.admin.users.update(user.id, { name: "Audited" });
    await latchkey.admin.users.suspend(user.id, { reason: "audit test" });

    const page = await latchkey.admin.audit.list({ userId: user.id });
    const actions = page.events.map((e) => e.action);
    assert.deepEqual(actions, ["user.suspended", "user.updated", "user.created"], "newest first");
    for (const event of page.events) {
      assert.equal(event.actor, `apiKey:${adminKeyId}`);
      assert.equal(event.userId, user.id);
      assert.equal(event.projectId, server.projectId);
      assert.match(event.at, ISO_MILLIS);
      assert.equal(typeof event.requestId, "string");
      assert.ok(!JSON.stringify(event).includes(user.email ?? "@"), "no email in an audit record");
    }
    assert.equal(page.events[0]?.details.reason, "audit test");

    const users = await latchkey.admin.audit.list({ userId: user.id, action: "user." });
    assert.equal(users.events.length, 3);
  });

  it("records security events with the system actor", async () => {
    const user = await createUser("security");
    await assert.rejects(latchkey.auth.signIn({ email: user.email ?? "", password: "wrongPassw0rd" }));
    await latchkey.auth.signIn({ email: user.email ?? "", password: PASSWORD });
    const events = (await latchkey.admin.audit.list({ userId: user.id, actor: "system" })).events;
    assert.deepEqual(
      events.map((e) => e.action),
      ["sign-in.succeeded", "sign-in.failed"],
    );
  });

  it("iterate walks every page newest first without repeats", async () => {
    const all = (await latchkey.admin.audit.list({ limit: 1000 })).events;
    assert.ok(all.length > 3, `enough events for two pages (${all.length})`);
    const seen: string[] = [];
    for await (const event of latchkey.admin.audit.iterate({ limit: 3 })) seen.push(event.id);
    assert.deepEqual(seen, all.map((e) => e.id));
    for (let i = 1; i < all.length; i += 1) {
      assert.ok((all[i - 1]?.at ?? "") >= (all[i]?.at ?? ""), "newest first");
    }
    const recent = await latchkey.admin.audit.list({ after: new Date(Date.now() + 3_600_000) });
    assert.deepEqual(recent.events, []);
    await rejectsWith(latchkey.admin.audit.list({ cursor: "garbage" }), {
      status: 400,
      code: "request/invalid-cursor",
      field: "cursor",
    });
  });
});
