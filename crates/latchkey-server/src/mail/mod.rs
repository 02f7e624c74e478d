//! Email delivery's server half: SMTP relay URLs, message templates and the transports.
//!
//! Requests never send mail. They commit an outbox row (with its token, in one transaction)
//! and wake the worker (`latchkey_core::mail::OutboxWorker`), which claims, prepares and
//! retries in the core and hands each message to the [`LinkMailer`] here to render and send.

pub mod file;
pub mod smtp;
pub mod templates;
pub mod transport;

pub use file::EmlDrop;
pub use smtp::{SmtpSecurity, SmtpUrl};
pub use templates::Templates;
pub use transport::{LinkMailer, MailerConfig};
