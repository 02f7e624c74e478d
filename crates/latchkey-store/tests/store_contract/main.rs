//! The storage contract, checked directly against each backend: a real SQLite file, a fresh
//! database on the real PostgreSQL server (twice: Latchkey's tables in the default schema, and
//! in schema `authz`; decoy tables of the same names in `public` both times), and the core's
//! in-memory store. Each case is written once and run on all of them.
//! Tenancy scoping, exact round trips, uniqueness mapping, the conditional rotation, the
//! failure window, the external-user store (`external.rs`) and the email store (`mail.rs`).
//! `shared_postgres.rs` races two PostgreSQL stores (two processes' pools) on one database.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use latchkey_core::crypto::MasterKey;
use latchkey_core::domain::{
    Actor, ApiKeyId, ApiKeyRecord, ApiKeyScope, AuditAction, AuditEvent, AuditFilter, Project, ProjectId,
    ProjectSettings, Role, SessionId, SessionMethod, User, UserId,
};
use latchkey_core::store::{Rotation, SessionRecord, StoreError, UniqueField};
use latchkey_core::tokens::{SigningKey, StoredSigningKey};

mod audit;
mod backends;
mod external;
mod mail;
mod project_admin;
mod schema;
mod shared_postgres;
mod user_admin;
mod user_import;

use audit::audit_events_list_filter_page_and_purge;
use external::{
    a_jti_is_used_once_per_project, external_config_is_scoped_by_project,
    linking_applies_only_from_the_expected_foreign_id, racing_links_of_one_user_apply_once,
    racing_sign_ins_consume_a_jti_once,
};
use mail::{
    link_tokens_are_single_use_scoped_and_superseded, mail_settings_round_trip_per_project,
    old_mail_is_purged_and_live_mail_kept, outbox_transitions_are_bound_to_the_claim,
    racing_reset_requests_respect_the_rate_limit, racing_workers_never_claim_the_same_row,
};
use project_admin::{
    a_deleted_project_leaves_nothing_behind, a_project_is_renamed_with_its_record,
    project_settings_round_trip_per_project, racing_rotations_apply_once,
    rotation_moves_each_key_one_step_with_its_record, standbys_are_added_once_and_unpublished_keys_purged,
};
use user_admin::{
    a_deleted_user_leaves_no_row_behind, links_and_passwords_supersede_and_revoke, sessions_list_and_revoke_per_user,
    suspensions_keep_suspended_until_and_block_sign_in, updates_write_their_record_or_nothing,
    users_list_by_filter_and_cursor,
};
use user_import::an_import_batch_is_all_or_nothing;

/// Every area of the storage contract, as the server uses it.
type Store = dyn latchkey_core::store::Store;

/// Runs each case against SQLite, PostgreSQL and the in-memory store as separate tests.
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $case() {
                let (_guard, store) = super::backends::sqlite().await;
                super::$case(store).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $case() {
                let (db, store) = super::backends::postgres(None).await;
                super::$case(store).await;
                assert!(db.decoys_intact().await, "the decoys in public are untouched");
            })*
        }
        mod postgres_schema_authz {
            $(#[tokio::test]
            async fn $case() {
                let (db, store) = super::backends::postgres(Some("authz")).await;
                super::$case(store).await;
                assert!(db.decoys_intact().await, "the decoys in public are untouched");
            })*
        }
        mod memory {
            $(#[tokio::test]
            async fn $case() {
                let (_guard, store) = super::backends::memory().await;
                super::$case(store).await;
            })*
        }
    };
}

on_every_backend!(
    every_read_is_scoped_by_project,
    records_round_trip_exactly,
    uniqueness_violations_name_the_field_and_write_nothing,
    rotation_applies_only_from_the_expected_generation,
    failure_windows_count_and_restart,
    a_password_session_needs_the_verified_hash_to_be_current,
    external_config_is_scoped_by_project,
    a_jti_is_used_once_per_project,
    racing_sign_ins_consume_a_jti_once,
    linking_applies_only_from_the_expected_foreign_id,
    racing_links_of_one_user_apply_once,
    mail_settings_round_trip_per_project,
    link_tokens_are_single_use_scoped_and_superseded,
    outbox_transitions_are_bound_to_the_claim,
    racing_workers_never_claim_the_same_row,
    racing_reset_requests_respect_the_rate_limit,
    old_mail_is_purged_and_live_mail_kept,
    racing_first_projects_create_exactly_one,
    audit_events_list_filter_page_and_purge,
    users_list_by_filter_and_cursor,
    suspensions_keep_suspended_until_and_block_sign_in,
    updates_write_their_record_or_nothing,
    a_deleted_user_leaves_no_row_behind,
    links_and_passwords_supersede_and_revoke,
    sessions_list_and_revoke_per_user,
    a_project_is_renamed_with_its_record,
    project_settings_round_trip_per_project,
    a_deleted_project_leaves_nothing_behind,
    rotation_moves_each_key_one_step_with_its_record,
    racing_rotations_apply_once,
    standbys_are_added_once_and_unpublished_keys_purged,
    an_import_batch_is_all_or_nothing,
);

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 15).unwrap() + Duration::milliseconds(123)
}

async fn project(store: &Arc<Store>) -> ProjectId {
    let (master, _) = MasterKey::generate();
    let project = Project {
        id: ProjectId::generate(),
        name: "p".into(),
        settings: ProjectSettings::default(),
        created_at: now(),
    };
    store.create_project(&project, &first_keys(project.id, &master)).await.unwrap();
    project.id
}

/// A new project's signing key and standby, as the core makes them.
fn first_keys(project: ProjectId, master: &MasterKey) -> [StoredSigningKey; 2] {
    let (_, mut active) = SigningKey::generate(project, master, now()).unwrap();
    active.activated_at = Some(now());
    let (_, standby) = SigningKey::generate(project, master, now()).unwrap();
    [active, standby]
}

/// An audit record of `project` at `now()`.
fn audit_event(project: ProjectId, action: AuditAction) -> AuditEvent {
    AuditEvent::new(project, now(), Actor::System, action)
}

/// The actions recorded for `project`, newest first.
async fn actions(store: &Arc<Store>, project: ProjectId) -> Vec<AuditAction> {
    let events = store.list_audit_events(project, &AuditFilter::default(), 100).await.unwrap();
    events.iter().map(|e| e.action).collect()
}

fn user(project: ProjectId, email: &str, username: Option<&str>) -> User {
    User {
        id: UserId::generate(),
        project_id: project,
        foreign_id: None,
        role: Role::Visitor,
        email: Some(email.into()),
        username: username.map(Into::into),
        profile: Default::default(),
        metadata: serde_json::Map::new(),
        secure_metadata: serde_json::Map::new(),
        reputation: 0,
        is_verified: false,
        is_active: true,
        password_hash: Some("$argon2id$stub".into()),
        last_active: None,
        created_at: now(),
        updated_at: now(),
        suspended_until: None,
    }
}

fn session(user: &User) -> SessionRecord {
    SessionRecord {
        id: SessionId::generate(),
        project_id: user.project_id,
        user_id: user.id,
        generation: 0,
        current_digest: "d0".into(),
        previous_digest: None,
        rotated_at: now(),
        current_pair_sealed: vec![1, 2, 3],
        expires_at: now() + Duration::days(30),
        revoked_at: None,
        created_at: now(),
        method: SessionMethod::Password,
    }
}

async fn every_read_is_scoped_by_project(store: Arc<Store>) {
    let a = project(&store).await;
    let b = project(&store).await;
    let alice = user(a, "alice@example.com", Some("alice"));
    let s = session(&alice);
    store.create_user_with_session(&alice, &s).await.unwrap();

    assert!(store.get_user(a, alice.id).await.unwrap().is_some());
    assert!(store.get_user(b, alice.id).await.unwrap().is_none());
    assert!(store.find_user_by_email(b, "alice@example.com").await.unwrap().is_none());
    assert!(!store.username_taken(b, "alice").await.unwrap());
    assert!(store.get_session(b, s.id).await.unwrap().is_none());
    // A write through the wrong project changes nothing.
    store.revoke_session(b, s.id, now()).await.unwrap();
    assert!(store.get_session(a, s.id).await.unwrap().unwrap().revoked_at.is_none());

    let key = ApiKeyRecord {
        id: ApiKeyId::generate(),
        project_id: a,
        name: "k".into(),
        prefix: "lk_abc".into(),
        scope: ApiKeyScope::Admin,
        digest: "digest-a".into(),
        created_at: now(),
        revoked_at: None,
    };
    store.insert_api_key(&key, &audit_event(a, AuditAction::ApiKeyCreated)).await.unwrap();
    let revoked_elsewhere = audit_event(b, AuditAction::ApiKeyRevoked);
    assert!(
        !store.revoke_api_key(b, key.id, now(), &revoked_elsewhere).await.unwrap(),
        "another project cannot revoke it"
    );
    assert!(actions(&store, b).await.is_empty(), "a revocation that did not happen is not recorded");
    let live = store.live_api_key("digest-a").await.unwrap().expect("live");
    assert_eq!((live.project_id, live.id, live.scope), (a, key.id, ApiKeyScope::Admin));
    assert_eq!(store.list_api_keys(a).await.unwrap()[0].scope, ApiKeyScope::Admin, "the scope reads back");
    assert!(store.revoke_api_key(a, key.id, now(), &audit_event(a, AuditAction::ApiKeyRevoked)).await.unwrap());
    assert_eq!(store.live_api_key("digest-a").await.unwrap(), None);
    assert_eq!(actions(&store, a).await, [AuditAction::ApiKeyRevoked, AuditAction::ApiKeyCreated]);
    let again = audit_event(a, AuditAction::ApiKeyRevoked);
    assert!(!store.revoke_api_key(a, key.id, now(), &again).await.unwrap(), "revoked once");
    assert_eq!(actions(&store, a).await.len(), 2);
}

async fn records_round_trip_exactly(store: Arc<Store>) {
    let p = project(&store).await;
    let mut u = user(p, "bob@example.com", None);
    u.profile.location = Some(latchkey_core::domain::Location { latitude: 1.25, longitude: -2.5 });
    u.metadata.insert("k".into(), serde_json::json!({"nested": [1, 2]}));
    u.profile.birthdate = Some("1990-04-01".into());
    let s = session(&u);
    store.create_user_with_session(&u, &s).await.unwrap();
    let read = store.get_user(p, u.id).await.unwrap().unwrap();
    assert_eq!(read.profile.location, u.profile.location);
    assert_eq!(read.metadata, u.metadata);
    assert_eq!(read.profile.birthdate, u.profile.birthdate);
    assert_eq!(read.created_at, u.created_at, "millisecond timestamps survive");
    assert_eq!(read.username, None);
    let read_session = store.get_session(p, s.id).await.unwrap().unwrap();
    assert_eq!(read_session.current_pair_sealed, s.current_pair_sealed);
    assert_eq!(read_session.expires_at, s.expires_at);
    assert_eq!(read_session.method, SessionMethod::Password, "how the session began reads back");
}

async fn uniqueness_violations_name_the_field_and_write_nothing(store: Arc<Store>) {
    let p = project(&store).await;
    let first = user(p, "x@example.com", Some("xx_1"));
    store.create_user_with_session(&first, &session(&first)).await.unwrap();

    let same_email = user(p, "x@example.com", Some("other"));
    let s = session(&same_email);
    let err = store.create_user_with_session(&same_email, &s).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(UniqueField::Email)), "{err:?}");
    assert!(store.get_session(p, s.id).await.unwrap().is_none(), "the transaction rolled back");

    let same_username = user(p, "y@example.com", Some("xx_1"));
    let err = store.create_user_with_session(&same_username, &session(&same_username)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(UniqueField::Username)), "{err:?}");
    // Two users without a username do not collide.
    for email in ["n1@example.com", "n2@example.com"] {
        let u = user(p, email, None);
        store.create_user_with_session(&u, &session(&u)).await.unwrap();
    }
}

async fn rotation_applies_only_from_the_expected_generation(store: Arc<Store>) {
    let p = project(&store).await;
    let u = user(p, "r@example.com", None);
    let s = session(&u);
    store.create_user_with_session(&u, &s).await.unwrap();
    let rotation = |from, digest: &str| Rotation {
        project_id: p,
        session_id: s.id,
        from_generation: from,
        previous_digest: format!("prev-{digest}"),
        new_digest: digest.into(),
        pair_sealed: vec![9],
        now: now() + Duration::seconds(5),
        expires_at: now() + Duration::days(31),
    };
    assert!(store.rotate_session(&rotation(0, "d1")).await.unwrap());
    assert!(!store.rotate_session(&rotation(0, "d1-again")).await.unwrap(), "a second rotation from 0 loses");
    let current = store.get_session(p, s.id).await.unwrap().unwrap();
    assert_eq!((current.generation, current.current_digest.as_str()), (1, "d1"));
    assert_eq!(current.previous_digest.as_deref(), Some("prev-d1"));
    store.revoke_session(p, s.id, now()).await.unwrap();
    assert!(!store.rotate_session(&rotation(1, "d2")).await.unwrap(), "a revoked session never rotates");
}

async fn failure_windows_count_and_restart(store: Arc<Store>) {
    let p = project(&store).await;
    let window = Duration::minutes(15);
    let t0 = now();
    for n in 1..=3 {
        let w = store.record_sign_in_attempt(p, "f@example.com", t0, t0 - window).await.unwrap();
        assert_eq!(w.failures, n);
        assert_eq!(w.window_started_at, t0);
    }
    let later = t0 + window + Duration::seconds(1);
    let w = store.record_sign_in_attempt(p, "f@example.com", later, later - window).await.unwrap();
    assert_eq!((w.failures, w.window_started_at), (1, later), "an old window restarts");
    store.clear_sign_in_failures(p, "f@example.com").await.unwrap();
    // Cleared: the next attempt, even inside the same window, counts from one again.
    let w = store.record_sign_in_attempt(p, "f@example.com", later, later - window).await.unwrap();
    assert_eq!(w.failures, 1, "the count was cleared");

    // An attempt given back (its password was never checked) is uncounted, in its own window
    // only: a unit from the window that restarted is not taken from the new one.
    let w = store.record_sign_in_attempt(p, "f@example.com", later, later - window).await.unwrap();
    assert_eq!(w.failures, 2);
    store.release_sign_in_attempt(p, "f@example.com", w.window_started_at).await.unwrap();
    store.release_sign_in_attempt(p, "f@example.com", t0).await.unwrap();
    let w = store.record_sign_in_attempt(p, "f@example.com", later, later - window).await.unwrap();
    assert_eq!(w.failures, 2, "one given back, the stale window's release ignored");
    for _ in 0..3 {
        store.release_sign_in_attempt(p, "f@example.com", later).await.unwrap();
    }
    let w = store.record_sign_in_attempt(p, "f@example.com", later, later - window).await.unwrap();
    assert_eq!(w.failures, 1, "never below zero");
}

async fn a_password_session_needs_the_verified_hash_to_be_current(store: Arc<Store>) {
    let p = project(&store).await;
    let u = user(p, "race@example.com", None);
    store.create_user_with_session(&u, &session(&u)).await.unwrap();
    let verified = u.password_hash.clone().unwrap();

    let first = session(&u);
    let signed_in = audit_event(p, AuditAction::SignInSucceeded).user(u.id);
    assert!(store.create_password_session(&first, &verified, now(), &signed_in).await.unwrap());
    assert!(store.get_session(p, first.id).await.unwrap().is_some());
    assert_eq!(actions(&store, p).await, [AuditAction::SignInSucceeded], "recorded with the session");
    assert_eq!(store.get_user(p, u.id).await.unwrap().unwrap().last_active, Some(now()));

    // A reset commits between the hash check and the session insert: no session.
    assert!(store.upgrade_password_hash(p, u.id, &verified, "$argon2id$after-reset", now()).await.unwrap());
    // A late rehash from the old hash can no longer overwrite the new one.
    assert!(!store.upgrade_password_hash(p, u.id, &verified, "$argon2id$stale-rehash", now()).await.unwrap());
    let late = session(&u);
    let late_record = audit_event(p, AuditAction::SignInSucceeded).user(u.id);
    assert!(!store.create_password_session(&late, &verified, now(), &late_record).await.unwrap());
    assert!(store.get_session(p, late.id).await.unwrap().is_none(), "nothing was written");
    assert_eq!(actions(&store, p).await.len(), 1, "not even the record");
    // Another project's id never matches either.
    let other = project(&store).await;
    let mut foreign = session(&u);
    foreign.project_id = other;
    let foreign_record = audit_event(other, AuditAction::SignInSucceeded);
    assert!(!store.create_password_session(&foreign, "$argon2id$after-reset", now(), &foreign_record).await.unwrap());
}

/// Issue 8 item 6: racing first-start bootstraps (on PostgreSQL on different pool
/// connections, as several processes would) create exactly one project, and none once any
/// project exists.
async fn racing_first_projects_create_exactly_one(store: Arc<Store>) {
    let (master, _) = MasterKey::generate();
    let candidate = |n: usize| {
        let project = Project {
            id: ProjectId::generate(),
            name: format!("p{n}"),
            settings: ProjectSettings::default(),
            created_at: now(),
        };
        let key = first_keys(project.id, &master);
        let api_key = ApiKeyRecord {
            id: ApiKeyId::generate(),
            project_id: project.id,
            name: "bootstrap".into(),
            prefix: format!("lk_{n:08}"),
            scope: ApiKeyScope::Auth,
            digest: format!("digest-{n}"),
            created_at: now(),
            revoked_at: None,
        };
        (project, key, api_key)
    };
    let candidates: Vec<_> = (0..6).map(candidate).collect();
    let results = futures_join_all(candidates.iter().map(|(p, k, a)| {
        let store = Arc::clone(&store);
        let (p, k, a) = (p.clone(), k.clone(), a.clone());
        tokio::spawn(async move { store.create_first_project(&p, &k, &a).await.unwrap() })
    }))
    .await;
    assert_eq!(results.iter().filter(|won| **won).count(), 1, "exactly one bootstrap wins: {results:?}");
    let projects = store.list_projects().await.unwrap();
    assert_eq!(projects.len(), 1);
    let winner = &candidates[results.iter().position(|won| *won).unwrap()];
    assert_eq!(projects[0].id, winner.0.id);
    assert_eq!(store.signing_keys(winner.0.id).await.unwrap().len(), 2, "with its signing key and standby");
    assert_eq!(
        store.live_api_key(&winner.2.digest).await.unwrap().map(|k| k.project_id),
        Some(winner.0.id),
        "and its API key"
    );
    for loser in candidates.iter().filter(|c| c.0.id != winner.0.id) {
        assert_eq!(store.live_api_key(&loser.2.digest).await.unwrap(), None, "a loser wrote nothing");
    }
    let (p, k, a) = candidate(99);
    assert!(!store.create_first_project(&p, &k, &a).await.unwrap(), "none once a project exists");
}

async fn futures_join_all<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.unwrap());
    }
    out
}
