//! `client.admin().users()` and `client.admin().sessions()`.

use futures_util::Stream;
use reqwest::Method;

use super::pages::walk;
use super::{
    AdminUser, CreateUser, IssueLink, IssuedLink, RevokedSessions, Routes, SessionInfo, SessionList, SetPassword,
    SuspendUser, UpdateUser, UserListQuery, UserLookupQuery, UserPage, id,
};
use crate::error::Error;

/// The project's users.
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    routes: Routes<'a>,
}

impl<'a> Users<'a> {
    pub(super) fn new(routes: Routes<'a>) -> Self {
        Self { routes }
    }

    /// One page of users, oldest first; pass `next_cursor` back as `cursor` for the next.
    /// Errors: 400 `request/invalid-cursor` (field `cursor`), 400 `auth/invalid-body` (field `limit`).
    pub async fn list(&self, query: UserListQuery) -> Result<UserPage, Error> {
        self.routes.send(self.routes.request(Method::GET, &["users"])?.query(&query)).await
    }

    /// Every user matching `query`, page by page from `query.cursor` on (`query.limit` is the
    /// page size). Consume it with `futures_util::TryStreamExt` (`try_next`, `try_collect`).
    pub fn stream(&self, query: UserListQuery) -> impl Stream<Item = Result<AdminUser, Error>> + 'a {
        let users = *self;
        walk(query.cursor.clone(), move |cursor| {
            let query = UserListQuery { cursor, ..query.clone() };
            async move {
                let page = users.list(query).await?;
                Ok((page.users, page.next_cursor))
            }
        })
    }

    /// Errors: 404 `user/not-found` (also for an id that is not a user id).
    pub async fn get(&self, user_id: &str) -> Result<AdminUser, Error> {
        self.routes.send(self.routes.request(Method::GET, &["users", id("user_id", user_id)?])?).await
    }

    /// Errors: 404 `user/not-found`.
    pub async fn get_by_email(&self, email: &str) -> Result<AdminUser, Error> {
        self.lookup(UserLookupQuery { email: Some(email.to_owned()), foreign_id: None }).await
    }

    /// The user linked to your own user id (`verify_external_user`'s `sub`). Errors: 404 `user/not-found`.
    pub async fn get_by_foreign_id(&self, foreign_id: &str) -> Result<AdminUser, Error> {
        self.lookup(UserLookupQuery { email: None, foreign_id: Some(foreign_id.to_owned()) }).await
    }

    async fn lookup(&self, query: UserLookupQuery) -> Result<AdminUser, Error> {
        self.routes.send(self.routes.request(Method::GET, &["users", "lookup"])?.query(&query)).await
    }

    /// Errors: 409 `DUPLICATE_EMAIL` / `DUPLICATE_USERNAME` / `auth/foreign-id-conflict`,
    /// 400 `auth/weak-password`, 400 `auth/invalid-body` (with `field`).
    pub async fn create(&self, user: CreateUser) -> Result<AdminUser, Error> {
        self.routes.send(self.routes.request(Method::POST, &["users"])?.json(&user)).await
    }

    /// Changes only the fields present (`Some(None)` clears a profile field).
    pub async fn update(&self, user_id: &str, changes: UpdateUser) -> Result<AdminUser, Error> {
        let request = self.routes.request(Method::PATCH, &["users", id("user_id", user_id)?])?;
        self.routes.send(request.json(&changes)).await
    }

    /// Suspends the user and revokes their sessions; sign-in, refresh and external sign-in
    /// then fail with 403 `auth/user-suspended`.
    pub async fn suspend(&self, user_id: &str, suspension: SuspendUser) -> Result<AdminUser, Error> {
        let request = self.routes.request(Method::POST, &["users", id("user_id", user_id)?, "suspend"])?;
        self.routes.send(request.json(&suspension)).await
    }

    /// Lifts the suspensions in force.
    pub async fn unsuspend(&self, user_id: &str) -> Result<AdminUser, Error> {
        self.routes.send(self.routes.request(Method::POST, &["users", id("user_id", user_id)?, "unsuspend"])?).await
    }

    /// Erases the user and every row about them; the email and username become free.
    pub async fn delete(&self, user_id: &str) -> Result<(), Error> {
        self.routes.send(self.routes.request(Method::DELETE, &["users", id("user_id", user_id)?])?).await
    }

    /// Sets the password and revokes the user's sessions. Errors: 400 `auth/weak-password`.
    pub async fn set_password(&self, user_id: &str, password: SetPassword) -> Result<(), Error> {
        let request = self.routes.request(Method::POST, &["users", id("user_id", user_id)?, "password"])?;
        self.routes.send(request.json(&password)).await
    }

    /// A password-reset or verification link: `Some(link)` for [`LinkDelivery::Return`]
    /// (nothing is sent), `None` for [`LinkDelivery::Email`] (the usual email is queued).
    ///
    /// [`LinkDelivery::Return`]: super::LinkDelivery::Return
    /// [`LinkDelivery::Email`]: super::LinkDelivery::Email
    pub async fn issue_link(&self, user_id: &str, link: IssueLink) -> Result<Option<IssuedLink>, Error> {
        let request = self.routes.request(Method::POST, &["users", id("user_id", user_id)?, "links"])?;
        self.routes.send(request.json(&link)).await
    }

    /// Clears the user's sign-in lockout.
    pub async fn unlock(&self, user_id: &str) -> Result<(), Error> {
        self.routes.send(self.routes.request(Method::POST, &["users", id("user_id", user_id)?, "unlock"])?).await
    }
}

/// A user's live sessions.
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a> {
    routes: Routes<'a>,
}

impl<'a> Sessions<'a> {
    pub(super) fn new(routes: Routes<'a>) -> Self {
        Self { routes }
    }

    /// Errors: 404 `user/not-found`.
    pub async fn list(&self, user_id: &str) -> Result<Vec<SessionInfo>, Error> {
        let request = self.routes.request(Method::GET, &["users", id("user_id", user_id)?, "sessions"])?;
        let list: SessionList = self.routes.send(request).await?;
        Ok(list.sessions)
    }

    /// Ends one session. Errors: 404 `session/not-found` (or `user/not-found`).
    pub async fn revoke(&self, user_id: &str, session_id: &str) -> Result<(), Error> {
        let segments = ["users", id("user_id", user_id)?, "sessions", id("session_id", session_id)?];
        self.routes.send(self.routes.request(Method::DELETE, &segments)?).await
    }

    /// Signs the user out everywhere.
    pub async fn revoke_all(&self, user_id: &str) -> Result<RevokedSessions, Error> {
        self.routes.send(self.routes.request(Method::DELETE, &["users", id("user_id", user_id)?, "sessions"])?).await
    }
}
