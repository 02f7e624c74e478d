//! Every hashing path works in its thread's one Argon2 buffer (issue 8, item 4): sign-up's
//! hash, sign-in's verification, the rehash and the dummy hash made at start-up. Counted with
//! a global allocator that records every allocation the size of an Argon2 buffer; this file is
//! its own test binary, so the count sees only this process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use latchkey_core::domain::{Password, ProjectId};
use latchkey_core::hashing::{HashCost, HasherPool, PoolSize};

/// 4 MiB of Argon2 memory: far larger than anything else this test allocates.
const COST: HashCost = HashCost { memory_kib: 4 * 1024, iterations: 1, parallelism: 1 };
const BUFFER_BYTES: usize = COST.memory_kib as usize * 1024;
/// The project every job here belongs to (one project: the queues play no part).
const P: ProjectId = ProjectId(uuid::Uuid::nil());

struct Counting;

static BIG_ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= BUFFER_BYTES {
            BIG_ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= BUFFER_BYTES {
            BIG_ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= BUFFER_BYTES {
            BIG_ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn pw(s: &str) -> Password {
    Password::candidate(s.into()).unwrap()
}

#[tokio::test]
async fn one_argon2_buffer_per_hashing_thread_whatever_the_path() {
    let before = BIG_ALLOCATIONS.load(Ordering::SeqCst);
    // One thread: start-up (the dummy hash), then sign-ups, sign-ins and unknown-email
    // sign-ins (the dummy), interleaved.
    let pool = HasherPool::start(COST, PoolSize { threads: 1, queue: 8 }).unwrap();
    let mut hashes = Vec::new();
    for n in 0..5 {
        hashes.push(pool.hash(P, pw(&format!("password {n}"))).await.unwrap());
    }
    for (n, phc) in hashes.iter().enumerate() {
        assert!(pool.verify(P, pw(&format!("password {n}")), Some(phc.clone())).await.unwrap().matches);
        assert!(!pool.verify(P, pw("unknown user"), None).await.unwrap().matches);
    }
    let allocated = BIG_ALLOCATIONS.load(Ordering::SeqCst) - before;
    assert_eq!(
        allocated, 1,
        "5 hashes, 10 verifications and the dummy hash on one thread: one buffer, not {allocated}"
    );

    // A second thread gets its own buffer, once.
    let before = BIG_ALLOCATIONS.load(Ordering::SeqCst);
    let pool = HasherPool::start(COST, PoolSize { threads: 2, queue: 8 }).unwrap();
    let jobs: Vec<_> = (0..8).map(|n| pool.hash(P, pw(&format!("password {n}")))).collect();
    for job in jobs {
        job.await.unwrap();
    }
    let allocated = BIG_ALLOCATIONS.load(Ordering::SeqCst) - before;
    assert!(allocated <= 2, "two threads, at most two buffers, not {allocated}");
}
