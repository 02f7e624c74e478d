//! Access tokens are signed with the project's parsed key, cached with the project's context
//! (issue 13): a rotation must switch new tokens to the promoted key at once, and tokens of the
//! retired key must keep verifying while it is published.

use latchkey_core::domain::Actor;
use latchkey_core::tokens::verify_access;

use super::*;

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn rotation_changes_the_signing_kid_and_old_tokens_still_verify() {
    let w = world(|_| {}).await;
    let before = w.sign_up("rotate@example.com").await.tokens.access_token;
    // A second token from the cached context: the same key.
    let again = w.sign_in("rotate@example.com", PASSWORD).await.unwrap().tokens.access_token;
    assert_eq!(kid(&again), kid(&before));

    let keys = w.admin.signing_keys.rotate(w.project, Actor::Cli, true).await.unwrap();
    let after = w.sign_in("rotate@example.com", PASSWORD).await.unwrap().tokens.access_token;
    assert_ne!(kid(&after), kid(&before), "the retired key must stop signing at once");
    assert!(keys.iter().any(|k| k.kid == kid(&after)), "signed by one of the project's keys: {keys:?}");
    // Refreshed tokens too.
    let refreshed = w.sign_in("rotate@example.com", PASSWORD).await.unwrap().tokens.refresh_token;
    let refreshed = w.refresh(&refreshed).await.unwrap().tokens.access_token;
    assert_eq!(kid(&refreshed), kid(&after));

    let context = w.services.projects.context(w.project).await.unwrap();
    for token in [&before, &after, &refreshed] {
        let claims = verify_access(token, &w.policy.issuer, w.project, &context.keys, w.now());
        assert!(claims.is_ok(), "{} does not verify after the rotation", kid(token));
    }
}
