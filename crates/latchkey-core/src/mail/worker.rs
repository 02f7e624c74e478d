//! The outbox worker: claims due rows one at a time, prepares them, sends, and records the
//! outcome.
//!
//! Exactly-once, as far as SMTP allows: a row is claimed by one conditional UPDATE with a
//! fresh claim token and a lease, so two workers (or processes) never hold it at once, and
//! every later transition requires that claim. A crash after the relay accepted a message but
//! before the row was marked sent leaves the row `sending`; when the lease lapses it is sent
//! again, with the same Message-ID. That window (milliseconds) is the only duplicate path:
//! SMTP offers no way to make "accepted" and "recorded" one step.

use std::sync::Arc;

use tokio::sync::watch;

use super::mailer::{Mailer, SendError};
use super::outbox::{OutboxQueue, Prepared, Settlement};
use super::policy::{WorkerOptions, random_unit};
use crate::Result;
use crate::clock::{Clock, SystemClock};
use crate::crypto::random_token;
use crate::store::{Claim, OutboxRow};

/// What became of one outbox row handled by the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailOutcome {
    Sent,
    /// Delivery failed and will be retried.
    Retry,
    /// Delivery failed for good (permanent error or attempts exhausted).
    Failed,
    /// No account for the address: nothing sent, by design.
    Dropped,
}

impl MailOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            MailOutcome::Sent => "sent",
            MailOutcome::Retry => "retry",
            MailOutcome::Failed => "failed",
            MailOutcome::Dropped => "dropped",
        }
    }
}

/// Told of each handled row (the server counts them in `latchkey_mail_deliveries_total`).
pub trait DeliveryObserver: Send + Sync + 'static {
    fn delivered(&self, outcome: MailOutcome);
}

pub struct OutboxWorker {
    queue: Arc<dyn OutboxQueue>,
    mailer: Arc<dyn Mailer>,
    options: WorkerOptions,
    /// Worker time (claims, leases, retry times); the system clock outside tests.
    clock: Arc<dyn Clock>,
    observer: Option<Arc<dyn DeliveryObserver>>,
}

impl OutboxWorker {
    pub fn new(queue: Arc<dyn OutboxQueue>, mailer: Arc<dyn Mailer>, options: WorkerOptions) -> Self {
        Self { queue, mailer, options, clock: Arc::new(SystemClock), observer: None }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_observer(mut self, observer: Arc<dyn DeliveryObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    fn count(&self, outcome: MailOutcome) {
        if let Some(observer) = &self.observer {
            observer.delivered(outcome);
        }
    }

    /// Runs until `shutdown` turns true. A message being sent when it does is finished first
    /// (bounded by the SMTP timeout); everything else stays durable in the outbox.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let signal = self.queue.wakeups();
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.run_once().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "outbox worker: cannot read the outbox"),
            }
            tokio::select! {
                () = signal.notified() => {}
                () = tokio::time::sleep(self.options.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("outbox worker stopped");
    }

    /// Processes at most one due row; true if there was one.
    pub async fn run_once(&self) -> Result<bool> {
        let now = self.clock.now();
        let lease = chrono::Duration::from_std(self.options.lease)
            .map_err(|e| crate::CoreError::Internal(format!("outbox lease: {e}")))?;
        let claim = Claim { token: random_token(16), now, lease_until: now + lease };
        let Some(row) = self.queue.claim(&claim).await? else {
            return Ok(false);
        };
        self.process(&row, &claim.token).await;
        Ok(true)
    }

    async fn process(&self, row: &OutboxRow, claim: &str) {
        let outcome = match self.queue.prepare(row, claim).await {
            Ok(Prepared::Lost) => return,
            // No account for that address: nothing is sent, and nobody is told.
            Ok(Prepared::Drop) => {
                self.count(MailOutcome::Dropped);
                return self.record(row, claim, Settlement::Dropped).await;
            }
            Ok(Prepared::Send(mail)) => self.send(&mail).await,
            Ok(Prepared::Undeliverable(error)) => Err(SendError::Permanent(error)),
            Err(e) => Err(SendError::Transient(e.to_string())),
        };
        let settlement = match outcome {
            Ok(()) => {
                self.count(MailOutcome::Sent);
                Settlement::Sent
            }
            Err(SendError::Permanent(error)) => {
                tracing::warn!(outbox = %row.id, %error, "email failed permanently");
                self.count(MailOutcome::Failed);
                Settlement::Failed { error }
            }
            Err(SendError::Transient(error)) => self.after_transient(row, error),
        };
        self.record(row, claim, settlement).await;
    }

    /// The whole send (not just each SMTP command) must end well inside the lease, or another
    /// worker could claim the row and send it a second time.
    async fn send(&self, mail: &super::OutgoingMail) -> std::result::Result<(), SendError> {
        let budget = self.options.lease.mul_f32(0.75);
        match tokio::time::timeout(budget, self.mailer.send(mail)).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Transient("delivery did not finish within the claim lease".into())),
        }
    }

    /// Retry later with backoff, or give up after `max_attempts`.
    fn after_transient(&self, row: &OutboxRow, error: String) -> Settlement {
        let attempts = row.attempts + 1;
        match self.options.retry_delay(attempts, random_unit()) {
            None => {
                tracing::warn!(outbox = %row.id, %error, attempts, "email failed; giving up");
                self.count(MailOutcome::Failed);
                Settlement::Failed { error }
            }
            Some(delay) => {
                self.count(MailOutcome::Retry);
                tracing::info!(outbox = %row.id, %error, attempts, retry_in_ms = delay.as_millis() as u64,
                    "email delivery failed; will retry");
                let delay = chrono::Duration::from_std(delay).unwrap_or_else(|_| chrono::Duration::hours(1));
                Settlement::Retry { at: self.clock.now() + delay, error }
            }
        }
    }

    async fn record(&self, row: &OutboxRow, claim: &str, settlement: Settlement) {
        match self.queue.settle(row.id, claim, &settlement, self.clock.now()).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(outbox = %row.id, "sent, but the claim had lapsed; another worker may resend"),
            // The claim lapses on its own and the row is retried; nothing is lost.
            Err(e) => tracing::warn!(outbox = %row.id, error = %e, "cannot record the outbox outcome"),
        }
    }
}

#[cfg(test)]
mod tests;
