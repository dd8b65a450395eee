//! The LVS thread's loop: one epoll instance ([`TcpPool`]) that runs the
//! TCP_CHECKs itself and watches a [`Bell`] rung by the VRRP loop's
//! messages and by the wakers of the other futures ([`Tasks`]: probes of
//! the other kinds, notify scripts); its timeout is the earliest of the
//! checkers' deadline, the connects' deadline and the next view publish.
//! No other thread is woken for a TCP_CHECK, and its steady state
//! allocates nothing per probe.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vigil_check::{Instant, ProbeKind, ProbeResult};
use vigil_model::{Command, Config, GlobalDefs};

use super::alert;
use super::backend::Backend;
use super::engine::{Engine, Out};
use super::syncd::Director;
use super::tasks::Tasks;
use super::view::{refresh, views};
use super::{ToLvs, LVS_NICE};
use crate::control::VsView;
use crate::os::clock;
use crate::os::inotify::FileWatch;
use crate::os::probe::{self, Bell, ProbeEnv, TcpPool};
use crate::os::script::{self, Outcome};
use crate::runtime::mail::Mailer;
use crate::runtime::{hooks, plan};

/// Runs one probe of a kind other than TCP_CHECK (which the loop runs
/// itself, always with the real sockets) with the script settings of the
/// configuration in force; the future lives on the LVS thread.
pub type Prober = Arc<
    dyn Fn(ProbeKind, Rc<ProbeEnv>) -> Pin<Box<dyn Future<Output = ProbeResult>>> + Send + Sync,
>;

/// A change of the table or of a message shows in the status views within
/// this; probe results alone (the last result of each checker) within
/// [`REFRESH_EVERY`]. A thousand checkers report a thousand results a
/// second: rebuilding the views for each would be most of the loop's work.
const PUBLISH_EVERY: Duration = Duration::from_millis(250);
const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// Due checks are started on a grid of this step (a deadline is rounded
/// up to the next multiple, in absolute microseconds of the clock): a
/// thousand checkers spread over a delay_loop would otherwise wake the
/// loop at nearly every millisecond, each wake-up for one SYN. On the grid
/// a wake-up starts the few due together (one sendmmsg) and their replies
/// come back together; no check starts more than this late (keepalived's
/// own timers are ~1 ms).
const CHECK_TICK_US: u64 = 4_000;

/// The grid step: [`CHECK_TICK_US`], or VIGIL_CHECK_TICK_US (1 ms to 100 ms)
/// for measuring its effect.
fn check_tick_us() -> u64 {
    static TICK: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICK.get_or_init(|| {
        std::env::var("VIGIL_CHECK_TICK_US")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(CHECK_TICK_US, |t| t.clamp(1_000, 100_000))
    })
}

/// `d` rounded up to the grid.
fn on_tick(d: Instant) -> Instant {
    let us = d.as_micros();
    let tick = check_tick_us();
    Instant::from_micros(us.div_ceil(tick).saturating_mul(tick))
}

/// How long a stopping thread waits for `omega` notifiers.
const SCRIPT_GRACE: Duration = Duration::from_secs(5);

fn now() -> Instant {
    Instant::from_micros(clock::now_us())
}

/// When the views are due: `None` if nothing changed.
struct Publish {
    last: Option<std::time::Instant>,
    changed: bool,
    results: bool,
    /// The configuration changed: the views are built anew (names too).
    rebuild: bool,
}

impl Publish {
    fn due_in(&self) -> Option<Duration> {
        let period = match (self.changed, self.results) {
            (true, _) => PUBLISH_EVERY,
            (false, true) => REFRESH_EVERY,
            (false, false) => return None,
        };
        Some(match self.last {
            None => Duration::ZERO,
            Some(t) => period.saturating_sub(t.elapsed()),
        })
    }
}

/// The epoll key of the FILE_CHECK files' inotify watch.
const FILE_KEY: u32 = 1;

/// The files FILE_CHECKs read, watched with inotify as keepalived watches
/// them: a change is read at once, not at the next delay_loop.
#[derive(Default)]
struct FileChecks {
    paths: Vec<String>,
    watch: Option<FileWatch>,
}

impl FileChecks {
    fn watch(pool: &TcpPool, paths: Vec<String>) -> FileChecks {
        if paths.is_empty() {
            return FileChecks::default();
        }
        let watch = FileWatch::new(&paths).and_then(|w| pool.watch(&w, FILE_KEY).map(|()| w));
        match &watch {
            Ok(w) => {
                for (i, p) in paths.iter().enumerate() {
                    if !w.watched(i) {
                        log::warn!("FILE_CHECK {p}: its directory cannot be watched; read every delay_loop");
                    }
                }
            }
            Err(e) => log::warn!("FILE_CHECK: no inotify ({e}); files are read every delay_loop"),
        }
        FileChecks {
            paths,
            watch: watch.ok(),
        }
    }

    /// The paths that changed since the last call.
    fn changed(&self) -> Vec<String> {
        let Some(w) = &self.watch else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        match w.read() {
            Ok(changes) => {
                for (i, _) in changes {
                    if let Some(p) = self.paths.get(i) {
                        if !out.contains(p) {
                            out.push(p.clone());
                        }
                    }
                }
            }
            Err(e) => log::warn!("FILE_CHECK: inotify: {e}"),
        }
        out
    }
}

/// Runs until [`ToLvs::Stop`] (or the VRRP loop's end).
pub fn run<B: Backend>(
    config: Config,
    backend: B,
    prober: Prober,
    (rx, bell): (Receiver<ToLvs>, Arc<Bell>),
    shared: Arc<Mutex<Vec<VsView>>>,
) {
    let mut pool = match TcpPool::new().and_then(|p| p.watch(&*bell, 0).map(|()| p)) {
        Ok(p) => p,
        Err(e) => {
            log::error!("load balancing: cannot set up the probe loop: {e}");
            return;
        }
    };
    // VIGIL_LVS_NICE overrides the default, for measuring its effect.
    let nice = std::env::var("VIGIL_LVS_NICE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(LVS_NICE);
    // 0 leaves the thread as started: an operator's `nice vigil` holds.
    if nice != 0 {
        probe::nice_this_thread(nice);
    }
    let mut tasks = Tasks::new(bell.clone());
    let seed = clock::now_us() ^ u64::from(std::process::id()).rotate_left(32);
    let running = hooks::Running::default();
    let mut env = Rc::new(ProbeEnv::from_globals(&config.global));
    let mut engine = Engine::new(config, backend, seed);
    engine.start(now());
    let mut director = Director::default();
    let globals = engine.config().global.clone();
    director.start(engine.backend_mut(), &globals);
    let mut mailer = Mailer::new(&engine.config().global);
    let mut publish = Publish {
        last: None,
        changed: true,
        results: false,
        rebuild: true,
    };
    let mut files = FileChecks::watch(&pool, engine.file_paths());
    let mut applies = engine.apply_stats().applies;
    let mut done: Vec<(u64, ProbeResult)> = Vec::with_capacity(256);
    'run: loop {
        // Probes that end at once (a refused local connect, FILE_CHECK's
        // read) are fed back before waiting.
        loop {
            // One clock read for the probes started together (a tick's
            // batch): a guest's clock can be a syscall and a device read.
            let start_us = clock::now_us();
            while let Some(o) = engine.poll_out() {
                match o {
                    Out::Probe { token, kind } => {
                        if !pool.start(token, &kind, start_us, &mut done) {
                            let probe = prober(kind, env.clone());
                            tasks.spawn(async move { Some((token, probe.await)) });
                        }
                    }
                    Out::Script { what, command } => notify(
                        &mut tasks,
                        &running,
                        &engine.config().global,
                        what,
                        &command,
                    ),
                    Out::Alert(a) => alert::send(engine.config(), &mailer, a),
                }
            }
            if done.is_empty() {
                break;
            }
            let t = now();
            for (token, r) in done.drain(..) {
                engine.handle_probe(t, token, r);
            }
            publish.results = true;
        }
        if engine.apply_stats().applies != applies {
            applies = engine.apply_stats().applies;
            publish.changed = true;
        }
        let publish_in = publish.due_in();
        if publish_in == Some(Duration::ZERO) {
            if let Ok(mut v) = shared.lock() {
                if publish.rebuild || !refresh(&engine, &mut v) {
                    *v = views(&engine);
                }
            }
            publish = Publish {
                last: Some(std::time::Instant::now()),
                changed: false,
                results: false,
                rebuild: false,
            };
        }
        let now_us = clock::now_us();
        let wait = [
            engine.poll_timeout().map(|d| on_tick(d).as_micros()),
            pool.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .map(|d| clock::until(now_us, d))
        .chain(publish_in.filter(|d| !d.is_zero()))
        .min();
        let woken = match pool.wait(wait, clock::now_us, &mut done) {
            Ok(w) => w,
            Err(e) => {
                log::error!("load balancing: epoll_wait: {e}");
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if woken.keys & 1 != 0 {
            // Drained before polling, so a wake during the polls rings again.
            bell.drain();
            tasks.run_ready(&mut done);
        }
        let t = now();
        if woken.keys & (1 << FILE_KEY) != 0 {
            for path in files.changed() {
                engine.file_changed(t, &path);
            }
        }
        if !done.is_empty() {
            publish.results = true;
        }
        // Every result already in, before a watchdog can count one as late.
        for (token, result) in done.drain(..) {
            engine.handle_probe(t, token, result);
        }
        loop {
            let msg = match rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => break 'run,
            };
            publish.changed = true;
            match msg {
                ToLvs::Reload(c) => {
                    publish.rebuild = true;
                    env = Rc::new(ProbeEnv::from_globals(&c.global));
                    director.reload(engine.backend_mut(), &c.global);
                    mailer = Mailer::new(&c.global);
                    engine.reload(t, *c);
                    let paths = engine.file_paths();
                    if paths != files.paths {
                        // The old watch closes (and leaves epoll) first.
                        drop(std::mem::take(&mut files));
                        files = FileChecks::watch(&pool, paths);
                    }
                }
                ToLvs::Vrrp { instance, master } => {
                    director.instance_state(engine.backend_mut(), &instance, master)
                }
                ToLvs::Held(v) => engine.set_held(v),
                ToLvs::Stop => break 'run,
            }
        }
        // On the grid only: a reply's wake-up between ticks leaves the
        // checks due meanwhile to the next tick, with the others.
        if engine.poll_timeout().is_some_and(|d| on_tick(d) <= t) {
            engine.handle_timeout(t);
        }
    }
    pool.clear();
    engine.stop();
    director.stop(engine.backend_mut());
    while let Some(o) = engine.poll_out() {
        match o {
            Out::Script { what, command } => notify(
                &mut tasks,
                &running,
                &engine.config().global,
                what,
                &command,
            ),
            Out::Alert(a) => alert::send(engine.config(), &mailer, a),
            Out::Probe { .. } => {}
        }
    }
    if let Ok(mut v) = shared.lock() {
        *v = views(&engine);
    }
    let t0 = std::time::Instant::now();
    while (running.count() > 0 || tasks.len() > 0) && t0.elapsed() < SCRIPT_GRACE {
        let _ = pool.wait(Some(Duration::from_millis(10)), clock::now_us, &mut done);
        bell.drain();
        tasks.run_ready(&mut done);
        done.clear();
    }
}

/// Fire and forget, reaped and logged, like the VRRP notify hooks.
fn notify(
    tasks: &mut Tasks,
    running: &hooks::Running,
    global: &GlobalDefs,
    what: String,
    command: &Command,
) {
    let Some(r) = plan::runnable(global, command, &what) else {
        return;
    };
    let s = hooks::script_of(&r, &[], hooks::NOTIFY_TIMEOUT);
    let guard = running.enter();
    tasks.spawn(async move {
        match script::run(&s).await {
            Ok(Outcome::Exited(0)) => log::debug!("{what} \"{}\" done", r.text),
            Ok(o) => log::warn!("{what} script \"{}\" {}", r.text, hooks::describe(o)),
            Err(e) => log::warn!("{what} script \"{}\": {e}", r.text),
        }
        drop(guard);
        None
    });
}
