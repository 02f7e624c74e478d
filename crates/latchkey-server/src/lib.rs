//! The Latchkey server: HTTP routes (axum), configuration, and the admin CLI.
//!
//! - [`settings`]: every setting declared once (flag, `LATCHKEY_*` variable, TOML key, default),
//!   layered flags > variables > file > defaults.
//! - [`config`]: the settings checked and typed up front; [`master_key`]: the key at rest.
//! - [`app`]: shared state and the router.
//! - [`serve`]: [`serve::Application`], the one start-up path of `serve` and the tests.
//! - [`connections`]: the HTTP server loop: timeouts, the connection cap, graceful shutdown.
//! - [`routes`]: one module per API area; handlers translate HTTP to core calls and back.
//! - [`admin_wire`]: the admin API's users and sessions between proto and core (routes and CLI).
//! - [`error`]: the single mapping from core errors to status + JSON `code`.
//! - [`extract`]: the JSON body and API-key extractors.
//! - [`jwks_fetch`]: the HTTPS fetcher for per-project JWKS URLs of external users.
//! - [`mail`]: SMTP/file delivery, templates and the outbox worker (password reset, verification).
//! - [`openapi`]: the OpenAPI 3.1 document (`GET /openapi.json`), generated from the handlers.
//! - [`metrics`]: Prometheus metrics (`GET /metrics`): requests by route template, auth outcomes,
//!   hashing and database pools, mail, the process ([`process_stats`]).
//! - [`telemetry`]: OpenTelemetry traces over OTLP/HTTP, when a collector is configured.
//! - [`cli`]: `latchkey serve` and the admin subcommands.

pub mod admin_wire;
pub mod app;
pub mod cli;
pub mod config;
pub mod connections;
pub mod error;
pub mod extract;
pub mod import_wire;
pub mod jwks_fetch;
pub mod mail;
pub mod master_key;
pub mod metrics;
pub mod openapi;
pub mod process_stats;
pub mod request_id;
pub mod routes;
pub mod serve;
pub mod settings;
pub mod telemetry;

pub use app::{AppState, RouterOptions, router, router_with};
