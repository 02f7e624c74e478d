//! Validated, normalised inputs.

use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;

use crate::{CoreError, Result};

/// An email address, trimmed, NFKC-folded and lower-cased character by character (emails are
/// case-insensitive here, non-ASCII included: `ÉVA@example.com`, `éva@example.com` and the
/// full-width `ｅva@example.com` are one account). Invisible and formatting characters
/// (zero-width, bidi controls) are refused, so look-alike duplicates cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self> {
        let invalid = |msg: &str| Err(CoreError::invalid("email", msg));
        if raw.chars().any(is_invisible_or_control) {
            return invalid("email must not contain spaces, control or invisible characters");
        }
        // Per-character lower-casing (not `str::to_lowercase`, whose final-sigma rule depends
        // on context), then NFC again so equal addresses have one byte form.
        let folded: String = raw.trim().nfkc().flat_map(char::to_lowercase).collect();
        let normalised: String = folded.nfc().collect();
        if normalised.is_empty() {
            return invalid("email is required");
        }
        if normalised.len() > Self::MAX_LEN {
            return invalid("email is too long (at most 254 bytes)");
        }
        if normalised.chars().any(|c| c.is_whitespace() || is_invisible_or_control(c)) {
            return invalid("email must not contain spaces, control or invisible characters");
        }
        let Some((local, domain)) = normalised.rsplit_once('@') else {
            return invalid("email must contain '@'");
        };
        // addr-spec only (RFC 5322 atext, plus UTF-8 per RFC 6531): no quoting, comments or
        // display names, so the stored string is exactly the mailbox mail goes to.
        let local_ok = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c);
        if local.is_empty()
            || local.len() > 64
            || !local.chars().all(local_ok)
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
        {
            return invalid("email has an invalid local part");
        }
        if !domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.') {
            return invalid("email has an invalid domain");
        }
        let bad_label = |label: &str| label.is_empty() || label.starts_with('-') || label.ends_with('-');
        if domain.split('.').any(bad_label) {
            return invalid("email has an invalid domain");
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Control characters and Unicode format characters (category Cf: zero-width joiners and
/// spaces, bidi overrides, soft hyphen, byte-order mark).
fn is_invisible_or_control(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    c.is_control() || c.general_category() == GeneralCategory::Format
}

/// A username: trimmed and lower-cased, 3-30 characters of `a-z 0-9 . _`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self> {
        Self::parse_for("username", raw)
    }

    pub fn parse_for(field: &'static str, raw: &str) -> Result<Self> {
        let normalised = raw.trim().to_lowercase();
        let len = normalised.chars().count();
        if !(3..=30).contains(&len) {
            return Err(CoreError::invalid(field, "username must be 3 to 30 characters"));
        }
        if !normalised.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_') {
            return Err(CoreError::invalid(field, "username may contain only letters a-z, digits, '.' and '_'"));
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plain-text password that met the policy. `Debug` never shows its content, and its
/// memory is wiped when it is dropped (both by `secrecy`).
#[derive(Debug)]
pub struct Password(SecretString);

impl Password {
    pub const MIN_CHARS: usize = 8;
    /// Longer passwords are refused, never truncated (and never hashed: that is a DoS vector).
    pub const MAX_BYTES: usize = 1024;

    /// For a new password: length bounds plus the strength policy.
    pub fn new_for(field: &'static str, raw: String) -> Result<Self> {
        Self::check_max(field, &raw)?;
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(CoreError::WeakPassword(format!("password must be at least {} characters", Self::MIN_CHARS)));
        }
        if raw.chars().all(|c| c == raw.chars().next().unwrap_or(' ')) {
            return Err(CoreError::WeakPassword("password must not repeat a single character".into()));
        }
        Ok(Self(raw.into()))
    }

    /// For a sign-in attempt: only the upper bound applies (an old password may predate policy).
    pub fn candidate(raw: String) -> Result<Self> {
        Self::check_max("password", &raw)?;
        if raw.is_empty() {
            return Err(CoreError::invalid("password", "password is required"));
        }
        Ok(Self(raw.into()))
    }

    fn check_max(field: &'static str, raw: &str) -> Result<()> {
        if raw.len() > Self::MAX_BYTES {
            return Err(CoreError::invalid(field, "password must be at most 1024 bytes"));
        }
        Ok(())
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_case_insensitively() {
        assert_eq!(Email::parse("  Alice@Example.COM ").unwrap().as_str(), "alice@example.com");
        assert_eq!(Email::parse("ÉVA@exämple.de").unwrap().as_str(), "éva@exämple.de");
        for bad in [
            "",
            "plain",
            "@x.com",
            "a@",
            "a b@x.com",
            "a@.com",
            "a@x..com",
            "a@x.com.",
            "a@-x.com",
            "a@x-.com",
            "victim.corp.com<attacker@evil.com>",
            "\"quoted\"@x.com",
            "a,b@x.com",
            "a@[127.0.0.1]",
            ".a@x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        // Invisible and bidi characters cannot make a look-alike second account.
        for sneaky in ["alice\u{200b}@example.com", "alice\u{202e}@example.com", "\u{feff}alice@example.com"] {
            assert!(Email::parse(sneaky).is_err(), "{sneaky:?} should be refused");
        }
        // Compatibility forms fold to the same address; final sigma folds like any sigma.
        assert_eq!(Email::parse("ａlice@example.com").unwrap().as_str(), "alice@example.com");
        assert_eq!(Email::parse("ΟΔΟΣ@x.gr").unwrap(), Email::parse("οδοσ@x.gr").unwrap());
    }

    #[test]
    fn usernames_follow_the_charset() {
        assert_eq!(Username::parse(" Alice_1.x ").unwrap().as_str(), "alice_1.x");
        for bad in ["ab", "a".repeat(31).as_str(), "al ice", "ålice", "al-ice"] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn password_bounds() {
        assert!(matches!(Password::new_for("password", "short".into()), Err(CoreError::WeakPassword(_))));
        assert!(matches!(Password::new_for("password", "aaaaaaaaaa".into()), Err(CoreError::WeakPassword(_))));
        assert!(matches!(
            Password::new_for("password", "x".repeat(1025)),
            Err(CoreError::InvalidInput { field: "password", .. })
        ));
        assert!(Password::new_for("password", "s3cur3P@ss".into()).is_ok());
        assert!(Password::candidate("x".repeat(2048)).is_err());
    }
}
