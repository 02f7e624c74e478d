//! The audit store's contract: records round trip exactly, list newest first per project,
//! filter by user, exact action, action prefix, actor and time, page by id, and purge by age.

use std::sync::Arc;

use chrono::Duration;
use latchkey_core::domain::{Actor, ApiKeyId, AuditAction, AuditEvent, AuditFilter, UserId};

use super::{Store, now, project};

pub async fn audit_events_list_filter_page_and_purge(store: Arc<Store>) {
    let (a, b) = (project(&store).await, project(&store).await);
    let user = UserId::generate();
    let key = Actor::ApiKey(ApiKeyId::generate());
    let events = [
        AuditEvent::new(a, now(), key, AuditAction::UserCreated).user(user).detail("fields", vec!["name"]),
        AuditEvent::new(a, now() + Duration::seconds(1), Actor::Cli, AuditAction::UserSuspended).user(user),
        AuditEvent::new(a, now() + Duration::seconds(2), Actor::System, AuditAction::SignInFailed),
        AuditEvent::new(b, now() + Duration::seconds(3), Actor::Cli, AuditAction::UserCreated),
    ];
    for event in &events {
        store.record_audit_event(event).await.unwrap();
    }
    let mut with_request = AuditEvent::new(a, now() + Duration::seconds(4), key, AuditAction::ProjectRenamed);
    with_request.request_id = Some("req-1".into());
    store.record_audit_event(&with_request).await.unwrap();

    let list = |filter: AuditFilter, limit| {
        let store = Arc::clone(&store);
        async move { store.list_audit_events(a, &filter, limit).await.unwrap() }
    };
    let all = list(AuditFilter::default(), 100).await;
    assert_eq!(all.len(), 4, "project b's record is not listed");
    assert_eq!(all[0], with_request, "newest first, and exactly as written");
    assert_eq!(all[3], events[0]);

    let by_user = list(AuditFilter { user_id: Some(user), ..Default::default() }, 100).await;
    assert_eq!(
        by_user.iter().map(|e| e.action).collect::<Vec<_>>(),
        [AuditAction::UserSuspended, AuditAction::UserCreated]
    );
    let exact = list(AuditFilter { action: Some("user.created".into()), ..Default::default() }, 100).await;
    assert_eq!(exact, [events[0].clone()]);
    let prefix = list(AuditFilter { action: Some("user.".into()), ..Default::default() }, 100).await;
    assert_eq!(prefix.len(), 2);
    let not_a_prefix = list(AuditFilter { action: Some("user".into()), ..Default::default() }, 100).await;
    assert!(not_a_prefix.is_empty(), "without the dot the action must match exactly");
    let by_actor = list(AuditFilter { actor: Some("cli".into()), ..Default::default() }, 100).await;
    assert_eq!(by_actor, [events[1].clone()]);
    let window = AuditFilter {
        at_or_after: Some(now() + Duration::seconds(1)),
        before: Some(now() + Duration::seconds(2)),
        ..Default::default()
    };
    assert_eq!(list(window, 100).await, [events[1].clone()], "after is inclusive, before exclusive");

    // Pages of two, by cursor: every record once.
    let first = list(AuditFilter::default(), 2).await;
    let second = list(AuditFilter { before_id: Some(first[1].id), ..Default::default() }, 2).await;
    assert_eq!([first, second].concat(), all);

    assert_eq!(store.purge_audit_events(now() + Duration::seconds(2)).await.unwrap(), 2, "the two oldest");
    let kept = list(AuditFilter::default(), 100).await;
    assert_eq!(
        kept.iter().map(|e| e.action).collect::<Vec<_>>(),
        [AuditAction::ProjectRenamed, AuditAction::SignInFailed]
    );
}
