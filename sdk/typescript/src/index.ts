/**
 * `@latchkey/node`: the server-side SDK for Latchkey.
 *
 * ```ts
 * import { init } from "@latchkey/node";
 * const latchkey = await init({ baseUrl, projectId, apiKey });
 * const { user, accessToken, refreshToken } = await latchkey.auth.signUp({ email, password });
 * ```
 */

export { init, AuthModule, UsersModule } from "./client";
export type { Latchkey } from "./client";
export { LatchkeyError, isLatchkeyError } from "./errors";
export type { ClientErrorCode } from "./errors";
export { SDK_VERSION, DEFAULT_TIMEOUT_MS } from "./http";
export type * from "./types";
