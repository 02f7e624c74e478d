//! The id of the HTTP request being served, for the audit trail. The server's request-id
//! layer runs each request inside [`with_request_id`]; code that runs outside a request (the
//! CLI, background tasks) sees `None`.

use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static REQUEST_ID: Arc<str>;
}

/// Runs `work` with `id` as the current request id.
pub async fn with_request_id<F: Future>(id: Arc<str>, work: F) -> F::Output {
    REQUEST_ID.scope(id, work).await
}

/// The current request's id, if this task is serving one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.to_string()).ok()
}
