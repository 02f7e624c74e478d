//! [`AdminQuery`]: an admin list's query string, every failure (`limit=abc`) answered as the
//! API's 400 `auth/invalid-body` naming the parameter.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct AdminQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AdminQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(AdminQuery).map_err(|err| {
            let field = err.path().to_string();
            let error = ApiError::invalid_body(format!("invalid query parameter {field}: {}", err.inner()));
            if field == "." { error } else { error.with_field(field) }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Page {
        limit: Option<u32>,
    }

    async fn parse(uri: &str) -> Result<Page, ApiError> {
        let (mut parts, ()) = axum::http::Request::get(uri).body(()).unwrap().into_parts();
        AdminQuery::<Page>::from_request_parts(&mut parts, &()).await.map(|AdminQuery(page)| page)
    }

    #[tokio::test]
    async fn a_bad_parameter_is_named() {
        assert_eq!(parse("/x?limit=5&other=1").await.unwrap().limit, Some(5));
        assert_eq!(parse("/x").await.unwrap().limit, None);
        let bad = parse("/x?limit=abc").await.unwrap_err();
        assert_eq!((bad.code, bad.field.as_deref()), ("auth/invalid-body", Some("limit")));
    }
}
