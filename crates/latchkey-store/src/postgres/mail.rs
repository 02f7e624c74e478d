//! [`latchkey_core::store::MailStore`] for PostgreSQL (generated; see `backend_mail.rs`).
//! Several processes' workers share the outbox: each claim skips rows another worker has
//! locked, and reset requests for one address take a transaction-scoped advisory lock so a
//! concurrent burst cannot count past the limit.

crate::impl_mail_store!(
    super::PgStore,
    sqlx::Postgres,
    sqlx::postgres::PgRow,
    crate::postgres::rows,
    claim = crate::sql_mail::CLAIM_OUTBOX_PG,
    rate_lock = Some(crate::sql_mail::LOCK_RATE_KEY_PG),
);
