/** `init()` and the `auth` / `users` modules (`admin` is in `admin.ts`). */
import { AdminModule } from "./admin";
import { Transport } from "./http";
import { type AccessTokenClaims } from "./verify";
import type { CallOptions, CheckUsernameParams, Credentials, InitOptions, RefreshedCredentials, RefreshTokenParams, RequestPasswordResetParams, ResetPasswordParams, SendVerificationEmailParams, SignInParams, SignUpParams, UsernameAvailability, VerifyEmailParams, VerifyExternalUserParams } from "./types";
/** Sign users up and in, manage their tokens, and run the email flows, on behalf of the project. */
export declare class AuthModule {
    #private;
    constructor(http: Transport);
    /** Creates a user. Rejects with `DUPLICATE_EMAIL` / `DUPLICATE_USERNAME` (409, with `field`), `auth/weak-password`, `auth/invalid-body`. */
    signUp(params: SignUpParams, options?: CallOptions): Promise<Credentials>;
    /** Rejects with 401 `auth/invalid-credentials` for an unknown email or a wrong password, 429 `auth/too-many-attempts`. */
    signIn(params: SignInParams, options?: CallOptions): Promise<Credentials>;
    /** Ends the session of `refreshToken`. Succeeds for unknown or expired tokens too. */
    signOut(params: RefreshTokenParams, options?: CallOptions): Promise<void>;
    /**
     * Exchanges a refresh token for a new access token. The refresh token ROTATES: the result
     * also carries the new `refreshToken`, which replaces the one passed in.
     */
    requestNewAccessToken(params: RefreshTokenParams, options?: CallOptions): Promise<RefreshedCredentials>;
    /** Signs in (creating on first sight) a user your own auth system vouches for with an HS256 JWT. */
    verifyExternalUser(params: VerifyExternalUserParams, options?: CallOptions): Promise<Credentials>;
    /** Emails a reset link if the account exists; resolves the same way either way. */
    requestPasswordReset(params: RequestPasswordResetParams, options?: CallOptions): Promise<void>;
    /** Sets a new password with the token from the reset email; ends every session of the user. */
    resetPassword(params: ResetPasswordParams, options?: CallOptions): Promise<void>;
    /** Marks the email verified with the token from the verification email. */
    verifyEmail(params: VerifyEmailParams, options?: CallOptions): Promise<void>;
    /** Emails a verification link to the user. Rejects with 404 `user/not-found`, 409 `auth/already-verified`. */
    sendVerificationEmail(params: SendVerificationEmailParams, options?: CallOptions): Promise<void>;
}
export declare class UsersModule {
    #private;
    constructor(http: Transport);
    /** Whether `username` is free in this project (case-insensitive, after normalisation). */
    checkUsernameAvailability(params: CheckUsernameParams, options?: CallOptions): Promise<UsernameAvailability>;
}
/** An initialised client: `latchkey.auth.*`, `latchkey.users.*` and `latchkey.admin.*`. */
export interface Latchkey {
    readonly baseUrl: string;
    readonly projectId: string;
    readonly auth: AuthModule;
    readonly users: UsersModule;
    /** The admin API; needs a key with the `admin` scope (else 403 `auth/insufficient-scope`). */
    readonly admin: AdminModule;
    /** `{baseUrl}/v7/{projectId}/.well-known/jwks.json`: the keys `verifyAccessToken` uses. */
    readonly jwksUrl: string;
    /**
     * Verifies an access token locally (no call to Latchkey but a cached JWKS fetch): EdDSA
     * signature by a key of this project, `aud` = project id, `iss`, `exp`/`nbf`/`iat`.
     * Resolves to its claims or rejects with a `LatchkeyTokenError`; a refresh token never
     * verifies. Options: `init({ accessTokens })`.
     */
    verifyAccessToken(token: string): Promise<AccessTokenClaims>;
}
/**
 * Checks the API key against the server (`GET /internal/service/verify`) and returns a
 * ready client. Rejects with a `LatchkeyError` whose message says what to fix when the key
 * or project id is wrong or the server cannot be reached.
 */
export declare function init(options: InitOptions): Promise<Latchkey>;
