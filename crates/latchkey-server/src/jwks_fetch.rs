//! Fetches external users' JWKS documents: HTTPS only (plain http only to loopback, for
//! sidecars and tests), no redirects, no proxy, a short timeout and a size cap. Errors never
//! include the URL, which may carry a token in its query string.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use latchkey_core::external::JwksFetcher;
use latchkey_core::external::jwks::is_loopback;

/// Largest JWKS document accepted.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

pub struct HttpJwksFetcher {
    client: reqwest::Client,
}

impl HttpJwksFetcher {
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3))
            .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")))
            // Only the configured URL is contacted: no HTTP(S)_PROXY from the environment.
            .no_proxy()
            .build()
            .context("cannot build the JWKS HTTP client")?;
        Ok(Self { client })
    }
}

fn allowed(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => url.host_str().is_some_and(|h| is_loopback(h.trim_start_matches('[').trim_end_matches(']'))),
        _ => false,
    }
}

#[async_trait]
impl JwksFetcher for HttpJwksFetcher {
    async fn fetch(&self, url: &str) -> Result<String, String> {
        let parsed = url::Url::parse(url).map_err(|_| "the JWKS URL is not a URL".to_owned())?;
        if !allowed(&parsed) || !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("the JWKS URL must be https (plain http only to loopback)".to_owned());
        }
        let mut response =
            self.client.get(parsed).send().await.map_err(|e| format!("request failed: {}", e.without_url()))?;
        if !response.status().is_success() {
            return Err(format!("JWKS URL answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) =
            response.chunk().await.map_err(|e| format!("reading the body failed: {}", e.without_url()))?
        {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err("JWKS document is too large".to_owned());
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| "JWKS document is not UTF-8".to_owned())
    }
}
