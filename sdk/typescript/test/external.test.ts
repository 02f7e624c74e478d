/**
 * The seed's verifyExternalUser through the SDK against the REAL binary, with a `signedJwt`
 * made (HS256, node:crypto) with the project's signing secret.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, it } from "node:test";

import { init, LatchkeyError, type Latchkey } from "../src/index";
import { assertCredentials } from "./helpers/assertions";
import { LatchkeyServer } from "./helpers/server";

let server: LatchkeyServer;
let replyke: Latchkey;

/** An HS256 JWT, as a customer's own auth system would mint it. */
export function signHs256(payload: Record<string, unknown>, secret: string): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${encode({ alg: "HS256", typ: "JWT" })}.${encode(payload)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

before(async () => {
  server = await LatchkeyServer.start();
  replyke = await init({ baseUrl: server.baseUrl, projectId: server.projectId, apiKey: server.apiKey });
});

after(async () => {
  await server?.stop();
});

/** Creates the project's HS256 signing secret with the admin CLI (printed once). */
async function signingSecret(): Promise<string> {
  const out = await server.admin("signing-secret", "create", "--project", server.projectId, "--json");
  return (JSON.parse(out) as { secret: string }).secret;
}

/** The claims a customer's auth system asserts: `iss` = project id, `sub` = its own user id. */
function userClaims(sub: string): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: server.projectId,
    sub,
    iat: now,
    exp: now + 300,
    userData: { email: "user@example.com", name: "Alice", username: "alice" },
  };
}

describe("seed: verifyExternalUser", () => {
  let secret: string;
  let userId: string;

  it("auth.verifyExternalUser returns { user, accessToken, refreshToken }", async () => {
    secret = await signingSecret();
    const signedJwt = signHs256(userClaims("ext-alice"), secret);
    const { user, accessToken, refreshToken } = await replyke.auth.verifyExternalUser({
      userJwt: signedJwt,
    });
    assertCredentials({ user, accessToken, refreshToken }, server.projectId);
    assert.equal(user.foreignId, "ext-alice");
    assert.deepEqual(user.authMethods, ["external"]);
    assert.equal(user.email, "user@example.com");
    assert.equal(user.name, "Alice");
    assert.equal(user.username, "alice");
    userId = user.id;
    // The Latchkey tokens work like any others.
    const refreshed = await replyke.auth.requestNewAccessToken({ refreshToken });
    assert.equal(refreshed.user.id, userId);
  });

  it("the same external user maps to the same Latchkey user", async () => {
    const { user } = await replyke.auth.verifyExternalUser({ userJwt: signHs256(userClaims("ext-alice"), secret) });
    assert.equal(user.id, userId);
  });

  it("a JWT signed with the wrong secret is 403 auth/invalid-token", async () => {
    const signedJwt = signHs256(userClaims("ext-alice"), "not-the-secret");
    await assert.rejects(replyke.auth.verifyExternalUser({ userJwt: signedJwt }), (e: unknown) => {
      assert.ok(e instanceof LatchkeyError);
      assert.equal(e.status, 403);
      assert.equal(e.code, "auth/invalid-token");
      return true;
    });
  });

  it("an empty userJwt is 400 auth/missing-jwt", async () => {
    await assert.rejects(replyke.auth.verifyExternalUser({ userJwt: "" }), (e: unknown) => {
      assert.ok(e instanceof LatchkeyError);
      assert.equal(e.status, 400);
      assert.equal(e.code, "auth/missing-jwt");
      return true;
    });
  });
});
