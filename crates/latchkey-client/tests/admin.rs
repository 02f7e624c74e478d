//! `client.admin()` against the real server in-process: every call of the namespace, its
//! success shape, its typed errors (`Error::Api` with the code, status and field, and
//! `ApiError::error_code()`), scope and project isolation, and page streams.

mod common;

use common::Server;
use futures_util::TryStreamExt;
use latchkey_client::admin::{
    AuditQuery, CreateUser, IssueLink, LinkDelivery, LinkKind, SessionMethod, SetPassword, SigningKeyInfo, SuspendUser,
    UpdateUser, UserListQuery, UserStatus,
};
use latchkey_client::{Client, Error, ErrorCode, RequestNewAccessToken, Role, SignIn, SignUp};
use serde_json::json;

const PASSWORD: &str = "s3cur3P@ss";

/// Asserts an API error with this status, code and (when given) field.
#[track_caller]
fn assert_api_error<T: std::fmt::Debug>(result: Result<T, Error>, status: u16, code: &str, field: Option<&str>) {
    let err = result.expect_err("an error");
    let Some(api) = err.api() else { panic!("expected an API error, got {err:?}") };
    assert_eq!((api.status, api.code.as_str()), (status, code), "{api}");
    if field.is_some() {
        assert_eq!(api.field.as_deref(), field, "{api}");
    }
}

fn new_user(email: &str) -> CreateUser {
    CreateUser { email: email.into(), password: Some(PASSWORD.into()), ..Default::default() }
}

fn sign_in(email: &str, password: &str) -> SignIn {
    SignIn { email: email.into(), password: password.into() }
}

fn is_iso_millis(text: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(text).is_ok() && text.ends_with('Z') && text.len() == 24
}

#[tokio::test]
async fn project_get_and_rename() {
    let server = Server::start().await;
    let (client, _) = server.admin_client().await;
    let project = client.admin().project().get().await.expect("project");
    assert_eq!(project.id, server.project.to_string());
    assert_eq!(project.name, "SDK test");
    assert!(project.access_token_ttl > 0 && project.refresh_token_ttl > 0);
    assert!(is_iso_millis(&project.created_at), "{}", project.created_at);

    let renamed = client.admin().project().rename("Acme accounts").await.expect("rename");
    assert_eq!(renamed.name, "Acme accounts");
    assert_eq!(client.admin().project().get().await.unwrap().name, "Acme accounts");
    assert_api_error(client.admin().project().rename("").await, 400, "auth/invalid-body", Some("name"));
}

#[tokio::test]
async fn an_auth_key_is_refused_with_insufficient_scope() {
    let server = Server::start().await;
    let auth_client = server.client();
    let err = auth_client.admin().project().get().await.expect_err("auth key");
    assert_eq!(err.api().and_then(|e| e.error_code()), Some(ErrorCode::InsufficientScope));
    assert_eq!(err.status(), Some(403));
    assert_api_error(
        auth_client.admin().users().list(UserListQuery::default()).await,
        403,
        "auth/insufficient-scope",
        None,
    );
    assert_api_error(auth_client.admin().signing_keys().list().await, 403, "auth/insufficient-scope", None);
}

#[tokio::test]
async fn a_revoked_admin_key_is_refused_with_invalid_api_key() {
    let server = Server::start().await;
    let (client, key_id) = server.admin_client().await;
    client.admin().project().get().await.expect("admin key works");
    assert!(server.admin.projects.revoke_api_key(server.project, key_id.parse().unwrap()).await.unwrap());
    let err = client.admin().project().get().await.expect_err("revoked");
    assert_eq!(err.api().and_then(|e| e.error_code()), Some(ErrorCode::InvalidApiKey));
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn another_projects_users_are_not_found() {
    let server = Server::start().await;
    let (client, _) = server.admin_client().await;
    let other = server.another_admin_project().await;
    let stranger = other
        .admin()
        .users()
        .create(CreateUser { foreign_id: Some("ext-stranger".into()), ..new_user("stranger@example.com") })
        .await
        .expect("create in the other project");

    let users = client.admin().users();
    assert_api_error(users.get(&stranger.id).await, 404, "user/not-found", None);
    assert_api_error(users.get_by_email("stranger@example.com").await, 404, "user/not-found", None);
    assert_api_error(users.get_by_foreign_id("ext-stranger").await, 404, "user/not-found", None);
    assert_api_error(users.update(&stranger.id, UpdateUser::default()).await, 404, "user/not-found", None);
    assert_api_error(users.delete(&stranger.id).await, 404, "user/not-found", None);
    assert_api_error(client.admin().sessions().list(&stranger.id).await, 404, "user/not-found", None);
    let page = users.list(UserListQuery::default()).await.unwrap();
    assert!(page.users.is_empty());
    assert_eq!(other.admin().users().get(&stranger.id).await.unwrap().id, stranger.id);
}

#[tokio::test]
async fn create_get_lookup_update_delete() {
    let server = Server::start().await;
    let (client, _) = server.admin_client().await;
    let users = client.admin().users();

    let created = users
        .create(CreateUser {
            username: Some("ada".into()),
            name: Some("Ada".into()),
            bio: Some("hello".into()),
            role: Some(Role::Moderator),
            foreign_id: Some("ext-ada".into()),
            metadata: json!({ "plan": "pro" }).as_object().cloned(),
            secure_metadata: json!({ "stripeId": "cus_123" }).as_object().cloned(),
            email_verified: Some(true),
            ..new_user("ada@example.com")
        })
        .await
        .expect("create");
    assert_eq!(created.project_id, server.project.to_string());
    assert_eq!(created.email.as_deref(), Some("ada@example.com"));
    assert_eq!(created.role, Role::Moderator);
    assert_eq!(created.metadata["plan"], "pro");
    assert_eq!(created.secure_metadata["stripeId"], "cus_123");
    assert!(created.is_verified && created.is_active && !created.is_suspended && created.has_password);
    assert!(created.suspensions.is_empty());
    assert!(is_iso_millis(&created.created_at), "{}", created.created_at);
    assert_eq!(users.get(&created.id).await.unwrap(), created);
    let signed_in = client.auth().sign_in(sign_in("ada@example.com", PASSWORD)).await.expect("sign in");
    assert_eq!(signed_in.user.id, created.id);
    assert_eq!(users.get_by_email("ada@example.com").await.unwrap().id, created.id);
    assert_eq!(users.get_by_foreign_id("ext-ada").await.unwrap().id, created.id);
    assert_api_error(users.get("00000000-0000-7000-8000-000000000000").await, 404, "user/not-found", None);
    assert_api_error(users.get("not-a-uuid").await, 404, "user/not-found", None);
    assert!(matches!(users.get(" ").await, Err(Error::InvalidArgument(_))));

    let updated = users
        .update(
            &created.id,
            UpdateUser { name: Some(None), role: Some(Role::Admin), email_verified: Some(false), ..Default::default() },
        )
        .await
        .expect("update");
    assert_eq!(updated.name, None, "null clears");
    assert_eq!(updated.bio.as_deref(), Some("hello"), "absent is unchanged");
    assert_eq!(updated.role, Role::Admin);
    assert!(!updated.is_verified);

    let disabled =
        users.update(&created.id, UpdateUser { is_active: Some(false), ..Default::default() }).await.unwrap();
    assert!(!disabled.is_active);
    assert_api_error(
        client.auth().sign_in(sign_in("ada@example.com", PASSWORD)).await,
        403,
        "auth/account-disabled",
        None,
    );

    users.delete(&created.id).await.expect("delete");
    assert_api_error(users.get(&created.id).await, 404, "user/not-found", None);
    assert_api_error(users.delete(&created.id).await, 404, "user/not-found", None);
    let again = users.create(new_user("ada@example.com")).await.expect("the email is free again");
    assert_ne!(again.id, created.id);
}

#[tokio::test]
async fn create_errors_are_typed() {
    let server = Server::start().await;
    let (client, _) = server.admin_client().await;
    let users = client.admin().users();
    users
        .create(CreateUser {
            username: Some("taken".into()),
            foreign_id: Some("ext-1".into()),
            ..new_user("a@example.com")
        })
        .await
        .unwrap();
    assert_api_error(users.create(new_user("a@example.com")).await, 409, "DUPLICATE_EMAIL", Some("email"));
    assert_api_error(
        users.create(CreateUser { username: Some("taken".into()), ..new_user("b@example.com") }).await,
        409,
        "DUPLICATE_USERNAME",
        Some("username"),
    );
    let err = users
        .create(CreateUser { foreign_id: Some("ext-1".into()), ..new_user("c@example.com") })
        .await
        .expect_err("foreign id taken");
    assert_eq!(err.api().and_then(|e| e.error_code()), Some(ErrorCode::ForeignIdConflict));
    assert_api_error(
        users.create(CreateUser { password: Some("short".into()), ..new_user("d@example.com") }).await,
        400,
        "auth/weak-password",
        Some("password"),
    );
    assert_api_error(users.create(new_user("not an email")).await, 400, "auth/invalid-body", Some("email"));
}

#[tokio::test]
async fn list_pages_and_stream() {
    let server = Server::start().await;
    let (client, _) = server.admin_client().await;
    let users = client.admin().users();
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(users.create(new_user(&format!("page{i}@example.com"))).await.unwrap().id);
    }
    users.create(new_user("other@example.com")).await.unwrap();

    let query = UserListQuery { email: Some("page".into()), limit: Some(3), ..Default::default() };
    let first = users.list(query.clone()).await.expect("first page");
    assert_eq!(first.users.iter().map(|u| &u.id).collect::<Vec<_>>(), created[..3].iter().collect::<Vec<_>>());
    let cursor = first.next_cursor.expect("a next page");
    let second = users.list(UserListQuery { cursor: Some(cursor), ..query.clone() }).await.unwrap();
    assert_eq!(second.users.iter().map(|u| &u.id).collect::<Vec<_>>(), created[3..6].iter().collect::<Vec<_>>());
    let last = users.list(UserListQuery { cursor: second.next_cursor, ..query.clone() }).await.unwrap();
    assert_eq!(last.users.len(), 1);
    assert_eq!(last.next_cursor, None);

    let streamed: Vec<String> = users
        .stream(UserListQuery { limit: Some(2), ..query.clone() })
        .map_ok(|u| u.id)
        .try_collect()
        .await
        .expect("stream");
    assert_eq!(streamed, created, "every user once, oldest first");

    // Dropping the stream stops the walk; taking a few fetches only what is needed. The stream
    // is `Send`, so it can be driven from a spawned task.
    let stream = users.stream(UserListQuery { limit: Some(2), ..query.clone() });
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&stream);
    futures_util::pin_mut!(stream);
    assert_eq!(stream.try_next().await.unwrap().map(|u| u.id).as_ref(), created.first());

    let filtered =
        users.list(UserListQuery { status: Some(UserStatus::Suspended), ..Default::default() }).await.unwrap();
    assert!(filtered.users.is_empty());
    let verified = users.list(UserListQuery { verified: Some(true), ..Default::default() }).await.unwrap();
    assert!(verified.users.is_empty());
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let after = users.list(UserListQuery { created_after: Some(future.clone()), ..Default::default() }).await.unwrap();
    assert!(after.users.is_empty());
    let before = users.list(UserListQuery { created_before: Some(future), ..Default::default() }).await.unwrap();
    assert_eq!(before.users.len(), 8);

    let bad = UserListQuery { cursor: Some("garbage".into()), ..Default::default() };
    assert_api_error(users.list(bad.clone()).await, 400, "request/invalid-cursor", Some("cursor"));
    let from_stream: Result<Vec<_>, _> = users.stream(bad).try_collect().await;
    assert_api_error(from_stream, 400, "request/invalid-cursor", Some("cursor"));
    for limit in [0, 1001] {
        let query = UserListQuery { limit: Some(limit), ..Default::default() };
        assert_api_error(users.list(query).await, 400, "auth/invalid-body", Some("limit"));
    }
}

#[tokio::test]
async fn suspension_blocks_sign_in_until_lifted() {
    let server = Server::start().await;
    let (client, key_id) = server.admin_client().await;
    let users = client.admin().users();
    let user = users.create(new_user("s@example.com")).await.unwrap();
    client.auth().sign_in(sign_in("s@example.com", PASSWORD)).await.unwrap();

    let ends_at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let suspended = users
        .suspend(&user.id, SuspendUser { reason: "chargeback".into(), ends_at: Some(ends_at.clone()) })
        .await
        .expect("suspend");
    assert!(suspended.is_suspended);
    let [suspension] = suspended.suspensions.as_slice() else { panic!("one suspension: {suspended:?}") };
    assert_eq!(suspension.reason, "chargeback");
    assert_eq!(suspension.ends_at.as_deref(), Some(ends_at.as_str()));
    assert_eq!(suspension.created_by, format!("apiKey:{key_id}"));
    assert!(client.admin().sessions().list(&user.id).await.unwrap().is_empty(), "sessions revoked");
    let err = client.auth().sign_in(sign_in("s@example.com", PASSWORD)).await.expect_err("suspended");
    assert_eq!(err.api().and_then(|e| e.error_code()), Some(ErrorCode::UserSuspended));
    assert_eq!(err.status(), Some(403));
    let listed = users.list(UserListQuery { status: Some(UserStatus::Suspended), ..Default::default() }).await.unwrap();
    assert_eq!(listed.users.iter().map(|u| &u.id).collect::<Vec<_>>(), [&user.id]);

    let lifted = users.unsuspend(&user.id).await.expect("unsuspend");
    assert!(!lifted.is_suspended);
    client.auth().sign_in(sign_in("s@example.com", PASSWORD)).await.expect("sign in again");

    let open_ended = users.suspend(&user.id, SuspendUser { reason: "abuse".into(), ends_at: None }).await.unwrap();
    assert_eq!(open_ended.suspensions.first().and_then(|s| s.ends_at.clone()), None);
    let empty = SuspendUser { reason: String::new(), ends_at: None };
    assert_api_error(users.suspend(&user.id, empty).await, 400, "auth/invalid-body", Some("reason"));
}

#[tokio::test]
async fn set_password_links_and_unlock() {
    let server = Server::start().await;
    let (client, _) = server.admin_client().await;
    let users = client.admin().users();
    let user = users.create(new_user("p@example.com")).await.unwrap();

    // set_password replaces the password and ends the sessions.
    let session = client.auth().sign_in(sign_in("p@example.com", PASSWORD)).await.unwrap();
    users.set_password(&user.id, SetPassword { password: "n3wS3cret!pass".into() }).await.expect("set password");
    assert_api_error(
        client.auth().sign_in(sign_in("p@example.com", PASSWORD)).await,
        401,
        "auth/invalid-credentials",
        None,
    );
    client.auth().sign_in(sign_in("p@example.com", "n3wS3cret!pass")).await.expect("new password");
    let refresh = RequestNewAccessToken { refresh_token: session.refresh_token };
    assert!(client.auth().request_new_access_token(refresh).await.is_err(), "old session revoked");
    let weak = SetPassword { password: "short".into() };
    assert_api_error(users.set_password(&user.id, weak).await, 400, "auth/weak-password", Some("password"));

    // Returned links work with the auth API; an emailed one returns nothing.
    let verify = IssueLink { kind: LinkKind::EmailVerification, delivery: LinkDelivery::Return };
    let verification = users.issue_link(&user.id, verify.clone()).await.unwrap().expect("a returned link");
    assert!(verification.url.contains(&verification.token), "{}", verification.url);
    client.auth().verify_email(latchkey_client::VerifyEmail { token: verification.token }).await.unwrap();
    assert!(users.get(&user.id).await.unwrap().is_verified);
    assert_api_error(users.issue_link(&user.id, verify).await, 409, "auth/already-verified", None);
    let link = users
        .issue_link(&user.id, IssueLink { kind: LinkKind::PasswordReset, delivery: LinkDelivery::Return })
        .await
        .expect("issue link")
        .expect("a returned link");
    assert!(link.url.contains(&link.token), "{}", link.url);
    client
        .auth()
        .reset_password(latchkey_client::ResetPassword { token: link.token, new_password: "r3setS3cret!".into() })
        .await
        .expect("reset with the link");
    client.auth().sign_in(sign_in("p@example.com", "r3setS3cret!")).await.expect("reset password");
    let emailed = users
        .issue_link(&user.id, IssueLink { kind: LinkKind::PasswordReset, delivery: LinkDelivery::Email })
        .await
        .expect("queue the email");
    assert_eq!(emailed, None);

    // unlock clears the sign-in lockout.
    let mut locked = false;
    for _ in 0..30 {
        let attempt = client.auth().sign_in(sign_in("p@example.com", "wrongPassw0rd")).await;
        if attempt.is_err_and(|e| e.code() == Some("auth/too-many-attempts")) {
            locked = true;
            break;
        }
    }
    assert!(locked, "repeated failures lock the account");
    assert_api_error(
        client.auth().sign_in(sign_in("p@example.com", "r3setS3cret!")).await,
        429,
        "auth/too-many-attempts",
        None,
    );
    users.unlock(&user.id).await.expect("unlock");
    client.auth().sign_in(sign_in("p@example.com", "r3setS3cret!")).await.expect("unlocked");
}

#[tokio::test]
async fn sessions_list_revoke_and_revoke_all() {
    let server = Server::start().await;
    let (client, _) = server.admin_client().await;
    let sessions = client.admin().sessions();
    let signed_up = client
        .auth()
        .sign_up(SignUp { email: "x@example.com".into(), password: PASSWORD.into(), ..Default::default() })
        .await
        .unwrap();
    let user_id = signed_up.user.id.clone();
    let signed_in = client.auth().sign_in(sign_in("x@example.com", PASSWORD)).await.unwrap();
    client.auth().sign_in(sign_in("x@example.com", PASSWORD)).await.unwrap();

    let live = sessions.list(&user_id).await.expect("sessions");
    assert_eq!(live.len(), 3);
    let count = |method| live.iter().filter(|s| s.method == method).count();
    assert_eq!((count(SessionMethod::SignUp), count(SessionMethod::Password)), (1, 2));
    assert!(live.iter().all(|s| is_iso_millis(&s.expires_at) && is_iso_millis(&s.last_refreshed_at)));

    let sign_up_session = live.iter().find(|s| s.method == SessionMethod::SignUp).expect("the sign-up session");
    sessions.revoke(&user_id, &sign_up_session.id).await.expect("revoke one");
    let refresh = RequestNewAccessToken { refresh_token: signed_up.refresh_token };
    assert_api_error(client.auth().request_new_access_token(refresh).await, 403, "auth/refresh-token-invalid", None);
    assert_api_error(
        sessions.revoke(&user_id, "00000000-0000-7000-8000-000000000000").await,
        404,
        "session/not-found",
        None,
    );
    assert_eq!(sessions.list(&user_id).await.unwrap().len(), 2);

    assert_eq!(sessions.revoke_all(&user_id).await.expect("revoke all").revoked, 2);
    assert!(sessions.list(&user_id).await.unwrap().is_empty());
    let refresh = RequestNewAccessToken { refresh_token: signed_in.refresh_token };
    assert_api_error(client.auth().request_new_access_token(refresh).await, 403, "auth/refresh-token-invalid", None);
    assert_eq!(sessions.revoke_all(&user_id).await.unwrap().revoked, 0);
}

#[tokio::test]
async fn signing_key_rotation_keeps_old_tokens_verifiable() {
    let server = Server::start().await;
    let (client, _) = server.admin_client().await;
    let keys = client.admin().signing_keys();
    // A project's first standby may sign only once verifiers' cached JWKS can hold it
    // (5 min 30 s after it was published).
    server.shift_clock(6 * 60);
    let before = keys.list().await.expect("keys");
    let active = |list: &[SigningKeyInfo]| -> SigningKeyInfo {
        let [key] = list.iter().filter(|k| k.active).collect::<Vec<_>>()[..] else {
            panic!("one active key: {list:?}")
        };
        key.clone()
    };
    let previous = active(&before);
    assert!(previous.retired_at.is_none());
    let old_token = client
        .auth()
        .sign_up(SignUp { email: "old@example.com".into(), password: PASSWORD.into(), ..Default::default() })
        .await
        .unwrap()
        .access_token;

    let after = keys.rotate().await.expect("rotate");
    let current = active(&after);
    assert_ne!(current.kid, previous.kid);
    let retired = after.iter().find(|k| k.kid == previous.kid).expect("the old key is still listed");
    assert!(!retired.active);
    assert!(retired.retired_at.as_deref().is_some_and(is_iso_millis));
    assert!(retired.published_until.as_deref().is_some_and(is_iso_millis));
    assert!(after.windows(2).all(|w| w[0].created_at >= w[1].created_at), "newest first");
    assert_eq!(keys.list().await.unwrap(), after);

    let new_token = client
        .auth()
        .sign_up(SignUp { email: "new@example.com".into(), password: PASSWORD.into(), ..Default::default() })
        .await
        .unwrap()
        .access_token;
    let header = jsonwebtoken::decode_header(&new_token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(current.kid.as_str()), "new tokens carry the new kid at once");
    // A verifier that fetches the JWKS now verifies both tokens.
    let verifier = Client::new(&server.base_url, server.project.to_string(), &server.api_key).unwrap();
    verifier.verify_access_token(&old_token).await.expect("a token of the retired key verifies");
    verifier.verify_access_token(&new_token).await.expect("a token of the new key verifies");
}

#[tokio::test]
async fn a_rotation_too_soon_is_refused_unless_forced() {
    let server = Server::start().await;
    let (client, _) = server.admin_client().await;
    let keys = client.admin().signing_keys();
    server.shift_clock(6 * 60); // past the first standby's wait, as above
    keys.rotate().await.expect("the first rotation");
    let err = keys.rotate().await.expect_err("the next key was just published");
    let api = err.api().expect("an API error");
    assert_eq!((api.status, api.code.as_str()), (409, "signing-key/standby-too-new"), "{api}");
    assert!(api.retry_after.is_some_and(|secs| secs > 0), "{api:?}");
    let active = |list: Vec<SigningKeyInfo>| list.into_iter().find(|k| k.active).map(|k| k.kid);
    let before = active(keys.list().await.unwrap());
    let after = active(keys.force_rotate().await.expect("forced"));
    assert!(before.is_some() && after.is_some() && before != after, "{before:?} -> {after:?}");
}

#[tokio::test]
async fn audit_records_actions_and_streams_newest_first() {
    let server = Server::start().await;
    let (client, key_id) = server.admin_client().await;
    let users = client.admin().users();
    let audit = client.admin().audit();
    let user = users.create(new_user("audited@example.com")).await.unwrap();
    users.update(&user.id, UpdateUser { name: Some(Some("Audited".into())), ..Default::default() }).await.unwrap();
    users.suspend(&user.id, SuspendUser { reason: "audit test".into(), ends_at: None }).await.unwrap();

    let page = audit.list(AuditQuery { user_id: Some(user.id.clone()), ..Default::default() }).await.expect("audit");
    let actions: Vec<_> = page.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.suspended", "user.updated", "user.created"], "newest first");
    for event in &page.events {
        assert_eq!(event.actor, format!("apiKey:{key_id}"));
        assert_eq!(event.user_id.as_deref(), Some(user.id.as_str()));
        assert_eq!(event.project_id, server.project.to_string());
        assert!(event.request_id.is_some());
        assert!(is_iso_millis(&event.at), "{}", event.at);
        assert!(!serde_json::to_string(event).unwrap().contains("audited@example.com"), "no email: {event:?}");
    }
    assert_eq!(page.events[0].details.get("reason"), Some(&json!("audit test")));

    // Security events of the auth flows are the system's.
    let failed = client.auth().sign_in(sign_in("audited@example.com", "wrongPassw0rd")).await;
    assert!(failed.is_err());
    let system = audit
        .list(AuditQuery { user_id: Some(user.id.clone()), actor: Some("system".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(system.events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["sign-in.failed"]);
    let prefixed = audit.list(AuditQuery { action: Some("user.".into()), ..Default::default() }).await.unwrap();
    assert_eq!(prefixed.events.len(), 3);

    let all = audit.list(AuditQuery { limit: Some(1000), ..Default::default() }).await.unwrap().events;
    let streamed: Vec<_> =
        audit.stream(AuditQuery { limit: Some(2), ..Default::default() }).try_collect().await.expect("stream");
    assert_eq!(streamed, all, "every event once, in order");
    assert!(all.len() >= 4);
    assert!(all.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
    assert_api_error(
        audit.list(AuditQuery { cursor: Some("garbage".into()), ..Default::default() }).await,
        400,
        "request/invalid-cursor",
        Some("cursor"),
    );
}
