//! The user-admin store's contract: listing by every filter with a keyset cursor, scoped by
//! project; suspensions maintaining `suspended_until` (and refusing a password session);
//! updates, links, passwords and session revocations writing their change and their audit
//! record together or not at all; and a deletion leaving no row about the user.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use latchkey_core::domain::{
    Actor, AuditAction, AuditEvent, AuditFilter, LinkPurpose, OutboxId, ProjectId, Suspension, SuspensionId, User,
    UserId,
};
use latchkey_core::store::{
    ExternalSignIn, LinkToken, NewOutbox, StoreError, SuspensionChange, UniqueField, UserChange, UserDeletion,
    UserFilter, UserUpdate,
};

use super::{Store, now, project, session, user};

fn event(project: ProjectId, action: AuditAction, user: Option<UserId>) -> AuditEvent {
    let event = AuditEvent::new(project, now(), Actor::Cli, action).detail("note", "x");
    match user {
        Some(id) => event.user(id),
        None => event,
    }
}

async fn created(store: &Arc<Store>, project: ProjectId, email: &str, username: Option<&str>) -> User {
    let u = user(project, email, username);
    store.create_user(&u, &event(project, AuditAction::UserCreated, Some(u.id))).await.unwrap();
    u
}

async fn actions(store: &Arc<Store>, project: ProjectId, user: UserId) -> Vec<AuditAction> {
    let filter = AuditFilter { user_id: Some(user), ..Default::default() };
    store.list_audit_events(project, &filter, 100).await.unwrap().into_iter().map(|e| e.action).collect()
}

fn suspension(u: &User, ends_at: Option<DateTime<Utc>>, at: DateTime<Utc>) -> SuspensionChange {
    let suspension = Suspension {
        id: SuspensionId::generate(),
        project_id: u.project_id,
        user_id: u.id,
        reason: "spam".into(),
        starts_at: at,
        ends_at,
        lifted_at: None,
        created_by: Actor::Cli,
    };
    SuspensionChange { suspension, event: event(u.project_id, AuditAction::UserSuspended, Some(u.id)) }
}

fn token(u: &User, digest: &str, purpose: LinkPurpose) -> LinkToken {
    LinkToken {
        digest: digest.into(),
        project_id: u.project_id,
        user_id: u.id,
        email: u.email.clone().unwrap_or_default(),
        purpose,
        created_at: now(),
        expires_at: now() + Duration::hours(1),
        used_at: None,
        superseded: false,
    }
}

fn mail(u: &User, purpose: LinkPurpose, user_id: Option<UserId>, rate_key: Option<&str>) -> NewOutbox {
    NewOutbox {
        id: OutboxId::generate(),
        project_id: u.project_id,
        purpose,
        payload_sealed: vec![1],
        rate_key: rate_key.map(Into::into),
        user_id,
        created_at: now(),
    }
}

pub async fn users_list_by_filter_and_cursor(store: Arc<Store>) {
    let (a, b) = (project(&store).await, project(&store).await);
    let mut users = Vec::new();
    for (n, (email, username)) in
        [("ann@x.io", "ann"), ("anna@y.io", "anna_b"), ("a_b@x.io", "bob"), ("zed@x.io", "zed")].iter().enumerate()
    {
        let mut u = user(a, email, Some(username));
        u.created_at = now() + Duration::seconds(n as i64);
        u.is_verified = n % 2 == 0;
        if n == 3 {
            u.foreign_id = Some("ext-1".into());
        }
        store.create_user(&u, &event(a, AuditAction::UserCreated, Some(u.id))).await.unwrap();
        users.push(u);
    }
    created(&store, b, "ann@other.io", Some("ann")).await;
    let ids = |list: Vec<User>| list.into_iter().map(|u| u.id).collect::<Vec<_>>();
    let list = |filter: UserFilter, limit| {
        let store = Arc::clone(&store);
        async move { ids(store.list_users(a, &filter, limit).await.unwrap()) }
    };
    let all: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let base = UserFilter { now: now(), ..Default::default() };
    assert_eq!(list(base.clone(), 100).await, all, "by id ascending; project b's user is not listed");

    let by = |f: fn(&mut UserFilter)| {
        let mut filter = base.clone();
        f(&mut filter);
        filter
    };
    assert_eq!(list(by(|f| f.email_prefix = Some("ann".into())), 100).await, all[..2]);
    // An underscore is a character, not LIKE's wildcard.
    assert_eq!(list(by(|f| f.email_prefix = Some("a_".into())), 100).await, [all[2]]);
    assert_eq!(list(by(|f| f.username_prefix = Some("anna".into())), 100).await, [all[1]]);
    assert_eq!(list(by(|f| f.verified = Some(true)), 100).await, [all[0], all[2]]);
    assert_eq!(list(by(|f| f.foreign_id = Some("ext-1".into())), 100).await, [all[3]]);
    let window = by(|f| {
        f.created_at_or_after = Some(now() + Duration::seconds(1));
        f.created_before = Some(now() + Duration::seconds(3));
    });
    assert_eq!(list(window, 100).await, all[1..3], "after is inclusive, before exclusive");

    // Pages of two by cursor: every user once.
    let first = list(base.clone(), 2).await;
    let second = list(UserFilter { after_id: first.last().copied(), ..base.clone() }, 2).await;
    assert_eq!([first, second].concat(), all);

    // Status: suspended at `now` or not.
    assert!(store.suspend_user(&suspension(&users[1], Some(now() + Duration::hours(1)), now())).await.unwrap());
    assert_eq!(list(by(|f| f.suspended = Some(true)), 100).await, [all[1]]);
    assert_eq!(list(by(|f| f.suspended = Some(false)), 100).await, [all[0], all[2], all[3]]);
    let later = UserFilter { now: now() + Duration::hours(2), suspended: Some(true), ..Default::default() };
    assert!(list(later, 100).await.is_empty(), "an ended suspension is not in force");
}

pub async fn suspensions_keep_suspended_until_and_block_sign_in(store: Arc<Store>) {
    let p = project(&store).await;
    let u = created(&store, p, "s@x.io", None).await;
    let live = session(&u);
    assert!(store.create_password_session(&live, "$argon2id$stub", now()).await.unwrap());
    let until = |store: Arc<Store>| async move { store.get_user(p, u.id).await.unwrap().unwrap().suspended_until };

    let end = now() + Duration::hours(2);
    assert!(store.suspend_user(&suspension(&u, Some(end), now())).await.unwrap());
    assert_eq!(until(Arc::clone(&store)).await, Some(end));
    assert!(store.get_session(p, live.id).await.unwrap().unwrap().revoked_at.is_some(), "sessions are revoked");
    let refused = session(&u);
    assert!(!store.create_password_session(&refused, "$argon2id$stub", now()).await.unwrap());
    assert!(store.get_session(p, refused.id).await.unwrap().is_none(), "no session while suspended");
    let after_end = session(&u);
    assert!(store.create_password_session(&after_end, "$argon2id$stub", end).await.unwrap(), "ended at `end`");

    // An earlier-ending second suspension does not shorten it; an open-ended one lasts.
    let shorter = suspension(&u, Some(now() + Duration::hours(1)), now() + Duration::seconds(1));
    assert!(store.suspend_user(&shorter).await.unwrap());
    assert_eq!(until(Arc::clone(&store)).await, Some(end));
    let open = suspension(&u, None, now() + Duration::seconds(2));
    assert!(store.suspend_user(&open).await.unwrap());
    assert_eq!(until(Arc::clone(&store)).await, Some(DateTime::<Utc>::MAX_UTC));
    let in_force = store.suspensions_in_force(p, u.id, now() + Duration::seconds(3)).await.unwrap();
    let ids: Vec<_> = in_force.iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), 3, "newest first: {in_force:?}");
    assert_eq!(in_force[0], open.suspension, "read back exactly");
    assert_eq!(store.suspensions_in_force(p, u.id, end + Duration::hours(1)).await.unwrap().len(), 1);

    assert!(
        store
            .unsuspend_user(p, u.id, now() + Duration::seconds(4), &event(p, AuditAction::UserUnsuspended, Some(u.id)))
            .await
            .unwrap()
    );
    assert_eq!(until(Arc::clone(&store)).await, None);
    assert!(store.suspensions_in_force(p, u.id, now() + Duration::seconds(5)).await.unwrap().is_empty());

    // Another project's id, or nobody: nothing written.
    let other = project(&store).await;
    let mut foreign = suspension(&u, None, now());
    foreign.suspension.project_id = other;
    foreign.event = event(other, AuditAction::UserSuspended, Some(u.id));
    assert!(!store.suspend_user(&foreign).await.unwrap());
    assert!(
        !store
            .unsuspend_user(other, u.id, now(), &event(other, AuditAction::UserUnsuspended, Some(u.id)))
            .await
            .unwrap()
    );
    assert!(actions(&store, other, u.id).await.is_empty(), "no record of what did not happen");
    assert_eq!(until(Arc::clone(&store)).await, None);
    assert_eq!(
        actions(&store, p, u.id).await,
        [
            AuditAction::UserUnsuspended,
            AuditAction::UserSuspended,
            AuditAction::UserSuspended,
            AuditAction::UserSuspended,
            AuditAction::UserCreated
        ]
    );
}

pub async fn updates_write_their_record_or_nothing(store: Arc<Store>) {
    let p = project(&store).await;
    let u = created(&store, p, "u@x.io", Some("uu1")).await;
    created(&store, p, "taken@x.io", Some("taken")).await;
    let s = session(&u);
    assert!(store.create_password_session(&s, "$argon2id$stub", now()).await.unwrap());

    let mut changed = u.clone();
    changed.email = Some("new@x.io".into());
    changed.username = None;
    changed.profile.name = Some("New".into());
    changed.role = latchkey_core::domain::Role::Moderator;
    changed.is_verified = false;
    changed.is_active = false;
    changed.updated_at = now() + Duration::seconds(1);
    let verification = (
        token(&changed, "verify-1", LinkPurpose::VerifyEmail),
        mail(&changed, LinkPurpose::VerifyEmail, Some(u.id), None),
    );
    let update = UserUpdate {
        user: changed.clone(),
        revoke_sessions: true,
        verification: Some(verification),
        event: event(p, AuditAction::UserUpdated, Some(u.id)),
    };
    assert!(store.update_user(&update).await.unwrap());
    let read = store.get_user(p, u.id).await.unwrap().unwrap();
    assert_eq!(
        (read.email.as_deref(), read.username.as_deref(), read.profile.name.as_deref()),
        (Some("new@x.io"), None, Some("New"))
    );
    assert_eq!((read.role, read.is_active, read.updated_at), (changed.role, false, changed.updated_at));
    assert_eq!(read.password_hash, u.password_hash, "the password is not the update's");
    assert!(store.get_session(p, s.id).await.unwrap().unwrap().revoked_at.is_some());
    assert_eq!(store.link_token(p, "verify-1").await.unwrap().map(|t| t.email), Some("new@x.io".into()));

    // A taken email or username: nothing at all is written.
    for (email, username, field) in
        [("taken@x.io", None, UniqueField::Email), ("n2@x.io", Some("taken"), UniqueField::Username)]
    {
        let mut clash = changed.clone();
        clash.email = Some(email.into());
        clash.username = username.map(Into::into);
        let update = UserUpdate {
            user: clash,
            revoke_sessions: false,
            verification: Some((
                token(&changed, "verify-2", LinkPurpose::VerifyEmail),
                mail(&changed, LinkPurpose::VerifyEmail, Some(u.id), None),
            )),
            event: event(p, AuditAction::UserUpdated, Some(u.id)),
        };
        let err = store.update_user(&update).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(f) if f == field), "{err:?}");
    }
    assert!(store.link_token(p, "verify-2").await.unwrap().is_none());
    assert_eq!(actions(&store, p, u.id).await, [AuditAction::UserUpdated, AuditAction::UserCreated]);

    let other = project(&store).await;
    let mut foreign = changed.clone();
    foreign.project_id = other;
    let update = UserUpdate {
        user: foreign,
        revoke_sessions: false,
        verification: None,
        event: event(other, AuditAction::UserUpdated, Some(u.id)),
    };
    assert!(!store.update_user(&update).await.unwrap(), "another project's user is not found");
    assert!(actions(&store, other, u.id).await.is_empty());
}

pub async fn a_deleted_user_leaves_no_row_behind(store: Arc<Store>) {
    let p = project(&store).await;
    let gone = created(&store, p, "gone@x.io", Some("gone")).await;
    let kept = created(&store, p, "kept@x.io", Some("kept")).await;
    for u in [&gone, &kept] {
        assert!(store.create_password_session(&session(u), "$argon2id$stub", now()).await.unwrap());
        store
            .insert_link_with_mail(
                &token(u, &format!("t-{}", u.id), LinkPurpose::VerifyEmail),
                &mail(u, LinkPurpose::VerifyEmail, Some(u.id), None),
            )
            .await
            .unwrap();
        store
            .record_sign_in_attempt(p, u.email.as_deref().unwrap(), now(), now() - Duration::minutes(15))
            .await
            .unwrap();
        assert!(store.suspend_user(&suspension(u, None, now())).await.unwrap());
    }
    // A reset request for the address, not yet resolved to the user: found by its rate key.
    assert!(
        store
            .enqueue_reset_request(
                &mail(&gone, LinkPurpose::PasswordReset, None, Some("rate-gone")),
                now() - Duration::hours(1),
                5
            )
            .await
            .unwrap()
    );
    // A consumed external token id of the user.
    let mut external = gone.clone();
    external.foreign_id = Some("ext-gone".into());
    external.updated_at = now();
    let sign_in = ExternalSignIn {
        session: session(&gone),
        change: UserChange::Link(external),
        jti: Some(("jti-gone".into(), now() + Duration::minutes(10))),
        now: now(),
    };
    // Linking is refused while suspended (the row changed under it): lift, link, suspend again.
    assert!(
        store.unsuspend_user(p, gone.id, now(), &event(p, AuditAction::UserUnsuspended, Some(gone.id))).await.unwrap()
    );
    assert_eq!(
        store.apply_external_sign_in(&sign_in).await.unwrap(),
        latchkey_core::store::ExternalSignInOutcome::Applied
    );
    assert!(store.suspend_user(&suspension(&gone, None, now())).await.unwrap());
    let security = AuditEvent::new(p, now(), Actor::System, AuditAction::SignInFailed)
        .user(gone.id)
        .detail("reason", "wrong password");
    store.record_audit_event(&security).await.unwrap();

    let deleted = AuditEvent::new(p, now() + Duration::seconds(1), Actor::Cli, AuditAction::UserDeleted)
        .detail("subject", "pseudonym");
    let deletion = UserDeletion {
        project: p,
        user: gone.id,
        email: gone.email.clone(),
        reset_rate_key: Some("rate-gone".into()),
        event: deleted.clone(),
    };
    // Through another project: nothing happens.
    let other = project(&store).await;
    assert!(!store.delete_user(&UserDeletion { project: other, ..deletion.clone() }).await.unwrap());
    assert!(store.get_user(p, gone.id).await.unwrap().is_some());

    assert!(store.delete_user(&deletion).await.unwrap());
    assert!(store.get_user(p, gone.id).await.unwrap().is_none());
    assert!(store.find_user_by_foreign_id(p, "ext-gone").await.unwrap().is_none());
    assert!(store.live_sessions(p, gone.id, now()).await.unwrap().is_empty());
    assert!(store.link_token(p, &format!("t-{}", gone.id)).await.unwrap().is_none());
    assert!(store.suspensions_in_force(p, gone.id, now()).await.unwrap().is_empty());
    assert!(
        store
            .list_outbox(None, 100)
            .await
            .unwrap()
            .iter()
            .all(|row| row.project_id != p || row.purpose == LinkPurpose::VerifyEmail),
        "the reset request went"
    );
    assert_eq!(
        store.list_outbox(None, 100).await.unwrap().iter().filter(|r| r.project_id == p).count(),
        1,
        "only the kept user's mail is left"
    );
    let fresh = store.record_sign_in_attempt(p, "gone@x.io", now(), now() - Duration::minutes(15)).await.unwrap();
    assert_eq!(fresh.failures, 1, "the failure window went");
    // The jti went with the user: the same token id can be consumed again.
    let again = created(&store, p, "gone@x.io", Some("gone")).await;
    assert_eq!(again.email, gone.email, "the email and username are free again");
    let mut relink = again.clone();
    relink.foreign_id = Some("ext-gone".into());
    let replay = ExternalSignIn {
        session: session(&again),
        change: UserChange::Link(relink),
        jti: Some(("jti-gone".into(), now() + Duration::minutes(10))),
        now: now(),
    };
    assert_eq!(
        store.apply_external_sign_in(&replay).await.unwrap(),
        latchkey_core::store::ExternalSignInOutcome::Applied
    );

    // The trail keeps what happened, not to whom; the deletion's own record names nobody.
    let trail = store.list_audit_events(p, &AuditFilter::default(), 100).await.unwrap();
    assert!(actions(&store, p, gone.id).await.is_empty());
    let anonymous: Vec<&AuditEvent> = trail.iter().filter(|e| e.user_id.is_none()).collect();
    assert!(anonymous.iter().any(|e| e.action == AuditAction::SignInFailed && e.details.is_empty()));
    assert!(anonymous.contains(&&deleted), "the deletion's own record names nobody");
    assert!(actions(&store, p, kept.id).await.len() >= 2, "the other user's records are untouched");
    assert!(store.get_user(p, kept.id).await.unwrap().unwrap().is_suspended(now()));
    assert_eq!(
        store.live_sessions(p, kept.id, now()).await.unwrap().len(),
        0,
        "revoked by its suspension, still stored"
    );
    assert!(store.link_token(p, &format!("t-{}", kept.id)).await.unwrap().is_some());
}

pub async fn links_and_passwords_supersede_and_revoke(store: Arc<Store>) {
    let p = project(&store).await;
    let u = created(&store, p, "l@x.io", None).await;
    let issued = |digest: &str| event(p, AuditAction::UserLinkIssued, Some(u.id)).detail("digest", digest.to_owned());
    store.issue_link(&token(&u, "r1", LinkPurpose::PasswordReset), None, &issued("r1")).await.unwrap();
    store.issue_link(&token(&u, "v1", LinkPurpose::VerifyEmail), None, &issued("v1")).await.unwrap();
    let emailed = mail(&u, LinkPurpose::PasswordReset, Some(u.id), None);
    store.issue_link(&token(&u, "r2", LinkPurpose::PasswordReset), Some(&emailed), &issued("r2")).await.unwrap();
    let state = |digest: &'static str| {
        let store = Arc::clone(&store);
        async move { store.link_token(p, digest).await.unwrap().map(|t| t.superseded) }
    };
    assert_eq!(state("r1").await, Some(true), "a newer link of the purpose replaces it");
    assert_eq!(state("v1").await, Some(false), "another purpose's link is kept");
    assert_eq!(state("r2").await, Some(false));
    assert!(store.list_outbox(None, 100).await.unwrap().iter().any(|r| r.id == emailed.id));

    let s = session(&u);
    assert!(store.create_password_session(&s, "$argon2id$stub", now()).await.unwrap());
    assert!(
        store
            .set_password(p, u.id, "$argon2id$new", now(), &event(p, AuditAction::UserPasswordSet, Some(u.id)))
            .await
            .unwrap()
    );
    let read = store.get_user(p, u.id).await.unwrap().unwrap();
    assert_eq!(read.password_hash.as_deref(), Some("$argon2id$new"));
    assert!(store.get_session(p, s.id).await.unwrap().unwrap().revoked_at.is_some());
    assert_eq!(state("r2").await, Some(true), "an outstanding reset link dies with the new password");
    assert_eq!(state("v1").await, Some(false));

    let other = project(&store).await;
    assert!(
        !store
            .set_password(other, u.id, "$argon2id$x", now(), &event(other, AuditAction::UserPasswordSet, Some(u.id)))
            .await
            .unwrap()
    );

    // Unlock: the failure window of the address goes.
    for _ in 0..3 {
        store.record_sign_in_attempt(p, "l@x.io", now(), now() - Duration::minutes(15)).await.unwrap();
    }
    store.unlock_user(p, Some("l@x.io"), &event(p, AuditAction::UserUnlocked, Some(u.id))).await.unwrap();
    let after = store.record_sign_in_attempt(p, "l@x.io", now(), now() - Duration::minutes(15)).await.unwrap();
    assert_eq!(after.failures, 1);
    assert_eq!(
        actions(&store, p, u.id).await,
        [
            AuditAction::UserUnlocked,
            AuditAction::UserPasswordSet,
            AuditAction::UserLinkIssued,
            AuditAction::UserLinkIssued,
            AuditAction::UserLinkIssued,
            AuditAction::UserCreated
        ]
    );
}

pub async fn sessions_list_and_revoke_per_user(store: Arc<Store>) {
    let p = project(&store).await;
    let u = created(&store, p, "a@x.io", None).await;
    let other_user = created(&store, p, "b@x.io", None).await;
    let mut sessions = Vec::new();
    for n in 0..3 {
        let mut s = session(&u);
        s.created_at = now() + Duration::seconds(n);
        assert!(store.create_password_session(&s, "$argon2id$stub", now()).await.unwrap());
        sessions.push(s);
    }
    let mut expired = session(&u);
    expired.expires_at = now() - Duration::seconds(1);
    assert!(store.create_password_session(&expired, "$argon2id$stub", now()).await.unwrap());
    let theirs = session(&other_user);
    assert!(store.create_password_session(&theirs, "$argon2id$stub", now()).await.unwrap());

    let live: Vec<_> = store.live_sessions(p, u.id, now()).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(live, sessions.iter().map(|s| s.id).collect::<Vec<_>>(), "live only, oldest first");

    let revoke = |user: UserId, session| {
        event(p, AuditAction::SessionRevoked, Some(user)).detail("sessionId", format!("{session}"))
    };
    assert!(
        !store.revoke_user_session(p, u.id, theirs.id, now(), &revoke(u.id, theirs.id)).await.unwrap(),
        "not this user's"
    );
    assert!(
        !store.revoke_user_session(p, u.id, expired.id, now(), &revoke(u.id, expired.id)).await.unwrap(),
        "not live"
    );
    assert!(store.revoke_user_session(p, u.id, sessions[0].id, now(), &revoke(u.id, sessions[0].id)).await.unwrap());
    assert!(
        !store.revoke_user_session(p, u.id, sessions[0].id, now(), &revoke(u.id, sessions[0].id)).await.unwrap(),
        "once"
    );
    assert_eq!(store.live_sessions(p, u.id, now()).await.unwrap().len(), 2);

    let all = event(p, AuditAction::SessionsRevokedAll, Some(u.id));
    assert_eq!(store.revoke_user_sessions(p, u.id, now(), &all).await.unwrap(), 2);
    assert!(store.live_sessions(p, u.id, now()).await.unwrap().is_empty());
    assert_eq!(store.live_sessions(p, other_user.id, now()).await.unwrap().len(), 1, "another user's sessions stay");
    let trail =
        store.list_audit_events(p, &AuditFilter { user_id: Some(u.id), ..Default::default() }, 100).await.unwrap();
    assert_eq!(trail[0].action, AuditAction::SessionsRevokedAll);
    assert_eq!(trail[0].details["revoked"], 2, "the count is recorded");
    assert_eq!(trail.iter().filter(|e| e.action == AuditAction::SessionRevoked).count(), 1, "only what happened");
}
