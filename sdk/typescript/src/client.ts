/** `init()` and the `auth` / `users` modules (`admin` is in `admin.ts`). */

import { AdminModule } from "./admin";
import { LatchkeyError } from "./errors";
import { DEFAULT_TIMEOUT_MS, Transport } from "./http";
import { AccessTokenVerifier, type AccessTokenClaims } from "./verify";
import type {
  AuthUser,
  CallOptions,
  CheckUsernameParams,
  Credentials,
  InitOptions,
  RefreshedCredentials,
  RefreshTokenParams,
  RequestPasswordResetParams,
  ResetPasswordParams,
  SendVerificationEmailParams,
  SignInParams,
  SignUpParams,
  UsernameAvailability,
  VerifyEmailParams,
  VerifyExternalUserParams,
} from "./types";

interface CredentialsBody {
  user: AuthUser;
  accessToken: string;
  refreshToken: string;
}

function credentials(body: CredentialsBody): Credentials {
  return { user: body.user, accessToken: body.accessToken, refreshToken: body.refreshToken };
}

/** Sign users up and in, manage their tokens, and run the email flows, on behalf of the project. */
export class AuthModule {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  #post<T>(route: string, body: unknown, options?: CallOptions): Promise<T> {
    return this.#http.request<T>("POST", this.#http.projectUrl(`/auth/${route}`), body, options);
  }

  /** Creates a user. Rejects with `DUPLICATE_EMAIL` / `DUPLICATE_USERNAME` (409, with `field`), `auth/weak-password`, `auth/invalid-body`. */
  async signUp(params: SignUpParams, options?: CallOptions): Promise<Credentials> {
    return credentials(await this.#post<CredentialsBody>("sign-up", params, options));
  }

  /** Rejects with 401 `auth/invalid-credentials` for an unknown email or a wrong password, 429 `auth/too-many-attempts`. */
  async signIn(params: SignInParams, options?: CallOptions): Promise<Credentials> {
    const { email, password } = params;
    return credentials(await this.#post<CredentialsBody>("sign-in", { email, password }, options));
  }

  /** Ends the session of `refreshToken`. Succeeds for unknown or expired tokens too. */
  async signOut(params: RefreshTokenParams, options?: CallOptions): Promise<void> {
    await this.#post<undefined>("sign-out", { refreshToken: params.refreshToken }, options);
  }

  /**
   * Exchanges a refresh token for a new access token. The refresh token ROTATES: the result
   * also carries the new `refreshToken`, which replaces the one passed in.
   */
  async requestNewAccessToken(params: RefreshTokenParams, options?: CallOptions): Promise<RefreshedCredentials> {
    const body = await this.#post<CredentialsBody>(
      "request-new-access-token",
      { refreshToken: params.refreshToken },
      options,
    );
    return { accessToken: body.accessToken, refreshToken: body.refreshToken, user: body.user };
  }

  /** Signs in (creating on first sight) a user your own auth system vouches for with an HS256 JWT. */
  async verifyExternalUser(params: VerifyExternalUserParams, options?: CallOptions): Promise<Credentials> {
    return credentials(
      await this.#post<CredentialsBody>("verify-external-user", { userJwt: params.userJwt }, options),
    );
  }

  /** Emails a reset link if the account exists; resolves the same way either way. */
  async requestPasswordReset(params: RequestPasswordResetParams, options?: CallOptions): Promise<void> {
    await this.#post<unknown>("request-password-reset", { email: params.email }, options);
  }

  /** Sets a new password with the token from the reset email; ends every session of the user. */
  async resetPassword(params: ResetPasswordParams, options?: CallOptions): Promise<void> {
    await this.#post<unknown>("reset-password", { token: params.token, newPassword: params.newPassword }, options);
  }

  /** Marks the email verified with the token from the verification email. */
  async verifyEmail(params: VerifyEmailParams, options?: CallOptions): Promise<void> {
    await this.#post<unknown>("verify-email", { token: params.token }, options);
  }

  /** Emails a verification link to the user. Rejects with 404 `user/not-found`, 409 `auth/already-verified`. */
  async sendVerificationEmail(params: SendVerificationEmailParams, options?: CallOptions): Promise<void> {
    await this.#post<unknown>("send-verification-email", { userId: params.userId }, options);
  }
}

export class UsersModule {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** Whether `username` is free in this project (case-insensitive, after normalisation). */
  async checkUsernameAvailability(params: CheckUsernameParams, options?: CallOptions): Promise<UsernameAvailability> {
    const url = this.#http.projectUrl(`/users/check-username?username=${encodeURIComponent(params.username)}`);
    const body = await this.#http.request<{ available: boolean }>("GET", url, undefined, options);
    return { available: body.available };
  }
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

function invalidArgument(message: string): LatchkeyError {
  return new LatchkeyError({ status: 0, code: "client/invalid-argument", error: message });
}

/**
 * Checks the API key against the server (`GET /internal/service/verify`) and returns a
 * ready client. Rejects with a `LatchkeyError` whose message says what to fix when the key
 * or project id is wrong or the server cannot be reached.
 */
export async function init(options: InitOptions): Promise<Latchkey> {
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
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw invalidArgument("Latchkey init: timeoutMs must be a non-negative number");
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== "function") {
    throw invalidArgument("Latchkey init: no global fetch (Node 18+ required) and none passed as `fetch`");
  }
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const http = new Transport({ baseUrl, projectId, apiKey, timeoutMs, fetch: fetchImpl });
  // Built before the network call, so bad verification options fail init at once.
  const verifier = new AccessTokenVerifier({
    ...options.accessTokens,
    baseUrl,
    projectId,
    timeoutMs,
    fetch: fetchImpl,
  });

  const callOptions: CallOptions = {};
  if (options.signal !== undefined) callOptions.signal = options.signal;
  let verified: { success?: boolean; projectId?: string };
  try {
    verified = await http.request("GET", `${baseUrl}/internal/service/verify`, undefined, callOptions);
  } catch (e) {
    if (e instanceof LatchkeyError && (e.status === 401 || e.status === 403)) {
      throw new LatchkeyError({
        status: e.status,
        code: e.code,
        error:
          `Latchkey init failed: the server at ${baseUrl} refused the API key for project ${projectId} ` +
          `(${e.status} ${e.code}). Check that apiKey is a live key of that project.`,
        cause: e,
      });
    }
    if (e instanceof LatchkeyError) {
      throw new LatchkeyError({
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
    throw new LatchkeyError({
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
    admin: new AdminModule(http),
    jwksUrl: verifier.jwksUrl,
    verifyAccessToken: (token: string) => verifier.verify(token),
  };
}
