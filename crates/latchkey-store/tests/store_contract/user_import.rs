//! The import store's contract: a batch of creates and updates is written with its record in
//! one transaction or not at all, an update never replaces a stored password hash, and a
//! batch writes only its own project.

use std::sync::Arc;

use latchkey_core::domain::{Actor, AuditAction, AuditEvent, AuditFilter, ProjectId};
use latchkey_core::store::{ImportBatch, StoreError, UniqueField};

use super::{Store, now, project, user};

fn batch(
    project: ProjectId,
    create: Vec<latchkey_core::domain::User>,
    update: Vec<latchkey_core::domain::User>,
) -> ImportBatch {
    let event = AuditEvent::new(project, now(), Actor::Cli, AuditAction::UserImported).detail("created", create.len());
    ImportBatch { project, create, update, event }
}

async fn imports(store: &Arc<Store>, project: ProjectId) -> usize {
    let trail = store.list_audit_events(project, &AuditFilter::default(), 100).await.unwrap();
    trail.iter().filter(|e| e.action == AuditAction::UserImported).count()
}

pub async fn an_import_batch_is_all_or_nothing(store: Arc<Store>) {
    let p = project(&store).await;
    let mut with_hash = user(p, "a@x.io", None);
    with_hash.password_hash = Some("$2b$10$stored".into());
    let without_hash = latchkey_core::domain::User { password_hash: None, ..user(p, "b@x.io", None) };
    store.import_users(&batch(p, vec![with_hash.clone(), without_hash], vec![])).await.unwrap();
    assert_eq!(imports(&store, p).await, 1);

    // A duplicate email in the batch: nothing of it is written, not even the first user.
    let clash = batch(p, vec![user(p, "c@x.io", None), user(p, "a@x.io", None)], vec![]);
    assert!(matches!(store.import_users(&clash).await, Err(StoreError::Conflict(UniqueField::Email))));
    assert!(store.find_user_by_email(p, "c@x.io").await.unwrap().is_none());
    assert_eq!(imports(&store, p).await, 1);

    // Updates: the fields are replaced, the stored hash is kept, a missing one is set.
    let mut renamed = with_hash.clone();
    renamed.profile.name = Some("Renamed".into());
    renamed.password_hash = Some("$2b$10$imported".into());
    let mut b = store.find_user_by_email(p, "b@x.io").await.unwrap().unwrap();
    b.password_hash = Some("$2b$10$new".into());
    store.import_users(&batch(p, vec![], vec![renamed, b])).await.unwrap();
    let a = store.find_user_by_email(p, "a@x.io").await.unwrap().unwrap();
    assert_eq!((a.profile.name.as_deref(), a.password_hash.as_deref()), (Some("Renamed"), Some("$2b$10$stored")));
    let b = store.find_user_by_email(p, "b@x.io").await.unwrap().unwrap();
    assert_eq!(b.password_hash.as_deref(), Some("$2b$10$new"));

    // A batch of another project does not touch this one's users.
    let other = project(&store).await;
    let mut foreign = a.clone();
    foreign.profile.name = Some("Hijacked".into());
    let _ = store.import_users(&batch(other, vec![], vec![foreign])).await;
    let a = store.find_user_by_email(p, "a@x.io").await.unwrap().unwrap();
    assert_eq!(a.profile.name.as_deref(), Some("Renamed"));
}
