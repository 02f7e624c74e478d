//! PostgreSQL only: several `latchkey serve` processes share one database. Each process has
//! its own pool, so these cases open two stores on the same database and race them. Then the
//! server cutting connections: dead idle connections are replaced, and a query cut off in
//! flight is `Unavailable` (503), never a 500.

use std::sync::Arc;

use chrono::Duration;
use latchkey_core::store::{ExternalSignIn, ExternalSignInOutcome, Rotation, Store, StoreError, UserChange};
use latchkey_store::PgStore;
use latchkey_store::testing::TempDatabase;
use sqlx::{Connection, PgConnection};

use latchkey_core::domain::AuditAction;

use super::{audit_event, now, project, session, user};

/// Two "processes" start at once on an empty database: both migrate (one waits for the
/// other's migration lock) and both work.
async fn two_processes(db: &TempDatabase) -> [Arc<dyn Store>; 2] {
    let pool = super::backends::TEST_POOL;
    let (a, b) =
        tokio::join!(PgStore::open_with_pool_size(db.url(), pool), PgStore::open_with_pool_size(db.url(), pool));
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

fn rotation(p: latchkey_core::domain::ProjectId, s: &latchkey_core::store::SessionRecord, from: i64) -> Rotation {
    Rotation {
        project_id: p,
        session_id: s.id,
        from_generation: from,
        previous_digest: format!("d{from}"),
        new_digest: format!("d{}", from + 1),
        pair_sealed: vec![1],
        now: now() + Duration::seconds(1),
        expires_at: now() + Duration::days(30),
    }
}

/// Terminates every connection to the test database except `admin`'s own.
async fn terminate_others(admin: &mut PgConnection) -> i64 {
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(admin)
    .await
    .unwrap();
    killed.into_iter().filter(|k| *k).count() as i64
}

#[tokio::test]
async fn connections_killed_while_idle_are_replaced() {
    let db = TempDatabase::create().await;
    let store: Arc<dyn Store> =
        Arc::new(PgStore::open_with_pool_size(db.url(), super::backends::TEST_POOL).await.unwrap());
    let p = project(&store).await;
    let mut admin = PgConnection::connect(db.url()).await.unwrap();
    assert!(terminate_others(&mut admin).await >= 1, "the store had a connection to cut");
    // The pool checks a connection before handing it out and replaces a dead one.
    assert!(store.get_project(p).await.unwrap().is_some());
    store.ping().await.unwrap();
}

#[tokio::test]
async fn a_query_cut_off_in_flight_is_unavailable_and_the_next_one_works() {
    let db = TempDatabase::create().await;
    let store: Arc<dyn Store> =
        Arc::new(PgStore::open_with_pool_size(db.url(), super::backends::TEST_POOL).await.unwrap());
    let p = project(&store).await;
    let u = user(p, "cut@example.com", None);
    let s = session(&u);
    store.create_user_with_session(&u, &s).await.unwrap();

    // Hold the session row so the store's rotation waits on it, in flight.
    let mut locker = PgConnection::connect(db.url()).await.unwrap();
    let mut tx = locker.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM latchkey.sessions WHERE id = $1 FOR UPDATE")
        .bind(s.id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let racing = {
        let store = Arc::clone(&store);
        let rotation = rotation(p, &s, 0);
        tokio::spawn(async move { store.rotate_session(&rotation).await })
    };
    let mut admin = PgConnection::connect(db.url()).await.unwrap();
    let mut waiting = None;
    for _ in 0..200 {
        waiting = sqlx::query_scalar::<_, i32>(
            "SELECT pid FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' LIMIT 1",
        )
        .fetch_optional(&mut admin)
        .await
        .unwrap();
        if waiting.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let pid = waiting.expect("the rotation never waited on the row lock");
    let _: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(pid).fetch_one(&mut admin).await.unwrap();

    let err = racing.await.unwrap().unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "a cut connection is a 503, not a 500: {err:?}");
    tx.rollback().await.unwrap();
    assert!(store.rotate_session(&rotation(p, &s, 0)).await.unwrap(), "the store recovers by itself");
}

#[tokio::test]
async fn a_password_session_waits_for_a_reset_in_flight_and_then_refuses() {
    let db = TempDatabase::create().await;
    let store: Arc<dyn Store> =
        Arc::new(PgStore::open_with_pool_size(db.url(), super::backends::TEST_POOL).await.unwrap());
    let p = project(&store).await;
    let u = user(p, "reset@example.com", None);
    store.create_user_with_session(&u, &session(&u)).await.unwrap();
    let verified = u.password_hash.clone().unwrap();

    // A password reset is in flight: new hash written, sessions revoked, not yet committed.
    let mut reset = PgConnection::connect(db.url()).await.unwrap();
    let mut tx = reset.begin().await.unwrap();
    sqlx::query("UPDATE latchkey.users SET password_hash = 'after-reset' WHERE id = $1")
        .bind(u.id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE latchkey.sessions SET revoked_at = 1 WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(u.id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    // A sign-in whose password matched the old hash now creates its session.
    let late = session(&u);
    let signing_in = {
        let store = Arc::clone(&store);
        let late = late.clone();
        let record = audit_event(p, AuditAction::SignInSucceeded);
        tokio::spawn(async move { store.create_password_session(&late, &verified, now(), &record).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    tx.commit().await.unwrap();

    let created = signing_in.await.unwrap().unwrap();
    let live = store.get_session(p, late.id).await.unwrap().is_some_and(|s| s.revoked_at.is_none());
    assert!(!created && !live, "no session may outlive a reset that was in flight (created {created}, live {live})");
}
