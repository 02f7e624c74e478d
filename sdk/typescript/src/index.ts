/**
 * `@latchkey/node`: the server-side SDK for Latchkey.
 *
 * ```ts
 * import { init } from "@latchkey/node";
 * const latchkey = await init({ baseUrl, projectId, apiKey });
 * const { user, accessToken, refreshToken } = await latchkey.auth.signUp({ email, password });
 * // With an admin-scope key:
 * for await (const user of latchkey.admin.users.iterate({ status: "suspended" })) console.log(user.id);
 * // In every request of your backend (local, JWKS cached):
 * const claims = await latchkey.verifyAccessToken(accessToken); // claims.sub is the user id
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
export { LatchkeyError, isLatchkeyError, LatchkeyTokenError, isLatchkeyTokenError } from "./errors";
export type { ClientErrorCode, TokenErrorCode } from "./errors";
export {
  AccessTokenVerifier,
  createAccessTokenVerifier,
  DEFAULT_CLOCK_SKEW_SEC,
  MAX_CLOCK_SKEW_SEC,
  DEFAULT_JWKS_TTL_MS,
  DEFAULT_JWKS_MIN_REFETCH_INTERVAL_MS,
} from "./verify";
export type { AccessTokenClaims, AccessTokenOptions, AccessTokenVerifierOptions } from "./verify";
export { SDK_VERSION, DEFAULT_TIMEOUT_MS } from "./http";
export type * from "./types";
export type * from "./admin-types";
