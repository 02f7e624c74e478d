//! `inspect` on malformed input, unknown formats and floors. (Verification against hashes made
//! by independent implementations is tested end to end in latchkey-server's
//! `tests/imported_hashes.rs`, with fixtures Python makes at test time.)

use super::*;

fn format_of(hash: &str) -> (ImportedHashFormat, bool) {
    let found = inspect(hash).unwrap_or_else(|e| panic!("{hash}: {e}"));
    (found.format, found.below_floor)
}

fn refused(hash: &str) -> String {
    match inspect(hash) {
        Err(CoreError::InvalidInput { field: "passwordHash", message }) => message,
        other => panic!("{hash:?} should be refused as passwordHash, got {other:?}"),
    }
}

/// passlib's documented examples and the bcrypt crate's test vector.
const BCRYPT_12: &str = "$2y$12$L6Bc/AlTQHyd9liGgGEZyOFLPHNgyxeEPfgYfBCVxJ7JIlwxyVU3u";
const SCRYPT_LN16: &str = "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E";
const PASSLIB_PBKDF2_6400: &str =
    "$pbkdf2-sha256$6400$0ZrzXitFSGltTQnBWOsdAw$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M";

#[test]
fn every_format_is_recognised() {
    use ImportedHashFormat as F;
    let argon2id = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
    assert_eq!(format_of(argon2id), (F::Argon2, false));
    assert_eq!(format_of(&argon2id.replace("argon2id", "argon2i")), (F::Argon2, false));
    assert_eq!(format_of(BCRYPT_12), (F::Bcrypt, false));
    assert_eq!(format_of(&BCRYPT_12.replace("$2y$", "$2a$")), (F::Bcrypt, false));
    assert_eq!(format_of(&BCRYPT_12.replace("$2y$", "$2b$")), (F::Bcrypt, false));
    assert_eq!(format_of(SCRYPT_LN16), (F::Scrypt, false));
    let phc_sha512 = "$pbkdf2-sha512$i=210000,l=64$c2FsdHNhbHRzYWx0\
        $AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw";
    assert_eq!(format_of(phc_sha512), (F::Pbkdf2Sha512, false));
    let django = format!("pbkdf2_sha256$870000$somesalt${}", STANDARD.encode([7u8; 32]));
    assert_eq!(format_of(&django), (F::DjangoPbkdf2Sha256, false));
    let firebase = firebase_stored_form(&STANDARD.encode([1u8; 64]), "42xEC+ixf3L2lw==").unwrap();
    assert_eq!(firebase, format!("$firebase-scrypt$42xEC+ixf3L2lw==${}", STANDARD.encode([1u8; 64])));
    assert_eq!(format_of(&firebase), (F::FirebaseScrypt, false));
}

#[test]
fn weak_hashes_are_accepted_below_the_floor() {
    use ImportedHashFormat as F;
    assert_eq!(format_of(&BCRYPT_12.replace("$12$", "$09$")), (F::Bcrypt, true));
    assert_eq!(format_of(&BCRYPT_12.replace("$12$", "$10$")), (F::Bcrypt, false));
    assert_eq!(format_of(&SCRYPT_LN16.replace("ln=16", "ln=14")), (F::Scrypt, true));
    assert_eq!(format_of(&SCRYPT_LN16.replace("ln=16", "ln=15")), (F::Scrypt, false));
    // passlib's own form (bare rounds, `.` for `+`) is read as the PHC string it means.
    assert_eq!(format_of(PASSLIB_PBKDF2_6400), (F::Pbkdf2Sha256, true));
    assert_eq!(format_of(&PASSLIB_PBKDF2_6400.replace("$6400$", "$100000$")), (F::Pbkdf2Sha256, false));
    let django = |rounds: u32| format!("pbkdf2_sha256${rounds}$somesalt${}", STANDARD.encode([7u8; 32]));
    assert_eq!(format_of(&django(99_999)), (F::DjangoPbkdf2Sha256, true));
    assert_eq!(format_of(&django(100_000)), (F::DjangoPbkdf2Sha256, false));
    let weak_argon = "$argon2id$v=19$m=4096,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
    assert_eq!(format_of(weak_argon), (F::Argon2, true));
}

#[test]
fn unknown_formats_are_refused() {
    for hash in [
        "",
        "hunter2",
        "$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0",                           // md5crypt
        "$6$rounds=5000$salt$hash",                                     // sha512crypt
        "$2x$12$L6Bc/AlTQHyd9liGgGEZyOFLPHNgyxeEPfgYfBCVxJ7JIlwxyVU3u", // buggy-bcrypt marker
        "sha1$salt$0123456789abcdef0123456789abcdef01234567",
        "pbkdf2_sha1$260000$salt$aGFzaA==",
        "$pbkdf2-sha1$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
    ] {
        let message = refused(hash);
        assert!(!message.is_empty(), "{hash}");
    }
    assert!(refused("$md5$x").contains("unknown hash format"));
}

#[test]
fn malformed_hashes_of_known_formats_are_refused() {
    for hash in [
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ", // no output
        "$argon2id$v=19$m=zz,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub", // bad param
        "$argon2id$v=19$m=1048576,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", // 1 GiB
        "$2b$12$short",
        "$2b$99$L6Bc/AlTQHyd9liGgGEZyOFLPHNgyxeEPfgYfBCVxJ7JIlwxyVU3u", // cost out of range
        "$2b$31$L6Bc/AlTQHyd9liGgGEZyOFLPHNgyxeEPfgYfBCVxJ7JIlwxyVU3u", // valid bcrypt, days of work
        "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q",                 // no output
        "$scrypt$ln=24,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", // 2 GiB
        "$scrypt$ln=x,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
        "$pbkdf2-sha256$10$0ZrzXitFSGltTQnBWOsdAw$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", // < 1000
        "$pbkdf2-sha256$notanumber$0ZrzXitFSGltTQnBWOsdAw$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M",
        "pbkdf2_sha256$870000$salt",
        "pbkdf2_sha256$lots$salt$aGFzaGhhc2hoYXNoaGFzaA==",
        "pbkdf2_sha256$870000$$aGFzaGhhc2hoYXNoaGFzaA==",
        "pbkdf2_sha256$870000$salt$not base64!",
        "$firebase-scrypt$onlyonepart",
        "$firebase-scrypt$!!!$aGFzaA==",
        "$firebase-scrypt$$aGFzaA==",
    ] {
        refused(hash);
    }
    assert!(firebase_stored_form("not base64!", "c2FsdA==").is_err());
    assert!(matches!(
        firebase_stored_form("aGFzaA==", "not base64!"),
        Err(CoreError::InvalidInput { field: "passwordSalt", .. })
    ));
}

/// The example of Firebase's own repository (github.com/firebase/scrypt, README).
#[test]
fn firebase_scrypt_matches_firebases_published_example() {
    let b64 = |s: &str| STANDARD.decode(s).unwrap();
    let params = FirebaseScryptParams::new(
        b64("jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="),
        b64("Bw=="),
        8,
        14,
    )
    .unwrap();
    let stored = firebase_stored_form(
        "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
        "42xEC+ixf3L2lw==",
    )
    .unwrap();
    assert!(verify(b"user1password", &stored, Some(&params)).unwrap());
    assert!(!verify(b"user1passwore", &stored, Some(&params)).unwrap());
    // Without the project's parameters: refused like a wrong password (and logged), never a
    // server error at sign-in.
    assert!(!verify(b"user1password", &stored, None).unwrap());
}

#[test]
fn passlib_examples_verify() {
    assert!(verify(b"password", PASSLIB_PBKDF2_6400, None).unwrap());
    assert!(!verify(b"passwore", PASSLIB_PBKDF2_6400, None).unwrap());
}

#[test]
fn firebase_parameters_are_checked() {
    assert!(FirebaseScryptParams::new(vec![1], vec![], 8, 14).is_ok());
    assert!(FirebaseScryptParams::new(vec![], vec![], 8, 14).is_err());
    assert!(FirebaseScryptParams::new(vec![1], vec![], 0, 14).is_err());
    assert!(FirebaseScryptParams::new(vec![1], vec![], 9, 14).is_err());
    assert!(FirebaseScryptParams::new(vec![1], vec![], 8, 15).is_err());
}
