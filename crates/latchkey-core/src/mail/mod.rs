//! Email delivery's lifecycle, independent of SMTP: requests commit outbox rows (see
//! `auth::email`); an [`OutboxWorker`] claims each due row, has the [`Outbox`] prepare it into
//! an [`OutgoingMail`], hands that to a [`Mailer`] (the server supplies the SMTP and `.eml`
//! ones) and records the outcome, retrying transient failures with jittered exponential
//! backoff until [`WorkerOptions::max_attempts`].

mod mailer;
mod outbox;
mod policy;
mod worker;

pub use mailer::{Mailer, OutgoingMail, SendError};
pub use outbox::{Outbox, OutboxQueue, Prepared, Settlement};
pub use policy::WorkerOptions;
pub use worker::{DeliveryObserver, MailOutcome, OutboxWorker};
