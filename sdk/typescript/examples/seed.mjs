// @ts-check
/**
 * Every call of the seed document, in order, through @latchkey/node, then local access-token
 * verification. Plain JavaScript (an ES module), type-checked by the SDK's build, so it runs
 * as it is wherever the SDK is installed:
 *
 *   npm install /path/to/latchkey/sdk/typescript
 *   LATCHKEY_URL=http://127.0.0.1:8787 LATCHKEY_PROJECT_ID=… LATCHKEY_API_KEY=lk_… \
 *     node node_modules/@latchkey/node/examples/seed.mjs
 *
 * The token-bearing calls need values from outside this program: RESET_TOKEN and
 * VERIFICATION_TOKEN from the emails' links, SIGNED_JWT from your own auth system (an HS256
 * JWT signed with the project's signing secret). Each is skipped when its variable is unset.
 * LATCHKEY_EMAIL and LATCHKEY_USERNAME choose the demo user (default user@example.com, alice).
 */

import { init, LatchkeyError, LatchkeyTokenError } from "@latchkey/node";

/** @param {string} name */
function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`set ${name}`);
    process.exit(2);
  }
  return value;
}

const email = process.env.LATCHKEY_EMAIL ?? "user@example.com";
const username = process.env.LATCHKEY_USERNAME ?? "alice";
const password = "s3cur3P@ss";

const latchkey = await init({
  baseUrl: process.env.LATCHKEY_URL ?? "http://127.0.0.1:8787",
  projectId: required("LATCHKEY_PROJECT_ID"),
  apiKey: required("LATCHKEY_API_KEY"),
  timeoutMs: 5_000,
});

const { available } = await latchkey.users.checkUsernameAvailability({ username });
console.log(`${username} available:`, available);

if (available) {
  const { user, accessToken, refreshToken } = await latchkey.auth.signUp({ email, password, name: "Alice", username });
  console.log("signed up", user.id, accessToken.slice(0, 16), refreshToken.slice(0, 16));
}

const { user, accessToken, refreshToken } = await latchkey.auth.signIn({ email, password });
console.log("signed in", user.id, user.email, accessToken.slice(0, 16));

// What your backend does on every request: verify the access token locally (the project's
// JWKS is fetched once and cached). A refresh token never passes.
const claims = await latchkey.verifyAccessToken(accessToken);
console.log("access token verified: user", claims.sub, "role", claims.role);
try {
  await latchkey.verifyAccessToken(refreshToken);
  throw new Error("a refresh token verified as an access token");
} catch (e) {
  if (!(e instanceof LatchkeyTokenError)) throw e;
  console.log("refresh token refused as an access token:", e.code);
}

// The refresh token rotates: keep the new one.
const refreshed = await latchkey.auth.requestNewAccessToken({ refreshToken });
console.log("new access token", refreshed.accessToken.slice(0, 16));

await latchkey.auth.signOut({ refreshToken: refreshed.refreshToken });
console.log("signed out");

if (process.env.SIGNED_JWT) {
  const external = await latchkey.auth.verifyExternalUser({ userJwt: process.env.SIGNED_JWT });
  console.log("external user", external.user.id, external.user.foreignId);
}

try {
  await latchkey.auth.sendVerificationEmail({ userId: user.id });
  console.log("verification email sent");
} catch (e) {
  // 409 auth/already-verified once the email is verified.
  if (!(e instanceof LatchkeyError && e.code === "auth/already-verified")) throw e;
  console.log("already verified");
}
if (process.env.VERIFICATION_TOKEN) {
  await latchkey.auth.verifyEmail({ token: process.env.VERIFICATION_TOKEN });
  console.log("email verified");
}

await latchkey.auth.requestPasswordReset({ email });
console.log("password reset requested (check the inbox)");
if (process.env.RESET_TOKEN) {
  await latchkey.auth.resetPassword({ token: process.env.RESET_TOKEN, newPassword: "newS3cur3P@ss" });
  console.log("password reset");
}

// Errors carry the HTTP status and the API's code, message and field.
try {
  await latchkey.auth.signIn({ email, password: "wrong-password" });
} catch (e) {
  if (!(e instanceof LatchkeyError)) throw e;
  console.log("sign-in refused:", e.status, e.code, e.error);
}
