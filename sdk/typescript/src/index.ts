/**
 * `@latchkey/node`: the server-side SDK for Latchkey.
 *
 * ```ts
 * import { init } from "@latchkey/node";
 * const latchkey = await init({ baseUrl, projectId, apiKey });
 * const { user, accessToken, refreshToken } = await latchkey.auth.signUp({ email, password });
 * // With an admin-scope key:
 * for await (const user of latchkey.admin.users.iterate({ status: "suspended" })) console.log(user.id);
 * ```
 */

export { init, AuthModule, UsersModule } from "./client";
export type { Latchkey } from "./client";
export {
  AdminModule,
  AdminUsersModule,
  AdminSessionsModule,
  AdminProjectModule,
  AdminSigningKeysModule,
  AdminAuditModule,
} from "./admin";
export { LatchkeyError, isLatchkeyError } from "./errors";
export type { ClientErrorCode } from "./errors";
export { SDK_VERSION, DEFAULT_TIMEOUT_MS } from "./http";
export type * from "./types";
export type * from "./admin-types";
