//! The HTTP client: configuration, the request helper, and the `auth` / `users` modules
//! (`admin` is in `admin/`).

use std::sync::Arc;
use std::time::Duration;

use latchkey_proto::{ErrorBody, ServiceVerified};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error};
use crate::jwks::JwksCache;
use crate::types::*;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const PROJECT_HEADER: &str = "x-replyke-project-id";

/// A Latchkey client for one project. Cheap to clone (shares the connection pool and the
/// JWKS cache); build one at start-up and keep it.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: String,
    pub(crate) project_id: String,
    pub(crate) issuer: String,
    pub(crate) leeway_secs: u64,
    pub(crate) jwks: JwksCache,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("project_id", &self.inner.project_id)
            .finish_non_exhaustive()
    }
}

/// Settings beyond the three required ones.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    project_id: String,
    api_key: String,
    timeout: Duration,
    issuer: Option<String>,
    leeway_secs: u64,
    jwks_ttl: Duration,
    jwks_min_refetch: Duration,
}

impl ClientBuilder {
    /// Per-request timeout (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `iss` access tokens must carry: the server's `LATCHKEY_PUBLIC_URL`. Defaults to
    /// the base URL, which is right unless the client reaches the server by another address.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Clock skew tolerated on `exp`/`nbf` (default 60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway_secs = leeway.as_secs();
        self
    }

    /// How long fetched JWKS keys are used before a refetch (default 5 minutes, the server's
    /// `Cache-Control`). A stale set is still used if a refetch fails.
    pub fn jwks_ttl(mut self, ttl: Duration) -> Self {
        self.jwks_ttl = ttl;
        self
    }

    /// The least time between two JWKS fetches caused by unknown `kid`s (default 30 s), so a
    /// flood of forged tokens cannot turn into a flood of JWKS requests.
    pub fn jwks_min_refetch_interval(mut self, interval: Duration) -> Self {
        self.jwks_min_refetch = interval;
        self
    }

    pub fn build(self) -> Result<Client, Error> {
        let base_url = self.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) || base_url.len() < 9 {
            return Err(Error::Config(format!("base_url must be an http(s) URL, got {:?}", self.base_url)));
        }
        if self.project_id.trim().is_empty() {
            return Err(Error::Config("project_id is required".into()));
        }
        let mut headers = HeaderMap::new();
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", self.api_key.trim()))
            .map_err(|_| Error::Config("api_key contains characters not allowed in a header".into()))?;
        bearer.set_sensitive(true);
        headers.insert(AUTHORIZATION, bearer);
        headers.insert(
            PROJECT_HEADER,
            HeaderValue::from_str(self.project_id.trim())
                .map_err(|_| Error::Config("project_id contains characters not allowed in a header".into()))?,
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(self.timeout)
            .user_agent(concat!("latchkey-client-rust/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let issuer = self.issuer.unwrap_or_else(|| base_url.clone());
        let project_id = self.project_id.trim().to_owned();
        let jwks_url = format!("{base_url}/v7/{project_id}/.well-known/jwks.json");
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                project_id,
                issuer,
                leeway_secs: self.leeway_secs,
                jwks: JwksCache::new(jwks_url, self.jwks_ttl, self.jwks_min_refetch),
            }),
        })
    }
}

impl Client {
    /// A client with default settings. Does no I/O; call [`Client::verify_api_key`] at
    /// start-up to fail fast on a wrong key.
    pub fn new(
        base_url: impl Into<String>,
        project_id: impl Into<String>,
        api_key: impl Into<String>,
    ) -> Result<Self, Error> {
        Self::builder(base_url, project_id, api_key).build()
    }

    pub fn builder(
        base_url: impl Into<String>,
        project_id: impl Into<String>,
        api_key: impl Into<String>,
    ) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            project_id: project_id.into(),
            api_key: api_key.into(),
            timeout: DEFAULT_TIMEOUT,
            issuer: None,
            leeway_secs: 60,
            jwks_ttl: Duration::from_secs(300),
            jwks_min_refetch: Duration::from_secs(30),
        }
    }

    /// Builds a client and checks the key with `GET /internal/service/verify` (the TS SDK's `init`).
    pub async fn connect(
        base_url: impl Into<String>,
        project_id: impl Into<String>,
        api_key: impl Into<String>,
    ) -> Result<Self, Error> {
        let client = Self::new(base_url, project_id, api_key)?;
        client.verify_api_key().await?;
        Ok(client)
    }

    /// Checks the API key and project id against the server. A wrong key is
    /// `Error::Api` with status 401 and code `auth/invalid-api-key`.
    pub async fn verify_api_key(&self) -> Result<(), Error> {
        let url = format!("{}/internal/service/verify", self.inner.base_url);
        let verified: ServiceVerified = self.send(self.inner.http.get(url)).await?;
        match verified.project_id {
            Some(p) if p != self.inner.project_id => Err(Error::Api(ApiError {
                status: 401,
                code: ErrorCode::InvalidApiKey.to_string(),
                message: format!("the API key belongs to project {p}, not {}", self.inner.project_id),
                field: None,
                retry_after: None,
            })),
            _ => Ok(()),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    pub fn project_id(&self) -> &str {
        &self.inner.project_id
    }

    /// `auth.*` of the seed.
    pub fn auth(&self) -> Auth<'_> {
        Auth { client: self }
    }

    /// `users.*` of the seed.
    pub fn users(&self) -> Users<'_> {
        Users { client: self }
    }

    /// The admin API ([`crate::admin`]); needs a key with the `admin` scope.
    pub fn admin(&self) -> crate::admin::Admin<'_> {
        crate::admin::Admin::new(self)
    }

    pub(crate) fn project_url(&self, path: &str) -> String {
        format!("{}/v7/{}{}", self.inner.base_url, self.inner.project_id, path)
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, route: &str, body: &B) -> Result<T, Error> {
        self.send(self.inner.http.post(self.project_url(&format!("/auth/{route}"))).json(body)).await
    }

    /// POST whose success body is not needed (the seed's `Promise<void>` calls).
    async fn post_void<B: Serialize>(&self, route: &str, body: &B) -> Result<(), Error> {
        let _: serde::de::IgnoredAny = self.post(route, body).await?;
        Ok(())
    }

    pub(crate) async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, Error> {
        let response = request.send().await.map_err(Error::from_reqwest)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let bytes = response.bytes().await.map_err(Error::from_reqwest)?;
        if status.is_success() {
            let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            return serde_json::from_slice(bytes).map_err(|e| Error::InvalidResponse {
                status: status.as_u16(),
                detail: format!("cannot read the body: {e}"),
            });
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(Error::Api(ApiError {
                status: status.as_u16(),
                code: body.code,
                message: body.error,
                field: body.field,
                retry_after,
            })),
            Err(_) => Err(Error::InvalidResponse {
                status: status.as_u16(),
                detail: "an error status without a Latchkey error body".into(),
            }),
        }
    }
}

/// The seed's `auth` module.
#[derive(Debug, Clone, Copy)]
pub struct Auth<'a> {
    client: &'a Client,
}

impl Auth<'_> {
    /// Creates a user. Errors: 409 `DUPLICATE_EMAIL`/`DUPLICATE_USERNAME` (with field),
    /// 400 `auth/weak-password`, 400 `auth/invalid-body`.
    pub async fn sign_up(&self, request: SignUp) -> Result<Credentials, Error> {
        self.client.post("sign-up", &request).await
    }

    /// Errors: 401 `auth/invalid-credentials` (unknown email or wrong password), 429 `auth/too-many-attempts`.
    pub async fn sign_in(&self, request: SignIn) -> Result<Credentials, Error> {
        self.client.post("sign-in", &request).await
    }

    /// Ends the session of the refresh token; succeeds for unknown or expired tokens too.
    pub async fn sign_out(&self, request: SignOut) -> Result<(), Error> {
        self.client.post_void("sign-out", &request).await
    }

    /// New access token. The refresh token ROTATES: keep the returned `refresh_token`.
    pub async fn request_new_access_token(
        &self,
        request: RequestNewAccessToken,
    ) -> Result<RefreshedCredentials, Error> {
        self.client.post("request-new-access-token", &request).await
    }

    /// Signs in (creating on first sight) a user vouched for by your own auth system.
    pub async fn verify_external_user(&self, request: VerifyExternalUser) -> Result<Credentials, Error> {
        self.client.post("verify-external-user", &request).await
    }

    /// Emails a reset link if the account exists; answers the same either way.
    pub async fn request_password_reset(&self, request: RequestPasswordReset) -> Result<(), Error> {
        self.client.post_void("request-password-reset", &request).await
    }

    /// Sets a new password with the emailed token; ends every session of the user.
    pub async fn reset_password(&self, request: ResetPassword) -> Result<(), Error> {
        self.client.post_void("reset-password", &request).await
    }

    /// Marks the email verified with the emailed token.
    pub async fn verify_email(&self, request: VerifyEmail) -> Result<(), Error> {
        self.client.post_void("verify-email", &request).await
    }

    /// Emails a verification link. Errors: 404 `user/not-found`, 409 `auth/already-verified`.
    pub async fn send_verification_email(&self, request: SendVerificationEmail) -> Result<(), Error> {
        self.client.post_void("send-verification-email", &request).await
    }
}

/// The seed's `users` module.
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    client: &'a Client,
}

impl Users<'_> {
    /// Whether a username is free in this project (case-insensitive).
    pub async fn check_username_availability(
        &self,
        request: CheckUsernameAvailability,
    ) -> Result<UsernameAvailability, Error> {
        let url = self.client.project_url("/users/check-username");
        self.client.send(self.client.inner.http.get(url).query(&[("username", request.username.as_str())])).await
    }
}
