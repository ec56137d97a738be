//! The process's memory and CPU share, for bursts: resident memory read from `/proc`, freed heap memory given back to
//! the system after a burst, and background work (password hashing) run below the request workers' priority.
//!
//! The one module of ThiCode with `unsafe` code: two calls into the C library, which Rust's standard library does not
//! offer. glibc keeps the memory a burst of requests freed in its per-thread arenas (only the top of each heap is
//! returned by itself), so a server that peaked stays at its peak; `malloc_trim(0)` hands every free page back.
//! `setpriority` lowers the nice value of the calling thread (a per-thread attribute on Linux).
#![allow(unsafe_code)]

use std::time::Duration;

/// How often the trimmer looks at the resident memory.
const CHECK_EVERY: Duration = Duration::from_secs(2);
/// Growth of resident memory since the last trim that makes the trimmer give freed memory back.
const GROWTH_BYTES: u64 = 8 * 1024 * 1024;

/// The process's resident memory in bytes, from `/proc/self/statm` (`None` off Linux).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Gives the heap memory the allocator keeps after it was freed back to the system; whether anything was released.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim() -> bool {
    // SAFETY: `malloc_trim` takes no pointer and has no precondition; glibc serialises it with every other allocator
    // call, arena by arena.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Elsewhere the allocator returns memory by itself, or has no such call.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim() -> bool {
    false
}

/// Lowers the calling thread's priority to nice 10, so that while it computes (a password hash) the request workers
/// get the CPU first; `/healthz` and pages stay fast during a burst of logins. Failing is harmless (logged).
#[cfg(target_os = "linux")]
pub fn lower_this_thread() {
    // SAFETY: `setpriority` takes plain integers; on Linux `who = 0` names the calling thread.
    let done = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
    if done != 0 {
        tracing::debug!("could not lower a worker thread's priority");
    }
}

/// Not available elsewhere: the thread keeps its priority.
#[cfg(not(target_os = "linux"))]
pub fn lower_this_thread() {}

/// Watches the resident memory every [`CHECK_EVERY`] and, when it grew by [`GROWTH_BYTES`] since the last look that
/// trimmed, gives freed memory back ([`trim`], on the blocking pool). After a burst the server returns close to its
/// idle size within seconds instead of keeping its peak; in steady use nothing happens.
pub fn spawn_trimmer() -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut baseline = resident_bytes().unwrap_or(0);
        let mut every = tokio::time::interval(CHECK_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let Some(now) = resident_bytes() else { return };
            if now <= baseline + GROWTH_BYTES {
                baseline = baseline.min(now);
                continue;
            }
            let released = tokio::task::spawn_blocking(trim).await.unwrap_or(false);
            let after = resident_bytes().unwrap_or(now);
            tracing::debug!(released, before = now, after, "gave freed memory back");
            baseline = after;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_read_and_freed_memory_given_back() {
        let before = resident_bytes().expect("/proc/self/statm");
        assert!(before > 0);
        // Other unit tests run on other threads of this process and allocate meanwhile, so one measurement can see
        // their growth between the two reads: trimming must give memory back in at least one of three tries.
        let mut tries = Vec::new();
        for _ in 0..3 {
            // Many small blocks on several threads, then freed: glibc keeps them until trimmed.
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    std::thread::spawn(|| {
                        let blocks: Vec<Vec<u8>> = (0..20_000).map(|i| vec![(i % 251) as u8; 1024]).collect();
                        // Keep every other one alive for a moment, so the free pages are not all at the top.
                        let kept: Vec<_> = blocks.into_iter().step_by(2).collect();
                        drop(kept);
                    })
                })
                .collect();
            for thread in threads {
                thread.join().expect("thread");
            }
            let grown = resident_bytes().expect("statm");
            trim();
            let trimmed = resident_bytes().expect("statm");
            if trimmed <= grown {
                return;
            }
            tries.push((grown, trimmed));
        }
        panic!("trimming never gave memory back (grown, trimmed): {tries:?}");
    }
}
