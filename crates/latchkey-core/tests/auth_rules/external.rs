//! `verify-external-user`'s user rules (docs/EXTERNAL_USERS.md, "What happens to the user"):
//! found by foreign id, the asserted fields are updated; else an email of an unlinked user
//! links it (dropping the password and sessions of an unverified account); an email of a user
//! linked elsewhere is a conflict; else a user without a password is created. A `jti` works
//! once, and a refused sign-in writes nothing.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use latchkey_core::CoreError;
use latchkey_core::auth::Credentials;
use latchkey_core::store::{CoreStore, ExternalStore};
use latchkey_proto::AuthMethod;
use serde_json::{Value, json};

use super::{PASSWORD, World, world};

/// Signs external-user JWTs with the project's signing secret, as a customer's backend does.
struct Issuer {
    secret: String,
}

impl Issuer {
    async fn new(w: &World) -> Self {
        let created = w.admin.external.create_signing_secret(w.project).await.unwrap();
        Self { secret: created.plaintext }
    }

    fn token(&self, w: &World, sub: &str, jti: Option<&str>, user_data: Value) -> String {
        let now = w.now().timestamp();
        let mut claims = json!({ "sub": sub, "iss": w.project.to_string(), "iat": now, "exp": now + 300 });
        claims["userData"] = user_data;
        if let Some(jti) = jti {
            claims["jti"] = json!(jti);
        }
        let key = EncodingKey::from_secret(self.secret.as_bytes());
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
    }

    async fn sign_in(&self, w: &World, sub: &str, user_data: Value) -> latchkey_core::Result<Credentials> {
        w.services.external_sign_in.verify_external_user(w.project, &self.token(w, sub, None, user_data)).await
    }
}

#[tokio::test]
async fn a_new_foreign_id_creates_a_user_without_a_password() {
    let w = world(|_| {}).await;
    let issuer = Issuer::new(&w).await;
    let creds = issuer.sign_in(&w, "ext-1", json!({ "email": "New@Example.com", "name": "New" })).await.unwrap();
    let user = w.store.find_user_by_foreign_id(w.project, "ext-1").await.unwrap().expect("created");
    assert_eq!(user.id, creds.user.id);
    assert_eq!((user.email.as_deref(), user.profile.name.as_deref()), (Some("new@example.com"), Some("New")));
    assert_eq!((user.password_hash.as_deref(), user.is_verified), (None, false));
    assert_eq!(user.auth_methods(), [AuthMethod::External]);
    // The session is an ordinary one.
    w.refresh(&creds.tokens.refresh_token).await.unwrap();

    // Its email is taken for sign-up, and there is no password to sign in with.
    let request = latchkey_core::auth::SignUp {
        email: "new@example.com".into(),
        password: PASSWORD.into(),
        username: None,
        profile: Default::default(),
    };
    assert!(matches!(w.services.registration.sign_up(w.project, request).await, Err(CoreError::DuplicateEmail)));
    assert!(matches!(w.sign_in("new@example.com", PASSWORD).await, Err(CoreError::InvalidCredentials)));
}

#[tokio::test]
async fn a_returning_foreign_id_updates_only_the_asserted_fields() {
    let w = world(|_| {}).await;
    let issuer = Issuer::new(&w).await;
    let first =
        issuer.sign_in(&w, "ext-2", json!({ "email": "r@example.com", "name": "A", "bio": "b" })).await.unwrap();
    w.advance(60);
    let again = issuer.sign_in(&w, "ext-2", json!({ "name": "B" })).await.unwrap();
    assert_eq!(again.user.id, first.user.id, "the same user");
    let user = w.store.get_user(w.project, first.user.id).await.unwrap().unwrap();
    assert_eq!(
        (user.profile.name.as_deref(), user.profile.bio.as_deref()),
        (Some("B"), Some("b")),
        "absent fields are kept"
    );
    assert_eq!(user.email.as_deref(), Some("r@example.com"));
    assert_eq!(user.updated_at, w.now());
}

#[tokio::test]
async fn a_changed_email_is_not_verified() {
    let w = world(|_| {}).await;
    let issuer = Issuer::new(&w).await;
    let creds = issuer.sign_in(&w, "ext-3", json!({ "email": "old@example.com" })).await.unwrap();
    w.services.email_links.send_verification_email(w.project, creds.user.id).await.unwrap();
    let token = w.mailed_token().await;
    w.services.email_links.verify_email(w.project, &token).await.unwrap();
    assert!(w.store.get_user(w.project, creds.user.id).await.unwrap().unwrap().is_verified);

    issuer.sign_in(&w, "ext-3", json!({ "email": "old@example.com", "name": "Same" })).await.unwrap();
    assert!(w.store.get_user(w.project, creds.user.id).await.unwrap().unwrap().is_verified, "same address");
    issuer.sign_in(&w, "ext-3", json!({ "email": "new@example.com" })).await.unwrap();
    let user = w.store.get_user(w.project, creds.user.id).await.unwrap().unwrap();
    assert_eq!((user.email.as_deref(), user.is_verified), (Some("new@example.com"), false));
}

#[tokio::test]
async fn linking_an_unverified_account_drops_its_password_and_sessions() {
    let w = world(|_| {}).await;
    let issuer = Issuer::new(&w).await;
    let local = w.sign_up("unverified@example.com").await;

    let linked = issuer.sign_in(&w, "ext-4", json!({ "email": "unverified@example.com" })).await.unwrap();
    assert_eq!(linked.user.id, local.user.id, "linked, not created");
    let user = w.store.get_user(w.project, local.user.id).await.unwrap().unwrap();
    assert_eq!(user.foreign_id.as_deref(), Some("ext-4"));
    assert_eq!(user.password_hash, None);
    assert_eq!(user.auth_methods(), [AuthMethod::External]);
    let err = w.refresh(&local.tokens.refresh_token).await.unwrap_err();
    assert!(matches!(err, CoreError::RefreshTokenInvalid), "the earlier session ended: {err:?}");
    assert!(matches!(w.sign_in("unverified@example.com", PASSWORD).await, Err(CoreError::InvalidCredentials)));
    w.refresh(&linked.tokens.refresh_token).await.unwrap();
}

#[tokio::test]
async fn linking_a_verified_account_keeps_its_password_and_sessions() {
    let w = world(|_| {}).await;
    let issuer = Issuer::new(&w).await;
    let local = w.sign_up("verified@example.com").await;
    w.services.email_links.send_verification_email(w.project, local.user.id).await.unwrap();
    let token = w.mailed_token().await;
    w.services.email_links.verify_email(w.project, &token).await.unwrap();

    let linked = issuer.sign_in(&w, "ext-5", json!({ "email": "verified@example.com" })).await.unwrap();
    assert_eq!(linked.user.id, local.user.id);
    let user = w.store.get_user(w.project, local.user.id).await.unwrap().unwrap();
    assert_eq!(user.foreign_id.as_deref(), Some("ext-5"));
    assert_eq!(user.auth_methods(), [AuthMethod::Password, AuthMethod::External]);
    w.refresh(&local.tokens.refresh_token).await.unwrap();
    w.sign_in("verified@example.com", PASSWORD).await.unwrap();
}

#[tokio::test]
async fn a_linked_user_is_never_relinked() {
    let w = world(|_| {}).await;
    let issuer = Issuer::new(&w).await;
    let first = issuer.sign_in(&w, "ext-6", json!({ "email": "taken@example.com" })).await.unwrap();
    let err = issuer.sign_in(&w, "ext-7", json!({ "email": "taken@example.com", "name": "X" })).await.unwrap_err();
    assert!(matches!(err, CoreError::ForeignIdConflict), "{err:?}");
    assert!(w.store.find_user_by_foreign_id(w.project, "ext-7").await.unwrap().is_none(), "nothing created");
    let user = w.store.get_user(w.project, first.user.id).await.unwrap().unwrap();
    assert_eq!((user.foreign_id.as_deref(), user.profile.name), (Some("ext-6"), None), "nothing changed");
}

#[tokio::test]
async fn taken_usernames_and_emails_are_conflicts_that_write_nothing() {
    let w = world(|_| {}).await;
    let issuer = Issuer::new(&w).await;
    w.sign_up_as("owner@example.com", Some("taken_name")).await;

    let err = issuer.sign_in(&w, "ext-8", json!({ "username": "Taken_Name" })).await.unwrap_err();
    assert!(matches!(err, CoreError::DuplicateUsername), "{err:?}");
    assert!(w.store.find_user_by_foreign_id(w.project, "ext-8").await.unwrap().is_none());

    // An existing external user cannot move to another user's address.
    let creds = issuer.sign_in(&w, "ext-9", json!({ "email": "mine@example.com" })).await.unwrap();
    let err = issuer.sign_in(&w, "ext-9", json!({ "email": "owner@example.com" })).await.unwrap_err();
    assert!(matches!(err, CoreError::DuplicateEmail), "{err:?}");
    let user = w.store.get_user(w.project, creds.user.id).await.unwrap().unwrap();
    assert_eq!(user.email.as_deref(), Some("mine@example.com"));
}

#[tokio::test]
async fn a_jti_works_once() {
    let w = world(|_| {}).await;
    let issuer = Issuer::new(&w).await;
    let token = issuer.token(&w, "ext-10", Some("jti-1"), json!({ "name": "Once" }));
    w.services.external_sign_in.verify_external_user(w.project, &token).await.unwrap();
    let err = w.services.external_sign_in.verify_external_user(w.project, &token).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidExternalToken("jti already used")), "{err:?}");

    // A refused replay wrote nothing; another jti signs in.
    let replay = issuer.token(&w, "ext-10", Some("jti-1"), json!({ "name": "Changed" }));
    assert!(w.services.external_sign_in.verify_external_user(w.project, &replay).await.is_err());
    let user = w.store.find_user_by_foreign_id(w.project, "ext-10").await.unwrap().unwrap();
    assert_eq!(user.profile.name.as_deref(), Some("Once"));
    let fresh = issuer.token(&w, "ext-10", Some("jti-2"), json!({}));
    w.services.external_sign_in.verify_external_user(w.project, &fresh).await.unwrap();
}
