//! Email delivery: SMTP relay URLs, message templates, transports and the outbox worker.
//!
//! Requests never send mail. They commit an outbox row (with its token, in one transaction)
//! and wake the [`worker::OutboxWorker`], which renders and sends it with retries.

pub mod smtp;
pub mod templates;
pub mod transport;
pub mod worker;

pub use smtp::{SmtpSecurity, SmtpUrl};
pub use templates::Templates;
pub use transport::{Mailer, MailerConfig};
pub use worker::{OutboxWorker, WorkerOptions};
