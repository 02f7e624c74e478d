//! PostgreSQL only: several `latchkey serve` processes share one database. Each process has
//! its own pool, so these cases open two stores on the same database and race them.

use std::sync::Arc;

use chrono::Duration;
use latchkey_core::store::{ExternalSignIn, ExternalSignInOutcome, Rotation, Store, UserChange};
use latchkey_store::PgStore;
use latchkey_store::testing::TempDatabase;

use super::{now, project, session, user};

/// Two "processes" start at once on an empty database: both migrate (one waits for the
/// other's migration lock) and both work.
async fn two_processes(db: &TempDatabase) -> [Arc<dyn Store>; 2] {
    let (a, b) = tokio::join!(PgStore::open(db.url()), PgStore::open(db.url()));
    [Arc::new(a.expect("first process")), Arc::new(b.expect("second process"))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_rotations_across_processes_apply_once() {
    let db = TempDatabase::create().await;
    let stores = two_processes(&db).await;
    let p = project(&stores[0]).await;
    let u = user(p, "race@example.com", None);
    let s = session(&u);
    stores[0].create_user_with_session(&u, &s).await.unwrap();

    let tasks: Vec<_> = (0..40)
        .map(|n| {
            let store = Arc::clone(&stores[n % 2]);
            let rotation = Rotation {
                project_id: p,
                session_id: s.id,
                from_generation: 0,
                previous_digest: "d0".into(),
                new_digest: format!("d1-{n}"),
                pair_sealed: vec![n as u8],
                now: now() + Duration::seconds(1),
                expires_at: now() + Duration::days(30),
            };
            tokio::spawn(async move { store.rotate_session(&rotation).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        won += usize::from(task.await.unwrap());
    }
    assert_eq!(won, 1, "exactly one exchange mints generation 1");
    let read = stores[1].get_session(p, s.id).await.unwrap().unwrap();
    assert_eq!(read.generation, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_external_sign_ins_across_processes_consume_a_jti_once() {
    let db = TempDatabase::create().await;
    let stores = two_processes(&db).await;
    let p = project(&stores[0]).await;
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let store = Arc::clone(&stores[n % 2]);
            let mut u = user(p, &format!("x{n}@example.com"), None);
            u.foreign_id = Some(format!("x{n}"));
            let sign_in = ExternalSignIn {
                session: session(&u),
                change: UserChange::Create(u),
                jti: Some(("same-jti".into(), now() + Duration::minutes(5))),
                now: now(),
            };
            tokio::spawn(async move { store.apply_external_sign_in(&sign_in).await.unwrap() })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        match task.await.unwrap() {
            ExternalSignInOutcome::Applied => applied += 1,
            outcome => assert_eq!(outcome, ExternalSignInOutcome::Replayed),
        }
    }
    assert_eq!(applied, 1, "one token, one sign-in, whichever process sees it");
}
