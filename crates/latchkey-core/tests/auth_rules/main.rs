//! The core's auth rules, tested without a server or a database: the request services
//! (`auth::Services`) over the in-memory store and a manual clock. (The same rules are also tested end to end,
//! over HTTP on both SQL backends, in `crates/latchkey-server/tests`.)
//!
//! - `refresh.rs`: rotation, the grace window, reuse detection, racing exchanges.
//! - `sign_in.rs`: the failed sign-in lockout.
//! - `links.rs`: verification and reset links (single use, expiry, purpose, superseding).
//! - `external.rs`: how `verify-external-user` creates, updates and links users.
//! - `account_state.rs`: disabled and suspended users at sign-in and refresh.
//! - `signing.rs`: the cached signing key across a key rotation.

mod account_state;
mod external;
mod links;
mod refresh;
mod sign_in;
mod signing;

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use latchkey_core::auth::{Admin, AuthPolicy, Credentials, Deps, Services, SignUp};
use latchkey_core::clock::ManualClock;
use latchkey_core::crypto::MasterKey;
use latchkey_core::domain::{ProfileInput, ProjectId, ProjectSettings};
use latchkey_core::hashing::{HashCost, HasherPool, PoolSize};
use latchkey_core::mail::{OutboxQueue, Prepared};
use latchkey_core::store::memory::MemoryStore;
use latchkey_core::store::{Claim, MailStore};
use latchkey_core::tokens::RefreshClaims;
use secrecy::ExposeSecret;

/// The password every test user signs up with.
pub const PASSWORD: &str = "correct horse battery";

/// Argon2id at its smallest: these tests are about the rules, not the cost.
const TEST_COST: HashCost = HashCost { memory_kib: 64, iterations: 1, parallelism: 1 };

/// The services over a fresh in-memory store, with one project, on a clock that only moves
/// when a test moves it.
pub struct World {
    pub services: Services,
    /// The same store the services use, for checking what it wrote.
    pub store: Arc<MemoryStore>,
    pub clock: Arc<ManualClock>,
    /// The operator services (`services.admin`).
    pub admin: Admin,
    pub project: ProjectId,
    pub policy: AuthPolicy,
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

/// The one place that builds the services: `policy` may adjust the defaults.
pub async fn world(policy: impl FnOnce(&mut AuthPolicy)) -> World {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(start()));
    let (master, _) = MasterKey::generate();
    let hasher = Arc::new(HasherPool::start(TEST_COST, PoolSize { threads: 2, queue: 64 }).unwrap());
    let mut auth_policy = AuthPolicy::new("http://latchkey.test");
    policy(&mut auth_policy);
    let services = Services::new(Deps::new(store.clone(), master, clock.clone()), hasher, auth_policy.clone());
    let admin = services.admin.clone();
    let project = admin.projects.create_project("test", ProjectSettings::default()).await.unwrap().id;
    World { services, store, clock, admin, project, policy: auth_policy }
}

impl World {
    pub fn now(&self) -> DateTime<Utc> {
        latchkey_core::clock::Clock::now(&*self.clock)
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.advance(Duration::seconds(seconds));
    }

    pub async fn sign_up(&self, email: &str) -> Credentials {
        self.sign_up_as(email, None).await
    }

    pub async fn sign_up_as(&self, email: &str, username: Option<&str>) -> Credentials {
        let request = SignUp {
            email: email.into(),
            password: PASSWORD.into(),
            username: username.map(Into::into),
            profile: ProfileInput::default(),
        };
        self.services.registration.sign_up(self.project, request).await.unwrap()
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> latchkey_core::Result<Credentials> {
        self.services.sessions.sign_in(self.project, email, password.into()).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> latchkey_core::Result<Credentials> {
        self.services.sessions.refresh(self.project, refresh_token).await
    }

    /// The claims of a refresh token this project minted.
    pub async fn claims(&self, refresh_token: &str) -> RefreshClaims {
        let context = self.services.projects.context(self.project).await.unwrap();
        latchkey_core::tokens::verify_refresh(refresh_token, self.project, &context.keys, self.now()).unwrap()
    }

    /// The plaintext link token of the oldest message waiting in the outbox, as the delivery
    /// worker would send it (a reset request gets its token here); the message is then sent.
    pub async fn mailed_token(&self) -> String {
        let now = self.now();
        let claim = Claim { token: "test-worker".into(), now, lease_until: now + Duration::minutes(1) };
        let outbox = self.services.outbox();
        let row = outbox.claim(&claim).await.unwrap().expect("a message in the outbox");
        let Prepared::Send(mail) = outbox.prepare(&row, &claim.token).await.unwrap() else {
            panic!("the message has a recipient");
        };
        assert!(self.store.outbox_sent(row.id, &claim.token, now).await.unwrap());
        mail.token.expose_secret().to_owned()
    }
}
