//! The admin API, `/v7/{projectId}/admin/...` (docs/ADMIN.md), as `client.admin()`. Every call
//! needs a key with the `admin` scope (`latchkey api-key create --project ID --scope admin`);
//! an `auth` key is refused with 403 `auth/insufficient-scope`
//! ([`ErrorCode::InsufficientScope`](crate::ErrorCode::InsufficientScope)).
//!
//! Lists come two ways: `list(query)` fetches one page (`{ users | events, next_cursor }`), and
//! `stream(query)` yields every item of every page from there on, fetching the next page only
//! when the previous one is used up. The bodies are the server's own wire types
//! (`latchkey_proto::admin`), re-exported here.

mod audit;
mod pages;
mod project;
mod users;

pub use latchkey_proto::admin::{
    AdminProject, AdminUser, ApiKeyScope, AuditEvent, AuditPage, AuditQuery, CreateUser, IssueLink, IssuedLink,
    LinkDelivery, LinkKind, RevokedSessions, SessionInfo, SessionList, SessionMethod, SetPassword, SigningKeyInfo,
    SigningKeyList, SuspendUser, Suspension, UpdateProject, UpdateUser, UserListQuery, UserLookupQuery, UserPage,
    UserStatus,
};

pub use audit::Audit;
pub use project::{Project, SigningKeys};
pub use users::{Sessions, Users};

use reqwest::{Method, RequestBuilder};

use crate::client::Client;
use crate::error::Error;

/// `client.admin()`: the handles of each area of the admin API.
#[derive(Debug, Clone, Copy)]
pub struct Admin<'a> {
    routes: Routes<'a>,
}

impl<'a> Admin<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { routes: Routes { client } }
    }

    /// Users: list, look up, create, update, suspend, delete, passwords, links, lockout.
    pub fn users(&self) -> Users<'a> {
        Users::new(self.routes)
    }

    /// A user's live sessions: list, revoke one, revoke all.
    pub fn sessions(&self) -> Sessions<'a> {
        Sessions::new(self.routes)
    }

    /// The project's own settings.
    pub fn project(&self) -> Project<'a> {
        Project::new(self.routes)
    }

    /// The access-token signing keys: list and rotate.
    pub fn signing_keys(&self) -> SigningKeys<'a> {
        SigningKeys::new(self.routes)
    }

    /// The audit trail, newest first.
    pub fn audit(&self) -> Audit<'a> {
        Audit::new(self.routes)
    }
}

/// Requests to `/v7/{projectId}/admin/{segments}` through the client's connection pool.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Routes<'a> {
    client: &'a Client,
}

impl Routes<'_> {
    /// `segments` are percent-encoded one by one, so an id cannot address another route.
    fn request(&self, method: Method, segments: &[&str]) -> Result<RequestBuilder, Error> {
        let mut url = reqwest::Url::parse(&self.client.project_url("/admin"))
            .map_err(|e| Error::Config(format!("cannot build an admin URL: {e}")))?;
        url.path_segments_mut().map_err(|()| Error::Config("the base URL cannot take a path".into()))?.extend(segments);
        Ok(self.client.inner.http.request(method, url))
    }

    /// Sends and reads the JSON answer; `()` and `Option<T>` read an empty (204, 202) body.
    async fn send<T: serde::de::DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, Error> {
        self.client.send(request).await
    }
}

/// An id for a path segment: an empty one would address another route (`/users/` is the list).
fn id<'s>(name: &str, value: &'s str) -> Result<&'s str, Error> {
    if value.trim().is_empty() {
        return Err(Error::InvalidArgument(format!("{name} is empty")));
    }
    Ok(value)
}
