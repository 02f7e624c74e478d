//! `X-Request-Id`: a caller's id is kept (when it is short printable ASCII), otherwise one is
//! generated; it is echoed on the response and is the request's id in the audit trail
//! (`latchkey_core::request_scope`).

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use latchkey_core::request_scope::with_request_id;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
const MAX_LEN: usize = 128;

/// The request's id, in the request's extensions for the layers inside (the access log's span).
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

pub async fn layer(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= MAX_LEN && id.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let header = HeaderValue::from_str(&id).ok();
    let id: Arc<str> = Arc::from(id);
    request.extensions_mut().insert(RequestId(Arc::clone(&id)));
    let mut response = with_request_id(id, next.run(request)).await;
    if let Some(value) = header {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
