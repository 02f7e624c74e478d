/**
 * The seed's session calls and users.checkUsernameAvailability, verbatim, through the SDK,
 * against the REAL latchkey binary on a fresh database and port. Plus the error contract:
 * a wrong API key fails init; a wrong password is 401 `auth/invalid-credentials`.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { init, LatchkeyError, type Latchkey } from "../src/index";
import { assertAuthUser, assertCredentials, assertJwt, claims } from "./helpers/assertions";
import { LatchkeyServer } from "./helpers/server";

let server: LatchkeyServer;
let replyke: Latchkey;

before(async () => {
  server = await LatchkeyServer.start();
  replyke = await init({ baseUrl: server.baseUrl, projectId: server.projectId, apiKey: server.apiKey });
});

after(async () => {
  await server?.stop();
});

describe("seed: sign-up, sign-in, refresh, sign-out, username availability", () => {
  let userId: string;
  let refreshToken: string;

  it("init checked the key and exposes the project", () => {
    assert.equal(replyke.projectId, server.projectId);
    assert.equal(replyke.jwksUrl, `${server.baseUrl}/v7/${server.projectId}/.well-known/jwks.json`);
  });

  it("users.checkUsernameAvailability: alice is available before sign-up", async () => {
    const result = await replyke.users.checkUsernameAvailability({ username: "alice" });
    assert.deepEqual(result, { available: true });
  });

  it("auth.signUp returns { user, accessToken, refreshToken }", async () => {
    const { user, accessToken, refreshToken } = await replyke.auth.signUp({
      email: "user@example.com",
      password: "s3cur3P@ss",
      name: "Alice",
      username: "alice",
    });
    assertCredentials({ user, accessToken, refreshToken }, server.projectId);
    assert.equal(user.email, "user@example.com");
    assert.equal(user.name, "Alice");
    assert.equal(user.username, "alice");
    assert.equal(user.role, "visitor");
    assert.equal(user.isVerified, false);
    assert.deepEqual(user.authMethods, ["password"]);
    const access = claims(accessToken);
    assert.equal(access.sub, user.id);
    assert.equal(access.aud, server.projectId);
    assert.equal(access.projectId, server.projectId);
    assert.equal(access.iss, server.baseUrl);
    userId = user.id;
  });

  it("users.checkUsernameAvailability: alice (any case) is taken after sign-up", async () => {
    assert.deepEqual(await replyke.users.checkUsernameAvailability({ username: "alice" }), { available: false });
    assert.deepEqual(await replyke.users.checkUsernameAvailability({ username: "ALICE" }), { available: false });
  });

  it("auth.signIn returns { user, accessToken, refreshToken }", async () => {
    const { user, accessToken, refreshToken: issued } = await replyke.auth.signIn({
      email: "user@example.com",
      password: "s3cur3P@ss",
    });
    assertCredentials({ user, accessToken, refreshToken: issued }, server.projectId);
    assert.equal(user.id, userId);
    refreshToken = issued;
  });

  it("auth.requestNewAccessToken returns { accessToken } (and the rotated refreshToken)", async () => {
    const result = await replyke.auth.requestNewAccessToken({
      refreshToken,
    });
    const { accessToken } = result;
    assertJwt(accessToken);
    assert.equal(claims(accessToken).sub, userId);
    assertJwt(result.refreshToken);
    assert.notEqual(result.refreshToken, refreshToken, "the refresh token rotates");
    assertAuthUser(result.user, server.projectId);
    refreshToken = result.refreshToken;
  });

  it("auth.signOut resolves to undefined and ends the session", async () => {
    const result: void = await replyke.auth.signOut({ refreshToken });
    assert.equal(result, undefined);
    await assert.rejects(replyke.auth.requestNewAccessToken({ refreshToken }), (e: unknown) => {
      assert.ok(e instanceof LatchkeyError);
      assert.equal(e.status, 403);
      assert.equal(e.code, "auth/refresh-token-invalid");
      return true;
    });
  });

  it("auth.signOut also resolves for a garbage token", async () => {
    assert.equal(await replyke.auth.signOut({ refreshToken: "not-a-token" }), undefined);
  });
});

describe("errors", () => {
  it("a wrong API key fails init with a clear message", async () => {
    await assert.rejects(
      init({ baseUrl: server.baseUrl, projectId: server.projectId, apiKey: "lk_wrong" }),
      (e: unknown) => {
        assert.ok(e instanceof LatchkeyError);
        assert.equal(e.status, 401);
        assert.equal(e.code, "auth/invalid-api-key");
        assert.match(e.message, /Latchkey init failed: .*refused the API key for project/);
        return true;
      },
    );
  });

  it("a live key used with another project's id fails init", async () => {
    const other = JSON.parse(await server.admin("project", "create", "--name", "Other", "--json")) as { id: string };
    await assert.rejects(init({ baseUrl: server.baseUrl, projectId: other.id, apiKey: server.apiKey }), (e: unknown) => {
      assert.ok(e instanceof LatchkeyError);
      assert.equal(e.status, 401);
      assert.equal(e.code, "auth/invalid-api-key");
      return true;
    });
  });

  it("a key created with the admin CLI works", async () => {
    const created = JSON.parse(
      await server.admin("api-key", "create", "--project", server.projectId, "--name", "sdk-test", "--json"),
    ) as { apiKey: string };
    const client = await init({ baseUrl: server.baseUrl, projectId: server.projectId, apiKey: created.apiKey });
    assert.deepEqual(await client.users.checkUsernameAvailability({ username: "alice" }), { available: false });
  });

  it("a wrong password surfaces 401 auth/invalid-credentials", async () => {
    await assert.rejects(
      replyke.auth.signIn({ email: "user@example.com", password: "wrongPassw0rd" }),
      (e: unknown) => {
        assert.ok(e instanceof LatchkeyError);
        assert.equal(e.status, 401);
        assert.equal(e.code, "auth/invalid-credentials");
        assert.equal(typeof e.error, "string");
        assert.ok(e.error.length > 0);
        assert.equal(e.message, e.error);
        assert.equal(e.field, undefined);
        return true;
      },
    );
  });

  it("a duplicate sign-up carries code, status and field", async () => {
    await assert.rejects(
      replyke.auth.signUp({ email: "USER@example.com", password: "s3cur3P@ss" }),
      (e: unknown) => {
        assert.ok(e instanceof LatchkeyError);
        assert.equal(e.status, 409);
        assert.equal(e.code, "DUPLICATE_EMAIL");
        assert.equal(e.field, "email");
        return true;
      },
    );
  });

  it("an invalid body names the field", async () => {
    await assert.rejects(replyke.auth.signUp({ email: "not-an-email", password: "s3cur3P@ss" }), (e: unknown) => {
      assert.ok(e instanceof LatchkeyError);
      assert.equal(e.status, 400);
      assert.equal(e.code, "auth/invalid-body");
      assert.equal(e.field, "email");
      return true;
    });
  });

  it("an already-aborted signal rejects with client/aborted before any request", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      replyke.auth.signIn({ email: "user@example.com", password: "s3cur3P@ss" }, { signal: controller.signal }),
      (e: unknown) => e instanceof LatchkeyError && e.code === "client/aborted" && e.status === 0,
    );
  });
});
