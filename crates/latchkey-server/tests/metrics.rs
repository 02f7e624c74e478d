//! `GET /metrics`: Prometheus text with requests counted by route *template* and status class,
//! never a project id, key, token or query string; auth outcomes counted exactly as the
//! services decide them; the hashing pool, the database pools and the process; and nothing at
//! all when metrics are switched off.

mod common;

use std::sync::Arc;

use common::{Backend, Options, TestApp};
use latchkey_core::hashing::{HashCost, PoolSize};
use latchkey_server::app::{AppState, DEFAULT_BODY_LIMIT, RouterOptions, router_with};
use latchkey_server::metrics::Metrics;
use reqwest::StatusCode;
use serde_json::json;

async fn scrape(app: &TestApp) -> String {
    let response = app.http.get(format!("{}/metrics", app.addr)).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.expect("body")
}

/// The value of the sample `name{labels…}` whose labels include all of `labels`.
fn sample(body: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    body.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let rest = series.strip_prefix(name)?;
        if !(rest.is_empty() || rest.starts_with('{')) {
            return None;
        }
        labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))).then(|| value.parse().ok())?
    })
}

#[tokio::test]
async fn requests_are_counted_by_route_template_without_ids_or_tokens() {
    let app = TestApp::spawn().await;
    let signed_up = app.sign_up("metrics@example.com").await;
    let refresh = signed_up["refreshToken"].as_str().unwrap().to_owned();
    let access = signed_up["accessToken"].as_str().unwrap().to_owned();
    let (status, _) =
        app.post("/auth/sign-in", json!({"email": "metrics@example.com", "password": "wrong-Passw0rd"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) =
        app.post("/auth/sign-in", json!({"email": "metrics@example.com", "password": "s3cur3P@ss"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.post("/auth/request-new-access-token", json!({"refreshToken": refresh})).await;
    assert_eq!(status, StatusCode::OK);
    // A token in a query string, on a hosted page and on an unknown route.
    let secret = "tok3nThatMustNeverBeALabel";
    let page = app.http.get(app.url(app.project, &format!("/auth/verify-email-link?token={secret}"))).send().await;
    assert!(page.is_ok());
    let (status, _) = app.get(&format!("/no-such-route?token={secret}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get("/users/check-username?username=metricsuser").await;
    assert_eq!(status, StatusCode::OK);

    let body = scrape(&app).await;
    let count = |method: &str, route: &str, class: &str| {
        sample(&body, "latchkey_http_requests_total", &[("method", method), ("route", route), ("status", class)])
    };
    assert_eq!(count("POST", "/v7/{project_id}/auth/sign-up", "2xx"), Some(1.0), "{body}");
    assert_eq!(count("POST", "/v7/{project_id}/auth/sign-in", "4xx"), Some(1.0), "{body}");
    assert_eq!(count("POST", "/v7/{project_id}/auth/sign-in", "2xx"), Some(1.0), "{body}");
    assert_eq!(count("POST", "/v7/{project_id}/auth/request-new-access-token", "2xx"), Some(1.0), "{body}");
    assert_eq!(count("GET", "/v7/{project_id}/auth/verify-email-link", "4xx"), Some(1.0), "{body}");
    assert_eq!(count("GET", "/v7/{project_id}/users/check-username", "2xx"), Some(1.0), "{body}");
    assert_eq!(count("GET", "unmatched", "4xx"), Some(1.0), "{body}");
    // Latency histogram with buckets, per route template.
    let labels = [("route", "/v7/{project_id}/auth/sign-up"), ("le", "+Inf")];
    assert_eq!(sample(&body, "latchkey_http_request_duration_seconds_bucket", &labels), Some(1.0), "{body}");
    let sum = [("route", "/v7/{project_id}/auth/sign-in"), ("status", "2xx")];
    assert!(sample(&body, "latchkey_http_request_duration_seconds_sum", &sum).is_some_and(|s| s > 0.0));
    // Pool gauges are present.
    assert_eq!(sample(&body, "latchkey_hash_queue_depth", &[]), Some(0.0), "{body}");
    assert_eq!(sample(&body, "latchkey_hash_rejected_total", &[]), Some(0.0), "{body}");

    // Nothing identifying or secret, anywhere.
    for forbidden in [app.project.to_string(), app.api_key.clone(), refresh, access, secret.to_owned()] {
        assert!(!body.contains(&forbidden), "metrics leak {forbidden}");
    }
    assert!(!body.contains("metrics@example.com") && !body.contains("metricsuser") && !body.contains('?'));
}

#[tokio::test]
async fn hashing_refusals_and_queue_depth_are_reported() {
    let options =
        Options { hash_cost: HashCost::default(), pool: PoolSize { threads: 1, queue: 1 }, ..Options::default() };
    let app = Arc::new(TestApp::spawn_with(options).await);
    let requests: Vec<_> = (0..16)
        .map(|n| {
            let app = Arc::clone(&app);
            tokio::spawn(async move {
                app.post("/auth/sign-up", json!({"email": format!("busy{n}@example.com"), "password": "s3cur3P@ss"}))
                    .await
                    .0
            })
        })
        .collect();
    let mut busy = 0.0;
    for request in requests {
        if request.await.unwrap() == StatusCode::SERVICE_UNAVAILABLE {
            busy += 1.0;
        }
    }
    assert!(busy > 0.0, "one thread and one slot must shed some of 16 simultaneous sign-ups");
    let body = scrape(&app).await;
    assert_eq!(sample(&body, "latchkey_hash_rejected_total", &[]), Some(busy), "{body}");
    assert_eq!(sample(&body, "latchkey_hash_queue_depth", &[]), Some(0.0), "{body}");
    let shed = [("route", "/v7/{project_id}/auth/sign-up"), ("status", "5xx")];
    assert_eq!(sample(&body, "latchkey_http_requests_total", &shed), Some(busy), "{body}");
}

#[tokio::test]
async fn metrics_off_means_no_route_and_a_separate_exposition_serves_only_metrics() {
    let app = TestApp::spawn().await;
    // LATCHKEY_METRICS=false: no recorder, no route.
    let off = router_with(
        AppState::new(Arc::clone(&app.services)),
        RouterOptions { body_limit: DEFAULT_BODY_LIMIT, metrics: None, expose_metrics: false },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let off_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, off).await.unwrap() });
    let response = app.http.get(format!("http://{off_addr}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // LATCHKEY_METRICS_BIND: the API records, but only the separate listener exposes.
    let metrics = Metrics::new();
    let api = router_with(
        AppState::new(Arc::clone(&app.services)),
        RouterOptions { body_limit: DEFAULT_BODY_LIMIT, metrics: Some(Arc::clone(&metrics)), expose_metrics: false },
    );
    let exposition = latchkey_server::metrics::Exposition { metrics, health: app.services.health.clone() };
    let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_addr = api_listener.local_addr().unwrap();
    let private_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let private_addr = private_listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(api_listener, api).await.unwrap() });
    tokio::spawn(
        async move { axum::serve(private_listener, latchkey_server::metrics::router(exposition)).await.unwrap() },
    );
    let health = app.http.get(format!("http://{api_addr}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let public = app.http.get(format!("http://{api_addr}/metrics")).send().await.unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    let private = app.http.get(format!("http://{private_addr}/metrics")).send().await.unwrap();
    assert_eq!(private.status(), StatusCode::OK);
    let body = private.text().await.unwrap();
    let healthz = [("route", "/healthz"), ("status", "2xx")];
    assert_eq!(sample(&body, "latchkey_http_requests_total", &healthz), Some(1.0), "{body}");
}

#[tokio::test]
async fn the_mail_worker_counts_outcomes() {
    let app = TestApp::spawn().await;
    app.sign_up("mailer@example.com").await;
    for email in ["mailer@example.com", "nobody@example.com"] {
        let (status, _) = app.post("/auth/request-password-reset", json!({ "email": email })).await;
        assert_eq!(status, StatusCode::OK);
    }
    let metrics = Metrics::new();
    // The file transport (no SMTP): the real message goes to a .eml file.
    let worker = app.outbox_worker(None, common::mail::fast_options()).with_observer(Arc::clone(&metrics) as _);
    while worker.run_once().await.expect("outbox readable") {}
    let body = metrics.render(&app.services.health);
    assert_eq!(sample(&body, "latchkey_mail_deliveries_total", &[("outcome", "sent")]), Some(1.0), "{body}");
    assert_eq!(sample(&body, "latchkey_mail_deliveries_total", &[("outcome", "dropped")]), Some(1.0), "{body}");
    assert!(!body.contains("mailer@example.com") && !body.contains("nobody@example.com"));
}

/// `latchkey_auth_*_total{outcome}` of a scrape.
fn outcome(body: &str, metric: &str, outcome: &str) -> Option<f64> {
    sample(body, metric, &[("outcome", outcome)])
}

#[tokio::test]
async fn auth_outcomes_are_counted_exactly_as_decided() {
    let app = TestApp::spawn().await;
    // Every outcome is exported from zero, before anything happened.
    let body = scrape(&app).await;
    for (metric, outcomes) in [
        ("latchkey_auth_sign_ups_total", &["created", "duplicate"][..]),
        ("latchkey_auth_sign_ins_total", &["success", "failure", "locked", "denied"][..]),
        ("latchkey_auth_refreshes_total", &["rotated", "grace", "reuse_detected"][..]),
    ] {
        for name in outcomes {
            assert_eq!(outcome(&body, metric, name), Some(0.0), "{metric} {name}: {body}");
        }
    }

    let signed_up = app.sign_up("outcomes@example.com").await;
    let refresh = signed_up["refreshToken"].as_str().unwrap().to_owned();
    let duplicate = app.post("/auth/sign-up", json!({"email": "outcomes@example.com", "password": "s3cur3P@ss"})).await;
    assert_eq!(duplicate.0, StatusCode::CONFLICT);

    let sign_in = |password: &'static str| {
        app.post("/auth/sign-in", json!({"email": "outcomes@example.com", "password": password}))
    };
    assert_eq!(sign_in("s3cur3P@ss").await.0, StatusCode::OK);
    // The policy's limit (10) of wrong passwords, then the account is locked: even the right
    // password is refused, twice.
    for _ in 0..10 {
        assert_eq!(sign_in("wrong-Passw0rd").await.0, StatusCode::UNAUTHORIZED);
    }
    for password in ["s3cur3P@ss", "wrong-Passw0rd"] {
        assert_eq!(sign_in(password).await.0, StatusCode::TOO_MANY_REQUESTS);
    }

    // Rotation, then the old token again inside the grace window, then after it.
    let exchange = |token: String| app.post("/auth/request-new-access-token", json!({ "refreshToken": token }));
    assert_eq!(exchange(refresh.clone()).await.0, StatusCode::OK);
    assert_eq!(exchange(refresh.clone()).await.0, StatusCode::OK, "the grace window");
    app.advance(31);
    assert_eq!(exchange(refresh.clone()).await.0, StatusCode::UNAUTHORIZED, "reuse detected");

    // The right password of a suspended account.
    let other = app.sign_up("suspended@example.com").await;
    let admin_key = app.admin_key_of(app.project).await;
    let id = other["user"]["id"].as_str().unwrap();
    let suspend = json!({"reason": "test", "endsAt": "2027-01-01T00:00:00Z"});
    let (status, body) =
        app.admin_call(reqwest::Method::POST, &admin_key, &format!("/users/{id}/suspend"), suspend).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let denied = app.post("/auth/sign-in", json!({"email": "suspended@example.com", "password": "s3cur3P@ss"})).await;
    assert_eq!(denied.0, StatusCode::FORBIDDEN, "{}", denied.1);

    let body = scrape(&app).await;
    let expected = [
        ("latchkey_auth_sign_ups_total", "created", 2.0),
        ("latchkey_auth_sign_ups_total", "duplicate", 1.0),
        ("latchkey_auth_sign_ins_total", "success", 1.0),
        ("latchkey_auth_sign_ins_total", "failure", 10.0),
        ("latchkey_auth_sign_ins_total", "locked", 2.0),
        ("latchkey_auth_sign_ins_total", "denied", 1.0),
        ("latchkey_auth_refreshes_total", "rotated", 1.0),
        ("latchkey_auth_refreshes_total", "grace", 1.0),
        ("latchkey_auth_refreshes_total", "reuse_detected", 1.0),
    ];
    for (metric, name, count) in expected {
        assert_eq!(outcome(&body, metric, name), Some(count), "{metric}{{outcome={name}}}: {body}");
    }
    assert!(!body.contains("outcomes@example.com") && !body.contains(&app.project.to_string()));
}

#[tokio::test]
async fn pool_and_process_gauges_are_read_at_scrape_time() {
    let app = TestApp::spawn().await;
    app.sign_up("gauges@example.com").await;
    let body = scrape(&app).await;
    let value = |name: &str, labels: &[(&str, &str)]| {
        sample(&body, name, labels).unwrap_or_else(|| panic!("{name} {labels:?} missing: {body}"))
    };

    // The hashing pool of the test harness: two threads, idle now, the sign-up's hash run.
    assert_eq!(value("latchkey_hash_threads", &[]), 2.0);
    assert_eq!(value("latchkey_hash_busy_threads", &[]), 0.0);
    assert!(value("latchkey_hash_jobs_total", &[]) >= 1.0, "{body}");

    // The database pools, as opened: SQLite's single writer and its readers, or PostgreSQL's
    // one pool of the harness's size.
    let pools: &[(&str, Option<f64>)] = match Backend::from_env() {
        Backend::Sqlite => &[("writer", Some(1.0)), ("reader", None)],
        Backend::Postgres => &[("main", Some(8.0))],
    };
    for (pool, max) in pools {
        let label = [("pool", *pool)];
        let (open, idle, in_use) = (
            value("latchkey_db_pool_open_connections", &label),
            value("latchkey_db_pool_idle_connections", &label),
            value("latchkey_db_pool_in_use_connections", &label),
        );
        let most = value("latchkey_db_pool_max_connections", &label);
        assert!(open >= 1.0 && open <= most && idle + in_use == open, "{pool}: {body}");
        if let Some(max) = max {
            assert_eq!(most, *max, "{pool}");
        }
    }

    // The process: plausible values, not just present.
    assert!(value("process_resident_memory_bytes", &[]) > 1024.0 * 1024.0, "{body}");
    assert!(value("process_virtual_memory_bytes", &[]) >= value("process_resident_memory_bytes", &[]));
    assert!(value("process_cpu_seconds_total", &[]) > 0.0);
    // The runtime's workers and the two hashing threads at least.
    assert!(value("process_threads", &[]) >= 3.0, "{body}");
    let fds = value("process_open_fds", &[]);
    assert!(fds >= 3.0 && fds <= value("process_max_fds", &[]), "{body}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let started = value("process_start_time_seconds", &[]);
    assert!(started <= now + 1.0 && started > now - 3600.0, "started {started}, now {now}");
}
