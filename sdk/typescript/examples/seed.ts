/**
 * Every call of the seed document, in order, through @latchkey/node.
 *
 *   LATCHKEY_URL=http://127.0.0.1:8787 LATCHKEY_PROJECT_ID=… LATCHKEY_API_KEY=lk_… \
 *     node build/examples/seed.js
 *
 * The token-bearing calls need values from outside this program: RESET_TOKEN and
 * VERIFICATION_TOKEN from the emails' links, SIGNED_JWT from your own auth system (an HS256
 * JWT signed with the project's signing secret). Each is skipped when its variable is unset.
 */

import { init, LatchkeyError } from "../src/index";

async function main(): Promise<void> {
  const replyke = await init({
    baseUrl: process.env.LATCHKEY_URL ?? "http://127.0.0.1:8787",
    projectId: required("LATCHKEY_PROJECT_ID"),
    apiKey: required("LATCHKEY_API_KEY"),
    timeoutMs: 5_000,
  });

  const { available } = await replyke.users.checkUsernameAvailability({ username: "alice" });
  console.log("alice available:", available);

  if (available) {
    const { user, accessToken, refreshToken } = await replyke.auth.signUp({
      email: "user@example.com",
      password: "s3cur3P@ss",
      name: "Alice",
      username: "alice",
    });
    console.log("signed up", user.id, accessToken.slice(0, 16), refreshToken.slice(0, 16));
  }

  const { user, accessToken, refreshToken } = await replyke.auth.signIn({
    email: "user@example.com",
    password: "s3cur3P@ss",
  });
  console.log("signed in", user.id, user.email, accessToken.slice(0, 16));

  // The refresh token rotates: keep the new one.
  const refreshed = await replyke.auth.requestNewAccessToken({
    refreshToken,
  });
  console.log("new access token", refreshed.accessToken.slice(0, 16));

  await replyke.auth.signOut({ refreshToken: refreshed.refreshToken });
  console.log("signed out");

  if (process.env.SIGNED_JWT) {
    const signedJwt = process.env.SIGNED_JWT;
    const external = await replyke.auth.verifyExternalUser({
      userJwt: signedJwt,
    });
    console.log("external user", external.user.id, external.user.foreignId);
  }

  try {
    await replyke.auth.sendVerificationEmail({ userId: user.id });
    console.log("verification email sent");
  } catch (e) {
    // 409 auth/already-verified once the email is verified.
    if (!(e instanceof LatchkeyError && e.code === "auth/already-verified")) throw e;
    console.log("already verified");
  }
  if (process.env.VERIFICATION_TOKEN) {
    const verificationToken = process.env.VERIFICATION_TOKEN;
    await replyke.auth.verifyEmail({ token: verificationToken });
    console.log("email verified");
  }

  await replyke.auth.requestPasswordReset({ email: "user@example.com" });
  console.log("password reset requested (check the inbox)");
  if (process.env.RESET_TOKEN) {
    const resetToken = process.env.RESET_TOKEN;
    await replyke.auth.resetPassword({
      token: resetToken,
      newPassword: "newS3cur3P@ss",
    });
    console.log("password reset");
  }

  // Errors carry the HTTP status and the API's code, message and field.
  try {
    await replyke.auth.signIn({ email: "user@example.com", password: "wrong-password" });
  } catch (e) {
    if (e instanceof LatchkeyError) console.log("sign-in refused:", e.status, e.code, e.error);
    else throw e;
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
