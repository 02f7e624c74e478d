//! Request extractors.
//!
//! [`ApiJson`] reads the body itself so every failure (too large, not JSON, wrong type,
//! missing field) becomes the API's error shape with the offending `field`.
//! [`ProjectKey`] authenticates `Authorization: Bearer <key>` against the path's project.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use latchkey_core::domain::ProjectId;
use latchkey_proto::ErrorCode as Code;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::connections::BodyTimeout;
use crate::error::ApiError;

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection: BytesRejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, Code::InvalidBody, "request body is too large")
            } else if is_body_timeout(&rejection) {
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    Code::BodyTimeout,
                    "the request body was not received in time",
                )
            } else {
                ApiError::invalid_body("request body could not be read")
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// True when reading the body failed because the connection's body deadline passed.
fn is_body_timeout(rejection: &BytesRejection) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(error) = source {
        if error.is::<BodyTimeout>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// Parses JSON, naming the field at fault when there is one.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_body("request body must be a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let text = inner.to_string();
        // "missing field `email` at line 1 column 2": the field is named in the message.
        let field = text
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
            .or_else(|| (path != ".").then_some(path));
        let message = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "request body is not valid JSON".to_owned()
            }
            _ => text.split(" at line ").next().unwrap_or(&text).to_owned(),
        };
        let error = ApiError::invalid_body(message);
        match field {
            Some(f) => error.with_field(f),
            None => error,
        }
    })?;
    // `{...}{...}` or `{...} junk`: one JSON value only, or two parsers could read two requests.
    de.end().map_err(|_| ApiError::invalid_body("request body must be a single JSON value"))?;
    Ok(value)
}

/// A query string parsed like [`ApiJson`] parses a body: a value of the wrong type is 400
/// `auth/invalid-body` naming the parameter (`field`), never axum's plain-text rejection.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or("")).map(ApiQuery)
    }
}

/// Parses a query string, naming the parameter at fault.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let text = err.into_inner().to_string();
        let field = text
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
            .or_else(|| (path != ".").then_some(path));
        let error = ApiError::invalid_body(format!("invalid query string: {text}"));
        match field {
            Some(field) => error.with_field(field),
            None => error,
        }
    })
}

/// The project of the request path, authenticated by its API key.
#[derive(Debug, Clone, Copy)]
pub struct ProjectKey(pub ProjectId);

impl FromRequestParts<AppState> for ProjectKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (project, key) = presented_key(parts, state).await?;
        state.services.api_keys.authorize(project, key).await?;
        Ok(ProjectKey(project))
    }
}

/// The path's project and the API key presented for it, not yet checked (every key-checking
/// extractor starts here). A malformed project id, an `X-Replyke-Project-ID` naming another
/// project, or no bearer key is answered exactly like a wrong key: it reveals nothing.
pub async fn presented_key<'a>(parts: &'a mut Parts, state: &AppState) -> Result<(ProjectId, &'a str), ApiError> {
    let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| ApiError::not_found())?;
    let project = params
        .iter()
        .find(|(name, _)| *name == "project_id")
        .and_then(|(_, value)| value.parse::<ProjectId>().ok())
        .ok_or_else(ApiError::invalid_api_key)?;
    if let Some(header_project) = header_project(parts)?
        && header_project != project
    {
        return Err(ApiError::invalid_api_key());
    }
    let key = bearer(parts).ok_or_else(ApiError::invalid_api_key)?;
    Ok((project, key))
}

pub const PROJECT_HEADER: &str = "x-replyke-project-id";

/// `X-Replyke-Project-ID`, when present; a malformed one is a bad key.
pub fn header_project(parts: &Parts) -> Result<Option<ProjectId>, ApiError> {
    match parts.headers.get(PROJECT_HEADER) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<ProjectId>().ok())
            .map(Some)
            .ok_or_else(ApiError::invalid_api_key),
    }
}

pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        age: Option<u8>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Query {
        limit: Option<u32>,
        verified: Option<bool>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let ok: Query = parse_query("limit=5&verified=true&unknown=x").unwrap();
        assert_eq!((ok.limit, ok.verified), (Some(5), Some(true)));
        let bad = parse_query::<Query>("limit=lots").unwrap_err();
        assert_eq!((bad.code, bad.field.as_deref()), ("auth/invalid-body", Some("limit")));
        assert_eq!(parse_query::<Query>("verified=maybe").unwrap_err().field.as_deref(), Some("verified"));
    }

    #[test]
    fn json_errors_name_the_field() {
        let missing = parse_json::<Body>(br#"{"age": 3}"#).unwrap_err();
        assert_eq!(missing.field.as_deref(), Some("email"));
        let wrong = parse_json::<Body>(br#"{"email": 5}"#).unwrap_err();
        assert_eq!(wrong.field.as_deref(), Some("email"));
        assert_eq!(wrong.code, "auth/invalid-body");
        let syntax = parse_json::<Body>(b"{not json").unwrap_err();
        assert_eq!(syntax.message, "request body is not valid JSON");
        assert!(parse_json::<Body>(b"").is_err());
        assert!(parse_json::<Body>(b"{\"email\": \"a\"} \r\n\t").is_ok(), "trailing whitespace is fine");
        for trailing in [&b"{\"email\": \"a\"}{\"email\": \"b\"}"[..], b"{\"email\": \"a\"} x", b"{\"email\": \"a\"}]"]
        {
            let err = parse_json::<Body>(trailing).unwrap_err();
            assert_eq!(err.code, "auth/invalid-body");
        }
    }
}
