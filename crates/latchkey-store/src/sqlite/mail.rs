//! [`latchkey_core::store::MailStore`] for SQLite (generated; see `backend_mail.rs`). The
//! single writer connection serialises outbox claims and reset-request counts by itself.

crate::impl_mail_store!(
    super::SqliteStore,
    sqlx::Sqlite,
    sqlx::sqlite::SqliteRow,
    crate::sqlite::rows,
    claim = crate::sql_mail::CLAIM_OUTBOX_SQLITE,
    rate_lock = None,
);
