// The README's TypeScript quick start: sign up, verify the access token locally, refresh,
// sign out, and a typed error. Run where `npm install <latchkey>/sdk/typescript` was done,
// with LATCHKEY_URL, LATCHKEY_PROJECT_ID and LATCHKEY_API_KEY set.
import { init, LatchkeyError } from "@latchkey/node";

const { LATCHKEY_URL = "http://127.0.0.1:8787", LATCHKEY_PROJECT_ID = "", LATCHKEY_API_KEY = "" } = process.env;
const latchkey = await init({ baseUrl: LATCHKEY_URL, projectId: LATCHKEY_PROJECT_ID, apiKey: LATCHKEY_API_KEY });

const { user, accessToken, refreshToken } = await latchkey.auth.signUp({
  email: "bob@example.com", password: "s3cur3P@ss", name: "Bob", username: "bob",
});
const claims = await latchkey.verifyAccessToken(accessToken); // local: EdDSA, JWKS cached
console.log("signed up", user.id, "role", claims.role);

const refreshed = await latchkey.auth.requestNewAccessToken({ refreshToken }); // rotates: keep the new one
await latchkey.auth.signOut({ refreshToken: refreshed.refreshToken });

try {
  await latchkey.auth.signIn({ email: "bob@example.com", password: "wrong" });
} catch (e) {
  if (!(e instanceof LatchkeyError)) throw e;
  console.log(e.status, e.code); // 401 auth/invalid-credentials
}
