/**
 * The seed's email calls (requestPasswordReset, resetPassword, verifyEmail, and
 * sendVerificationEmail) through the SDK against the REAL binary, with the tokens taken from
 * REAL emails received over SMTP on loopback (test/helpers/smtp.ts).
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { init, LatchkeyError, type Latchkey } from "../src/index";
import { LatchkeyServer } from "./helpers/server";
import { SmtpSink, tokenFrom } from "./helpers/smtp";

let server: LatchkeyServer;
let smtp: SmtpSink;
let replyke: Latchkey;

/** How `latchkey serve` is pointed at an SMTP server (issue 3's settings). */
function smtpEnv(port: number): Record<string, string> {
  return {
    // Plain SMTP to the loopback sink (`smtp://` alone requires STARTTLS).
    LATCHKEY_SMTP_URL: `smtp://127.0.0.1:${port}?tls=none`,
    LATCHKEY_MAIL_FROM: "Latchkey <no-reply@latchkey.test>",
  };
}

before(async () => {
  smtp = await SmtpSink.start();
  server = await LatchkeyServer.start({ env: smtpEnv(smtp.port) });
  replyke = await init({ baseUrl: server.baseUrl, projectId: server.projectId, apiKey: server.apiKey });
});

after(async () => {
  await server?.stop();
  await smtp?.stop();
});

describe("seed: email verification and password reset", () => {
  let userId: string;

  it("auth.signUp (setup)", async () => {
    const { user } = await replyke.auth.signUp({
      email: "user@example.com",
      password: "s3cur3P@ss",
      name: "Alice",
      username: "alice",
    });
    userId = user.id;
  });

  it("auth.sendVerificationEmail resolves to undefined and sends a real email", async () => {
    const before = smtp.messages.length;
    const result: void = await replyke.auth.sendVerificationEmail({ userId });
    assert.equal(result, undefined);
    const mail = await smtp.waitFor("user@example.com", (m) => smtp.messages.indexOf(m) >= before);
    assert.match(mail.text, /\/auth\/verify-email-link\?token=/, "links to the hosted verification page");
    assert.ok(tokenFrom(mail).length >= 43, "at least 256 bits of token");
  });

  it("auth.verifyEmail with the emailed token resolves to undefined and verifies the user", async () => {
    const mail = smtp.messages.filter((m) => m.to.includes("user@example.com")).at(-1);
    assert.ok(mail, "a verification email was received");
    const verificationToken = tokenFrom(mail);
    await replyke.auth.verifyEmail({ token: verificationToken });
    const { user } = await replyke.auth.signIn({ email: "user@example.com", password: "s3cur3P@ss" });
    assert.equal(user.isVerified, true);
    // Single use.
    await assert.rejects(replyke.auth.verifyEmail({ token: verificationToken }), (e: unknown) => {
      assert.ok(e instanceof LatchkeyError);
      assert.equal(e.status, 400);
      assert.equal(e.code, "auth/invalid-or-expired-token");
      return true;
    });
  });

  it("auth.sendVerificationEmail for a verified user is 409 auth/already-verified", async () => {
    await assert.rejects(replyke.auth.sendVerificationEmail({ userId }), (e: unknown) => {
      assert.ok(e instanceof LatchkeyError);
      assert.equal(e.status, 409);
      assert.equal(e.code, "auth/already-verified");
      return true;
    });
  });

  it("auth.requestPasswordReset + auth.resetPassword with the emailed token", async () => {
    const { refreshToken } = await replyke.auth.signIn({ email: "user@example.com", password: "s3cur3P@ss" });
    const before = smtp.messages.length;
    const requested: void = await replyke.auth.requestPasswordReset({ email: "user@example.com" });
    assert.equal(requested, undefined);
    const mail = await smtp.waitFor("user@example.com", (m) => smtp.messages.indexOf(m) >= before);
    assert.match(mail.text, /\/auth\/reset-password-page\?token=/, "links to the hosted reset page");
    const resetToken = tokenFrom(mail);

    const reset: void = await replyke.auth.resetPassword({
      token: resetToken,
      newPassword: "newS3cur3P@ss",
    });
    assert.equal(reset, undefined);

    const { user } = await replyke.auth.signIn({ email: "user@example.com", password: "newS3cur3P@ss" });
    assert.equal(user.id, userId);
    await assert.rejects(
      replyke.auth.signIn({ email: "user@example.com", password: "s3cur3P@ss" }),
      (e: unknown) => e instanceof LatchkeyError && e.status === 401 && e.code === "auth/invalid-credentials",
    );
    // A reset ends every session of the user.
    await assert.rejects(
      replyke.auth.requestNewAccessToken({ refreshToken }),
      (e: unknown) => e instanceof LatchkeyError && e.status === 403,
    );
    // The token is single-use.
    await assert.rejects(
      replyke.auth.resetPassword({ token: resetToken, newPassword: "newS3cur3P@ss" }),
      (e: unknown) => e instanceof LatchkeyError && e.status === 400 && e.code === "auth/invalid-reset-token",
    );
  });

  it("auth.requestPasswordReset resolves the same for an unknown email and sends nothing", async () => {
    assert.equal(await replyke.auth.requestPasswordReset({ email: "nobody@example.com" }), undefined);
    await assert.rejects(smtp.waitFor("nobody@example.com", () => true, 1000));
  });
});
