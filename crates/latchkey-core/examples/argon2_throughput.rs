//! Raw Argon2id throughput of this machine with Latchkey's production parameters: one hashing
//! thread per CPU, no server, no queue. The baseline the sign-in benchmark is compared with.
//!
//! cargo run --release -p latchkey-core --example argon2_throughput -- [SECONDS]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Version};
use latchkey_core::hashing::HashCost;

fn main() {
    let seconds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let params = HashCost::default().params().expect("default params are valid");
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (done, stop, params) = (Arc::clone(&done), Arc::clone(&stop), params.clone());
            std::thread::spawn(move || {
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                while !stop.load(Ordering::Relaxed) {
                    argon2.hash_password(b"s3cur3P@ss").expect("hash");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("worker");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let hashes = done.load(Ordering::Relaxed);
    println!(
        "{{\"threads\":{threads},\"hashes\":{hashes},\"seconds\":{elapsed:.2},\"hashes_per_second\":{:.1}}}",
        hashes as f64 / elapsed
    );
}
