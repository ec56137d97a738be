//! A bounded pool of background threads for CPU-heavy work (password hashing, decoding images, reading documents):
//! at most `slots` jobs run at once, on threads of their own that run below the request workers' priority, at most
//! `queue` more wait, and anything beyond is refused at once ([`WorkError::Overloaded`]). So a burst costs a bounded
//! amount of memory and at most the CPU the rest of the server leaves. Cheap to clone; the threads start with the
//! first job and end with the last clone.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why a job did not run.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    /// Every slot is busy and the queue is full.
    #[error("too much of this work is in hand")]
    Overloaded,
    /// The job panicked, or the threads could not start.
    #[error("background work failed: {0}")]
    Failed(String),
}

/// The pool (see the module).
#[derive(Debug, Clone)]
pub struct Workers(Arc<Pool>);

type Work = Box<dyn FnOnce() + Send>;

#[derive(Debug)]
struct Pool {
    /// The threads' name, in logs and `top`.
    name: &'static str,
    slots: usize,
    /// Jobs running or waiting.
    admitted: AtomicUsize,
    /// The most that may run or wait.
    capacity: usize,
    /// The queue the threads take work from.
    queue: std::sync::OnceLock<std::sync::mpsc::Sender<Work>>,
}

/// One admitted job; dropping it (when the job ends or is skipped) frees its place.
struct Admission(Arc<Pool>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Workers {
    /// At most `slots` (at least one) jobs at once and `queue` waiting, on threads called `name`.
    pub fn new(name: &'static str, slots: usize, queue: usize) -> Self {
        let slots = slots.max(1);
        Self(Arc::new(Pool {
            name,
            slots,
            admitted: AtomicUsize::new(0),
            capacity: slots + queue,
            queue: std::sync::OnceLock::new(),
        }))
    }

    /// One slot less than the machine has cores (at least one), so request workers keep a core while a burst is
    /// worked through, and `queue_per_slot` waiting per slot.
    pub fn per_core(name: &'static str, queue_per_slot: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let slots = cores.saturating_sub(1).max(1);
        Self::new(name, slots, slots * queue_per_slot)
    }

    /// Jobs running or waiting now.
    pub fn in_use(&self) -> usize {
        self.0.admitted.load(Ordering::Acquire)
    }

    /// Whether a job asked for now would be refused (a cheap check before other work).
    pub fn is_full(&self) -> bool {
        self.in_use() >= self.0.capacity
    }

    /// The threads' queue, starting the threads the first time.
    fn queue(&self) -> &std::sync::mpsc::Sender<Work> {
        self.0.queue.get_or_init(|| {
            let (sender, receiver) = std::sync::mpsc::channel::<Work>();
            let receiver = Arc::new(std::sync::Mutex::new(receiver));
            for _ in 0..self.0.slots {
                let receiver = receiver.clone();
                let name = self.0.name;
                let started = std::thread::Builder::new().name(name.into()).spawn(move || {
                    crate::core::memory::lower_this_thread();
                    loop {
                        let next = match receiver.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        // Every clone of the pool is gone: so is its work.
                        let Ok(work) = next else { return };
                        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).is_err() {
                            tracing::error!(pool = name, "a background job panicked");
                        }
                    }
                });
                if let Err(e) = started {
                    tracing::error!(error = %e, pool = name, "could not start a worker thread");
                }
            }
            sender
        })
    }

    /// Runs `work` on the pool and waits for its value; refused at once when the pool is full. A job whose caller
    /// stopped waiting before it started is skipped.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, WorkError> {
        let admission = self.admit()?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Work = Box::new(move || {
            // The place is free again before the answer is: whoever reads it may count on that.
            if answer.is_closed() {
                drop(admission);
            } else {
                let value = work();
                drop(admission);
                let _ = answer.send(value);
            }
        });
        self.queue()
            .send(job)
            .map_err(|_| WorkError::Failed("the worker threads stopped".into()))?;
        answered
            .await
            .map_err(|_| WorkError::Failed("a worker thread failed".into()))
    }

    fn admit(&self) -> Result<Admission, WorkError> {
        let before = self.0.admitted.fetch_add(1, Ordering::AcqRel);
        let admission = Admission(self.0.clone());
        if before >= self.0.capacity {
            return Err(WorkError::Overloaded);
        }
        Ok(admission)
    }
}
