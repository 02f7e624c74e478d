//! A project's optional JWKS URL: fetched through an injected [`JwksFetcher`] (the server
//! provides one over HTTPS), cached, and refreshed at a bounded rate.
//!
//! - A fresh copy is reused for [`CACHE_TTL_SECS`].
//! - An unknown `kid` may force a refetch (the customer rotated keys), but at most once per
//!   [`MIN_REFRESH_SECS`] per project, so garbage `kid`s cannot make Latchkey hammer the URL.
//! - A failed fetch keeps serving the last good copy, for at most [`MAX_STALE_SECS`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::keys::{KeySource, VerifierKey, finish};
use crate::domain::ProjectId;

pub const CACHE_TTL_SECS: i64 = 5 * 60;
pub const MIN_REFRESH_SECS: i64 = 30;
/// How long the last good keys stay in use while the URL keeps failing.
pub const MAX_STALE_SECS: i64 = 24 * 3600;
/// Keys beyond this many in one document are ignored.
pub const MAX_KEYS: usize = 32;

/// Fetches a JWKS document's text. Implementations must refuse non-HTTPS URLs (except
/// loopback), follow no redirects, time out, and cap the response size.
#[async_trait]
pub trait JwksFetcher: Send + Sync + 'static {
    async fn fetch(&self, url: &str) -> std::result::Result<String, String>;
}

#[derive(Clone)]
struct Entry {
    url: String,
    keys: Arc<Vec<VerifierKey>>,
    fetched_at: Option<DateTime<Utc>>,
    attempted_at: DateTime<Utc>,
}

impl Entry {
    fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.fetched_at.is_some_and(|at| now - at < Duration::seconds(CACHE_TTL_SECS))
    }
}

#[derive(Default)]
pub struct JwksCache {
    fetcher: RwLock<Option<Arc<dyn JwksFetcher>>>,
    entries: Mutex<HashMap<ProjectId, Entry>>,
    /// One lock per project, so concurrent misses of a project cause one request, not many,
    /// while a slow or dead JWKS host of one project never delays another project.
    fetching: Mutex<HashMap<ProjectId, Arc<tokio::sync::Mutex<()>>>>,
}

impl JwksCache {
    pub fn install(&self, fetcher: Arc<dyn JwksFetcher>) {
        *self.fetcher.write().unwrap_or_else(|p| p.into_inner()) = Some(fetcher);
    }

    fn fetcher(&self) -> Option<Arc<dyn JwksFetcher>> {
        self.fetcher.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn cached(&self, project: ProjectId, url: &str) -> Option<Entry> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(&project).filter(|e| e.url == url).cloned()
    }

    /// The keys of `url`: cached when fresh; `refresh` asks for a refetch (unknown `kid`), which
    /// happens only if the last attempt is older than [`MIN_REFRESH_SECS`].
    pub async fn keys(
        &self,
        project: ProjectId,
        url: &str,
        now: DateTime<Utc>,
        refresh: bool,
    ) -> Arc<Vec<VerifierKey>> {
        if let Some(entry) = self.cached(project, url) {
            let recently_tried = now - entry.attempted_at < Duration::seconds(MIN_REFRESH_SECS);
            if (!refresh && entry.fresh(now)) || recently_tried {
                return entry.keys;
            }
        }
        let project_lock = {
            let mut locks = self.fetching.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(locks.entry(project).or_default())
        };
        let _guard = project_lock.lock().await;
        // Re-check under the lock: a concurrent request may have just fetched.
        let cached = self.cached(project, url);
        if let Some(entry) = &cached {
            let recently_tried = now - entry.attempted_at < Duration::seconds(MIN_REFRESH_SECS);
            if (entry.fresh(now) && !refresh) || recently_tried {
                return Arc::clone(&entry.keys);
            }
        }
        let Some(fetcher) = self.fetcher() else {
            tracing::warn!(project = %project, "project has a JWKS URL but this process cannot fetch JWKS");
            return Arc::new(Vec::new());
        };
        let (keys, fetched_at) = match fetcher.fetch(url).await {
            Ok(text) => {
                let keys = parse_jwks(&text);
                tracing::debug!(project = %project, keys = keys.len(), "fetched JWKS");
                (Arc::new(keys), Some(now))
            }
            Err(error) => {
                tracing::warn!(project = %project, %error, "JWKS fetch failed; keeping the previous keys");
                // Stale keys bridge an outage, but not forever: a key the customer removed
                // must eventually stop working even if their URL stays down.
                cached
                    .filter(|e| e.fetched_at.is_some_and(|at| now - at < Duration::seconds(MAX_STALE_SECS)))
                    .map(|e| (e.keys, e.fetched_at))
                    .unwrap_or_else(|| (Arc::new(Vec::new()), None))
            }
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(project, Entry { url: url.to_owned(), keys: Arc::clone(&keys), fetched_at, attempted_at: now });
        keys
    }
}

/// The usable public keys of a JWK Set. Keys without `kid`, private or symmetric keys, and
/// unsupported types are skipped (never an error: one odd key must not disable the rest).
pub fn parse_jwks(text: &str) -> Vec<VerifierKey> {
    let Ok(document) = serde_json::from_str::<Value>(text) else { return Vec::new() };
    let Some(keys) = document.get("keys").and_then(Value::as_array) else { return Vec::new() };
    keys.iter()
        .take(MAX_KEYS)
        .filter(|k| k.get("use").and_then(Value::as_str).is_none_or(|u| u == "sig"))
        .filter_map(|k| {
            let kid = k.get("kid").and_then(Value::as_str)?.to_owned();
            let alg = k.get("alg").and_then(Value::as_str).map(str::to_owned);
            finish(k.clone(), Some(&kid), alg.as_deref()).ok().map(|p| p.into_verifier(KeySource::Jwks))
        })
        .collect()
}

/// A JWKS URL must be HTTPS; plain HTTP is allowed only to a loopback host (tests, sidecars).
pub fn check_jwks_url(url: &str) -> crate::Result<()> {
    let bad = |m: &str| crate::CoreError::invalid("jwksUrl", m);
    let url = url.trim();
    if url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("the JWKS URL is not a valid URL"));
    }
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("the JWKS URL must start with https://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("the JWKS URL must name a host (and no credentials)"));
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if is_loopback(host) => Ok(()),
        "http" => Err(bad("the JWKS URL must use https:// (plain http only for loopback)")),
        _ => Err(bad("the JWKS URL must start with https://")),
    }
}

pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_urls() {
        assert!(check_jwks_url("https://example.com/.well-known/jwks.json").is_ok());
        assert!(check_jwks_url("http://127.0.0.1:8080/jwks").is_ok());
        assert!(check_jwks_url("http://[::1]:8080/jwks").is_ok());
        assert!(check_jwks_url("http://localhost/jwks").is_ok());
        assert!(check_jwks_url("http://example.com/jwks").is_err());
        assert!(check_jwks_url("http://127.0.0.1.evil.com/jwks").is_err());
        assert!(check_jwks_url("ftp://example.com/jwks").is_err());
        assert!(check_jwks_url("https://user:pw@example.com/jwks").is_err());
    }
}
