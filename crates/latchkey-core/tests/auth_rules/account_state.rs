//! Who may hold a session: a disabled or suspended user is refused at sign-in (only once the
//! password is right), at refresh (before the session's own state) and at external sign-in,
//! and lifting the suspension (or its end) or enabling the account lets them back in. The
//! operator's changes go through `admin.users`, with the actor on their audit records.

use chrono::Duration;
use latchkey_core::CoreError;
use latchkey_core::auth::{SuspendUser, UserChanges};
use latchkey_core::domain::{Actor, AuditAction, AuditFilter, SessionMethod};
use latchkey_core::store::{AuditStore, UserAdminStore};

use super::{PASSWORD, world};

#[tokio::test]
async fn a_suspension_refuses_every_way_in_until_it_ends_or_is_lifted() {
    let w = world(|_| {}).await;
    let signed_up = w.sign_up("s@example.com").await;
    let user = signed_up.user.id;
    let ends = w.now() + Duration::hours(1);
    let request = SuspendUser { reason: "abuse".into(), ends_at: Some(ends) };
    let managed = w.admin.users.suspend(Actor::Cli, w.project, user, request).await.unwrap();
    assert!(managed.is_suspended());
    assert_eq!(managed.suspensions[0].created_by, Actor::Cli);

    assert!(matches!(w.sign_in("s@example.com", PASSWORD).await, Err(CoreError::UserSuspended)));
    let wrong = w.sign_in("s@example.com", "not the password").await;
    assert!(matches!(wrong, Err(CoreError::InvalidCredentials)), "no oracle for a wrong password: {wrong:?}");
    let refresh = w.refresh(&signed_up.tokens.refresh_token).await;
    assert!(matches!(refresh, Err(CoreError::UserSuspended)), "{refresh:?}");

    // Over at its end without anyone lifting it; the session it revoked stays revoked.
    w.clock.advance(Duration::hours(1));
    let back = w.sign_in("s@example.com", PASSWORD).await.unwrap();
    assert!(matches!(w.refresh(&signed_up.tokens.refresh_token).await, Err(CoreError::RefreshTokenInvalid)));

    // Lifted early.
    let request = SuspendUser { reason: "again".into(), ends_at: None };
    w.admin.users.suspend(Actor::Cli, w.project, user, request).await.unwrap();
    assert!(matches!(w.refresh(&back.tokens.refresh_token).await, Err(CoreError::UserSuspended)));
    let lifted = w.admin.users.unsuspend(Actor::Cli, w.project, user).await.unwrap();
    assert!(!lifted.is_suspended() && lifted.suspensions.is_empty());
    w.sign_in("s@example.com", PASSWORD).await.unwrap();

    let trail = w.store.list_audit_events(w.project, &AuditFilter::default(), 100).await.unwrap();
    let actions: Vec<AuditAction> = trail.iter().rev().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::UserSuspended, AuditAction::UserSuspended, AuditAction::UserUnsuspended]);
    assert!(trail.iter().all(|e| e.actor == Actor::Cli && e.user_id == Some(user) && e.request_id.is_none()));
}

#[tokio::test]
async fn a_disabled_account_is_refused_once_the_password_is_right() {
    let w = world(|_| {}).await;
    let signed_up = w.sign_up("d@example.com").await;
    let user = signed_up.user.id;
    let changes = UserChanges { is_active: Some(false), ..Default::default() };
    w.admin.users.update(Actor::Cli, w.project, user, changes).await.unwrap();
    assert!(w.store.live_sessions(w.project, user, w.now()).await.unwrap().is_empty(), "its sessions are revoked");

    assert!(matches!(w.sign_in("d@example.com", PASSWORD).await, Err(CoreError::AccountDisabled)));
    assert!(matches!(w.sign_in("d@example.com", "not the password").await, Err(CoreError::InvalidCredentials)));
    assert!(matches!(w.refresh(&signed_up.tokens.refresh_token).await, Err(CoreError::AccountDisabled)));

    let changes = UserChanges { is_active: Some(true), ..Default::default() };
    w.admin.users.update(Actor::Cli, w.project, user, changes).await.unwrap();
    let back = w.sign_in("d@example.com", PASSWORD).await.unwrap();
    let sessions = w.store.live_sessions(w.project, user, w.now()).await.unwrap();
    assert_eq!(sessions.iter().map(|s| s.method).collect::<Vec<_>>(), [SessionMethod::Password]);
    assert_eq!(back.user.id, user);
}
