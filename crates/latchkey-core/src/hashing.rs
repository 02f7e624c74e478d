//! The password-hashing pool.
//!
//! Argon2id is deliberately expensive (~20-40 ms of one core). Running it on the async workers
//! would stall every other request, so hashing runs on a fixed set of OS threads fed by
//! bounded queues. When a queue is full, [`HasherPool`] answers [`CoreError::Busy`] at once
//! (the API returns 503 `server/busy`) instead of letting latency grow without bound.
//!
//! The queues are per project and served round robin, so one project flooding sign-ins fills
//! (and is refused from) its own queue while another project's jobs wait behind at most one
//! job of each busy project. Each project may queue the configured `hash_queue` jobs; all
//! projects together [`GLOBAL_QUEUE_FACTOR`] times that. When the global bound is reached, a
//! project queueing less than the longest queue still gets in: the longest queue's newest job
//! is refused in its place, so it is always the flooding project that is shed.
//!
//! The threads lower their own scheduling priority (Linux `nice` 10): they soak up all idle
//! CPU, but the async workers (refreshes, JWKS, health checks) win whenever both want a core.

pub mod imported;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;
use tracing::Instrument;

use self::imported::FirebaseScryptParams;
use crate::domain::{Password, ProjectId};
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
}

/// How many jobs all projects together may queue, in multiples of one project's bound.
pub const GLOBAL_QUEUE_FACTOR: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSize {
    pub threads: usize,
    /// Jobs one project may have waiting for a thread (all projects: [`GLOBAL_QUEUE_FACTOR`]
    /// times this).
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
    Hash {
        password: Password,
        reply: oneshot::Sender<Result<String>>,
    },
    Verify {
        password: Password,
        phc: String,
        firebase: Option<FirebaseScryptParams>,
        reply: oneshot::Sender<Result<Verified>>,
    },
    /// Test-only: runs a closure on a hashing thread (to hold threads, or to see the order
    /// jobs are served in).
    #[cfg(test)]
    Run(Box<dyn FnOnce() + Send>),
}

impl Job {
    /// The caller has gone (client gone, timeout) while the job was queued.
    fn abandoned(&self) -> bool {
        match self {
            Job::Hash { reply, .. } => reply.is_closed(),
            Job::Verify { reply, .. } => reply.is_closed(),
            #[cfg(test)]
            Job::Run(_) => false,
        }
    }

    /// Answers busy without running: the job was pushed out of a full queue.
    fn refuse(self) {
        match self {
            Job::Hash { reply, .. } => drop(reply.send(Err(CoreError::Busy))),
            Job::Verify { reply, .. } => drop(reply.send(Err(CoreError::Busy))),
            #[cfg(test)]
            Job::Run(_) => {}
        }
    }
}

/// The jobs waiting for a thread: a FIFO per project with work, and the ring of those
/// projects in the order they are served. A project leaves both when its queue empties, so
/// the map holds only projects with queued jobs.
#[derive(Default)]
struct Queues {
    by_project: HashMap<ProjectId, VecDeque<Job>>,
    ring: VecDeque<ProjectId>,
    total: usize,
    stopped: bool,
}

impl Queues {
    /// The next job, round robin over the projects with work.
    fn take(&mut self) -> Option<Job> {
        let project = self.ring.pop_front()?;
        let queue = self.by_project.get_mut(&project)?;
        let job = queue.pop_front();
        if queue.is_empty() {
            self.by_project.remove(&project);
        } else {
            self.ring.push_back(project);
        }
        if job.is_some() {
            self.total -= 1;
        }
        job
    }

    /// The newest job of the project queueing the most, if that is more than `than`.
    fn evict_longest(&mut self, than: usize) -> Option<Job> {
        let (&longest, _) = self.by_project.iter().max_by_key(|(_, q)| q.len()).filter(|(_, q)| q.len() > than)?;
        let queue = self.by_project.get_mut(&longest)?;
        let job = queue.pop_back();
        if queue.is_empty() {
            self.by_project.remove(&longest);
            self.ring.retain(|p| *p != longest);
        }
        if job.is_some() {
            self.total -= 1;
        }
        job
    }
}

struct Shared {
    queues: Mutex<Queues>,
    /// Signalled when a job is queued or the pool stops.
    work: Condvar,
    per_project: usize,
    global: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        // A panic while holding the lock leaves the queues consistent (no await, no partial
        // update that matters), so a poisoned lock is still usable.
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct HasherPool {
    shared: Arc<Shared>,
    /// Verified against when the account does not exist, so both paths cost the same.
    dummy_hash: String,
    counters: Arc<Counters>,
    threads: usize,
}

/// Jobs waiting for a thread, jobs being run, jobs run, and jobs refused because the queue
/// was full.
#[derive(Default)]
struct Counters {
    queued: AtomicUsize,
    running: AtomicUsize,
    completed: AtomicU64,
    rejected: AtomicU64,
}

/// A snapshot of the pool's load, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Hashing threads.
    pub threads: usize,
    /// Jobs accepted and not yet taken by a hashing thread.
    pub queued: usize,
    /// Threads hashing or verifying right now.
    pub busy: usize,
    /// Hashes and verifications finished since the pool started.
    pub completed: u64,
    /// Jobs refused with [`CoreError::Busy`] since the pool started.
    pub rejected: u64,
}

impl HasherPool {
    pub fn start(cost: HashCost, size: PoolSize) -> Result<Self> {
        cost.params()?;
        let per_project = size.queue.max(1);
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues::default()),
            work: Condvar::new(),
            per_project,
            global: per_project.saturating_mul(GLOBAL_QUEUE_FACTOR),
        });
        let counters = Arc::new(Counters::default());
        let threads = size.threads.max(1);
        // The dummy hash is made by the first hashing thread, in the memory it keeps anyway,
        // rather than in a 19 MiB buffer allocated here and freed.
        let (dummy_reply, dummy) = std::sync::mpsc::sync_channel::<Result<String>>(1);
        for n in 0..threads {
            let jobs = Arc::clone(&shared);
            let counters = Arc::clone(&counters);
            let dummy_reply = (n == 0).then(|| dummy_reply.clone());
            std::thread::Builder::new()
                .name(format!("latchkey-hash-{n}"))
                .spawn(move || worker(cost, &jobs, &counters, dummy_reply))
                .map_err(|e| CoreError::Internal(format!("cannot start hashing thread: {e}")))?;
        }
        let dummy_hash = dummy
            .recv()
            .map_err(|_| CoreError::Internal("hashing thread stopped before the dummy hash".into()))?
            .map_err(|e| CoreError::Internal(format!("dummy hash failed: {e}")))?;
        Ok(Self { shared, dummy_hash, counters, threads })
    }

    /// Hashes `password` for a user of `project` (whose queue the job waits in).
    pub async fn hash(&self, project: ProjectId, password: Password) -> Result<String> {
        // A span (traces only; DEBUG, so off in the default logs) covering the wait for a
        // thread and the hash itself.
        let span = tracing::debug_span!("password.hash");
        async {
            let (reply, answer) = oneshot::channel();
            self.submit(project, Job::Hash { password, reply })?;
            answer.await.map_err(|_| CoreError::Internal("hashing thread stopped".into()))?
        }
        .instrument(span)
        .await
    }

    /// Verifies `password` against `phc`, or against the dummy hash when there is no account
    /// (always answering "no match") so unknown emails take the same time as wrong passwords.
    /// `project` is the request's, known account or not.
    pub async fn verify(&self, project: ProjectId, password: Password, phc: Option<String>) -> Result<Verified> {
        self.verify_with(project, password, phc, None).await
    }

    /// [`Self::verify`] for any stored format, imported ones included ([`imported`]);
    /// `firebase` is the project's parameters, read only for `$firebase-scrypt$` hashes.
    pub async fn verify_with(
        &self,
        project: ProjectId,
        password: Password,
        phc: Option<String>,
        firebase: Option<FirebaseScryptParams>,
    ) -> Result<Verified> {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_hash.clone());
        let span = tracing::debug_span!("password.verify");
        async {
            let (reply, answer) = oneshot::channel();
            self.submit(project, Job::Verify { password, phc, firebase, reply })?;
            let verified = answer.await.map_err(|_| CoreError::Internal("hashing thread stopped".into()))??;
            Ok(Verified { matches: known && verified.matches, needs_rehash: known && verified.needs_rehash })
        }
        .instrument(span)
        .await
    }

    /// The pool's load now: queue depth, busy threads, jobs run and refused so far.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            threads: self.threads,
            queued: self.counters.queued.load(Ordering::Relaxed),
            busy: self.counters.running.load(Ordering::Relaxed),
            completed: self.counters.completed.load(Ordering::Relaxed),
            rejected: self.counters.rejected.load(Ordering::Relaxed),
        }
    }

    fn submit(&self, project: ProjectId, job: Job) -> Result<()> {
        let shed = {
            let mut queues = self.shared.lock();
            if queues.stopped {
                return Err(CoreError::Internal("hashing pool stopped".into()));
            }
            let mine = queues.by_project.get(&project).map_or(0, VecDeque::len);
            if mine >= self.shared.per_project {
                drop(queues);
                self.counters.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(CoreError::Busy);
            }
            // All queues together are full: make room by shedding a job of a project queueing
            // more than this one would after admission, or refuse this one.
            let shed = if queues.total >= self.shared.global {
                match queues.evict_longest(mine + 1) {
                    Some(shed) => Some(shed),
                    None => {
                        drop(queues);
                        self.counters.rejected.fetch_add(1, Ordering::Relaxed);
                        return Err(CoreError::Busy);
                    }
                }
            } else {
                None
            };
            let queue = queues.by_project.entry(project).or_default();
            let joined = queue.is_empty();
            queue.push_back(job);
            if joined {
                queues.ring.push_back(project);
            }
            queues.total += 1;
            // Under the lock, so a thread taking the job at once never sees it uncounted.
            if shed.is_none() {
                self.counters.queued.fetch_add(1, Ordering::Relaxed);
            }
            shed
        };
        if let Some(shed) = shed {
            self.counters.rejected.fetch_add(1, Ordering::Relaxed);
            shed.refuse();
        }
        self.shared.work.notify_one();
        Ok(())
    }

    /// Test-only: runs `f` on a hashing thread as a job of `project`.
    #[cfg(test)]
    fn run_as(&self, project: ProjectId, f: impl FnOnce() + Send + 'static) -> Result<()> {
        self.submit(project, Job::Run(Box::new(f)))
    }
}

impl Drop for HasherPool {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.work.notify_all();
    }
}

impl Counters {
    /// Runs one job counted as running, and as completed before its answer is sent (so a
    /// caller holding the answer never sees it still running).
    fn run<T>(&self, job: impl FnOnce() -> T) -> T {
        self.running.fetch_add(1, Ordering::Relaxed);
        let answer = job();
        self.running.fetch_sub(1, Ordering::Relaxed);
        self.completed.fetch_add(1, Ordering::Relaxed);
        answer
    }
}

fn worker(cost: HashCost, jobs: &Shared, counters: &Counters, dummy: Option<SyncSender<Result<String>>>) {
    lower_thread_priority();
    // Argon2's working memory (19 MiB by default), kept for the life of the thread and used by
    // every hash and verification it runs: allocating it per hash let the allocator hand it
    // back to the OS and fault it in again each time (a fifth of sign-in throughput), and
    // under a sign-up flood glibc kept freed buffers in per-thread arenas (RSS 250-290 MiB).
    // Measured in docs/BENCHMARKS.md.
    let mut scratch = Scratch::default();
    if let Some(reply) = dummy {
        let _ = reply.send(hash_one(cost, &mut scratch, crate::crypto::random_token(24).as_bytes()));
    }
    loop {
        // Hold the lock only to take one job; the hash itself runs unlocked.
        let job = {
            let mut queues = jobs.lock();
            loop {
                if queues.stopped {
                    return; // the pool was dropped
                }
                if let Some(job) = queues.take() {
                    counters.queued.fetch_sub(1, Ordering::Relaxed);
                    break job;
                }
                queues = jobs.work.wait(queues).unwrap_or_else(|p| p.into_inner());
            }
        };
        if job.abandoned() {
            // The request was abandoned (client gone, timeout) while queued: skip the work.
            continue;
        }
        match job {
            Job::Hash { password, reply } => {
                let hashed = counters.run(|| hash_one(cost, &mut scratch, password.expose().as_bytes()));
                let _ = reply.send(hashed);
            }
            Job::Verify { password, phc, firebase, reply } => {
                let verified = counters.run(|| verify_any(cost, &mut scratch, &password, &phc, firebase.as_ref()));
                let _ = reply.send(verified);
            }
            #[cfg(test)]
            Job::Run(f) => counters.run(f),
        }
    }
}

/// One hashing thread's Argon2 memory. It grows to the largest cost it has seen (today's
/// parameters, or a stored hash's when verifying an older, larger one) and is never freed.
#[derive(Default)]
struct Scratch {
    blocks: Vec<Block>,
}

impl Scratch {
    fn blocks_for(&mut self, params: &Params) -> &mut [Block] {
        let needed = params.block_count();
        if self.blocks.len() < needed {
            // Drop the old buffer first so growing never holds both.
            self.blocks = Vec::new();
            self.blocks.resize(needed, Block::default());
        }
        &mut self.blocks[..needed]
    }
}

/// Hashes like `argon2`'s own `hash_password` (random 16-byte salt, today's parameters,
/// Argon2id v19, 32-byte output, PHC string), but in `scratch`.
fn hash_one(cost: HashCost, scratch: &mut Scratch, password: &[u8]) -> Result<String> {
    let failed = |e: &dyn std::fmt::Display| CoreError::Internal(format!("hashing failed: {e}"));
    let params = cost.params()?;
    let salt = argon2::password_hash::try_generate_salt().map_err(|e| failed(&e))?;
    let salt = Salt::new(&salt).map_err(|e| failed(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let (algorithm, version) = (Algorithm::Argon2id, Version::V0x13);
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(password, &salt, &mut out, scratch.blocks_for(&params))
        .map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
}

/// Argon2 in the thread's buffer; any other (imported) format through [`imported`], always
/// to be replaced by today's Argon2id once the password is known.
fn verify_any(
    cost: HashCost,
    scratch: &mut Scratch,
    password: &Password,
    stored: &str,
    firebase: Option<&FirebaseScryptParams>,
) -> Result<Verified> {
    if stored.starts_with("$argon2") {
        return verify_one(cost, scratch, password, stored);
    }
    let matches = imported::verify(password.expose().as_bytes(), stored, firebase)?;
    Ok(Verified { matches, needs_rehash: true })
}

/// Verifies like `argon2`'s own `verify_password` (recompute with the stored algorithm,
/// version, parameters and salt; compare the outputs in constant time), but in `scratch`.
fn verify_one(cost: HashCost, scratch: &mut Scratch, password: &Password, phc: &str) -> Result<Verified> {
    let unreadable = |e: &dyn std::fmt::Display| CoreError::Internal(format!("stored hash unreadable: {e}"));
    let parsed = PasswordHash::new(phc).map_err(|e| unreadable(&e))?;
    let params = Params::try_from(&parsed).map_err(|e| unreadable(&e))?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| unreadable(&e))?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(|e| unreadable(&e))?.unwrap_or_default();
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(CoreError::Internal("stored hash has no salt or output".into()));
    };
    let mut out = vec![0u8; expected.as_bytes().len()];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(password.expose().as_bytes(), salt, &mut out, scratch.blocks_for(&params))
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
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    fn cheap() -> HashCost {
        HashCost { memory_kib: 64, iterations: 1, parallelism: 1 }
    }

    fn pw(s: &str) -> Password {
        Password::candidate(s.into()).unwrap()
    }

    /// One project for the tests where projects do not matter.
    fn p() -> ProjectId {
        ProjectId(uuid::Uuid::nil())
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let pool = HasherPool::start(cheap(), PoolSize { threads: 1, queue: 4 }).unwrap();
        let phc = pool.hash(p(), pw("correct horse")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(pool.verify(p(), pw("correct horse"), Some(phc.clone())).await.unwrap().matches);
        assert!(!pool.verify(p(), pw("wrong horse"), Some(phc)).await.unwrap().matches);
        // No account: never matches, even with the dummy's own input being unknowable.
        assert!(!pool.verify(p(), pw("anything"), None).await.unwrap().matches);
    }

    #[test]
    fn scratch_verification_agrees_with_the_library() {
        // Hashes made by argon2's stock path (with other parameters and algorithms too) verify
        // in the reused buffer exactly as argon2's own verify_password says.
        let mut scratch = Scratch::default();
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

    #[test]
    fn scratch_hashes_are_what_the_library_would_make() {
        // PHC strings made in the reused buffer: same shape as argon2's own `hash_password`
        // (algorithm, version, parameters, 16-byte salt, 32-byte output), and argon2's own
        // verify_password accepts the right password and refuses others.
        let mut scratch = Scratch::default();
        for cost in [cheap(), HashCost { memory_kib: 256, iterations: 3, parallelism: 2 }, HashCost::default()] {
            let ours = hash_one(cost, &mut scratch, b"correct horse").unwrap();
            let stock = cost.params().map(|p| Argon2::new(Algorithm::Argon2id, Version::V0x13, p)).unwrap();
            let theirs = stock.hash_password(b"correct horse").unwrap().to_string();
            let shape = |phc: &str| {
                let parsed = PasswordHash::new(phc).unwrap();
                (
                    parsed.algorithm,
                    parsed.version,
                    parsed.params,
                    parsed.salt.unwrap().len(),
                    parsed.hash.unwrap().len(),
                )
            };
            assert_eq!(shape(&ours), shape(&theirs), "{ours} vs {theirs}");
            let parsed = PasswordHash::new(&ours).unwrap();
            assert!(stock.verify_password(b"correct horse", &parsed).is_ok());
            assert!(stock.verify_password(b"correct horsf", &parsed).is_err());
            assert!(verify_one(cost, &mut scratch, &pw("correct horse"), &ours).unwrap().matches);
            assert_ne!(hash_one(cost, &mut scratch, b"correct horse").unwrap(), ours, "a fresh salt each time");
        }
    }

    #[test]
    fn hashing_and_verifying_share_one_buffer() {
        // The sign-up path (hash) and the sign-in path (verify) work in the same memory: once
        // it has grown to today's cost, neither allocates another buffer.
        let cost = HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 };
        let mut scratch = Scratch::default();
        let phc = hash_one(cost, &mut scratch, b"correct horse").unwrap();
        let buffer = scratch.blocks.as_ptr();
        assert_eq!(scratch.blocks.len(), 1024, "one block per KiB");
        for _ in 0..3 {
            hash_one(cost, &mut scratch, b"another").unwrap();
            verify_one(cost, &mut scratch, &pw("correct horse"), &phc).unwrap();
        }
        assert_eq!(scratch.blocks.as_ptr(), buffer, "the same buffer throughout");
    }

    #[tokio::test]
    async fn weaker_hashes_ask_for_rehash() {
        let weak = HasherPool::start(cheap(), PoolSize { threads: 1, queue: 4 }).unwrap();
        let phc = weak.hash(p(), pw("correct horse")).await.unwrap();
        let stronger = HashCost { memory_kib: 128, ..cheap() };
        let pool = HasherPool::start(stronger, PoolSize { threads: 1, queue: 4 }).unwrap();
        let v = pool.verify(p(), pw("correct horse"), Some(phc)).await.unwrap();
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
                tokio::spawn(async move { pool.hash(p(), pw("correct horse")).await })
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
        // Every refusal and every job run is counted, and nothing is left queued or running
        // once all jobs have answered.
        assert_eq!(pool.stats(), PoolStats { threads: 1, queued: 0, busy: 0, completed: done, rejected: busy });
    }

    #[tokio::test]
    async fn a_flooded_project_does_not_starve_another() {
        // One thread held on a gate, two queue slots per project (eight in all).
        let pool = HasherPool::start(cheap(), PoolSize { threads: 1, queue: 2 }).unwrap();
        let (a, b) = (ProjectId::generate(), ProjectId::generate());
        let (open, gate) = std::sync::mpsc::channel::<()>();
        pool.run_as(a, move || {
            let _ = gate.recv();
        })
        .unwrap();
        // The thread has taken the gate job: nothing drains from here on.
        while pool.stats().busy == 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let served = Arc::new(Mutex::new(Vec::new()));
        let log = |label: &'static str| {
            let served = Arc::clone(&served);
            move || served.lock().unwrap().push(label)
        };
        pool.run_as(a, log("a1")).unwrap();
        pool.run_as(a, log("a2")).unwrap();
        // A's queue is full: A is refused, B (same moment, same pool) is admitted.
        assert!(matches!(pool.run_as(a, log("a3")), Err(CoreError::Busy)));
        pool.run_as(b, log("b1")).unwrap();
        assert!(matches!(pool.run_as(a, log("a4")), Err(CoreError::Busy)));
        // Real hashing jobs are refused the same way.
        assert!(matches!(pool.hash(a, pw("correct horse")).await, Err(CoreError::Busy)));
        assert_eq!(pool.stats().queued, 3);
        assert_eq!(pool.stats().rejected, 3);

        drop(open);
        let b_hash = pool.hash(b, pw("correct horse")).await.unwrap();
        assert!(pool.verify(b, pw("correct horse"), Some(b_hash)).await.unwrap().matches);
        // Round robin: B's job ran in the first round, before A's backlog was drained.
        assert_eq!(*served.lock().unwrap(), ["a1", "b1", "a2"]);
        assert_eq!(pool.stats().queued, 0);
    }

    #[tokio::test]
    async fn the_global_bound_sheds_the_longest_queue() {
        // Two slots per project, eight in all, the one thread held on a gate.
        let pool = HasherPool::start(cheap(), PoolSize { threads: 1, queue: 2 }).unwrap();
        let (open, gate) = std::sync::mpsc::channel::<()>();
        let flooder = ProjectId::generate();
        pool.run_as(flooder, move || {
            let _ = gate.recv();
        })
        .unwrap();
        while pool.stats().busy == 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        // Four projects with two jobs each: the global bound is reached.
        let served = Arc::new(Mutex::new(Vec::new()));
        let log = |label: String| {
            let served = Arc::clone(&served);
            move || served.lock().unwrap().push(label)
        };
        let projects: Vec<_> = (0..4).map(|_| ProjectId::generate()).collect();
        for (n, project) in projects.iter().enumerate() {
            for k in 0..2 {
                pool.run_as(*project, log(format!("p{n}.{k}"))).unwrap();
            }
        }
        assert_eq!(pool.stats().queued, 8);
        // A fifth project still gets in: the newest job of a longest queue is refused instead.
        let newcomer = ProjectId::generate();
        pool.run_as(newcomer, log("new.0".into())).unwrap();
        assert_eq!(pool.stats().queued, 8);
        assert_eq!(pool.stats().rejected, 1);
        // Its second job would make it as long as the longest: refused.
        assert!(matches!(pool.run_as(newcomer, log("new.1".into())), Err(CoreError::Busy)));
        assert_eq!(pool.stats().rejected, 2);
        drop(open);
        while pool.stats().queued > 0 || pool.stats().busy > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let served = served.lock().unwrap().clone();
        assert_eq!(served.len(), 8, "{served:?}");
        assert!(served.contains(&"new.0".to_owned()), "{served:?}");
        assert_eq!(
            served.iter().filter(|s| s.ends_with(".1")).count(),
            3,
            "one project lost its newest job: {served:?}"
        );
        // The map of queues is empty again once everything ran.
        assert!(pool.shared.lock().by_project.is_empty());
        assert!(pool.shared.lock().ring.is_empty());
    }
}
