//! `client.admin().project()` and `client.admin().signing_keys()`.

use reqwest::Method;

use super::{AdminProject, Routes, SigningKeyInfo, SigningKeyList, UpdateProject};
use crate::error::Error;

/// The project's own settings.
#[derive(Debug, Clone, Copy)]
pub struct Project<'a> {
    routes: Routes<'a>,
}

impl<'a> Project<'a> {
    pub(super) fn new(routes: Routes<'a>) -> Self {
        Self { routes }
    }

    pub async fn get(&self) -> Result<AdminProject, Error> {
        self.routes.send(self.routes.request(Method::GET, &["project"])?).await
    }

    /// Changes the fields present. Errors: 400 `auth/invalid-body` (with `field`).
    pub async fn update(&self, changes: UpdateProject) -> Result<AdminProject, Error> {
        self.routes.send(self.routes.request(Method::PATCH, &["project"])?.json(&changes)).await
    }

    /// The name shown in emails and hosted pages, 1 to 100 characters.
    pub async fn rename(&self, name: impl Into<String>) -> Result<AdminProject, Error> {
        self.update(UpdateProject { name: Some(name.into()), ..UpdateProject::default() }).await
    }

    /// Where the hosted pages' "Back to <project>" link goes (`None` removes the link): an
    /// absolute https URL (http only for localhost).
    pub async fn set_app_url(&self, url: Option<String>) -> Result<AdminProject, Error> {
        self.update(UpdateProject { app_url: Some(url), ..UpdateProject::default() }).await
    }
}

/// The access-token signing keys.
#[derive(Debug, Clone, Copy)]
pub struct SigningKeys<'a> {
    routes: Routes<'a>,
}

impl<'a> SigningKeys<'a> {
    pub(super) fn new(routes: Routes<'a>) -> Self {
        Self { routes }
    }

    /// Newest first; the `active` key signs new tokens, retired ones stay in the JWKS until
    /// `published_until`.
    pub async fn list(&self) -> Result<Vec<SigningKeyInfo>, Error> {
        let list: SigningKeyList = self.routes.send(self.routes.request(Method::GET, &["signing-keys"])?).await?;
        Ok(list.keys)
    }

    /// Makes a new key active at once and retires the previous one; returns the list after
    /// the rotation. Errors: 409 `signing-key/standby-too-new` (with `retry_after`) when the
    /// next key was published too recently for every verifier's cached JWKS to hold it.
    pub async fn rotate(&self) -> Result<Vec<SigningKeyInfo>, Error> {
        self.rotation(&[]).await
    }

    /// [`rotate`](Self::rotate) even though the next key is that recent: for an emergency
    /// (a leaked key); verifiers with an older cached JWKS reject new tokens until they refetch.
    pub async fn force_rotate(&self) -> Result<Vec<SigningKeyInfo>, Error> {
        self.rotation(&[("force", "true")]).await
    }

    async fn rotation(&self, query: &[(&str, &str)]) -> Result<Vec<SigningKeyInfo>, Error> {
        let request = self.routes.request(Method::POST, &["signing-keys", "rotate"])?.query(query);
        let list: SigningKeyList = self.routes.send(request).await?;
        Ok(list.keys)
    }
}
