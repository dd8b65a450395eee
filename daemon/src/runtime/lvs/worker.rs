//! The LVS thread's loop: its own smol executor, the engine, probes as
//! tasks, notify scripts, and the status views published for the VRRP loop.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vigil_check::{Instant, ProbeKind, ProbeResult};
use vigil_model::{Command, Config, GlobalDefs};

use super::alert;
use super::backend::Backend;
use super::engine::{Engine, Out};
use super::syncd::Director;
use super::view::views;
use super::ToLvs;
use crate::control::VsView;
use crate::os::clock;
use crate::os::probe::ProbeEnv;
use crate::os::script::{self, Outcome};
use crate::runtime::mail::Mailer;
use crate::runtime::{hooks, plan};

/// Runs one probe with the script settings of the configuration in force;
/// the future lives on the LVS thread.
pub type Prober = Arc<
    dyn Fn(ProbeKind, Rc<ProbeEnv>) -> Pin<Box<dyn Future<Output = ProbeResult>>> + Send + Sync,
>;

/// The status views are rebuilt at most this often (a thousand checkers
/// report a thousand results a second).
const PUBLISH_EVERY: Duration = Duration::from_millis(250);

/// How long a stopping thread waits for `omega` notifiers.
const SCRIPT_GRACE: Duration = Duration::from_secs(5);

fn now() -> Instant {
    Instant::from_micros(clock::now_us())
}

enum Wake {
    Msg(Option<ToLvs>),
    Probe(Option<(u64, ProbeResult)>),
    Tick,
}

/// Runs until [`ToLvs::Stop`] (or the VRRP loop's end).
pub fn run<B: Backend>(
    config: Config,
    backend: B,
    prober: Prober,
    rx: smol::channel::Receiver<ToLvs>,
    shared: Arc<Mutex<Vec<VsView>>>,
) {
    let ex = smol::LocalExecutor::new();
    let seed = clock::now_us() ^ u64::from(std::process::id()).rotate_left(32);
    smol::block_on(ex.run(async {
        let (ptx, prx) = smol::channel::unbounded::<(u64, ProbeResult)>();
        let running = hooks::Running::default();
        let mut env = Rc::new(ProbeEnv::from_globals(&config.global));
        let mut engine = Engine::new(config, backend, seed);
        engine.start(now());
        let mut director = Director::default();
        let globals = engine.config().global.clone();
        director.start(engine.backend_mut(), &globals);
        let mut mailer = Mailer::new(&engine.config().global);
        let mut published: Option<std::time::Instant> = None;
        let mut dirty = true;
        loop {
            while let Some(o) = engine.poll_out() {
                match o {
                    Out::Probe { token, kind } => {
                        let probe = prober(kind, env.clone());
                        let ptx = ptx.clone();
                        ex.spawn(async move {
                            let r = probe.await;
                            let _ = ptx.send((token, r)).await;
                        })
                        .detach();
                    }
                    Out::Script { what, command } => {
                        notify(&ex, &running, &engine.config().global, what, &command)
                    }
                    Out::Alert(a) => alert::send(engine.config(), &mailer, a),
                }
            }
            let publish_in = match (dirty, published) {
                (false, _) => None,
                (true, None) => Some(Duration::ZERO),
                (true, Some(t)) => Some(PUBLISH_EVERY.saturating_sub(t.elapsed())),
            };
            if publish_in == Some(Duration::ZERO) {
                if let Ok(mut v) = shared.lock() {
                    *v = views(&engine);
                }
                published = Some(std::time::Instant::now());
                dirty = false;
            }
            let check_in = engine
                .poll_timeout()
                .map(|d| clock::until(clock::now_us(), d.as_micros()));
            let wait = match (check_in, publish_in.filter(|d| !d.is_zero())) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let wake = smol::future::or(
                smol::future::or(async { Wake::Msg(rx.recv().await.ok()) }, async {
                    Wake::Probe(prx.recv().await.ok())
                }),
                async {
                    match wait {
                        Some(w) => smol::Timer::after(w).await,
                        None => smol::future::pending().await,
                    };
                    Wake::Tick
                },
            )
            .await;
            let t = now();
            dirty |= !matches!(wake, Wake::Tick);
            match wake {
                Wake::Probe(Some((token, result))) => engine.handle_probe(t, token, result),
                Wake::Msg(Some(ToLvs::Reload(c))) => {
                    env = Rc::new(ProbeEnv::from_globals(&c.global));
                    director.reload(engine.backend_mut(), &c.global);
                    mailer = Mailer::new(&c.global);
                    engine.reload(t, *c)
                }
                Wake::Msg(Some(ToLvs::Vrrp { instance, master })) => {
                    director.instance_state(engine.backend_mut(), &instance, master)
                }
                Wake::Msg(Some(ToLvs::Held(v))) => engine.set_held(v),
                Wake::Msg(Some(ToLvs::Stop)) | Wake::Msg(None) => break,
                Wake::Probe(None) | Wake::Tick => {}
            }
            // Every result already queued, before a watchdog can count one
            // as late.
            while let Ok((token, result)) = prx.try_recv() {
                engine.handle_probe(t, token, result);
            }
            if engine.poll_timeout().is_some_and(|d| d <= t) {
                engine.handle_timeout(t);
                dirty = true;
            }
        }
        engine.stop();
        director.stop(engine.backend_mut());
        while let Some(o) = engine.poll_out() {
            match o {
                Out::Script { what, command } => {
                    notify(&ex, &running, &engine.config().global, what, &command)
                }
                Out::Alert(a) => alert::send(engine.config(), &mailer, a),
                Out::Probe { .. } => {}
            }
        }
        if let Ok(mut v) = shared.lock() {
            *v = views(&engine);
        }
        let t0 = std::time::Instant::now();
        while running.count() > 0 && t0.elapsed() < SCRIPT_GRACE {
            smol::Timer::after(Duration::from_millis(10)).await;
        }
    }));
}

/// Fire and forget, reaped and logged, like the VRRP notify hooks.
fn notify(
    ex: &smol::LocalExecutor<'_>,
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
    ex.spawn(async move {
        match script::run(&s).await {
            Ok(Outcome::Exited(0)) => log::debug!("{what} \"{}\" done", r.text),
            Ok(o) => log::warn!("{what} script \"{}\" {}", r.text, hooks::describe(o)),
            Err(e) => log::warn!("{what} script \"{}\": {e}", r.text),
        }
        drop(guard);
    })
    .detach();
}
