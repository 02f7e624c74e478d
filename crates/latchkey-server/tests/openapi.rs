//! `GET /openapi.json`: an OpenAPI 3.1 document generated from the handlers, covering every
//! route of API.md with its methods, security, error body and documented status codes.
//! (Every other integration test also checks its responses against it: see `common::Undocumented`.)

mod common;

use std::collections::BTreeSet;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

async fn fetch(app: &TestApp) -> Value {
    let response = app.http.get(format!("{}/openapi.json", app.addr)).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    response.json().await.expect("the document is JSON")
}

/// Every route of API.md the server has, with its method.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/internal/service/verify"),
    ("post", "/v7/{project_id}/auth/sign-up"),
    ("post", "/v7/{project_id}/auth/sign-in"),
    ("post", "/v7/{project_id}/auth/sign-out"),
    ("post", "/v7/{project_id}/auth/request-new-access-token"),
    ("post", "/v7/{project_id}/auth/verify-external-user"),
    ("post", "/v7/{project_id}/auth/request-password-reset"),
    ("post", "/v7/{project_id}/auth/reset-password"),
    ("post", "/v7/{project_id}/auth/verify-email"),
    ("post", "/v7/{project_id}/auth/send-verification-email"),
    ("get", "/v7/{project_id}/users/check-username"),
    ("get", "/v7/{project_id}/.well-known/jwks.json"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/v7/{project_id}/admin/project"),
    ("get", "/v7/{project_id}/admin/users"),
    ("post", "/v7/{project_id}/admin/users"),
    ("get", "/v7/{project_id}/admin/users/lookup"),
    ("post", "/v7/{project_id}/admin/users/import"),
    ("get", "/v7/{project_id}/admin/users/{user_id}"),
    ("patch", "/v7/{project_id}/admin/users/{user_id}"),
    ("delete", "/v7/{project_id}/admin/users/{user_id}"),
    ("post", "/v7/{project_id}/admin/users/{user_id}/suspend"),
    ("post", "/v7/{project_id}/admin/users/{user_id}/unsuspend"),
    ("post", "/v7/{project_id}/admin/users/{user_id}/password"),
    ("post", "/v7/{project_id}/admin/users/{user_id}/links"),
    ("post", "/v7/{project_id}/admin/users/{user_id}/unlock"),
    ("get", "/v7/{project_id}/admin/users/{user_id}/sessions"),
    ("delete", "/v7/{project_id}/admin/users/{user_id}/sessions"),
    ("delete", "/v7/{project_id}/admin/users/{user_id}/sessions/{session_id}"),
    ("patch", "/v7/{project_id}/admin/project"),
    ("get", "/v7/{project_id}/admin/signing-keys"),
    ("post", "/v7/{project_id}/admin/signing-keys/rotate"),
    ("get", "/v7/{project_id}/admin/audit"),
];

fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is missing from the document");
    op
}

fn statuses(doc: &Value, method: &str, path: &str) -> BTreeSet<u16> {
    let responses = operation(doc, method, path)["responses"].as_object().expect("responses");
    responses.keys().map(|k| k.parse().expect("numeric status")).collect()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_every_route() {
    let app = TestApp::spawn().await;
    let doc = fetch(&app).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    assert_eq!(doc["info"]["title"], "Latchkey");
    for (method, path) in ROUTES {
        let op = operation(&doc, method, path);
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has no responses");
        // Project routes name their path parameter.
        if path.contains("{project_id}") {
            let params = op["parameters"].as_array().expect("parameters");
            assert!(params.iter().any(|p| p["name"] == "project_id" && p["in"] == "path"), "{method} {path}");
        }
    }
    // No route is documented that the server does not serve.
    let documented: BTreeSet<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = ROUTES.iter().map(|(_, p)| *p).collect();
    assert_eq!(documented, expected);
}

#[tokio::test]
async fn api_key_routes_use_the_bearer_scheme_and_jwks_does_not() {
    let app = TestApp::spawn().await;
    let doc = fetch(&app).await;
    let scheme = &doc["components"]["securitySchemes"]["apiKey"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    for (method, path) in ROUTES {
        let security = &operation(&doc, method, path)["security"];
        let public = path.ends_with("jwks.json") || path.starts_with("/healthz") || path.starts_with("/readyz");
        if public {
            assert!(security.is_null() || security.as_array().is_some_and(Vec::is_empty), "{path} is public");
        } else {
            assert!(security.as_array().is_some_and(|s| s.iter().any(|r| r.get("apiKey").is_some())), "{path}");
            assert!(statuses(&doc, method, path).contains(&401), "{path}: 401 auth/invalid-api-key");
        }
    }
}

#[tokio::test]
async fn auth_user_has_exactly_the_fields_of_api_md() {
    let app = TestApp::spawn().await;
    let doc = fetch(&app).await;
    let user = &doc["components"]["schemas"]["AuthUser"];
    let fields: BTreeSet<&str> =
        user["properties"].as_object().expect("properties").keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = common::AUTH_USER_FIELDS.into();
    assert_eq!(fields, expected);
    // Always present (null where unset): every field is required.
    let required: BTreeSet<&str> =
        user["required"].as_array().expect("required").iter().filter_map(Value::as_str).collect();
    assert_eq!(required, expected);
    assert!(!fields.contains("secureMetadata") && !fields.contains("passwordHash"));
    let roles = &doc["components"]["schemas"]["Role"]["enum"];
    assert_eq!(roles, &serde_json::json!(["visitor", "moderator", "admin"]));
    let methods = &doc["components"]["schemas"]["AuthMethod"]["enum"];
    assert_eq!(methods, &serde_json::json!(["password", "external"]));

    // The live sign-up answer has exactly these fields too, and every documented credential field.
    let body = app.sign_up("schema@example.com").await;
    let live: BTreeSet<&str> = body["user"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(live, expected);
    let credentials = &doc["components"]["schemas"]["CredentialsResponse"]["properties"];
    let documented: BTreeSet<&str> = credentials.as_object().unwrap().keys().map(String::as_str).collect();
    let returned: BTreeSet<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(documented, returned);
}

#[tokio::test]
async fn the_error_body_is_documented() {
    let app = TestApp::spawn().await;
    let doc = fetch(&app).await;
    let error = &doc["components"]["schemas"]["ErrorBody"];
    let fields: BTreeSet<&str> = error["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, ["code", "error", "field"].into());
    let required: BTreeSet<&str> = error["required"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(required, ["code", "error"].into());
    // Error responses point at it.
    let op = operation(&doc, "post", "/v7/{project_id}/auth/sign-in");
    assert_eq!(
        op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
}

/// The statuses API.md and the other integration tests expect of each route. (The harness also
/// checks every response actually served during every test against the document.)
#[tokio::test]
async fn every_expected_status_is_documented_for_its_route() {
    let app = TestApp::spawn().await;
    let doc = fetch(&app).await;
    let p = |s: &str| format!("/v7/{{project_id}}{s}");
    let expected: Vec<(&str, String, &[u16])> = vec![
        ("get", "/internal/service/verify".into(), &[200, 401]),
        ("post", p("/auth/sign-up"), &[201, 400, 401, 409, 413, 503]),
        ("post", p("/auth/sign-in"), &[200, 400, 401, 408, 429, 503]),
        ("post", p("/auth/sign-out"), &[204, 400, 401]),
        ("post", p("/auth/request-new-access-token"), &[200, 400, 401, 403]),
        ("post", p("/auth/verify-external-user"), &[200, 400, 401, 403, 409]),
        ("post", p("/auth/request-password-reset"), &[200, 400, 401]),
        ("post", p("/auth/reset-password"), &[200, 400, 401]),
        ("post", p("/auth/verify-email"), &[200, 400, 401]),
        ("post", p("/auth/send-verification-email"), &[200, 401, 404, 409]),
        ("get", p("/users/check-username"), &[200, 400, 401]),
        ("get", p("/.well-known/jwks.json"), &[200, 404]),
        ("get", "/healthz".into(), &[200]),
        ("get", "/readyz".into(), &[200, 503]),
        ("get", p("/admin/project"), &[200, 401, 403]),
        ("patch", p("/admin/project"), &[200, 400, 401, 403]),
        ("get", p("/admin/signing-keys"), &[200, 401, 403]),
        ("post", p("/admin/signing-keys/rotate"), &[200, 400, 401, 403, 409]),
        ("get", p("/admin/audit"), &[200, 400, 401, 403]),
    ];
    for (method, path, codes) in expected {
        let documented = statuses(&doc, method, &path);
        for code in codes {
            assert!(documented.contains(code), "{method} {path}: {code} is not documented ({documented:?})");
        }
    }
}

#[tokio::test]
async fn the_document_is_the_same_as_the_library_builds() {
    let app = TestApp::spawn().await;
    let served = fetch(&app).await;
    let built = serde_json::to_value(latchkey_server::openapi::document()).unwrap();
    assert_eq!(served, built);
}
