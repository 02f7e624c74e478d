//! `client.admin().audit()`.

use futures_util::Stream;
use reqwest::Method;

use super::pages::walk;
use super::{AuditEvent, AuditPage, AuditQuery, Routes};
use crate::error::Error;

/// The audit trail: admin actions and security events, newest first.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a> {
    routes: Routes<'a>,
}

impl<'a> Audit<'a> {
    pub(super) fn new(routes: Routes<'a>) -> Self {
        Self { routes }
    }

    /// One page of events; pass `next_cursor` back as `cursor` for the next.
    /// Errors: 400 `request/invalid-cursor` (field `cursor`), 400 `auth/invalid-body` (field `limit`).
    pub async fn list(&self, query: AuditQuery) -> Result<AuditPage, Error> {
        self.routes.send(self.routes.request(Method::GET, &["audit"])?.query(&query)).await
    }

    /// Every event matching `query`, page by page from `query.cursor` on (`query.limit` is
    /// the page size).
    pub fn stream(&self, query: AuditQuery) -> impl Stream<Item = Result<AuditEvent, Error>> + 'a {
        let audit = *self;
        walk(query.cursor.clone(), move |cursor| {
            let query = AuditQuery { cursor, ..query.clone() };
            async move {
                let page = audit.list(query).await?;
                Ok((page.events, page.next_cursor))
            }
        })
    }
}
