//! The LVS thread's futures: probes other than TCP_CHECK and notify
//! scripts, polled from its epoll loop. A waker marks its task ready and
//! rings the loop's [`Bell`]; the loop then polls only the ready ones.
//!
//! Their sockets, timers and child processes still wake through smol's
//! global reactor (these kinds are rare and slow next to TCP_CHECK); the
//! bell is the one hop back to this thread.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use vigil_check::ProbeResult;

use crate::os::probe::Bell;

/// What a task yields: a probe's result for its token, or nothing (a
/// script).
pub type Output = Option<(u64, ProbeResult)>;
type Fut = Pin<Box<dyn Future<Output = Output>>>;

struct Task {
    fut: Fut,
    gen: u64,
    waker: Waker,
}

struct Shared {
    ready: Mutex<Vec<(usize, u64)>>,
    bell: Arc<Bell>,
}

struct TaskWaker {
    slot: usize,
    gen: u64,
    shared: Arc<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Ok(mut r) = self.shared.ready.lock() {
            r.push((self.slot, self.gen));
        }
        self.shared.bell.post();
    }
}

/// A slab of futures, single-threaded.
pub struct Tasks {
    slots: Vec<Option<Task>>,
    free: Vec<usize>,
    shared: Arc<Shared>,
    next_gen: u64,
    /// The ready list taken from `shared`, kept for its capacity.
    batch: Vec<(usize, u64)>,
    live: usize,
}

impl Tasks {
    pub fn new(bell: Arc<Bell>) -> Tasks {
        Tasks {
            slots: Vec::new(),
            free: Vec::new(),
            shared: Arc::new(Shared {
                ready: Mutex::new(Vec::new()),
                bell,
            }),
            next_gen: 0,
            batch: Vec::new(),
            live: 0,
        }
    }

    /// Tasks not finished yet.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Adds `fut`; it is first polled at the next [`Tasks::run_ready`].
    pub fn spawn(&mut self, fut: impl Future<Output = Output> + 'static) {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.next_gen = self.next_gen.wrapping_add(1);
        let gen = self.next_gen;
        let waker = Waker::from(Arc::new(TaskWaker {
            slot,
            gen,
            shared: self.shared.clone(),
        }));
        waker.wake_by_ref();
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some(Task {
                fut: Box::pin(fut),
                gen,
                waker,
            });
            self.live += 1;
        }
    }

    /// Polls every task woken since the last call; results go to `done`.
    pub fn run_ready(&mut self, done: &mut Vec<(u64, ProbeResult)>) {
        if let Ok(mut r) = self.shared.ready.lock() {
            std::mem::swap(&mut *r, &mut self.batch);
        }
        for i in 0..self.batch.len() {
            let (slot, gen) = self.batch[i];
            let Some(entry) = self.slots.get_mut(slot) else {
                continue;
            };
            let Some(task) = entry.as_mut().filter(|t| t.gen == gen) else {
                continue;
            };
            let waker = task.waker.clone();
            let mut cx = Context::from_waker(&waker);
            if let Poll::Ready(out) = task.fut.as_mut().poll(&mut cx) {
                *entry = None;
                self.free.push(slot);
                self.live -= 1;
                if let Some(r) = out {
                    done.push(r);
                }
            }
        }
        self.batch.clear();
    }
}
