//! The project-admin store's contract: a rename and its record in one transaction; a deletion
//! that leaves no row of the project; a signing-key rotation that moves each key one step
//! (active -> retired, standby -> active, new standby) only from the state read, once under a
//! race; standbys added once; unpublished keys purged.

use std::sync::Arc;

use chrono::Duration;
use latchkey_core::crypto::MasterKey;
use latchkey_core::domain::{ApiKeyId, ApiKeyRecord, ApiKeyScope, AuditAction, Project, ProjectId, ProjectSettings};
use latchkey_core::store::KeyRotation;
use latchkey_core::tokens::{KeyState, SigningKey, StoredSigningKey};

use super::{Store, actions, audit_event, now, project, session, user};

pub async fn a_project_is_renamed_with_its_record(store: Arc<Store>) {
    let (a, b) = (project(&store).await, project(&store).await);
    let renamed = audit_event(a, AuditAction::ProjectRenamed);
    assert!(store.rename_project(a, "Acme", &renamed).await.unwrap());
    assert_eq!(store.get_project(a).await.unwrap().unwrap().name, "Acme");
    assert_eq!(store.get_project(b).await.unwrap().unwrap().name, "p", "only that project");
    assert_eq!(actions(&store, a).await, [AuditAction::ProjectRenamed]);
    let missing = ProjectId::generate();
    let nothing = audit_event(missing, AuditAction::ProjectRenamed);
    assert!(!store.rename_project(missing, "Ghost", &nothing).await.unwrap(), "no such project");
}

/// A project's settings, the app URL included, round trip from creation and through updates
/// (set, changed, cleared), for that project only.
pub async fn project_settings_round_trip_per_project(store: Arc<Store>) {
    let (master, _) = MasterKey::generate();
    let settings = ProjectSettings {
        access_token_ttl_secs: 600,
        refresh_token_ttl_secs: 7 * 86400,
        app_url: Some("https://acme.example/app?from=latchkey#top".into()),
    };
    let created =
        Project { id: ProjectId::generate(), name: "Acme".into(), settings: settings.clone(), created_at: now() };
    store.create_project(&created, &super::first_keys(created.id, &master)).await.unwrap();
    let other = project(&store).await;
    assert_eq!(store.get_project(created.id).await.unwrap().unwrap().settings, settings, "as created");
    let listed = store.list_projects().await.unwrap();
    assert_eq!(listed.iter().find(|p| p.id == created.id).unwrap().settings, settings, "listed too");
    assert_eq!(listed.iter().find(|p| p.id == other).unwrap().settings.app_url, None);

    let changed = ProjectSettings { app_url: Some("http://localhost:3000/".into()), ..settings.clone() };
    store.update_project_settings(created.id, &changed).await.unwrap();
    assert_eq!(store.get_project(created.id).await.unwrap().unwrap().settings, changed);
    store.update_project_settings(other, &settings).await.unwrap();
    assert_eq!(store.get_project(other).await.unwrap().unwrap().settings, settings, "set on the other project");
    assert_eq!(store.get_project(created.id).await.unwrap().unwrap().settings, changed, "this one untouched");

    let cleared = ProjectSettings { app_url: None, ..changed };
    store.update_project_settings(created.id, &cleared).await.unwrap();
    assert_eq!(store.get_project(created.id).await.unwrap().unwrap().settings, cleared);
    assert_eq!(store.get_project(other).await.unwrap().unwrap().settings.app_url, settings.app_url);
}

pub async fn a_deleted_project_leaves_nothing_behind(store: Arc<Store>) {
    let (gone, kept) = (project(&store).await, project(&store).await);
    for p in [gone, kept] {
        let u = user(p, "d@example.com", Some("dd"));
        store.create_user_with_session(&u, &session(&u)).await.unwrap();
        let key = ApiKeyRecord {
            id: ApiKeyId::generate(),
            project_id: p,
            name: "k".into(),
            prefix: "lk_x".into(),
            scope: ApiKeyScope::Auth,
            digest: format!("digest-{p}"),
            created_at: now(),
            revoked_at: None,
        };
        store.insert_api_key(&key, &audit_event(p, AuditAction::ApiKeyCreated)).await.unwrap();
        store.record_sign_in_attempt(p, "d@example.com", now(), now() - Duration::minutes(15)).await.unwrap();
    }
    let gone_user = store.find_user_by_email(gone, "d@example.com").await.unwrap().unwrap();

    assert!(store.delete_project(gone).await.unwrap());
    assert!(store.get_project(gone).await.unwrap().is_none());
    assert!(store.get_user(gone, gone_user.id).await.unwrap().is_none());
    assert!(store.signing_keys(gone).await.unwrap().is_empty());
    assert!(store.list_api_keys(gone).await.unwrap().is_empty());
    assert!(store.live_api_key(&format!("digest-{gone}")).await.unwrap().is_none());
    assert!(actions(&store, gone).await.is_empty(), "its audit trail too");
    assert!(!store.delete_project(gone).await.unwrap(), "once");

    assert!(store.get_project(kept).await.unwrap().is_some(), "the other project is untouched");
    assert!(store.find_user_by_email(kept, "d@example.com").await.unwrap().is_some());
    assert_eq!(store.signing_keys(kept).await.unwrap().len(), 2);
    assert!(store.live_api_key(&format!("digest-{kept}")).await.unwrap().is_some());
}

/// The project's keys by role: (active, standby).
async fn roles(store: &Arc<Store>, project: ProjectId) -> (StoredSigningKey, StoredSigningKey) {
    let keys = store.signing_keys(project).await.unwrap();
    let find = |state: KeyState| keys.iter().find(|k| k.state() == state).cloned().expect("a key in that role");
    (find(KeyState::Active), find(KeyState::Standby))
}

fn rotation(project: ProjectId, active: &str, standby: &str, at: chrono::DateTime<chrono::Utc>) -> KeyRotation {
    let (master, _) = MasterKey::generate();
    let (_, new_standby) = SigningKey::generate(project, &master, at).unwrap();
    KeyRotation {
        project_id: project,
        retiring_kid: active.to_owned(),
        promoted_kid: standby.to_owned(),
        now: at,
        published_until: at + Duration::minutes(40),
        new_standby,
        audit: audit_event(project, AuditAction::SigningKeyRotated).detail("newKid", standby),
    }
}

pub async fn rotation_moves_each_key_one_step_with_its_record(store: Arc<Store>) {
    let (p, other) = (project(&store).await, project(&store).await);
    let (active, standby) = roles(&store, p).await;
    let at = now() + Duration::hours(1);
    let turn = rotation(p, &active.kid, &standby.kid, at);
    assert!(!store.rotate_signing_key(&rotation(p, &standby.kid, &active.kid, at)).await.unwrap(), "roles swapped");
    assert!(
        !store.rotate_signing_key(&rotation(other, &active.kid, &standby.kid, at)).await.unwrap(),
        "another project"
    );
    assert!(actions(&store, p).await.is_empty(), "refused rotations write nothing");

    assert!(store.rotate_signing_key(&turn).await.unwrap());
    let keys = store.signing_keys(p).await.unwrap();
    assert_eq!(keys.len(), 3);
    let read = |kid: &str| keys.iter().find(|k| k.kid == kid).cloned().unwrap();
    let retired = read(&active.kid);
    assert_eq!(retired.state(), KeyState::Retired { published_until: at + Duration::minutes(40) });
    assert_eq!((retired.activated_at, retired.retired_at), (active.activated_at, Some(at)), "exact round trip");
    assert_eq!(read(&standby.kid).state(), KeyState::Active);
    assert_eq!(read(&standby.kid).activated_at, Some(at));
    assert_eq!(read(&turn.new_standby.kid), turn.new_standby, "the new standby, exactly as written");
    assert_eq!(actions(&store, p).await, [AuditAction::SigningKeyRotated]);
    assert!(!store.rotate_signing_key(&turn).await.unwrap(), "the same rotation applies once");
    assert_eq!(store.signing_keys(other).await.unwrap().len(), 2, "the other project's keys are untouched");
}

pub async fn racing_rotations_apply_once(store: Arc<Store>) {
    let p = project(&store).await;
    let (active, standby) = roles(&store, p).await;
    let handles: Vec<_> = (0..6)
        .map(|n| {
            let store = Arc::clone(&store);
            let turn = rotation(p, &active.kid, &standby.kid, now() + Duration::seconds(n));
            tokio::spawn(async move { store.rotate_signing_key(&turn).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for handle in handles {
        won += usize::from(handle.await.unwrap());
    }
    assert_eq!(won, 1, "exactly one of the racing rotations applies");
    let keys = store.signing_keys(p).await.unwrap();
    assert_eq!(keys.len(), 3, "one new standby, not six");
    assert_eq!(actions(&store, p).await.len(), 1);
}

pub async fn standbys_are_added_once_and_unpublished_keys_purged(store: Arc<Store>) {
    let (master, _) = MasterKey::generate();
    let current = project(&store).await;
    // A project from before standbys: one key, which signs.
    let legacy = Project {
        id: ProjectId::generate(),
        name: "old".into(),
        settings: ProjectSettings::default(),
        created_at: now(),
    };
    let (_, mut only) = SigningKey::generate(legacy.id, &master, now()).unwrap();
    only.activated_at = Some(now());
    store.create_project(&legacy, &[only.clone()]).await.unwrap();
    assert_eq!(store.projects_without_standby_key().await.unwrap(), [legacy.id]);

    let (_, standby) = SigningKey::generate(legacy.id, &master, now()).unwrap();
    assert!(store.add_standby_signing_key(&standby).await.unwrap());
    let (_, second) = SigningKey::generate(legacy.id, &master, now()).unwrap();
    assert!(!store.add_standby_signing_key(&second).await.unwrap(), "one standby per project");
    let (_, third) = SigningKey::generate(current, &master, now()).unwrap();
    assert!(!store.add_standby_signing_key(&third).await.unwrap(), "a new project has its own already");
    assert!(store.projects_without_standby_key().await.unwrap().is_empty());
    assert_eq!(roles(&store, legacy.id).await, (only.clone(), standby.clone()));

    // Rotated, the old key is published for 40 minutes (see `rotation`), then purged.
    assert!(store.rotate_signing_key(&rotation(legacy.id, &only.kid, &standby.kid, now())).await.unwrap());
    assert_eq!(store.purge_unpublished_signing_keys(now() + Duration::minutes(39)).await.unwrap(), 0);
    assert_eq!(store.purge_unpublished_signing_keys(now() + Duration::minutes(40)).await.unwrap(), 1);
    let kids: Vec<String> = store.signing_keys(legacy.id).await.unwrap().into_iter().map(|k| k.kid).collect();
    assert_eq!(kids.len(), 2, "the active key and the new standby stay");
    assert!(!kids.contains(&only.kid), "the retired key is gone");
    assert_eq!(store.signing_keys(current).await.unwrap().len(), 2, "other projects' keys stay");
}
