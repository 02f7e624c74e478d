/**
 * Local access-token verification (`latchkey.verifyAccessToken`, `createAccessTokenVerifier`).
 *
 * First against the REAL binary: its access tokens verify, its refresh tokens never do,
 * tampering is caught, a key rotation is picked up by one refetch. Then against a small
 * JWKS server of the test's own, whose keys sign what Latchkey never mints (expired, not yet
 * valid, other audiences and issuers, foreign headers) and which counts its requests, so the
 * cache and the refetch rate limit are measured on the wire.
 */

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";

import {
  createAccessTokenVerifier,
  init,
  LatchkeyError,
  LatchkeyTokenError,
  type AccessTokenVerifierOptions,
  type Latchkey,
  type TokenErrorCode,
} from "../src/index";
import { generateKey, JwksServer, part, signHs256, signToken, withPart, type TestKey } from "./helpers/jwks";
import { LatchkeyServer, sleep } from "./helpers/server";

const PASSWORD = "s3cur3P@ss";

/** Asserts a rejection with a `LatchkeyTokenError` of this code. */
async function refused(promise: Promise<unknown>, code: TokenErrorCode): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof LatchkeyTokenError, `a LatchkeyTokenError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.name, "LatchkeyTokenError");
    return true;
  });
}

/** A `fetch` that counts the requests it forwards. */
function countingFetch(): { fetch: typeof fetch; count: () => number } {
  let count = 0;
  return {
    fetch: (input, init) => {
      count += 1;
      return fetch(input, init);
    },
    count: () => count,
  };
}

function email(prefix = "user"): string {
  return `${prefix}-${randomUUID().slice(0, 8)}@example.com`;
}

describe("verifyAccessToken against the real server", () => {
  let server: LatchkeyServer;
  let latchkey: Latchkey;

  before(async () => {
    server = await LatchkeyServer.start();
    latchkey = await init({ baseUrl: server.baseUrl, projectId: server.projectId, apiKey: server.apiKey });
  });

  after(async () => {
    await server?.stop();
  });

  it("a fresh access token verifies to its claims, with one JWKS fetch for many tokens", async () => {
    const { user, accessToken } = await latchkey.auth.signUp({ email: email(), password: PASSWORD });
    const claims = await latchkey.verifyAccessToken(accessToken);
    assert.deepEqual(Object.keys(claims).sort(), ["aud", "exp", "iat", "iss", "projectId", "role", "sid", "sub"]);
    assert.equal(claims.sub, user.id);
    assert.equal(claims.projectId, server.projectId);
    assert.equal(claims.aud, server.projectId);
    assert.equal(claims.iss, server.baseUrl);
    assert.equal(claims.role, "visitor");
    assert.match(claims.sid, /^[0-9a-f-]{36}$/);
    assert.equal(claims.exp - claims.iat, 30 * 60);

    const counter = countingFetch();
    const verifier = createAccessTokenVerifier({
      baseUrl: server.baseUrl,
      projectId: server.projectId,
      fetch: counter.fetch,
    });
    assert.equal(verifier.jwksUrl, latchkey.jwksUrl);
    assert.equal(counter.count(), 0, "nothing fetched before the first verification");
    const other = await latchkey.auth.signUp({ email: email(), password: PASSWORD });
    const results = await Promise.all([accessToken, other.accessToken, accessToken].map((t) => verifier.verify(t)));
    assert.equal(results[1]?.sub, other.user.id);
    for (let i = 0; i < 5; i += 1) await verifier.verify(accessToken);
    assert.equal(counter.count(), 1, "one JWKS fetch serves every verification");
    assert.equal(verifier.jwksFetchCount, 1);
  });

  it("a refresh token never verifies, and costs no JWKS fetch", async () => {
    const counter = countingFetch();
    const client = await init({
      baseUrl: server.baseUrl,
      projectId: server.projectId,
      apiKey: server.apiKey,
      fetch: counter.fetch,
    });
    const { accessToken, refreshToken } = await client.auth.signUp({ email: email(), password: PASSWORD });
    const fetchesBefore = counter.count();
    await refused(client.verifyAccessToken(refreshToken), "token/unsupported-algorithm");
    assert.equal(counter.count(), fetchesBefore, "refused before any key is looked up");

    // Relabelled as EdDSA with the real kid, it is still not signed by that key.
    const kid = part(accessToken, 0).kid;
    const relabelled = withPart(refreshToken, 0, { ...part(refreshToken, 0), alg: "EdDSA", kid });
    await refused(client.verifyAccessToken(relabelled), "token/invalid-signature");
    // The rotated refresh token is refused the same way.
    const rotated = await client.auth.requestNewAccessToken({ refreshToken });
    await refused(client.verifyAccessToken(rotated.refreshToken), "token/unsupported-algorithm");
    await client.verifyAccessToken(rotated.accessToken);
  });

  it("tampered payloads and signatures, other algorithms and foreign headers are refused", async () => {
    const { accessToken: token } = await latchkey.auth.signUp({ email: email(), password: PASSWORD });
    await latchkey.verifyAccessToken(token); // the control

    await refused(
      latchkey.verifyAccessToken(withPart(token, 1, { ...part(token, 1), role: "admin" })),
      "token/invalid-signature",
    );
    const longer = { ...part(token, 1), exp: (part(token, 1).exp as number) + 86_400 };
    await refused(latchkey.verifyAccessToken(withPart(token, 1, longer)), "token/invalid-signature");
    const [h, p, s = ""] = token.split(".");
    const flipped = `${s[0] === "A" ? "B" : "A"}${s.slice(1)}`;
    await refused(latchkey.verifyAccessToken(`${h}.${p}.${flipped}`), "token/invalid-signature");
    await refused(latchkey.verifyAccessToken(`${h}.${p}.`), "token/invalid-signature");

    const header = part(token, 0);
    for (const alg of ["HS256", "RS256", "ES256", "none", "NONE", "eddsa", null]) {
      await refused(latchkey.verifyAccessToken(withPart(token, 0, { ...header, alg })), "token/unsupported-algorithm");
    }
    const noAlg: Record<string, unknown> = { ...header };
    delete noAlg.alg;
    await refused(latchkey.verifyAccessToken(withPart(token, 0, noAlg)), "token/unsupported-algorithm");
    const none =
      withPart(token, 0, { ...header, alg: "none" })
        .split(".")
        .slice(0, 2)
        .join(".") + ".";
    await refused(latchkey.verifyAccessToken(none), "token/unsupported-algorithm");
    const noKid: Record<string, unknown> = { ...header };
    delete noKid.kid;
    await refused(latchkey.verifyAccessToken(withPart(token, 0, noKid)), "token/missing-kid");
    for (const member of ["jku", "jwk", "x5u", "x5c", "crit"]) {
      const extra = { ...header, [member]: member === "jku" || member === "x5u" ? "https://evil.example/keys" : {} };
      await refused(latchkey.verifyAccessToken(withPart(token, 0, extra)), "token/unsupported-header");
    }

    for (const garbage of [
      "",
      "not.a.jwt",
      "a.b",
      `${token}.x`,
      `${h}=.${p}.${s}`,
      `${h}.${p}.${s}===`,
      "x".repeat(20_000),
    ]) {
      await refused(latchkey.verifyAccessToken(garbage), "token/malformed");
    }
    await refused(latchkey.verifyAccessToken(42 as unknown as string), "token/malformed");
  });

  it("expiry, issue time and the clock skew are judged by the verifier's clock", async () => {
    const { accessToken } = await latchkey.auth.signUp({ email: email(), password: PASSWORD });
    const { exp, iat } = part(accessToken, 1) as { exp: number; iat: number };
    const at = (seconds: number, clockSkewSec?: number) =>
      createAccessTokenVerifier({
        baseUrl: server.baseUrl,
        projectId: server.projectId,
        now: () => seconds * 1000,
        ...(clockSkewSec === undefined ? {} : { clockSkewSec }),
      }).verify(accessToken);

    await at(exp - 1);
    await at(exp + 59); // within the default 60 s of skew
    await refused(at(exp + 60), "token/expired");
    await refused(at(exp + 3600), "token/expired");
    await refused(at(exp, 0), "token/expired");
    await at(exp - 1, 0);
    // Issued "in the future" by more than the skew: the verifier's clock is behind.
    await at(iat - 60);
    await refused(at(iat - 61), "token/not-yet-valid");
    await refused(at(iat - 1, 0), "token/not-yet-valid");
  });

  it("the issuer and the project are checked", async () => {
    const { accessToken } = await latchkey.auth.signUp({ email: email(), password: PASSWORD });
    const elsewhere = createAccessTokenVerifier({
      baseUrl: server.baseUrl,
      projectId: server.projectId,
      issuer: "https://auth.example.com",
    });
    await refused(elsewhere.verify(accessToken), "token/wrong-issuer");
    const explicit = await init({
      baseUrl: server.baseUrl,
      projectId: server.projectId,
      apiKey: server.apiKey,
      accessTokens: { issuer: server.baseUrl },
    });
    await explicit.verifyAccessToken(accessToken);

    // Another project: its own keys, so its tokens name a kid this project never published.
    const other = JSON.parse(await server.admin("project", "create", "--name", "Other", "--json")) as { id: string };
    const otherKey = JSON.parse(
      await server.admin("api-key", "create", "--project", other.id, "--name", "other", "--json"),
    ) as { apiKey: string };
    const otherClient = await init({ baseUrl: server.baseUrl, projectId: other.id, apiKey: otherKey.apiKey });
    const foreign = await otherClient.auth.signUp({ email: email(), password: PASSWORD });
    await otherClient.verifyAccessToken(foreign.accessToken); // valid for its own project
    await refused(latchkey.verifyAccessToken(foreign.accessToken), "token/unknown-kid");
    // A verifier for the other project that somehow trusts this project's keys still refuses
    // this project's tokens: their audience is not the other project.
    const confused = createAccessTokenVerifier({
      baseUrl: server.baseUrl,
      projectId: other.id,
      fetch: (_input, init) => fetch(latchkey.jwksUrl, init),
    });
    await refused(confused.verify(accessToken), "token/wrong-audience");
  });

  it("a rotated signing key is found by one refetch, not sooner than the interval allows", async () => {
    const admin = JSON.parse(
      await server.admin("api-key", "create", "--project", server.projectId, "--scope", "admin", "--json"),
    ) as { apiKey: string };
    const client = await init({ baseUrl: server.baseUrl, projectId: server.projectId, apiKey: admin.apiKey });
    // Two verifiers primed before the rotation: one with the default 30 s between refetches,
    // one with 300 ms.
    const patientCount = countingFetch();
    const patient = createAccessTokenVerifier({
      baseUrl: server.baseUrl,
      projectId: server.projectId,
      fetch: patientCount.fetch,
    });
    const eagerCount = countingFetch();
    const eager = createAccessTokenVerifier({
      baseUrl: server.baseUrl,
      projectId: server.projectId,
      fetch: eagerCount.fetch,
      jwksMinRefetchIntervalMs: 300,
    });
    const first = await client.auth.signUp({ email: email(), password: PASSWORD });
    await patient.verify(first.accessToken);
    await eager.verify(first.accessToken);
    const primedAt = Date.now();
    assert.deepEqual([patientCount.count(), eagerCount.count()], [1, 1]);
    const cached = ((await (await fetch(patient.jwksUrl)).json()) as { keys: { kid: string }[] }).keys.map(
      (k) => k.kid,
    );

    // Rotate until the signing key is one the cached set does not hold (a fresh project's
    // standby is already published, so the first rotation may activate a known key).
    let active = "";
    for (let i = 0; i < 3 && (active === "" || cached.includes(active)); i += 1) {
      active = (await client.admin.signingKeys.rotate({ force: true })).find((k) => k.active)?.kid ?? "";
    }
    assert.ok(active !== "" && !cached.includes(active), "the new signing key is not in the cached JWKS");
    const second = await client.auth.signIn({ email: first.user.email ?? "", password: PASSWORD });
    assert.equal(part(second.accessToken, 0).kid, active);

    // Within 30 s of its fetch, the unknown kid is refused without a request.
    await refused(patient.verify(second.accessToken), "token/unknown-kid");
    assert.equal(patientCount.count(), 1);
    // Once 300 ms have passed, one refetch finds the new key.
    await sleep(Math.max(0, 350 - (Date.now() - primedAt)));
    const claims = await eager.verify(second.accessToken);
    assert.equal(claims.sub, first.user.id);
    assert.equal(eagerCount.count(), 2);
    // Tokens of the retired key still verify (it stays published), from the cache.
    await eager.verify(first.accessToken);
    await eager.verify(second.accessToken);
    assert.equal(eagerCount.count(), 2);
  });
});

describe("verifyAccessToken against a JWKS the test controls", () => {
  const projectId = randomUUID();
  let jwks: JwksServer;
  let trusted: TestKey;

  before(async () => {
    jwks = await JwksServer.start(projectId);
    trusted = generateKey("trusted-1");
    jwks.keys.push(trusted);
  });

  after(async () => {
    await jwks?.stop();
  });

  const verifier = (options: Partial<AccessTokenVerifierOptions> = {}) =>
    createAccessTokenVerifier({ baseUrl: jwks.baseUrl, projectId, ...options });

  /** Claims as Latchkey mints them, valid for the next 30 minutes. */
  const claims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
    const now = Math.floor(Date.now() / 1000);
    return {
      sub: randomUUID(),
      projectId,
      sid: randomUUID(),
      role: "visitor",
      iss: jwks.baseUrl,
      aud: projectId,
      iat: now,
      exp: now + 1800,
      ...overrides,
    };
  };

  it("a well-formed token of a published key verifies (the control)", async () => {
    const minted = claims({ role: "moderator" });
    const result = await verifier().verify(signToken(trusted, minted));
    assert.deepEqual(result, minted);
  });

  it("expired, not yet valid and future-issued tokens are refused, within a bounded skew", async () => {
    const now = Math.floor(Date.now() / 1000);
    const v = verifier();
    await refused(v.verify(signToken(trusted, claims({ iat: now - 4000, exp: now - 120 }))), "token/expired");
    await v.verify(signToken(trusted, claims({ iat: now - 4000, exp: now - 30 })));
    await refused(verifier({ clockSkewSec: 0 }).verify(signToken(trusted, claims({ exp: now - 1 }))), "token/expired");
    await refused(v.verify(signToken(trusted, claims({ nbf: now + 300 }))), "token/not-yet-valid");
    await v.verify(signToken(trusted, claims({ nbf: now + 20 })));
    await refused(v.verify(signToken(trusted, claims({ iat: now + 300 }))), "token/not-yet-valid");
    await refused(v.verify(signToken(trusted, claims({ exp: undefined }))), "token/invalid-claims");
    await refused(v.verify(signToken(trusted, claims({ exp: "never" }))), "token/invalid-claims");
    await refused(v.verify(signToken(trusted, claims({ iat: undefined }))), "token/invalid-claims");
    await refused(v.verify(signToken(trusted, claims({ role: 7 }))), "token/invalid-claims");
    await refused(v.verify(signToken(trusted, claims({ sub: undefined }))), "token/invalid-claims");
  });

  it("the skew is bounded: more than 60 s cannot be configured", async () => {
    for (const clockSkewSec of [61, 3600, -1, Number.NaN]) {
      assert.throws(
        () => verifier({ clockSkewSec }),
        (e: unknown) => e instanceof LatchkeyError && e.code === "client/invalid-argument",
      );
    }
    await assert.rejects(
      init({ baseUrl: jwks.baseUrl, projectId, apiKey: "lk_x", accessTokens: { clockSkewSec: 600 } }),
      (e: unknown) => e instanceof LatchkeyError && e.code === "client/invalid-argument",
    );
  });

  it("tokens for another audience or issuer are refused, even signed by a trusted key", async () => {
    const v = verifier();
    const other = randomUUID();
    await refused(v.verify(signToken(trusted, claims({ aud: other, projectId: other }))), "token/wrong-audience");
    await refused(v.verify(signToken(trusted, claims({ aud: other }))), "token/wrong-audience");
    await refused(v.verify(signToken(trusted, claims({ projectId: other }))), "token/wrong-audience");
    await refused(v.verify(signToken(trusted, claims({ aud: [projectId] }))), "token/wrong-audience");
    await refused(v.verify(signToken(trusted, claims({ iss: "https://auth.example.com" }))), "token/wrong-issuer");
    // A refresh token's claims (audience latchkey:refresh:{id}, no role), EdDSA-signed by a
    // published key: still not an access token.
    const now = Math.floor(Date.now() / 1000);
    const refreshShaped = {
      sub: randomUUID(),
      projectId,
      sid: randomUUID(),
      generation: 1,
      jti: "x",
      iss: jwks.baseUrl,
      aud: `latchkey:refresh:${projectId}`,
      iat: now,
      exp: now + 3600,
    };
    await refused(v.verify(signToken(trusted, refreshShaped)), "token/wrong-audience");
  });

  it("alg none, HS256 under the public key, and header-supplied keys are refused without a fetch", async () => {
    const before = jwks.requests;
    const v = verifier();
    const x = Buffer.from(trusted.jwk.x as string, "base64url");
    await refused(v.verify(signHs256(x, claims(), { kid: trusted.kid })), "token/unsupported-algorithm");
    await refused(
      v.verify(signHs256(Buffer.from(JSON.stringify(trusted.jwk)), claims(), { kid: trusted.kid })),
      "token/unsupported-algorithm",
    );
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid: trusted.kid })).toString("base64url")}.${Buffer.from(JSON.stringify(claims())).toString("base64url")}.`;
    await refused(v.verify(none), "token/unsupported-algorithm");
    // The attacker's own key, announced in the header (and a signature that matches it).
    const attacker = generateKey(trusted.kid);
    await refused(v.verify(signToken(attacker, claims(), { jwk: attacker.jwk })), "token/unsupported-header");
    await refused(
      v.verify(signToken(attacker, claims(), { jku: "https://evil.example/jwks.json" })),
      "token/unsupported-header",
    );
    // Even with a valid signature of a trusted key, a header member that points elsewhere is refused.
    await refused(
      v.verify(signToken(trusted, claims(), { jku: `${jwks.baseUrl}/other.json` })),
      "token/unsupported-header",
    );
    assert.equal(jwks.requests, before, "no JWKS request for any of them");
    // Without the header member, the attacker's key (same kid, other key) fails the signature.
    await refused(v.verify(signToken(attacker, claims())), "token/invalid-signature");
  });

  it("concurrent first verifications share one fetch; the set is refetched after its lifetime", async () => {
    const start = jwks.requests;
    const v = verifier({ jwksTtlMs: 300 });
    const token = signToken(trusted, claims());
    await Promise.all(Array.from({ length: 16 }, () => v.verify(token)));
    assert.equal(jwks.requests - start, 1);
    await v.verify(token);
    assert.equal(jwks.requests - start, 1);
    await sleep(350);
    await v.verify(token);
    assert.equal(jwks.requests - start, 2, "the cached set expired and was fetched again");
  });

  it("an unknown kid triggers one refetch, at most once per interval, then refusal", async () => {
    const start = jwks.requests;
    const v = verifier({ jwksMinRefetchIntervalMs: 1000 });
    await v.verify(signToken(trusted, claims()));
    assert.equal(jwks.requests - start, 1);

    const rotated = generateKey("trusted-2");
    const early = signToken(rotated, claims());
    // Right after a fetch: refused from the cache, no request, however many tries.
    for (let i = 0; i < 20; i += 1) await refused(v.verify(early), "token/unknown-kid");
    await Promise.all(Array.from({ length: 10 }, () => refused(v.verify(early), "token/unknown-kid")));
    assert.equal(jwks.requests - start, 1);

    // Interval passed: the first unknown kid refetches once (still unknown: refused), the rest wait.
    await sleep(1050);
    await Promise.all(Array.from({ length: 10 }, () => refused(v.verify(early), "token/unknown-kid")));
    for (let i = 0; i < 20; i += 1)
      await refused(v.verify(signToken(generateKey(`forged-${i}`), claims())), "token/unknown-kid");
    assert.equal(jwks.requests - start, 2, "exactly one refetch in the interval");

    // The key is published (a rotation): found by the next refetch once the interval passes.
    jwks.keys.push(rotated);
    await refused(v.verify(early), "token/unknown-kid");
    assert.equal(jwks.requests - start, 2);
    await sleep(1050);
    await v.verify(early);
    assert.equal(jwks.requests - start, 3);
    await v.verify(signToken(trusted, claims()));
    assert.equal(jwks.requests - start, 3);
    jwks.keys.pop();
  });

  it("keys the JWKS lists for other algorithms are not used", async () => {
    const start = jwks.requests;
    const misuse = generateKey("misuse");
    jwks.keys.push({ ...misuse, jwk: { ...misuse.jwk, alg: "HS256" } });
    const encryption = generateKey("encryption");
    jwks.keys.push({ ...encryption, jwk: { ...encryption.jwk, use: "enc" } });
    try {
      const v = verifier();
      await refused(v.verify(signToken(misuse, claims())), "token/unknown-kid");
      await refused(v.verify(signToken(encryption, claims())), "token/unknown-kid");
      await v.verify(signToken(trusted, claims()));
      assert.equal(jwks.requests - start, 1);
    } finally {
      jwks.keys.splice(-2, 2);
    }
  });

  it("an unreachable JWKS is token/jwks-unavailable; a stale set keeps serving, refetched at a limited rate", async () => {
    jwks.failWith = 503;
    try {
      await refused(verifier().verify(signToken(trusted, claims())), "token/jwks-unavailable");
    } finally {
      jwks.failWith = undefined;
    }
    const start = jwks.requests;
    const v = verifier({ jwksTtlMs: 100, jwksMinRefetchIntervalMs: 400 });
    const token = signToken(trusted, claims());
    await v.verify(token);
    jwks.failWith = 500;
    try {
      await sleep(450);
      for (let i = 0; i < 10; i += 1) await v.verify(token); // stale, the refetch fails: still verifies
      assert.equal(jwks.requests - start, 2, "one failed refetch, not one per call");
      await refused(v.verify(signToken(generateKey("unseen"), claims())), "token/unknown-kid");
      assert.equal(jwks.requests - start, 2);
    } finally {
      jwks.failWith = undefined;
    }
    await sleep(450);
    await v.verify(token);
    assert.equal(jwks.requests - start, 3, "fetched again once the server is back and the interval passed");
  });
});
