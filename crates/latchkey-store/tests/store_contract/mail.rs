//! The email store's contract: settings per project; link tokens single-use, scoped, and
//! superseded by newer ones; completions atomic; outbox claims exclusive even when racing,
//! every later transition bound to the claim; reset requests rate-limited even when racing.

use std::sync::Arc;

use chrono::Duration;
use latchkey_core::domain::{LinkPurpose, MailSettings, OutboxId, ProjectId, SmtpOverride, User};
use latchkey_core::store::{Claim, LinkToken, NewOutbox, OutboxState};

use super::{Store, now, project, session, user};

fn outbox(project: ProjectId, purpose: LinkPurpose, rate_key: Option<&str>, minutes: i64) -> NewOutbox {
    NewOutbox {
        id: OutboxId::generate(),
        project_id: project,
        purpose,
        payload_sealed: vec![7, 7, 7],
        rate_key: rate_key.map(Into::into),
        user_id: None,
        created_at: now() + Duration::minutes(minutes),
    }
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

fn claim(token: &str, minutes: i64) -> Claim {
    Claim {
        token: token.into(),
        now: now() + Duration::minutes(minutes),
        lease_until: now() + Duration::minutes(minutes + 1),
    }
}

async fn signed_up(store: &Arc<Store>, project: ProjectId, email: &str) -> User {
    let u = user(project, email, None);
    store.create_user_with_session(&u, &session(&u)).await.unwrap();
    u
}

pub async fn mail_settings_round_trip_per_project(store: Arc<Store>) {
    let a = project(&store).await;
    let b = project(&store).await;
    assert_eq!(store.mail_settings(a).await.unwrap(), MailSettings::default(), "defaults until set");
    let settings = MailSettings {
        reset_page_url: Some("https://a.example/reset".into()),
        verify_page_url: None,
        mail_from: Some("A <no-reply@a.example>".into()),
        smtp: Some(SmtpOverride {
            url: "smtp://relay.a.example:587".into(),
            password_sealed: Some(vec![0, 1, 254, 255]),
            has_password: true,
        }),
        reset_ttl_secs: 900,
        verify_ttl_secs: 7200,
        verify_on_sign_up: true,
    };
    store.put_mail_settings(a, &settings, now()).await.unwrap();
    assert_eq!(store.mail_settings(a).await.unwrap(), settings);
    assert_eq!(store.mail_settings(b).await.unwrap(), MailSettings::default(), "scoped by project");
    let cleared = MailSettings { smtp: None, verify_on_sign_up: false, ..settings };
    store.put_mail_settings(a, &cleared, now()).await.unwrap();
    assert_eq!(store.mail_settings(a).await.unwrap(), cleared, "an upsert replaces every field");
}

pub async fn link_tokens_are_single_use_scoped_and_superseded(store: Arc<Store>) {
    let a = project(&store).await;
    let b = project(&store).await;
    let u = signed_up(&store, a, "t@example.com").await;

    // Verification: issued with its message, consumed once, only in its project and purpose.
    let verify = token(&u, "verify-1", LinkPurpose::VerifyEmail);
    store.insert_link_with_mail(&verify, &outbox(a, LinkPurpose::VerifyEmail, None, 100)).await.unwrap();
    assert_eq!(store.link_token(a, "verify-1").await.unwrap(), Some(verify.clone()));
    assert_eq!(store.link_token(b, "verify-1").await.unwrap(), None);
    assert_eq!(store.complete_email_verification(b, "verify-1", now()).await.unwrap(), None, "another project");
    assert_eq!(store.complete_password_reset(a, "verify-1", "h", now()).await.unwrap(), None, "another purpose");
    assert_eq!(store.complete_email_verification(a, "verify-1", now()).await.unwrap(), Some(u.id));
    assert!(store.get_user(a, u.id).await.unwrap().unwrap().is_verified);
    assert_eq!(store.complete_email_verification(a, "verify-1", now()).await.unwrap(), None, "used");
    assert!(store.link_token(a, "verify-1").await.unwrap().unwrap().used_at.is_some());

    let late = token(&u, "verify-2", LinkPurpose::VerifyEmail);
    store.insert_link_with_mail(&late, &outbox(a, LinkPurpose::VerifyEmail, None, 101)).await.unwrap();
    let after_expiry = late.expires_at;
    assert_eq!(store.complete_email_verification(a, "verify-2", after_expiry).await.unwrap(), None, "expired");

    // Reset: a claimed request row gets its token; a newer one supersedes the older.
    let mut reset_digests = Vec::new();
    for n in 0..2 {
        let row = outbox(a, LinkPurpose::PasswordReset, Some("rk"), n);
        assert!(store.enqueue_reset_request(&row, now() - Duration::hours(1), 5).await.unwrap());
        let claimed = store.claim_outbox(&claim(&format!("c{n}"), 10)).await.unwrap().expect("a due row");
        assert_eq!(claimed.id, row.id);
        let digest = format!("reset-{n}");
        let reset = token(&u, &digest, LinkPurpose::PasswordReset);
        assert!(!store.attach_reset_link(row.id, "not-my-claim", &reset, b"p", now()).await.unwrap());
        assert_eq!(store.link_token(a, &digest).await.unwrap(), None, "a lost claim writes nothing");
        assert!(store.attach_reset_link(row.id, &format!("c{n}"), &reset, b"payload", now()).await.unwrap());
        store.outbox_sent(row.id, &format!("c{n}"), now()).await.unwrap();
        reset_digests.push(digest);
    }
    assert!(store.link_token(a, &reset_digests[0]).await.unwrap().unwrap().superseded);
    assert_eq!(store.complete_password_reset(a, &reset_digests[0], "h0", now()).await.unwrap(), None, "superseded");

    // Completing the live one sets the password and verified, and ends every session.
    let other_session = session(&u);
    let hash = u.password_hash.as_deref().unwrap();
    assert!(store.create_password_session(&other_session, hash, now()).await.unwrap());
    assert_eq!(store.complete_password_reset(a, &reset_digests[1], "h1", now()).await.unwrap(), Some(u.id));
    let read = store.get_user(a, u.id).await.unwrap().unwrap();
    assert_eq!(read.password_hash.as_deref(), Some("h1"));
    assert!(store.get_session(a, other_session.id).await.unwrap().unwrap().revoked_at.is_some());
    assert_eq!(store.complete_password_reset(a, &reset_digests[1], "h2", now()).await.unwrap(), None, "used");
    assert_eq!(store.get_user(a, u.id).await.unwrap().unwrap().password_hash.as_deref(), Some("h1"));
}

pub async fn outbox_transitions_are_bound_to_the_claim(store: Arc<Store>) {
    let p = project(&store).await;
    let first = outbox(p, LinkPurpose::VerifyEmail, None, 0);
    let u = signed_up(&store, p, "o@example.com").await;
    store.insert_link_with_mail(&token(&u, "d1", LinkPurpose::VerifyEmail), &first).await.unwrap();
    let second = outbox(p, LinkPurpose::VerifyEmail, None, 1);
    store.insert_link_with_mail(&token(&u, "d2", LinkPurpose::VerifyEmail), &second).await.unwrap();

    let row = store.claim_outbox(&claim("w1", 5)).await.unwrap().unwrap();
    assert_eq!((row.id, row.state, row.claim.as_deref()), (first.id, OutboxState::Sending, Some("w1")), "oldest first");
    assert_eq!(row.payload_sealed.as_deref(), Some(&[7u8, 7, 7][..]));

    // Its lease lapses: another worker takes it over; the first worker's claim is dead.
    let taken = store.claim_outbox(&claim("w2", 7)).await.unwrap().unwrap();
    assert_eq!(taken.id, first.id, "a lapsed lease is due again, before younger rows");
    assert!(!store.outbox_sent(first.id, "w1", now()).await.unwrap(), "the old claim cannot finish it");
    store.outbox_retry_at(first.id, "w2", now() + Duration::minutes(30), "421 try later", now()).await.unwrap();

    let listed = store.list_outbox(Some(OutboxState::Pending), 10).await.unwrap();
    let retried = listed.iter().find(|r| r.id == first.id).unwrap();
    assert_eq!((retried.attempts, retried.last_error.as_deref()), (1, Some("421 try later")));
    assert_eq!(retried.claim, None);

    let next = store.claim_outbox(&claim("w3", 8)).await.unwrap().unwrap();
    assert_eq!(next.id, second.id, "a row waiting for its retry time is not due");
    store.outbox_finish(second.id, "w3", OutboxState::Failed, Some("550 no such user"), now()).await.unwrap();
    let failed = store.list_outbox(Some(OutboxState::Failed), 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].payload_sealed.is_some(), "a failed row keeps its body for a retry");
    assert_eq!(store.requeue_outbox(Some(OutboxId::generate()), now()).await.unwrap(), 0);
    assert_eq!(store.requeue_outbox(Some(second.id), now()).await.unwrap(), 1);
    assert_eq!(store.list_outbox(None, 10).await.unwrap().len(), 2);
    assert!(store.list_outbox(Some(OutboxState::Failed), 10).await.unwrap().is_empty());

    let again = store.claim_outbox(&claim("w4", 9)).await.unwrap().unwrap();
    assert_eq!(again.id, second.id);
    store.outbox_finish(second.id, "w4", OutboxState::Dropped, None, now()).await.unwrap();
    let dropped = store.list_outbox(Some(OutboxState::Dropped), 10).await.unwrap();
    assert_eq!(dropped[0].payload_sealed, None, "a dropped row keeps no body");
    assert!(!store.outbox_sent(second.id, "w4", now()).await.unwrap(), "finished rows stay finished");
}

pub async fn racing_workers_never_claim_the_same_row(store: Arc<Store>) {
    let p = project(&store).await;
    for n in 0..6 {
        store
            .enqueue_reset_request(&outbox(p, LinkPurpose::PasswordReset, None, n), now() - Duration::hours(1), 1)
            .await
            .unwrap();
    }
    let tasks: Vec<_> = (0..12)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.claim_outbox(&claim(&format!("w{n}"), 30)).await.unwrap() })
        })
        .collect();
    let mut claimed = Vec::new();
    for task in tasks {
        if let Some(row) = task.await.unwrap() {
            claimed.push(row.id);
        }
    }
    let distinct: std::collections::HashSet<_> = claimed.iter().collect();
    assert_eq!(distinct.len(), claimed.len(), "no row was claimed twice: {claimed:?}");
    // Every row ends up claimed exactly once, whatever the interleaving.
    while let Some(row) = store.claim_outbox(&claim("late", 30)).await.unwrap() {
        assert!(!claimed.contains(&row.id));
        claimed.push(row.id);
    }
    assert_eq!(claimed.len(), 6);
}

pub async fn racing_reset_requests_respect_the_rate_limit(store: Arc<Store>) {
    let p = project(&store).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = Arc::clone(&store);
            let row = outbox(p, LinkPurpose::PasswordReset, Some("same-address"), 0);
            tokio::spawn(async move { store.enqueue_reset_request(&row, now() - Duration::hours(1), 3).await.unwrap() })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        accepted += usize::from(task.await.unwrap());
    }
    assert_eq!(accepted, 3, "a burst cannot count past the limit");
    // Another address has its own budget; an old window no longer counts.
    let other = outbox(p, LinkPurpose::PasswordReset, Some("other-address"), 0);
    assert!(store.enqueue_reset_request(&other, now() - Duration::hours(1), 3).await.unwrap());
    let later = outbox(p, LinkPurpose::PasswordReset, Some("same-address"), 90);
    assert!(store.enqueue_reset_request(&later, now() + Duration::minutes(1), 3).await.unwrap());
}

pub async fn old_mail_is_purged_and_live_mail_kept(store: Arc<Store>) {
    let p = project(&store).await;
    let u = signed_up(&store, p, "purge@example.com").await;
    let sent = outbox(p, LinkPurpose::VerifyEmail, None, 0);
    store.insert_link_with_mail(&token(&u, "old", LinkPurpose::VerifyEmail), &sent).await.unwrap();
    let row = store.claim_outbox(&claim("w", 1)).await.unwrap().unwrap();
    assert!(store.outbox_sent(row.id, "w", now()).await.unwrap());
    let pending = outbox(p, LinkPurpose::VerifyEmail, None, 2);
    let mut live = token(&u, "live", LinkPurpose::VerifyEmail);
    live.expires_at = now() + Duration::days(30);
    store.insert_link_with_mail(&live, &pending).await.unwrap();

    // Nothing is old enough yet.
    assert_eq!(store.purge_mail(now() - Duration::days(1)).await.unwrap(), 0);
    // Later: the sent row and the expired token go; the pending row and the live token stay.
    assert_eq!(store.purge_mail(now() + Duration::days(2)).await.unwrap(), 2);
    let left = store.list_outbox(None, 10).await.unwrap();
    assert_eq!(left.iter().map(|r| r.id).collect::<Vec<_>>(), vec![pending.id]);
    assert!(store.link_token(p, "old").await.unwrap().is_none());
    assert!(store.link_token(p, "live").await.unwrap().is_some());
}
