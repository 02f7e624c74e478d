//! Listing users: the query as the operator states it, its checks, and the opaque page cursor.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use unicode_normalization::UnicodeNormalization;

use crate::domain::UserId;
use crate::store::UserFilter;
use crate::{CoreError, Result};

/// `active`: no suspension in force; `suspended`: one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Suspended,
}

/// One page request of the user list. Filters combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// 1 to 1000; default 100.
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Case-insensitive prefixes.
    pub email_prefix: Option<String>,
    pub username_prefix: Option<String>,
    pub verified: Option<bool>,
    pub status: Option<UserStatus>,
    pub foreign_id: Option<String>,
    /// Inclusive.
    pub created_after: Option<DateTime<Utc>>,
    /// Exclusive.
    pub created_before: Option<DateTime<Utc>>,
}

pub(super) const DEFAULT_LIMIT: u32 = 100;
pub(super) const MAX_LIMIT: u32 = 1000;

/// Marks a cursor as one of the user list (an audit-list cursor, say, is refused).
const CURSOR_PREFIX: &str = "users:";

impl UserQuery {
    /// The page size and the store's filter at `now`.
    pub(super) fn to_filter(&self, now: DateTime<Utc>) -> Result<(u32, UserFilter)> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(CoreError::invalid("limit", format!("limit must be between 1 and {MAX_LIMIT}")));
        }
        let filter = UserFilter {
            email_prefix: self.email_prefix.as_deref().and_then(fold_email_prefix),
            username_prefix: self.username_prefix.as_deref().map(|p| p.trim().to_lowercase()).filter(|p| !p.is_empty()),
            verified: self.verified,
            suspended: self.status.map(|status| status == UserStatus::Suspended),
            foreign_id: self.foreign_id.clone(),
            created_at_or_after: self.created_after,
            created_before: self.created_before,
            after_id: self.cursor.as_deref().map(decode_cursor).transpose()?,
            now,
        };
        Ok((limit, filter))
    }
}

/// An email prefix folded as stored addresses are (see `Email::parse`), so `ÉVA` finds `éva@…`.
fn fold_email_prefix(raw: &str) -> Option<String> {
    let folded: String = raw.trim().nfkc().flat_map(char::to_lowercase).collect();
    let folded: String = folded.nfc().collect();
    (!folded.is_empty()).then_some(folded)
}

/// The cursor after `last`: opaque to callers (its form may change).
pub(super) fn encode_cursor(last: UserId) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{last}"))
}

fn decode_cursor(cursor: &str) -> Result<UserId> {
    URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(CURSOR_PREFIX).and_then(|id| id.parse().ok()))
        .ok_or(CoreError::InvalidCursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let id = UserId::generate();
        assert_eq!(decode_cursor(&encode_cursor(id)).unwrap(), id);
        for bad in ["", "garbage!", &URL_SAFE_NO_PAD.encode(format!("audit:{id}")), &URL_SAFE_NO_PAD.encode("users:x")]
        {
            assert!(matches!(decode_cursor(bad), Err(CoreError::InvalidCursor)), "{bad:?}");
        }
    }

    #[test]
    fn limits_and_prefixes() {
        let now = Utc::now();
        for limit in [0, MAX_LIMIT + 1] {
            let query = UserQuery { limit: Some(limit), ..Default::default() };
            assert!(matches!(query.to_filter(now), Err(CoreError::InvalidInput { field: "limit", .. })));
        }
        let query = UserQuery {
            email_prefix: Some(" ÉVA".into()),
            username_prefix: Some("  ".into()),
            status: Some(UserStatus::Active),
            ..Default::default()
        };
        let (limit, filter) = query.to_filter(now).unwrap();
        assert_eq!(limit, DEFAULT_LIMIT);
        assert_eq!(filter.email_prefix.as_deref(), Some("éva"));
        assert_eq!(filter.username_prefix, None, "a blank prefix filters nothing");
        assert_eq!(filter.suspended, Some(false));
    }
}
