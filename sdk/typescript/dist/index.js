"use strict";
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
Object.defineProperty(exports, "__esModule", { value: true });
exports.DEFAULT_TIMEOUT_MS = exports.SDK_VERSION = exports.DEFAULT_JWKS_MIN_REFETCH_INTERVAL_MS = exports.DEFAULT_JWKS_TTL_MS = exports.MAX_CLOCK_SKEW_SEC = exports.DEFAULT_CLOCK_SKEW_SEC = exports.createAccessTokenVerifier = exports.AccessTokenVerifier = exports.isLatchkeyTokenError = exports.LatchkeyTokenError = exports.isLatchkeyError = exports.LatchkeyError = exports.AdminAuditModule = exports.AdminSigningKeysModule = exports.AdminProjectModule = exports.AdminSessionsModule = exports.AdminUsersModule = exports.AdminModule = exports.UsersModule = exports.AuthModule = exports.init = void 0;
var client_1 = require("./client");
Object.defineProperty(exports, "init", { enumerable: true, get: function () { return client_1.init; } });
Object.defineProperty(exports, "AuthModule", { enumerable: true, get: function () { return client_1.AuthModule; } });
Object.defineProperty(exports, "UsersModule", { enumerable: true, get: function () { return client_1.UsersModule; } });
var admin_1 = require("./admin");
Object.defineProperty(exports, "AdminModule", { enumerable: true, get: function () { return admin_1.AdminModule; } });
Object.defineProperty(exports, "AdminUsersModule", { enumerable: true, get: function () { return admin_1.AdminUsersModule; } });
Object.defineProperty(exports, "AdminSessionsModule", { enumerable: true, get: function () { return admin_1.AdminSessionsModule; } });
Object.defineProperty(exports, "AdminProjectModule", { enumerable: true, get: function () { return admin_1.AdminProjectModule; } });
Object.defineProperty(exports, "AdminSigningKeysModule", { enumerable: true, get: function () { return admin_1.AdminSigningKeysModule; } });
Object.defineProperty(exports, "AdminAuditModule", { enumerable: true, get: function () { return admin_1.AdminAuditModule; } });
var errors_1 = require("./errors");
Object.defineProperty(exports, "LatchkeyError", { enumerable: true, get: function () { return errors_1.LatchkeyError; } });
Object.defineProperty(exports, "isLatchkeyError", { enumerable: true, get: function () { return errors_1.isLatchkeyError; } });
Object.defineProperty(exports, "LatchkeyTokenError", { enumerable: true, get: function () { return errors_1.LatchkeyTokenError; } });
Object.defineProperty(exports, "isLatchkeyTokenError", { enumerable: true, get: function () { return errors_1.isLatchkeyTokenError; } });
var verify_1 = require("./verify");
Object.defineProperty(exports, "AccessTokenVerifier", { enumerable: true, get: function () { return verify_1.AccessTokenVerifier; } });
Object.defineProperty(exports, "createAccessTokenVerifier", { enumerable: true, get: function () { return verify_1.createAccessTokenVerifier; } });
Object.defineProperty(exports, "DEFAULT_CLOCK_SKEW_SEC", { enumerable: true, get: function () { return verify_1.DEFAULT_CLOCK_SKEW_SEC; } });
Object.defineProperty(exports, "MAX_CLOCK_SKEW_SEC", { enumerable: true, get: function () { return verify_1.MAX_CLOCK_SKEW_SEC; } });
Object.defineProperty(exports, "DEFAULT_JWKS_TTL_MS", { enumerable: true, get: function () { return verify_1.DEFAULT_JWKS_TTL_MS; } });
Object.defineProperty(exports, "DEFAULT_JWKS_MIN_REFETCH_INTERVAL_MS", { enumerable: true, get: function () { return verify_1.DEFAULT_JWKS_MIN_REFETCH_INTERVAL_MS; } });
var http_1 = require("./http");
Object.defineProperty(exports, "SDK_VERSION", { enumerable: true, get: function () { return http_1.SDK_VERSION; } });
Object.defineProperty(exports, "DEFAULT_TIMEOUT_MS", { enumerable: true, get: function () { return http_1.DEFAULT_TIMEOUT_MS; } });
//# sourceMappingURL=index.js.map