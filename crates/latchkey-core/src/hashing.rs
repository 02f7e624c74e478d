//! The password-hashing pool.
//!
//! Argon2id is deliberately expensive (~20-40 ms of one core). Running it on the async workers
//! would stall every other request, so hashing runs on a fixed set of OS threads fed by a
//! bounded queue. When the queue is full, [`HasherPool`] answers [`CoreError::Busy`] at once
//! (the API returns 503 `server/busy`) instead of letting latency grow without bound.
//!
//! The threads lower their own scheduling priority (Linux `nice` 10): they soak up all idle
//! CPU, but the async workers (refreshes, JWKS, health checks) win whenever both want a core.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::oneshot;

use crate::domain::Password;
use crate::{CoreError, Result};

/// Argon2id cost. Defaults are OWASP's floor: 19 MiB, 2 passes, 1 lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

impl HashCost {
    pub fn params(self) -> Result<Params> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| CoreError::Internal(format!("invalid Argon2 parameters: {e}")))
    }

    fn argon2(self) -> Result<Argon2<'static>> {
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params()?))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSize {
    pub threads: usize,
    pub queue: usize,
}

impl Default for PoolSize {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self { threads, queue: 64 }
    }
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub matches: bool,
    /// The stored hash used weaker parameters than today's: rehash with the known password.
    pub needs_rehash: bool,
}

enum Job {
    Hash { password: Password, reply: oneshot::Sender<Result<String>> },
    Verify { password: Password, phc: String, reply: oneshot::Sender<Result<Verified>> },
}

pub struct HasherPool {
    queue: SyncSender<Job>,
    /// Verified against when the account does not exist, so both paths cost the same.
    dummy_hash: String,
    counters: Arc<Counters>,
}

/// Jobs waiting for a thread, and jobs refused because the queue was full.
#[derive(Default)]
struct Counters {
    queued: AtomicUsize,
    rejected: AtomicU64,
}

/// A snapshot of the pool's load, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Jobs accepted and not yet taken by a hashing thread.
    pub queued: usize,
    /// Jobs refused with [`CoreError::Busy`] since the pool started.
    pub rejected: u64,
}

impl HasherPool {
    pub fn start(cost: HashCost, size: PoolSize) -> Result<Self> {
        let argon2 = cost.argon2()?;
        let dummy_hash = argon2
            .hash_password(crate::crypto::random_token(24).as_bytes())
            .map_err(|e| CoreError::Internal(format!("dummy hash failed: {e}")))?
            .to_string();
        let (queue, jobs) = sync_channel::<Job>(size.queue.max(1));
        let jobs = Arc::new(Mutex::new(jobs));
        let counters = Arc::new(Counters::default());
        for n in 0..size.threads.max(1) {
            let jobs = Arc::clone(&jobs);
            let counters = Arc::clone(&counters);
            std::thread::Builder::new()
                .name(format!("latchkey-hash-{n}"))
                .spawn(move || worker(cost, &jobs, &counters))
                .map_err(|e| CoreError::Internal(format!("cannot start hashing thread: {e}")))?;
        }
        Ok(Self { queue, dummy_hash, counters })
    }

    pub async fn hash(&self, password: Password) -> Result<String> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        answer.await.map_err(|_| CoreError::Internal("hashing thread stopped".into()))?
    }

    /// Verifies `password` against `phc`, or against the dummy hash when there is no account
    /// (always answering "no match") so unknown emails take the same time as wrong passwords.
    pub async fn verify(&self, password: Password, phc: Option<String>) -> Result<Verified> {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_hash.clone());
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify { password, phc, reply })?;
        let verified = answer.await.map_err(|_| CoreError::Internal("hashing thread stopped".into()))??;
        Ok(Verified { matches: known && verified.matches, needs_rehash: known && verified.needs_rehash })
    }

    /// Current queue depth and the number of jobs refused so far.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            queued: self.counters.queued.load(Ordering::Relaxed),
            rejected: self.counters.rejected.load(Ordering::Relaxed),
        }
    }

    fn submit(&self, job: Job) -> Result<()> {
        // Counted before the send so a thread taking the job at once never sees it uncounted.
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        self.queue.try_send(job).map_err(|e| {
            self.counters.queued.fetch_sub(1, Ordering::Relaxed);
            match e {
                TrySendError::Full(_) => {
                    self.counters.rejected.fetch_add(1, Ordering::Relaxed);
                    CoreError::Busy
                }
                TrySendError::Disconnected(_) => CoreError::Internal("hashing pool stopped".into()),
            }
        })
    }
}

fn worker(cost: HashCost, jobs: &Mutex<Receiver<Job>>, counters: &Counters) {
    lower_thread_priority();
    let Ok(argon2) = cost.argon2() else { return };
    // Argon2's working memory (19 MiB by default), kept for the life of the thread: allocating
    // it per hash let the allocator hand it back to the OS and fault it in again each time,
    // which cost about a fifth of sign-in throughput (measured, see docs/BENCHMARKS.md).
    let mut scratch: Vec<argon2::Block> = Vec::new();
    loop {
        // Hold the lock only to take one job; the hash itself runs unlocked.
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        if job.is_ok() {
            counters.queued.fetch_sub(1, Ordering::Relaxed);
        }
        match job {
            // The request was abandoned (client gone, timeout) while queued: skip the work.
            Ok(Job::Hash { reply, .. }) if reply.is_closed() => {}
            Ok(Job::Verify { reply, .. }) if reply.is_closed() => {}
            Ok(Job::Hash { password, reply }) => {
                let result = argon2
                    .hash_password(password.expose().as_bytes())
                    .map(|h| h.to_string())
                    .map_err(|e| CoreError::Internal(format!("hashing failed: {e}")));
                let _ = reply.send(result);
            }
            Ok(Job::Verify { password, phc, reply }) => {
                let _ = reply.send(verify_one(cost, &mut scratch, &password, &phc));
            }
            Err(_) => return, // the pool was dropped
        }
    }
}

/// Verifies like `argon2`'s own `verify_password` (recompute with the stored algorithm,
/// version, parameters and salt; compare the outputs in constant time), but in `scratch`.
fn verify_one(cost: HashCost, scratch: &mut Vec<argon2::Block>, password: &Password, phc: &str) -> Result<Verified> {
    let unreadable = |e: &dyn std::fmt::Display| CoreError::Internal(format!("stored hash unreadable: {e}"));
    let parsed = PasswordHash::new(phc).map_err(|e| unreadable(&e))?;
    let params = Params::try_from(&parsed).map_err(|e| unreadable(&e))?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| unreadable(&e))?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(|e| unreadable(&e))?.unwrap_or_default();
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(CoreError::Internal("stored hash has no salt or output".into()));
    };
    let blocks = params.block_count();
    if scratch.len() < blocks {
        scratch.resize(blocks, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.as_bytes().len()];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(password.expose().as_bytes(), salt, &mut out, &mut scratch[..blocks])
        .map_err(|e| CoreError::Internal(format!("verification failed: {e}")))?;
    let computed = argon2::password_hash::phc::Output::new(&out).map_err(|e| unreadable(&e))?;
    let matches = computed == *expected; // `Output`'s equality is constant-time
    let needs_rehash = algorithm != Algorithm::Argon2id
        || params.m_cost() < cost.memory_kib
        || params.t_cost() < cost.iterations
        || params.p_cost() < cost.parallelism;
    Ok(Verified { matches, needs_rehash })
}

#[cfg(target_os = "linux")]
fn lower_thread_priority() {
    // On Linux, nice values are per thread: `who = 0` is the calling thread only.
    // SAFETY: setpriority has no memory-safety preconditions.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
}

#[cfg(not(target_os = "linux"))]
fn lower_thread_priority() {}

#[cfg(test)]
mod tests {
    use argon2::password_hash::PasswordVerifier;

    use super::*;

    fn cheap() -> HashCost {
        HashCost { memory_kib: 64, iterations: 1, parallelism: 1 }
    }

    fn pw(s: &str) -> Password {
        Password::candidate(s.into()).unwrap()
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let pool = HasherPool::start(cheap(), PoolSize { threads: 1, queue: 4 }).unwrap();
        let phc = pool.hash(pw("correct horse")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(pool.verify(pw("correct horse"), Some(phc.clone())).await.unwrap().matches);
        assert!(!pool.verify(pw("wrong horse"), Some(phc)).await.unwrap().matches);
        // No account: never matches, even with the dummy's own input being unknowable.
        assert!(!pool.verify(pw("anything"), None).await.unwrap().matches);
    }

    #[test]
    fn scratch_verification_agrees_with_the_library() {
        // Hashes made by argon2's stock path (with other parameters and algorithms too) verify
        // in the reused buffer exactly as argon2's own verify_password says.
        let mut scratch = Vec::new();
        for (algorithm, memory_kib) in
            [(Algorithm::Argon2id, 64), (Algorithm::Argon2id, 256), (Algorithm::Argon2i, 128)]
        {
            let stock = Argon2::new(algorithm, Version::V0x13, Params::new(memory_kib, 2, 1, None).unwrap());
            let phc = stock.hash_password(b"correct horse").unwrap().to_string();
            let parsed = PasswordHash::new(&phc).unwrap();
            for (candidate, expected) in [("correct horse", true), ("correct horsf", false), ("x", false)] {
                let ours = verify_one(cheap(), &mut scratch, &pw(candidate), &phc).unwrap().matches;
                assert_eq!(ours, expected, "{algorithm:?} m={memory_kib} {candidate:?}");
                assert_eq!(stock.verify_password(candidate.as_bytes(), &parsed).is_ok(), expected);
            }
        }
        assert!(verify_one(cheap(), &mut scratch, &pw("x"), "not a phc string").is_err());
    }

    #[tokio::test]
    async fn weaker_hashes_ask_for_rehash() {
        let weak = HasherPool::start(cheap(), PoolSize { threads: 1, queue: 4 }).unwrap();
        let phc = weak.hash(pw("correct horse")).await.unwrap();
        let stronger = HashCost { memory_kib: 128, ..cheap() };
        let pool = HasherPool::start(stronger, PoolSize { threads: 1, queue: 4 }).unwrap();
        let v = pool.verify(pw("correct horse"), Some(phc)).await.unwrap();
        assert!(v.matches && v.needs_rehash);
    }

    #[tokio::test]
    async fn full_queue_sheds_load() {
        // One slow thread, one queue slot: of many simultaneous jobs some must be refused.
        let slow = HashCost { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 };
        let pool = Arc::new(HasherPool::start(slow, PoolSize { threads: 1, queue: 1 }).unwrap());
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                let pool = Arc::clone(&pool);
                tokio::spawn(async move { pool.hash(pw("correct horse")).await })
            })
            .collect();
        let mut busy = 0;
        let mut done = 0;
        for job in jobs {
            match job.await.unwrap() {
                Err(CoreError::Busy) => busy += 1,
                Ok(_) => done += 1,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert!(busy >= 1, "expected load shedding, got {done} done");
        assert!(done >= 1);
        // Every refusal is counted, and nothing is left queued once all jobs have answered.
        assert_eq!(pool.stats(), PoolStats { queued: 0, rejected: busy });
    }
}
