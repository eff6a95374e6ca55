//! The one process-wide worker pool behind our parallel paths (LZ4 frame compression, LZ4
//! frame and .xz parallel decoding), and the scoped helpers of in-call LZ4 decoding.
//!
//! - Created lazily. A handle that wants `n` threads takes a [`Lease`] of `n`; the pool keeps
//!   `max(n) - 1` workers over the live leases (the calling thread is the `n`-th: a handle
//!   waiting for a result runs its own queued tasks instead of sleeping, see [`wait_front`]).
//!   When the largest lease goes the pool shrinks; when the last lease goes every worker is told
//!   to exit and is joined before `drop` returns, so the process is back to its own threads.
//! - A [`Task`] owns everything its work needs (`'static` closure). Its owner may drop it at
//!   any time: queued work is then discarded without running, running work finishes and its
//!   result is dropped. Nothing in a task refers to the handle that made it.
//! - A panic inside a task is caught and reported to the owner as `CODEC_E_INTERNAL`; the
//!   worker survives.
//!
//! - Work that borrows the caller's buffers for one call (LZ4 blocks decoded straight from the
//!   caller's input into its output) does not go through the queue: [`scoped`]
//!   runs it on the calling thread and scoped helper threads joined before the call returns.
//!
//! Safe Rust only: std threads, one mutex and condition variable for the queue, one per task.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// Most threads one handle may ask for (the parameter bound of every format).
pub const MAX_THREADS: usize = 256;

/// Work the queue can run.
trait Job: Send + Sync {
    fn run(&self);
}

struct PoolState {
    queue: VecDeque<Arc<dyn Job>>,
    /// Thread counts of the live leases.
    leases: Vec<usize>,
    /// Running workers (id, handle), oldest first.
    workers: Vec<(u64, JoinHandle<()>)>,
    /// Workers told to exit (ids not yet seen by the worker itself).
    retire: Vec<u64>,
    /// Handles of retired workers, joined once finished.
    retired: Vec<JoinHandle<()>>,
    next_id: u64,
}

struct Pool {
    state: Mutex<PoolState>,
    cv: Condvar,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(PoolState {
            queue: VecDeque::new(),
            leases: Vec::new(),
            workers: Vec::new(),
            retire: Vec::new(),
            retired: Vec::new(),
            next_id: 0,
        }),
        cv: Condvar::new(),
    })
}

/// Lock ignoring poison: no code holding these locks can panic midway through an update
/// (task code runs outside them, under `catch_unwind`).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn worker(id: u64) {
    let p = pool();
    loop {
        let job = {
            let mut st = lock(&p.state);
            loop {
                if let Some(i) = st.retire.iter().position(|&r| r == id) {
                    st.retire.swap_remove(i);
                    return;
                }
                if let Some(j) = st.queue.pop_front() {
                    break j;
                }
                st = p.cv.wait(st).unwrap_or_else(|e| e.into_inner());
            }
        };
        job.run();
    }
}

impl PoolState {
    /// Grow or shrink to `max(leases) - 1` workers.
    fn resize(&mut self) {
        let want = self.leases.iter().copied().max().unwrap_or(0).saturating_sub(1);
        while self.workers.len() > want {
            let (id, h) = self.workers.pop().expect("len > want >= 0");
            self.retire.push(id);
            self.retired.push(h);
        }
        while self.workers.len() < want {
            let id = self.next_id;
            self.next_id += 1;
            match std::thread::Builder::new().name("codec-worker".into()).spawn(move || worker(id)) {
                Ok(h) => self.workers.push((id, h)),
                // Fewer workers only means less parallelism: owners run their own tasks.
                Err(_) => break,
            }
        }
        if self.leases.is_empty() {
            // Nobody can own a task any more; whatever is queued was cancelled.
            self.queue.clear();
        }
    }

    /// Handles of retired workers to join now: all of them when `all`, else the finished ones.
    fn take_retired(&mut self, all: bool) -> Vec<JoinHandle<()>> {
        if all {
            return std::mem::take(&mut self.retired);
        }
        let (done, running) = std::mem::take(&mut self.retired).into_iter().partition(|h| h.is_finished());
        self.retired = running;
        done
    }
}

/// A handle's claim on the pool: while it lives the pool has at least `threads - 1` workers.
#[derive(Debug)]
pub struct Lease {
    threads: usize,
}

impl Lease {
    pub fn new(threads: usize) -> Lease {
        let threads = threads.clamp(1, MAX_THREADS);
        let p = pool();
        let finished = {
            let mut st = lock(&p.state);
            st.leases.push(threads);
            st.resize();
            st.take_retired(false)
        };
        p.cv.notify_all();
        for h in finished {
            let _ = h.join();
        }
        Lease { threads }
    }

    pub fn threads(&self) -> usize {
        self.threads
    }
}

/// A copy is a new claim of the same size (clones of a handle keep the pool alive on their own).
impl Clone for Lease {
    fn clone(&self) -> Lease {
        Lease::new(self.threads)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let p = pool();
        let joins = {
            let mut st = lock(&p.state);
            if let Some(i) = st.leases.iter().position(|&t| t == self.threads) {
                st.leases.swap_remove(i);
            }
            st.resize();
            let last = st.leases.is_empty();
            st.take_retired(last)
        };
        p.cv.notify_all();
        // With the last lease gone this waits for every worker: at most the task each one is
        // running (its result is dropped). Never called from a worker: tasks hold no lease.
        for h in joins {
            let _ = h.join();
        }
    }
}

/// Number of workers currently running (tests).
pub fn workers() -> usize {
    lock(&pool().state).workers.len()
}

enum Outcome<R> {
    Pending,
    Done(Arc<R>),
    Panicked,
    /// The result was taken by its last owner.
    Taken,
}

struct Slot<R> {
    work: Mutex<Option<Box<dyn FnOnce() -> R + Send>>>,
    outcome: Mutex<Outcome<R>>,
    cv: Condvar,
    /// Live `Task` handles (clones of a decoder share in-flight tasks).
    owners: AtomicUsize,
}

impl<R: Send + Sync + 'static> Slot<R> {
    /// Run the work if nobody has taken it yet; false if it was already taken.
    fn run_once(&self) -> bool {
        let Some(f) = lock(&self.work).take() else { return false };
        let out = match catch_unwind(AssertUnwindSafe(f)) {
            Ok(r) => Outcome::Done(Arc::new(r)),
            Err(_) => Outcome::Panicked,
        };
        *lock(&self.outcome) = out;
        self.cv.notify_all();
        true
    }
}

impl<R: Send + Sync + 'static> Job for Slot<R> {
    fn run(&self) {
        self.run_once();
    }
}

/// One unit of work submitted to the pool, and the handle on its result. Cloning shares the
/// task (both clones get the result); dropping the last clone cancels it if it has not started.
pub struct Task<R: Send + Sync + 'static> {
    slot: Arc<Slot<R>>,
}

impl<R: Send + Sync + 'static> Task<R> {
    /// Queue `f` on the pool.
    pub fn spawn(f: impl FnOnce() -> R + Send + 'static) -> Task<R> {
        let slot = Arc::new(Slot {
            work: Mutex::new(Some(Box::new(f))),
            outcome: Mutex::new(Outcome::Pending),
            cv: Condvar::new(),
            owners: AtomicUsize::new(1),
        });
        let p = pool();
        lock(&p.state).queue.push_back(slot.clone() as Arc<dyn Job>);
        p.cv.notify_one();
        Task { slot }
    }

    /// Run the task on this thread if no worker has started it; true if it ran here.
    pub fn run_here(&self) -> bool {
        self.slot.run_once()
    }

    /// True once the result is available (or the task panicked).
    pub fn is_done(&self) -> bool {
        !matches!(*lock(&self.slot.outcome), Outcome::Pending)
    }

    /// Block until the task has finished (without helping).
    fn block(&self) {
        let mut o = lock(&self.slot.outcome);
        while matches!(*o, Outcome::Pending) {
            o = self.slot.cv.wait(o).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The result, once finished (`None` while pending). The last owner takes it out of the
    /// task, so `Arc::try_unwrap` on it succeeds unless a clone took a copy first.
    fn result(self) -> Option<Result<Arc<R>>> {
        let last = self.slot.owners.load(Ordering::Acquire) == 1;
        let mut o = lock(&self.slot.outcome);
        match &*o {
            Outcome::Pending => None,
            Outcome::Panicked => {
                Some(Err(Error::internal("a libcodec worker thread panicked while running this stream's task")))
            }
            Outcome::Taken => Some(Err(Error::internal("task result taken twice"))),
            Outcome::Done(r) => {
                let r = r.clone();
                if last {
                    *o = Outcome::Taken;
                }
                Some(Ok(r))
            }
        }
    }
}

impl<R: Send + Sync + 'static> Clone for Task<R> {
    fn clone(&self) -> Self {
        self.slot.owners.fetch_add(1, Ordering::AcqRel);
        Task { slot: self.slot.clone() }
    }
}

impl<R: Send + Sync + 'static> Drop for Task<R> {
    fn drop(&mut self) {
        if self.slot.owners.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Cancel: queued work is skipped by the worker that pops it.
            drop(lock(&self.slot.work).take());
        }
    }
}

/// Wait for `front` (the oldest of a handle's tasks) and return its result, helping
/// meanwhile: while it is unfinished, this thread runs it if no worker has started it, else the
/// earliest of `later` not started, and only sleeps when all have started.
pub fn wait_front<'a, R: Send + Sync + 'static>(
    front: Task<R>,
    mut later: impl Iterator<Item = &'a Task<R>>,
) -> Result<Arc<R>> {
    // One task at a time, re-checking the front after each, so this thread returns to its
    // caller (who submits more work) as soon as the front is done.
    while !front.is_done() && !front.run_here() {
        if !later.any(|t| t.run_here()) {
            front.block();
            break;
        }
    }
    front.result().expect("finished task has an outcome")
}

/// Run `f` over `items` on the calling thread and up to `threads - 1` scoped helper threads,
/// for work that borrows the caller's buffers for the length of one call (the pool's tasks must
/// own their data, which costs a copy in and a copy out). Each thread claims the next
/// unclaimed item, so uneven items balance. Every helper is joined before this returns: no
/// thread outlives the call. Results come back in item order; an item whose `f` panicked gives
/// `CODEC_E_INTERNAL` (the other items still run). A helper that cannot be started only means
/// less parallelism.
pub fn scoped<T: Send, R: Send>(threads: usize, items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<Result<R>> {
    let n = items.len();
    let items: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let results: Vec<Mutex<Option<Result<R>>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(item) = items.get(i).and_then(|m| lock(m).take()) else { return };
        let r = catch_unwind(AssertUnwindSafe(|| f(item)))
            .map_err(|_| Error::internal("a libcodec thread panicked while working on this call"));
        *lock(&results[i]) = Some(r);
    };
    std::thread::scope(|s| {
        for _ in 1..threads.min(n) {
            // A thread that cannot be started leaves its share to the others.
            let _ = std::thread::Builder::new().name("codec-scoped".into()).spawn_scoped(s, &work);
        }
        work();
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner().unwrap_or_else(|e| e.into_inner()).unwrap_or_else(|| Err(Error::internal("item not run")))
        })
        .collect()
}

/// `Arc<T>` into `T`, copying (with `copy`) only if a clone still shares it.
pub fn unwrap_or_clone_with<T>(a: Arc<T>, copy: impl FnOnce(&T) -> T) -> T {
    Arc::try_unwrap(a).unwrap_or_else(|a| copy(&a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_run_and_cancel() {
        let lease = Lease::new(3);
        let tasks: Vec<Task<usize>> = (0..20).map(|i| Task::spawn(move || i * 2)).collect();
        let mut it = tasks.into_iter();
        let mut i = 0;
        while let Some(t) = it.next() {
            let rest = it.as_slice();
            let r = wait_front(t, rest.iter()).unwrap();
            assert_eq!(*r, i * 2);
            i += 1;
        }
        // Cancelled tasks never run.
        let hit = Arc::new(AtomicUsize::new(0));
        for _ in 0..50 {
            let h = hit.clone();
            drop(Task::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(1));
                h.fetch_add(1, Ordering::SeqCst)
            }));
        }
        assert!(hit.load(Ordering::SeqCst) < 50);
        let p = Task::spawn(|| -> usize { panic!("boom") });
        assert!(wait_front(p, std::iter::empty()).is_err());
        drop(lease);
    }

    #[test]
    fn scoped_runs_every_item_once_in_order() {
        let mut buf = vec![0u32; 1000];
        for threads in [1, 2, 4] {
            let claims = AtomicUsize::new(0);
            let items: Vec<(usize, &mut [u32])> = buf.chunks_mut(7).enumerate().collect();
            let n = items.len();
            let res = scoped(threads, items, |(i, chunk)| {
                claims.fetch_add(1, Ordering::SeqCst);
                for v in chunk.iter_mut() {
                    *v += i as u32;
                }
                if i == 5 {
                    panic!("item 5");
                }
                i * 10
            });
            assert_eq!(res.len(), n);
            for (i, r) in res.iter().enumerate() {
                match r {
                    Ok(v) => assert_eq!(*v, i * 10),
                    Err(e) => assert!(i == 5 && e.kind == crate::error::ErrorKind::Internal),
                }
            }
            assert_eq!(claims.load(Ordering::SeqCst), n, "each item claimed once");
        }
        for (k, v) in buf.iter().enumerate() {
            assert_eq!(*v, 3 * (k / 7) as u32, "three passes, each adding the item index");
        }
    }
}
