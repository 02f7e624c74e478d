//! The one start-up path: [`Application::build`] opens the store, starts the hashing pool,
//! builds the services once, checks the master key, bootstraps an empty database and
//! assembles the router; [`Application::run_until_stopped`] starts the background work (maintenance, the
//! email outbox worker, a separate metrics listener) and serves until `shutdown`, draining
//! in-flight requests and then stopping the worker. `latchkey serve` and the test harness
//! both go through it; tests change only what [`StartOptions`] offers.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use latchkey_core::auth::{AuthPolicy, Deps, Maintenance, ProjectAdmin, Services};
use latchkey_core::clock::{Clock, SystemClock};
use latchkey_core::hashing::HasherPool;
use latchkey_core::store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::{AppState, RouterOptions, router_with};
use crate::config::{MetricsExposure, ServeConfig, StorageConfig};
use latchkey_core::mail::{OutboxWorker, WorkerOptions};

use crate::mail::{EmlDrop, LinkMailer, MailerConfig, Templates};
use crate::metrics::{Exposition, Metrics};

/// `latchkey serve`: fit the connection cap to the open-file limit, build, serve until
/// SIGINT/SIGTERM.
pub async fn run(storage: StorageConfig, mut config: ServeConfig) -> anyhow::Result<()> {
    config.connections.max_connections = fit_open_file_limit(config.connections.max_connections, &storage)?;
    let app = Application::build(&storage, config, StartOptions::production()).await?;
    app.run_until_stopped(shutdown_signal()).await
}

/// What `serve` takes from the process and a test replaces. Everything else comes from the
/// configuration, as in production.
pub struct StartOptions {
    pub clock: Arc<dyn Clock>,
    /// On an empty database, create a project and an API key and print them once.
    pub bootstrap: bool,
    /// Run the email outbox worker (the tests drive their own, with fast retries).
    pub outbox_worker: bool,
    /// Wraps the finished router (the tests record responses the OpenAPI document lacks).
    pub wrap_router: Option<Box<dyn FnOnce(Router) -> Router + Send>>,
}

impl StartOptions {
    pub fn production() -> Self {
        Self { clock: Arc::new(SystemClock), bootstrap: true, outbox_worker: true, wrap_router: None }
    }
}

/// A built server: bound, wired, not yet serving.
pub struct Application {
    listener: TcpListener,
    /// `/metrics` on its own listener (`LATCHKEY_METRICS_BIND`), bound at build.
    metrics_listener: Option<TcpListener>,
    router: Router,
    services: Arc<Services>,
    /// Kept for the test harness to inspect what was written; the server itself reaches the
    /// store only through the services.
    store: Arc<dyn Store>,
    metrics: Option<Arc<Metrics>>,
    storage: StorageConfig,
    config: ServeConfig,
    outbox_worker: bool,
}

impl Application {
    pub async fn build(storage: &StorageConfig, config: ServeConfig, options: StartOptions) -> anyhow::Result<Self> {
        let store = storage.open_store().await?;
        let metrics = (config.metrics != MetricsExposure::Off).then(Metrics::new);
        let mut deps = Deps::new(Arc::clone(&store), storage.master_key.clone(), options.clock);
        if let Some(metrics) = &metrics {
            deps = deps.with_auth_observer(Arc::clone(metrics) as _);
        }
        let hasher = Arc::new(HasherPool::start(config.hash_cost, config.hash_pool)?);
        let mut policy = AuthPolicy::new(config.public_url.clone());
        policy.refresh_grace_secs = config.refresh_grace_secs;
        let services = Arc::new(Services::new(deps, hasher, policy));
        services.admin.projects.verify_master_key().await?;
        if options.bootstrap {
            bootstrap_if_empty(&services.admin.projects, &config.public_url).await?;
        }
        // Projects created before rotation existed get the standby key a rotation promotes.
        let standbys = services.admin.signing_keys.ensure_standby_keys().await?;
        if standbys > 0 {
            tracing::info!(projects = standbys, "published a standby signing key for projects without one");
        }
        services.external_sign_in.install_jwks_fetcher(Arc::new(crate::jwks_fetch::HttpJwksFetcher::new()?));

        let metrics_listener = match config.metrics {
            MetricsExposure::Separate(addr) if metrics.is_some() => {
                Some(TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr} (metrics)"))?)
            }
            _ => None,
        };
        let router_options = RouterOptions {
            body_limit: config.body_limit,
            expose_metrics: config.metrics == MetricsExposure::Main,
            metrics: metrics.clone(),
        };
        warn_unknown_page_template_projects(&services.admin.projects, &config).await?;
        let state = AppState { services: Arc::clone(&services), pages: Arc::clone(&config.page_templates) };
        let mut router = router_with(state, router_options);
        if let Some(wrap) = options.wrap_router {
            router = wrap(router);
        }
        let listener =
            TcpListener::bind(config.bind).await.with_context(|| format!("cannot listen on {}", config.bind))?;
        Ok(Self {
            listener,
            metrics_listener,
            router,
            services,
            store,
            metrics,
            storage: storage.clone(),
            config,
            outbox_worker: options.outbox_worker,
        })
    }

    /// The address the API listens on (the real port when the configuration said 0).
    pub fn address(&self) -> anyhow::Result<SocketAddr> {
        self.listener.local_addr().context("cannot read the listening address")
    }

    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// For tests that check what was written; nothing in the server uses it.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Serves until `shutdown` resolves, then drains requests and stops the outbox worker.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self { listener, metrics_listener, router, services, metrics, storage, config, outbox_worker, .. } = self;
        spawn_maintenance(services.maintenance.clone(), config.audit_retention_days);
        let worker = outbox_worker.then(|| start_outbox_worker(&services, &config, &storage, metrics.clone()));
        if let (Some(listener), Some(metrics)) = (metrics_listener, metrics) {
            let exposition = Exposition { metrics, health: services.health.clone() };
            let limits = config.connections;
            tracing::info!(address = %listener.local_addr()?, "metrics listening");
            tokio::spawn(async move {
                let router = crate::metrics::router(exposition);
                if let Err(e) = crate::connections::serve(listener, router, limits, std::future::pending()).await {
                    tracing::error!(error = %e, "metrics listener stopped");
                }
            });
        }
        tracing::info!(
            address = %listener.local_addr()?,
            public_url = %config.public_url,
            max_connections = config.connections.max_connections,
            header_timeout_secs = config.connections.header_timeout.as_secs(),
            body_timeout_secs = config.connections.body_timeout.as_secs(),
            idle_timeout_secs = config.connections.idle_timeout.as_secs(),
            "latchkey listening"
        );
        let served = crate::connections::serve(listener, router, config.connections, shutdown).await;
        // Requests have drained; let the worker finish the message in hand (bounded by the SMTP
        // timeout). Anything unsent stays in the outbox for the next start.
        if let Some((stop_worker, worker)) = worker {
            let _ = stop_worker.send(true);
            if tokio::time::timeout(config.mail.smtp_timeout + Duration::from_secs(5), worker).await.is_err() {
                tracing::warn!("outbox worker did not stop in time");
            }
        }
        served?;
        tracing::info!("latchkey stopped");
        Ok(())
    }
}

/// Raises the soft open-file limit to the hard one (logged), and returns how many connections
/// to serve at once: `wanted`, or fewer when the limit cannot hold them beside the descriptors
/// the rest of the process needs.
fn fit_open_file_limit(wanted: usize, storage: &StorageConfig) -> anyhow::Result<usize> {
    let limit = match crate::connections::raise_open_file_limit() {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit (RLIMIT_NOFILE)");
            return Ok(wanted);
        }
    };
    if limit.now > limit.before {
        tracing::info!(
            from = limit.before,
            to = limit.now,
            hard = limit.hard,
            "raised the open-file limit (RLIMIT_NOFILE)"
        );
    } else {
        tracing::info!(limit = limit.now, hard = limit.hard, "open-file limit (RLIMIT_NOFILE)");
    }
    let reserve = crate::connections::descriptor_reserve(storage.database_pool_size);
    let room = limit.now.saturating_sub(reserve);
    if room < 16 {
        anyhow::bail!(
            "the open-file limit ({}, hard limit {}) leaves no room for connections: at least {} are needed;              raise it (ulimit -n, or LimitNOFILE= in a systemd unit)",
            limit.now,
            limit.hard,
            reserve + 16
        );
    }
    let fitted = usize::try_from(room).unwrap_or(usize::MAX).min(wanted);
    if fitted < wanted {
        tracing::warn!(
            max_connections = fitted,
            configured = wanted,
            open_file_limit = limit.now,
            "LATCHKEY_MAX_CONNECTIONS lowered to fit the open-file limit; raise the hard limit \
             (LimitNOFILE= in a systemd unit, ulimit -Hn) to serve more"
        );
    }
    Ok(fitted)
}

/// The email outbox worker, with the transport chosen by configuration.
fn start_outbox_worker(
    services: &Services,
    config: &ServeConfig,
    storage: &StorageConfig,
    metrics: Option<Arc<Metrics>>,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let mailer_config = MailerConfig {
        public_url: config.public_url.clone(),
        default_smtp: config.mail.smtp.clone(),
        default_from: config.mail.from.clone(),
        file_drop: EmlDrop { dir: storage.data_dir.join("mail") },
        smtp_timeout: config.mail.smtp_timeout,
        templates: Arc::new(Templates::new(config.mail.templates_dir.clone())),
        smtp_ca_pem: config.mail.smtp_ca_pem.clone(),
    };
    match &config.mail.smtp {
        Some(relay) => tracing::info!(relay = %relay, "email via SMTP"),
        None => {
            tracing::info!(dir = %mailer_config.file_drop.dir.display(), "no LATCHKEY_SMTP_URL: emails are written as .eml files")
        }
    }
    let mailer = Arc::new(LinkMailer::new(mailer_config));
    let options =
        WorkerOptions { lease: config.mail.smtp_timeout * 3 + Duration::from_secs(30), ..WorkerOptions::default() };
    let mut worker = OutboxWorker::new(Arc::new(services.outbox()), mailer, options);
    if let Some(metrics) = metrics {
        worker = worker.with_observer(metrics);
    }
    let (stop, stopped) = watch::channel(false);
    (stop, tokio::spawn(worker.run(stopped)))
}

/// A project directory of `LATCHKEY_PAGE_TEMPLATES` for no project here (deleted, or another
/// deployment's) is left unused; said once at start-up.
async fn warn_unknown_page_template_projects(admin: &ProjectAdmin, config: &ServeConfig) -> anyhow::Result<()> {
    let mut overridden: Vec<_> = config.page_templates.project_overrides().collect();
    if overridden.is_empty() {
        return Ok(());
    }
    let known: std::collections::HashSet<_> = admin.projects().await?.into_iter().map(|p| p.id).collect();
    overridden.retain(|id| !known.contains(id));
    for project in overridden {
        tracing::warn!(%project, "LATCHKEY_PAGE_TEMPLATES has a directory for a project that does not exist");
    }
    Ok(())
}

/// First start on an empty database: create a project and an API key, print both once.
/// Printed to stdout, not logged: logs never carry secrets.
/// Atomic in the store: of several processes started together on one empty database, exactly
/// one creates the project and prints it.
async fn bootstrap_if_empty(admin: &ProjectAdmin, public_url: &str) -> anyhow::Result<()> {
    // The common case (a restart) answered by a read, without taking the bootstrap lock.
    if !admin.projects().await?.is_empty() {
        return Ok(());
    }
    let Some((project, key)) = admin.bootstrap_project("Default project").await? else {
        tracing::info!("another process created the first project; not bootstrapping");
        return Ok(());
    };
    println!(
        "\nLatchkey first start: created a project and an API key (shown only this once).\n\n  \
         project id: {id}\n  api key:    {key}\n\nTry it:\n\n  \
         curl -s -X POST {url}/v7/{id}/auth/sign-up -H 'Authorization: Bearer {key}' \
         -H 'Content-Type: application/json' -d '{{\"email\":\"user@example.com\",\"password\":\"s3cur3P@ss\"}}'\n",
        id = project.id,
        key = key.plaintext,
        url = public_url,
    );
    Ok(())
}

/// Periodic housekeeping every 10 minutes: ended sign-in throttling windows, finished outbox
/// rows and expired link tokens older than a week, audit records older than the retention,
/// and retired signing keys no longer in the JWKS are deleted.
fn spawn_maintenance(maintenance: Maintenance, audit_retention_days: u32) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            match maintenance.purge_stale_throttles().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(purged = n, "ended sign-in throttling windows deleted"),
                Err(e) => tracing::warn!(error = %e, "throttling cleanup failed"),
            }
            match maintenance.purge_old_mail().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(purged = n, "finished outbox rows and expired link tokens deleted"),
                Err(e) => tracing::warn!(error = %e, "mail cleanup failed"),
            }
            match maintenance.purge_old_audit_events(audit_retention_days).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(purged = n, "audit records past their retention deleted"),
                Err(e) => tracing::warn!(error = %e, "audit trail cleanup failed"),
            }
            match maintenance.purge_unpublished_signing_keys().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(purged = n, "retired signing keys no longer published deleted"),
                Err(e) => tracing::warn!(error = %e, "signing key cleanup failed"),
            }
        }
    });
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled: a signal right after the "listening" line must still drain.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    };
    async move {
        #[cfg(unix)]
        {
            async fn recv(signal: std::io::Result<tokio::signal::unix::Signal>) {
                match signal {
                    Ok(mut signal) => {
                        signal.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = recv(interrupt) => {},
                () = recv(terminate) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutdown signal received; draining in-flight requests");
    }
}
