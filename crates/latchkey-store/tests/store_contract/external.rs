//! The external-user store's contract: settings, secrets and keys scoped by project; a `jti`
//! used once per project, even by racing sign-ins; a user change applied only while the row
//! still has the foreign id it was read with; every failed sign-in writes nothing.

use std::sync::Arc;

use chrono::Duration;
use latchkey_core::domain::{ProjectId, User};
use latchkey_core::store::{
    ExternalKeyRecord, ExternalSecretRecord, ExternalSettings, ExternalSignIn, ExternalSignInOutcome, StoreError,
    UniqueField, UserChange,
};

use super::{Store, now, project, session, user};

fn secret(project: ProjectId, id: &str, minutes: i64) -> ExternalSecretRecord {
    ExternalSecretRecord {
        id: id.into(),
        project_id: project,
        secret_sealed: vec![0, 255, 7, id.len() as u8],
        created_at: now() + Duration::minutes(minutes),
        expires_at: None,
        revoked_at: None,
    }
}

fn key(project: ProjectId, kid: &str) -> ExternalKeyRecord {
    ExternalKeyRecord {
        project_id: project,
        kid: kid.into(),
        alg: "EdDSA".into(),
        jwk: format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{kid}"}}"#),
        created_at: now(),
    }
}

fn external_user(project: ProjectId, foreign_id: &str, email: &str) -> User {
    let mut u = user(project, email, None);
    u.foreign_id = Some(foreign_id.into());
    u.password_hash = None;
    u
}

fn sign_in(change: UserChange, jti: Option<&str>) -> ExternalSignIn {
    let session = session(change.user());
    ExternalSignIn { change, session, jti: jti.map(|j| (j.to_owned(), now() + Duration::minutes(10))), now: now() }
}

pub async fn external_config_is_scoped_by_project(store: Arc<Store>) {
    let a = project(&store).await;
    let b = project(&store).await;

    // Settings: absent, then upserted, per project.
    assert_eq!(store.external_settings(a).await.unwrap(), None);
    let settings = ExternalSettings { max_token_lifetime_secs: 120, jwks_url: Some("https://a.example/jwks".into()) };
    store.put_external_settings(a, &settings, now()).await.unwrap();
    let changed = ExternalSettings { max_token_lifetime_secs: 300, jwks_url: None };
    store.put_external_settings(a, &changed, now()).await.unwrap();
    assert_eq!(store.external_settings(a).await.unwrap(), Some(changed));
    assert_eq!(store.external_settings(b).await.unwrap(), None);

    // Secrets: exact round trip, newest first, scoped.
    store.insert_external_secret(&secret(a, "s1", 0), None).await.unwrap();
    store.insert_external_secret(&secret(a, "s2", 1), None).await.unwrap();
    store.insert_external_secret(&secret(b, "s1", 0), None).await.unwrap();
    let listed = store.external_secrets(a).await.unwrap();
    let ids: Vec<_> = listed.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["s2", "s1"]);
    assert_eq!(listed[1].secret_sealed, secret(a, "s1", 0).secret_sealed);
    assert_eq!(listed[1].created_at, now(), "millisecond timestamps survive");
    assert!(listed.iter().all(|s| s.project_id == a && s.expires_at.is_none() && s.revoked_at.is_none()));

    // Another project cannot revoke a's secret; a can, once.
    assert!(!store.revoke_external_secret(b, "s2", now()).await.unwrap());
    assert!(store.revoke_external_secret(a, "s2", now()).await.unwrap());
    assert!(!store.revoke_external_secret(a, "s2", now()).await.unwrap(), "already revoked");
    assert!(store.external_secrets(b).await.unwrap().iter().all(|s| s.revoked_at.is_none()));

    // Rotation with overlap expires the project's other live secrets only.
    let until = now() + Duration::hours(1);
    store.insert_external_secret(&secret(a, "s3", 2), Some(until)).await.unwrap();
    let after: Vec<_> = store.external_secrets(a).await.unwrap();
    let by_id = |id: &str| after.iter().find(|s| s.id == id).unwrap().clone();
    assert_eq!(by_id("s1").expires_at, Some(until));
    assert_eq!(by_id("s2").expires_at, None, "a revoked secret is left alone");
    assert_eq!(by_id("s3").expires_at, None, "the new secret does not expire");
    assert_eq!(store.external_secrets(b).await.unwrap()[0].expires_at, None, "another project is untouched");
    // An earlier expiry is never pushed later by a second rotation.
    store.insert_external_secret(&secret(a, "s4", 3), Some(until + Duration::hours(1))).await.unwrap();
    let after = store.external_secrets(a).await.unwrap();
    assert_eq!(after.iter().find(|s| s.id == "s1").unwrap().expires_at, Some(until));
    assert_eq!(after.iter().find(|s| s.id == "s3").unwrap().expires_at, Some(until + Duration::hours(1)));

    // Keys: a kid is unique per project, not globally.
    store.insert_external_key(&key(a, "k1")).await.unwrap();
    let err = store.insert_external_key(&key(a, "k1")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(UniqueField::Other)), "{err:?}");
    store.insert_external_key(&key(b, "k1")).await.unwrap();
    let keys = store.external_keys(a).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].alg.as_str(), keys[0].jwk.as_str()), ("EdDSA", key(a, "k1").jwk.as_str()));
    assert!(!store.remove_external_key(b, "k2").await.unwrap());
    assert!(store.remove_external_key(b, "k1").await.unwrap());
    assert_eq!(store.external_keys(a).await.unwrap().len(), 1, "removing b's key left a's");
    assert!(store.external_keys(b).await.unwrap().is_empty());
}

pub async fn a_jti_is_used_once_per_project(store: Arc<Store>) {
    let a = project(&store).await;
    let b = project(&store).await;

    let first = sign_in(UserChange::Create(external_user(a, "f1", "one@example.com")), Some("jti-1"));
    assert_eq!(store.apply_external_sign_in(&first).await.unwrap(), ExternalSignInOutcome::Applied);
    assert!(store.get_session(a, first.session.id).await.unwrap().is_some());

    // The same jti again: nothing at all is written.
    let replay = sign_in(UserChange::Create(external_user(a, "f2", "two@example.com")), Some("jti-1"));
    assert_eq!(store.apply_external_sign_in(&replay).await.unwrap(), ExternalSignInOutcome::Replayed);
    assert!(store.find_user_by_foreign_id(a, "f2").await.unwrap().is_none());
    assert!(store.get_session(a, replay.session.id).await.unwrap().is_none());

    // The same jti in another project is another token.
    let other = sign_in(UserChange::Create(external_user(b, "f1", "one@example.com")), Some("jti-1"));
    assert_eq!(store.apply_external_sign_in(&other).await.unwrap(), ExternalSignInOutcome::Applied);

    // Without a jti, nothing is consumed.
    let mut again = external_user(a, "f1", "one@example.com");
    again.id = first.change.user().id;
    for _ in 0..2 {
        let s = sign_in(UserChange::Update(again.clone()), None);
        assert_eq!(store.apply_external_sign_in(&s).await.unwrap(), ExternalSignInOutcome::Applied);
    }

    // A sign-in that fails for another reason does not consume its jti.
    let clash = sign_in(UserChange::Create(external_user(a, "f3", "one@example.com")), Some("jti-2"));
    let err = store.apply_external_sign_in(&clash).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(UniqueField::Email)), "{err:?}");
    let retry = sign_in(UserChange::Create(external_user(a, "f3", "three@example.com")), Some("jti-2"));
    assert_eq!(store.apply_external_sign_in(&retry).await.unwrap(), ExternalSignInOutcome::Applied);

    // Once its token can no longer be accepted, a jti's record is purged.
    let mut late = sign_in(UserChange::Update(again.clone()), Some("jti-1"));
    late.now = now() + Duration::minutes(10);
    assert_eq!(store.apply_external_sign_in(&late).await.unwrap(), ExternalSignInOutcome::Applied);
}

pub async fn racing_sign_ins_consume_a_jti_once(store: Arc<Store>) {
    let p = project(&store).await;
    let attempts: Vec<_> = (0..20)
        .map(|n| {
            sign_in(UserChange::Create(external_user(p, &format!("r{n}"), &format!("r{n}@example.com"))), Some("j"))
        })
        .collect();
    let tasks: Vec<_> = attempts
        .iter()
        .cloned()
        .map(|s| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.apply_external_sign_in(&s).await.unwrap() })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        match task.await.unwrap() {
            ExternalSignInOutcome::Applied => applied += 1,
            outcome => assert_eq!(outcome, ExternalSignInOutcome::Replayed),
        }
    }
    assert_eq!(applied, 1, "exactly one racing sign-in consumes the jti");
    let mut users = 0;
    for s in &attempts {
        users += usize::from(store.get_user(p, s.change.user().id).await.unwrap().is_some());
    }
    assert_eq!(users, 1, "the losers wrote no user");
}

pub async fn linking_applies_only_from_the_expected_foreign_id(store: Arc<Store>) {
    let a = project(&store).await;
    let b = project(&store).await;

    // One user per foreign id in a project; the failed sign-in writes nothing.
    let created = sign_in(UserChange::Create(external_user(a, "fid", "c@example.com")), None);
    store.apply_external_sign_in(&created).await.unwrap();
    let dup = sign_in(UserChange::Create(external_user(a, "fid", "d@example.com")), None);
    let err = store.apply_external_sign_in(&dup).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(UniqueField::ForeignId)), "{err:?}");
    assert!(store.get_session(a, dup.session.id).await.unwrap().is_none(), "the transaction rolled back");
    assert_eq!(store.find_user_by_foreign_id(a, "fid").await.unwrap().unwrap().id, created.change.user().id);
    assert!(store.find_user_by_foreign_id(b, "fid").await.unwrap().is_none(), "scoped by project");

    // A password user (no foreign id) is linked once; a second link finds the row changed.
    // Its email is not verified, so the link drops its password and its earlier sessions.
    let local = user(a, "local@example.com", Some("local"));
    let earlier = session(&local);
    store.create_user_with_session(&local, &earlier).await.unwrap();
    let mut linked = local.clone();
    linked.foreign_id = Some("g1".into());
    linked.profile.name = Some("Linked".into());
    let link = sign_in(UserChange::Link(linked.clone()), None);
    assert_eq!(store.apply_external_sign_in(&link).await.unwrap(), ExternalSignInOutcome::Applied);
    let read = store.find_user_by_foreign_id(a, "g1").await.unwrap().unwrap();
    assert_eq!((read.id, read.profile.name.as_deref()), (local.id, Some("Linked")));
    assert_eq!(read.password_hash, None, "an unverified account's password does not survive a link");
    assert!(store.get_session(a, earlier.id).await.unwrap().unwrap().revoked_at.is_some());
    assert!(store.get_session(a, link.session.id).await.unwrap().unwrap().revoked_at.is_none());

    // A verified account keeps its password and sessions when linked.
    let mut verified = user(a, "verified@example.com", Some("verified"));
    verified.is_verified = true;
    let kept = session(&verified);
    store.create_user_with_session(&verified, &kept).await.unwrap();
    let mut linked_verified = verified.clone();
    linked_verified.foreign_id = Some("g-verified".into());
    let link = sign_in(UserChange::Link(linked_verified), None);
    assert_eq!(store.apply_external_sign_in(&link).await.unwrap(), ExternalSignInOutcome::Applied);
    let read = store.find_user_by_foreign_id(a, "g-verified").await.unwrap().unwrap();
    assert_eq!(read.password_hash, verified.password_hash, "linking a verified account keeps the password");
    assert!(store.get_session(a, kept.id).await.unwrap().unwrap().revoked_at.is_none());

    let mut relink = local.clone();
    relink.foreign_id = Some("g2".into());
    let stale = sign_in(UserChange::Link(relink), None);
    assert_eq!(store.apply_external_sign_in(&stale).await.unwrap(), ExternalSignInOutcome::Stale);
    assert!(store.get_session(a, stale.session.id).await.unwrap().is_none(), "a stale sign-in writes nothing");
    assert!(store.find_user_by_foreign_id(a, "g2").await.unwrap().is_none());

    // An update applies while the row keeps its foreign id, and never to another foreign id.
    let mut update = linked.clone();
    update.profile.bio = Some("bio".into());
    update.profile.location = Some(latchkey_core::domain::Location { latitude: 0.5, longitude: 2.0 });
    update.metadata.insert("plan".into(), serde_json::json!("pro"));
    assert_eq!(
        store.apply_external_sign_in(&sign_in(UserChange::Update(update.clone()), None)).await.unwrap(),
        ExternalSignInOutcome::Applied
    );
    let read = store.get_user(a, local.id).await.unwrap().unwrap();
    assert_eq!(
        (read.profile.bio, read.profile.location, read.metadata),
        (update.profile.bio.clone(), update.profile.location, update.metadata.clone())
    );
    let mut moved = update.clone();
    moved.foreign_id = Some("elsewhere".into());
    assert_eq!(
        store.apply_external_sign_in(&sign_in(UserChange::Update(moved), None)).await.unwrap(),
        ExternalSignInOutcome::Stale
    );

    // Through another project, a user cannot be linked or updated.
    let mut foreign_project = local.clone();
    foreign_project.project_id = b;
    foreign_project.foreign_id = Some("g1".into());
    let across = sign_in(UserChange::Update(foreign_project), None);
    assert_eq!(store.apply_external_sign_in(&across).await.unwrap(), ExternalSignInOutcome::Stale);
    assert!(store.get_session(b, across.session.id).await.unwrap().is_none());

    // Two users cannot share a foreign id by linking either.
    let other = user(a, "other@example.com", None);
    store.create_user_with_session(&other, &session(&other)).await.unwrap();
    let mut steal = other.clone();
    steal.foreign_id = Some("g1".into());
    let err = store.apply_external_sign_in(&sign_in(UserChange::Link(steal), None)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(UniqueField::ForeignId)), "{err:?}");
    assert_eq!(store.get_user(a, other.id).await.unwrap().unwrap().foreign_id, None);
}

pub async fn racing_links_of_one_user_apply_once(store: Arc<Store>) {
    let p = project(&store).await;
    let local = user(p, "race@example.com", None);
    store.create_user_with_session(&local, &session(&local)).await.unwrap();
    let tasks: Vec<_> = (0..10)
        .map(|n| {
            let mut linked = local.clone();
            linked.foreign_id = Some(format!("fid-{n}"));
            let s = sign_in(UserChange::Link(linked), None);
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.apply_external_sign_in(&s).await.unwrap() })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        match task.await.unwrap() {
            ExternalSignInOutcome::Applied => applied += 1,
            outcome => assert_eq!(outcome, ExternalSignInOutcome::Stale),
        }
    }
    assert_eq!(applied, 1, "exactly one racing link applies");
    assert!(store.get_user(p, local.id).await.unwrap().unwrap().foreign_id.is_some());
}
