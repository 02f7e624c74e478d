//! Readiness (`/readyz`): a single-flight probe whose outcome is shared and briefly trusted.
//!
//! Load balancers and orchestrators call `/readyz` often, from several places at once. Each
//! call must answer within a second, must not write a probe of its own, and must never report
//! ready from an old outcome while the database is stuck (another process holding SQLite's
//! write lock, PostgreSQL gone silent). So:
//!
//! - one probe runs at a time, in a task of its own; concurrent calls wait for the same run;
//! - a finished probe's outcome answers the calls of the next [`TRUSTED_FOR`];
//! - a call waits at most until [`PROBE_BOUND`] after its probe started, then answers
//!   `Unavailable` (the probe keeps running; when it ends, its outcome is recorded);
//! - a probe still running after [`HUNG_AFTER`] is abandoned: the next call starts another.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use latchkey_core::store::{StoreError, StoreResult};
use tokio::sync::watch;
use tokio::time::Instant;

/// How long a finished probe's outcome answers later calls.
pub(crate) const TRUSTED_FOR: Duration = Duration::from_secs(1);
/// How long a call waits for its probe (counted from the probe's start).
pub(crate) const PROBE_BOUND: Duration = Duration::from_millis(900);
/// After this long, a probe that has not finished no longer blocks a new one.
pub(crate) const HUNG_AFTER: Duration = Duration::from_secs(10);

/// The shared readiness state of one store.
#[derive(Default)]
pub(crate) struct Readiness {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// The last finished probe: when it finished, and how.
    last: Option<(Instant, StoreResult<()>)>,
    /// The probe in flight, if any.
    running: Option<Running>,
    /// Whether the last recorded outcome was a failure (for the transition log lines).
    failing: bool,
    /// Numbers the runs, so a late answer of an abandoned probe is recognised.
    runs: u64,
}

struct Running {
    run: u64,
    started: Instant,
    outcome: watch::Receiver<Option<StoreResult<()>>>,
}

impl Readiness {
    /// The database's readiness: a fresh enough outcome, the running probe's, or a new
    /// probe's (`start` makes it; it runs in a task of its own).
    pub(crate) async fn check<F, Fut>(&self, start: F) -> StoreResult<()>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = StoreResult<()>> + Send + 'static,
    {
        let (started, mut outcome) = {
            let mut state = lock(&self.state);
            let now = Instant::now();
            if let Some((at, last)) = &state.last
                && now < *at + TRUSTED_FOR
            {
                return copy(last);
            }
            match &state.running {
                Some(running) if now < running.started + HUNG_AFTER => (running.started, running.outcome.clone()),
                _ => {
                    state.runs += 1;
                    let run = state.runs;
                    let (sender, outcome) = watch::channel(None);
                    state.running = Some(Running { run, started: now, outcome: outcome.clone() });
                    let probe = start();
                    let shared = Arc::clone(&self.state);
                    tokio::spawn(async move {
                        let result = probe.await;
                        record(&shared, run, &result);
                        let _ = sender.send(Some(result));
                    });
                    (now, outcome)
                }
            }
        };
        let waited = tokio::time::timeout_at(started + PROBE_BOUND, outcome.wait_for(Option::is_some)).await;
        match waited {
            Ok(Ok(done)) => done.as_ref().map_or_else(|| Err(not_finished()), copy),
            // The probe's task ended without an answer (it panicked).
            Ok(Err(_)) => Err(StoreError::Unavailable("readiness: the probe failed".into())),
            Err(_) => Err(not_finished()),
        }
    }
}

/// Records run `run`'s outcome, unless a newer run replaced it; logs when writes stop or start
/// working again.
fn record(state: &Mutex<State>, run: u64, result: &StoreResult<()>) {
    let mut state = lock(state);
    if state.running.as_ref().is_some_and(|r| r.run != run) {
        return;
    }
    state.running = None;
    match (result, state.failing) {
        (Ok(()), true) => tracing::info!("database writes work again; ready"),
        (Err(err), false) => tracing::error!(error = %err, "database not writable; not ready"),
        _ => {}
    }
    state.failing = result.is_err();
    state.last = Some((Instant::now(), copy(result)));
}

/// The state; a mutex poisoned by a panic is reset, so the next call probes afresh.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poisoned| {
        state.clear_poison();
        let mut guard = poisoned.into_inner();
        *guard = State::default();
        guard
    })
}

fn not_finished() -> StoreError {
    StoreError::Unavailable(format!("readiness: the database did not answer within {} ms", PROBE_BOUND.as_millis()))
}

fn copy(result: &StoreResult<()>) -> StoreResult<()> {
    let Err(err) = result else { return Ok(()) };
    Err(match err {
        StoreError::Conflict(field) => StoreError::Conflict(*field),
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Unavailable(detail) => StoreError::Unavailable(detail.clone()),
        StoreError::StorageFull(detail) => StoreError::StorageFull(detail.clone()),
        StoreError::Other(detail) => StoreError::Other(detail.clone()),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn counting(
        runs: &Arc<AtomicU32>,
        delay: Duration,
        result: StoreResult<()>,
    ) -> impl Future<Output = StoreResult<()>> + Send + 'static {
        let runs = Arc::clone(runs);
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            result
        }
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_calls_share_one_probe_and_its_outcome_is_trusted_for_a_second() {
        let readiness = Arc::new(Readiness::default());
        let runs = Arc::new(AtomicU32::new(0));
        let calls: Vec<_> = (0..8)
            .map(|_| {
                let (readiness, runs) = (Arc::clone(&readiness), Arc::clone(&runs));
                tokio::spawn(
                    async move { readiness.check(|| counting(&runs, Duration::from_millis(100), Ok(()))).await },
                )
            })
            .collect();
        for call in calls {
            assert!(call.await.unwrap().is_ok());
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(readiness.check(|| counting(&runs, Duration::ZERO, Ok(()))).await.is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 1, "trusted within a second");
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(readiness.check(|| counting(&runs, Duration::ZERO, Ok(()))).await.is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 2, "probed again after a second");
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_probe_answers_unavailable_within_the_bound_and_a_hung_one_is_replaced() {
        let readiness = Readiness::default();
        let runs = Arc::new(AtomicU32::new(0));
        let started = Instant::now();
        let slow = readiness.check(|| counting(&runs, Duration::from_secs(60), Ok(()))).await;
        assert!(matches!(slow, Err(StoreError::Unavailable(_))), "{slow:?}");
        assert_eq!(started.elapsed(), PROBE_BOUND);
        // Still running: later calls answer at once, without a second probe.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let again = Instant::now();
        assert!(readiness.check(|| counting(&runs, Duration::ZERO, Ok(()))).await.is_err());
        assert!(again.elapsed() < Duration::from_millis(1));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // After the hung cap, a new probe runs.
        tokio::time::sleep(HUNG_AFTER).await;
        assert!(readiness.check(|| counting(&runs, Duration::ZERO, Ok(()))).await.is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_is_reported_and_a_poisoned_state_probes_again() {
        let readiness = Readiness::default();
        let runs = Arc::new(AtomicU32::new(0));
        let full = readiness.check(|| counting(&runs, Duration::ZERO, Err(StoreError::StorageFull("x".into())))).await;
        assert!(matches!(full, Err(StoreError::StorageFull(_))), "{full:?}");
        let state = Arc::clone(&readiness.state);
        let _ = std::thread::spawn(move || {
            let _guard = state.lock();
            panic!("poison the readiness state");
        })
        .join();
        assert!(readiness.state.is_poisoned());
        assert!(readiness.check(|| counting(&runs, Duration::ZERO, Ok(()))).await.is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 2, "re-probed instead of reusing the failure");
    }
}
