// The README's TypeScript quick start: sign up, refresh, sign out, verify locally, a typed error.
// Run from a folder where `npm install <latchkey>/sdk/typescript` was done, with
// LATCHKEY_URL, LATCHKEY_PROJECT_ID and LATCHKEY_API_KEY set.
import { init, LatchkeyError } from "@latchkey/node";

const latchkey = await init({
  baseUrl: process.env.LATCHKEY_URL,
  projectId: process.env.LATCHKEY_PROJECT_ID,
  apiKey: process.env.LATCHKEY_API_KEY,
});
const { user, refreshToken } = await latchkey.auth.signUp({
  email: "bob@example.com", password: "s3cur3P@ss", name: "Bob", username: "bob",
});
console.log("signed up", user.id);
const refreshed = await latchkey.auth.requestNewAccessToken({ refreshToken }); // rotates: keep the new one
await latchkey.auth.signOut({ refreshToken: refreshed.refreshToken });
try {
  await latchkey.auth.signIn({ email: "bob@example.com", password: "wrong" });
} catch (e) {
  if (!(e instanceof LatchkeyError)) throw e;
  console.log(e.status, e.code); // 401 auth/invalid-credentials
}
