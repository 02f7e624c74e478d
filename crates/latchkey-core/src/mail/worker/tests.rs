//! The retry/backoff/give-up policy driven through the real worker, over a queue held in
//! memory, a scripted mailer and a manual clock: no store, no SMTP, no sleeping.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use tokio::sync::Notify;

use super::*;
use crate::clock::ManualClock;
use crate::domain::{LinkPurpose, MailSettings, OutboxId, ProjectId};
use crate::mail::OutgoingMail;
use crate::store::OutboxState;

/// One-row queue with the store's claim rules: due when pending and `next_attempt_at` has come.
struct MemoryQueue {
    row: Mutex<OutboxRow>,
    settled: Mutex<Vec<Settlement>>,
    /// Prepare says "no such account" instead of handing out a message.
    no_account: bool,
    signal: Arc<Notify>,
}

impl MemoryQueue {
    fn new(now: DateTime<Utc>, no_account: bool) -> Arc<Self> {
        let row = OutboxRow {
            id: OutboxId::generate(),
            project_id: ProjectId::generate(),
            purpose: LinkPurpose::PasswordReset,
            state: OutboxState::Pending,
            payload_sealed: Some(vec![1]),
            attempts: 0,
            next_attempt_at: Some(now),
            lease_until: None,
            claim: None,
            last_error: None,
            created_at: now,
            updated_at: now,
            sent_at: None,
        };
        Arc::new(Self { row: Mutex::new(row), settled: Mutex::default(), no_account, signal: Arc::default() })
    }

    fn row(&self) -> OutboxRow {
        self.row.lock().unwrap().clone()
    }

    fn settled(&self) -> Vec<Settlement> {
        self.settled.lock().unwrap().clone()
    }
}

#[async_trait]
impl OutboxQueue for MemoryQueue {
    async fn claim(&self, claim: &Claim) -> Result<Option<OutboxRow>> {
        let mut row = self.row.lock().unwrap();
        let due = row.state == OutboxState::Pending && row.next_attempt_at.is_some_and(|at| at <= claim.now);
        if !due {
            return Ok(None);
        }
        row.state = OutboxState::Sending;
        row.claim = Some(claim.token.clone());
        row.lease_until = Some(claim.lease_until);
        Ok(Some(row.clone()))
    }

    async fn prepare(&self, row: &OutboxRow, _claim: &str) -> Result<Prepared> {
        if self.no_account {
            return Ok(Prepared::Drop);
        }
        Ok(Prepared::Send(Box::new(OutgoingMail {
            id: row.id,
            project: row.project_id,
            project_name: "Acme".into(),
            purpose: row.purpose,
            to: "a@example.com".into(),
            token: "T".into(),
            expires_at: row.created_at,
            settings: MailSettings::default(),
            relay_password: None,
        })))
    }

    async fn settle(&self, _id: OutboxId, claim: &str, settlement: &Settlement, now: DateTime<Utc>) -> Result<bool> {
        let mut row = self.row.lock().unwrap();
        assert_eq!(row.claim.as_deref(), Some(claim), "settled under the claim it was taken with");
        row.updated_at = now;
        match settlement {
            Settlement::Sent => row.state = OutboxState::Sent,
            Settlement::Dropped => row.state = OutboxState::Dropped,
            Settlement::Failed { error } => {
                row.state = OutboxState::Failed;
                row.last_error = Some(error.clone());
            }
            Settlement::Retry { at, error } => {
                row.state = OutboxState::Pending;
                row.attempts += 1;
                row.next_attempt_at = Some(*at);
                row.last_error = Some(error.clone());
            }
        }
        self.settled.lock().unwrap().push(settlement.clone());
        Ok(true)
    }

    fn wakeups(&self) -> Arc<Notify> {
        Arc::clone(&self.signal)
    }
}

/// Answers with the scripted results in turn, then succeeds.
#[derive(Default)]
struct ScriptedMailer {
    script: Mutex<VecDeque<std::result::Result<(), SendError>>>,
    calls: Mutex<usize>,
}

impl ScriptedMailer {
    fn failing(transient: usize) -> Arc<Self> {
        let script = (0..transient).map(|n| Err(SendError::Transient(format!("relay down ({n})")))).collect();
        Arc::new(Self { script: Mutex::new(script), calls: Mutex::default() })
    }

    fn calls(&self) -> usize {
        *self.calls.lock().unwrap()
    }
}

#[async_trait]
impl Mailer for ScriptedMailer {
    async fn send(&self, _mail: &OutgoingMail) -> std::result::Result<(), SendError> {
        *self.calls.lock().unwrap() += 1;
        self.script.lock().unwrap().pop_front().unwrap_or(Ok(()))
    }
}

#[derive(Default)]
struct Tally(Mutex<Vec<MailOutcome>>);

impl DeliveryObserver for Tally {
    fn delivered(&self, outcome: MailOutcome) {
        self.0.lock().unwrap().push(outcome);
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
}

fn worker(
    queue: &Arc<MemoryQueue>,
    mailer: &Arc<ScriptedMailer>,
    options: WorkerOptions,
) -> (OutboxWorker, Arc<ManualClock>, Arc<Tally>) {
    let clock = Arc::new(ManualClock::new(start()));
    let tally = Arc::new(Tally::default());
    let worker = OutboxWorker::new(queue.clone(), mailer.clone(), options)
        .with_clock(clock.clone())
        .with_observer(tally.clone());
    (worker, clock, tally)
}

fn retry_at(settlement: &Settlement) -> DateTime<Utc> {
    match settlement {
        Settlement::Retry { at, .. } => *at,
        other => panic!("expected a retry, got {other:?}"),
    }
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

#[tokio::test]
async fn transient_failures_back_off_by_the_documented_schedule_then_send() {
    let queue = MemoryQueue::new(start(), false);
    let mailer = ScriptedMailer::failing(3);
    let (worker, clock, tally) = worker(&queue, &mailer, WorkerOptions { jitter: 0.0, ..Default::default() });

    // 5 s, 10 s, 20 s: each retry waits exactly its backoff and is not claimed a moment sooner.
    for (attempt, wait) in [(1, 5), (2, 10), (3, 20)] {
        assert!(worker.run_once().await.unwrap(), "attempt {attempt} runs");
        let settled = queue.settled();
        assert_eq!(retry_at(settled.last().unwrap()), clock.now() + secs(wait));
        assert_eq!(queue.row().attempts, attempt);
        clock.advance(secs(wait) - chrono::Duration::milliseconds(1));
        assert!(!worker.run_once().await.unwrap(), "not due before its backoff");
        clock.advance(chrono::Duration::milliseconds(1));
    }
    assert!(worker.run_once().await.unwrap());
    assert_eq!(queue.row().state, OutboxState::Sent);
    assert_eq!(mailer.calls(), 4);
    assert_eq!(
        *tally.0.lock().unwrap(),
        [MailOutcome::Retry, MailOutcome::Retry, MailOutcome::Retry, MailOutcome::Sent]
    );
    assert!(!worker.run_once().await.unwrap(), "a sent row is never claimed again");
}

#[tokio::test]
async fn retries_are_jittered_but_never_later_than_the_schedule() {
    let queue = MemoryQueue::new(start(), false);
    let mailer = ScriptedMailer::failing(1);
    let (worker, clock, _) = worker(&queue, &mailer, WorkerOptions::default());
    assert!(worker.run_once().await.unwrap());
    let at = retry_at(&queue.settled()[0]);
    assert!(at > clock.now() + secs(4) && at <= clock.now() + secs(5), "5 s less up to 20%: {at}");
}

#[tokio::test]
async fn the_backoff_is_capped_at_thirty_minutes() {
    let queue = MemoryQueue::new(start(), false);
    queue.row.lock().unwrap().attempts = 15;
    let mailer = ScriptedMailer::failing(1);
    let (worker, clock, _) = worker(&queue, &mailer, WorkerOptions { jitter: 0.0, ..Default::default() });
    assert!(worker.run_once().await.unwrap());
    assert_eq!(retry_at(&queue.settled()[0]), clock.now() + secs(30 * 60));
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let queue = MemoryQueue::new(start(), false);
    let mailer = ScriptedMailer::failing(100);
    let options = WorkerOptions { max_attempts: 3, ..Default::default() };
    let (worker, clock, tally) = worker(&queue, &mailer, options);
    for _ in 0..3 {
        assert!(worker.run_once().await.unwrap());
        clock.advance(chrono::Duration::hours(1));
    }
    let settled = queue.settled();
    assert!(matches!(settled[..], [Settlement::Retry { .. }, Settlement::Retry { .. }, Settlement::Failed { .. }]));
    assert_eq!(queue.row().state, OutboxState::Failed);
    assert_eq!(queue.row().last_error.as_deref(), Some("relay down (2)"));
    assert_eq!(tally.0.lock().unwrap().last(), Some(&MailOutcome::Failed));
    clock.advance(chrono::Duration::days(1));
    assert!(!worker.run_once().await.unwrap(), "a failed row waits for `latchkey outbox retry`");
    assert_eq!(mailer.calls(), 3);
}

#[tokio::test]
async fn a_permanent_failure_is_not_retried() {
    let queue = MemoryQueue::new(start(), false);
    let mailer = Arc::new(ScriptedMailer::default());
    mailer.script.lock().unwrap().push_back(Err(SendError::Permanent("550 no such mailbox".into())));
    let (worker, clock, tally) = worker(&queue, &mailer, WorkerOptions::default());
    assert!(worker.run_once().await.unwrap());
    assert_eq!(queue.settled(), [Settlement::Failed { error: "550 no such mailbox".into() }]);
    clock.advance(chrono::Duration::days(1));
    assert!(!worker.run_once().await.unwrap());
    assert_eq!((mailer.calls(), tally.0.lock().unwrap().clone()), (1, vec![MailOutcome::Failed]));
}

#[tokio::test]
async fn a_request_for_no_account_is_dropped_without_sending() {
    let queue = MemoryQueue::new(start(), true);
    let mailer = Arc::new(ScriptedMailer::default());
    let (worker, _, tally) = worker(&queue, &mailer, WorkerOptions::default());
    assert!(worker.run_once().await.unwrap());
    assert_eq!(queue.settled(), [Settlement::Dropped]);
    assert_eq!((mailer.calls(), tally.0.lock().unwrap().clone()), (0, vec![MailOutcome::Dropped]));
}
