//! The outbox worker: claims due rows one at a time, resolves and renders them, sends, and
//! records the outcome.
//!
//! Exactly-once, as far as SMTP allows: a row is claimed by one conditional UPDATE with a
//! fresh claim token and a lease, so two workers (or processes) never hold it at once, and
//! every later transition requires that claim. A crash after the relay accepted a message but
//! before the row was marked sent leaves the row `sending`; when the lease lapses it is sent
//! again, with the same Message-ID. That window (milliseconds) is the only duplicate path:
//! SMTP offers no way to make "accepted" and "recorded" one step.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use latchkey_core::auth::{AuthService, Prepared};
use latchkey_core::crypto::random_token;
use latchkey_core::store::{Claim, OutboxRow, OutboxState};
use tokio::sync::watch;

use super::transport::{Mailer, SendError};
use crate::metrics::MailOutcome;

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How often to look for due rows when nobody wakes the worker.
    pub poll: Duration,
    /// How long a claim lasts; must exceed the SMTP timeout by a margin.
    pub lease: Duration,
    /// First retry delay; doubles per attempt up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// After this many failed attempts a row is marked failed (`latchkey outbox retry`).
    pub max_attempts: i64,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(2),
            lease: Duration::from_secs(120),
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(30 * 60),
            max_attempts: 25,
        }
    }
}

pub struct OutboxWorker {
    auth: Arc<AuthService>,
    mailer: Arc<Mailer>,
    options: WorkerOptions,
    metrics: Option<Arc<crate::metrics::Metrics>>,
}

impl OutboxWorker {
    pub fn new(auth: Arc<AuthService>, mailer: Arc<Mailer>, options: WorkerOptions) -> Self {
        Self { auth, mailer, options, metrics: None }
    }

    /// Count each handled row by outcome (`latchkey_mail_deliveries_total`).
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    fn count(&self, outcome: crate::metrics::MailOutcome) {
        if let Some(metrics) = &self.metrics {
            metrics.record_mail(outcome);
        }
    }

    /// Runs until `shutdown` turns true. A message being sent when it does is finished first
    /// (bounded by the SMTP timeout); everything else stays durable in the outbox.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let signal = Arc::clone(self.auth.outbox_signal());
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
    pub async fn run_once(&self) -> Result<bool, String> {
        let now = Utc::now();
        let lease = chrono::Duration::from_std(self.options.lease).map_err(|e| e.to_string())?;
        let claim = Claim { token: random_token(16), now, lease_until: now + lease };
        let Some(row) = self.auth.store().claim_outbox(&claim).await.map_err(|e| e.to_string())? else {
            return Ok(false);
        };
        self.process(&row, &claim.token).await;
        Ok(true)
    }

    async fn process(&self, row: &OutboxRow, claim: &str) {
        let store = self.auth.store();
        let outcome = match self.auth.prepare_outbox(row, claim).await {
            Ok(Prepared::Lost) => return,
            Ok(Prepared::Drop) => {
                // No account for that address: nothing is sent, and nobody is told.
                let _ = store.outbox_finish(row.id, claim, OutboxState::Dropped, None, Utc::now()).await;
                self.count(MailOutcome::Dropped);
                return;
            }
            // The whole send (not just each SMTP command) must end well inside the lease, or
            // another worker could claim the row and send it a second time.
            Ok(Prepared::Send(link)) => {
                let budget = self.options.lease.mul_f32(0.75);
                match tokio::time::timeout(budget, self.mailer.deliver(&link)).await {
                    Ok(result) => result,
                    Err(_) => Err(SendError::Transient("delivery did not finish within the claim lease".into())),
                }
            }
            Err(e) => Err(SendError::Transient(e.to_string())),
        };
        if outcome.is_ok() {
            self.count(MailOutcome::Sent);
        }
        let now = Utc::now();
        let result = match outcome {
            Ok(()) => match store.outbox_sent(row.id, claim, now).await {
                Ok(true) => Ok(()),
                Ok(false) => {
                    tracing::warn!(outbox = %row.id, "sent, but the claim had lapsed; another worker may resend");
                    Ok(())
                }
                Err(e) => Err(e),
            },
            Err(SendError::Permanent(error)) => {
                tracing::warn!(outbox = %row.id, %error, "email failed permanently");
                self.count(MailOutcome::Failed);
                store.outbox_finish(row.id, claim, OutboxState::Failed, Some(&error), now).await
            }
            Err(SendError::Transient(error)) => {
                let attempts = row.attempts + 1;
                if attempts >= self.options.max_attempts {
                    tracing::warn!(outbox = %row.id, %error, attempts, "email failed; giving up");
                    self.count(MailOutcome::Failed);
                    store.outbox_finish(row.id, claim, OutboxState::Failed, Some(&error), now).await
                } else {
                    self.count(MailOutcome::Retry);
                    let delay = backoff(&self.options, attempts);
                    tracing::info!(outbox = %row.id, %error, attempts, retry_in_ms = delay.as_millis() as u64,
                        "email delivery failed; will retry");
                    let next = now + chrono::Duration::from_std(delay).unwrap_or_else(|_| chrono::Duration::hours(1));
                    store.outbox_retry_at(row.id, claim, next, &error, now).await
                }
            }
        };
        if let Err(e) = result {
            // The claim lapses on its own and the row is retried; nothing is lost.
            tracing::warn!(outbox = %row.id, error = %e, "cannot record the outbox outcome");
        }
    }
}

/// `retry_base * 2^(attempts-1)`, capped at `retry_max`.
fn backoff(options: &WorkerOptions, attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1)).unwrap_or(u32::MAX).min(20);
    options.retry_base.saturating_mul(1 << exponent).min(options.retry_max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let o = WorkerOptions {
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(60),
            ..Default::default()
        };
        let secs: Vec<u64> = (1..=6).map(|n| backoff(&o, n).as_secs()).collect();
        assert_eq!(secs, vec![5, 10, 20, 40, 60, 60]);
    }
}
