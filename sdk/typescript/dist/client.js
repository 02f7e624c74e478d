"use strict";
/** `init()` and the `auth` / `users` modules (`admin` is in `admin.ts`). */
Object.defineProperty(exports, "__esModule", { value: true });
exports.UsersModule = exports.AuthModule = void 0;
exports.init = init;
const admin_1 = require("./admin");
const errors_1 = require("./errors");
const http_1 = require("./http");
const verify_1 = require("./verify");
function credentials(body) {
    return { user: body.user, accessToken: body.accessToken, refreshToken: body.refreshToken };
}
/** Sign users up and in, manage their tokens, and run the email flows, on behalf of the project. */
class AuthModule {
    #http;
    constructor(http) {
        this.#http = http;
    }
    #post(route, body, options) {
        return this.#http.request("POST", this.#http.projectUrl(`/auth/${route}`), body, options);
    }
    /** Creates a user. Rejects with `DUPLICATE_EMAIL` / `DUPLICATE_USERNAME` (409, with `field`), `auth/weak-password`, `auth/invalid-body`. */
    async signUp(params, options) {
        return credentials(await this.#post("sign-up", params, options));
    }
    /** Rejects with 401 `auth/invalid-credentials` for an unknown email or a wrong password, 429 `auth/too-many-attempts`. */
    async signIn(params, options) {
        const { email, password } = params;
        return credentials(await this.#post("sign-in", { email, password }, options));
    }
    /** Ends the session of `refreshToken`. Succeeds for unknown or expired tokens too. */
    async signOut(params, options) {
        await this.#post("sign-out", { refreshToken: params.refreshToken }, options);
    }
    /**
     * Exchanges a refresh token for a new access token. The refresh token ROTATES: the result
     * also carries the new `refreshToken`, which replaces the one passed in.
     */
    async requestNewAccessToken(params, options) {
        const body = await this.#post("request-new-access-token", { refreshToken: params.refreshToken }, options);
        return { accessToken: body.accessToken, refreshToken: body.refreshToken, user: body.user };
    }
    /** Signs in (creating on first sight) a user your own auth system vouches for with an HS256 JWT. */
    async verifyExternalUser(params, options) {
        return credentials(await this.#post("verify-external-user", { userJwt: params.userJwt }, options));
    }
    /** Emails a reset link if the account exists; resolves the same way either way. */
    async requestPasswordReset(params, options) {
        await this.#post("request-password-reset", { email: params.email }, options);
    }
    /** Sets a new password with the token from the reset email; ends every session of the user. */
    async resetPassword(params, options) {
        await this.#post("reset-password", { token: params.token, newPassword: params.newPassword }, options);
    }
    /** Marks the email verified with the token from the verification email. */
    async verifyEmail(params, options) {
        await this.#post("verify-email", { token: params.token }, options);
    }
    /** Emails a verification link to the user. Rejects with 404 `user/not-found`, 409 `auth/already-verified`. */
    async sendVerificationEmail(params, options) {
        await this.#post("send-verification-email", { userId: params.userId }, options);
    }
}
exports.AuthModule = AuthModule;
class UsersModule {
    #http;
    constructor(http) {
        this.#http = http;
    }
    /** Whether `username` is free in this project (case-insensitive, after normalisation). */
    async checkUsernameAvailability(params, options) {
        const url = this.#http.projectUrl(`/users/check-username?username=${encodeURIComponent(params.username)}`);
        const body = await this.#http.request("GET", url, undefined, options);
        return { available: body.available };
    }
}
exports.UsersModule = UsersModule;
function invalidArgument(message) {
    return new errors_1.LatchkeyError({ status: 0, code: "client/invalid-argument", error: message });
}
/**
 * Checks the API key against the server (`GET /internal/service/verify`) and returns a
 * ready client. Rejects with a `LatchkeyError` whose message says what to fix when the key
 * or project id is wrong or the server cannot be reached.
 */
async function init(options) {
    const { projectId, apiKey } = options;
    if (typeof options.baseUrl !== "string" || !/^https?:\/\/[^/]/i.test(options.baseUrl)) {
        throw invalidArgument(`Latchkey init: baseUrl must be an http(s) URL, got ${JSON.stringify(options.baseUrl)}`);
    }
    if (typeof projectId !== "string" || projectId.trim() === "") {
        throw invalidArgument("Latchkey init: projectId is required");
    }
    if (typeof apiKey !== "string" || apiKey.trim() === "") {
        throw invalidArgument("Latchkey init: apiKey is required");
    }
    const timeoutMs = options.timeoutMs ?? http_1.DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
        throw invalidArgument("Latchkey init: timeoutMs must be a non-negative number");
    }
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== "function") {
        throw invalidArgument("Latchkey init: no global fetch (Node 18+ required) and none passed as `fetch`");
    }
    const baseUrl = options.baseUrl.replace(/\/+$/, "");
    const http = new http_1.Transport({ baseUrl, projectId, apiKey, timeoutMs, fetch: fetchImpl });
    // Built before the network call, so bad verification options fail init at once.
    const verifier = new verify_1.AccessTokenVerifier({
        ...options.accessTokens,
        baseUrl,
        projectId,
        timeoutMs,
        fetch: fetchImpl,
    });
    const callOptions = {};
    if (options.signal !== undefined)
        callOptions.signal = options.signal;
    let verified;
    try {
        verified = await http.request("GET", `${baseUrl}/internal/service/verify`, undefined, callOptions);
    }
    catch (e) {
        if (e instanceof errors_1.LatchkeyError && (e.status === 401 || e.status === 403)) {
            throw new errors_1.LatchkeyError({
                status: e.status,
                code: e.code,
                error: `Latchkey init failed: the server at ${baseUrl} refused the API key for project ${projectId} ` +
                    `(${e.status} ${e.code}). Check that apiKey is a live key of that project.`,
                cause: e,
            });
        }
        if (e instanceof errors_1.LatchkeyError) {
            throw new errors_1.LatchkeyError({
                status: e.status,
                code: e.code,
                error: `Latchkey init failed: ${e.error}`,
                field: e.field,
                cause: e,
            });
        }
        throw e;
    }
    if (verified?.projectId !== undefined && verified.projectId !== projectId) {
        throw new errors_1.LatchkeyError({
            status: 401,
            code: "auth/invalid-api-key",
            error: `Latchkey init failed: the API key belongs to project ${verified.projectId}, not ${projectId}`,
        });
    }
    return {
        baseUrl,
        projectId,
        auth: new AuthModule(http),
        users: new UsersModule(http),
        admin: new admin_1.AdminModule(http),
        jwksUrl: verifier.jwksUrl,
        verifyAccessToken: (token) => verifier.verify(token),
    };
}
//# sourceMappingURL=client.js.map