//! Timestamps are stored as integer milliseconds since the epoch (UTC): exact, comparable
//! in SQL, and identical on both backends.

use chrono::{DateTime, TimeZone, Utc};
use latchkey_core::store::StoreError;

pub fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_millis_opt(ms).single().ok_or_else(|| StoreError::Other(format!("bad timestamp {ms}")))
}

pub fn opt_from_millis(ms: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    ms.map(from_millis).transpose()
}
