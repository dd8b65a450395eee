//! The alert mail queue: the VRRP loop and the LVS thread hand mails to
//! one `vigil-mail` thread (started at the first mail), which runs each
//! SMTP dialogue as its own task, so a slow server delays no advert and no
//! check. Memory is bounded: at most [`MAX_QUEUED`] mails wait or run; a
//! mail beyond that is dropped and logged. Each attempt that fails logs
//! one line with the reason.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use vigil_model::GlobalDefs;
use vigil_notify::date::LocalTime;
use vigil_notify::mail::{Envelope, Mail};
use vigil_notify::smtp::Dialog;

use crate::os::smtp_alert;

/// Mails waiting or being sent, at most.
pub const MAX_QUEUED: usize = 32;
/// Dialogues running at once (the others wait in the queue).
const MAX_RUNNING: usize = 4;

/// Where and how mail goes, from `global_defs`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    host: String,
    port: u16,
    step_timeout: Duration,
    envelope: Envelope,
}

struct Job {
    settings: Arc<Settings>,
    mail: Mail,
}

/// Hands mails to the mail thread; cheap to clone, `Send`.
#[derive(Clone, Default)]
pub struct Mailer {
    settings: Option<Arc<Settings>>,
    router_id: String,
}

static QUEUE: OnceLock<smol::channel::Sender<Job>> = OnceLock::new();
/// Queued plus running, for the cap and for [`drain`].
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// The local host name (keepalived's default `router_id`, HELO name and
/// sender domain).
pub fn local_name() -> Option<String> {
    let n = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let n = n.trim();
    (!n.is_empty()).then(|| n.to_string())
}

/// `router_id`, or the host name as keepalived defaults it.
pub fn router_id(g: &GlobalDefs) -> String {
    g.router_id
        .clone()
        .or_else(local_name)
        .unwrap_or_else(|| "localhost".into())
}

fn settings(g: &GlobalDefs) -> Option<Settings> {
    let server = g.smtp_server.as_ref().filter(|_| g.mail_configured())?;
    let local = local_name();
    let user = nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| "root".into());
    let from = g
        .notification_email_from
        .clone()
        .unwrap_or_else(|| format!("{user}@{}", local.as_deref().unwrap_or("localhost")));
    let helo = g
        .smtp_helo_name
        .clone()
        .or(local)
        .unwrap_or_else(|| "localhost".into());
    Some(Settings {
        host: server.host.clone(),
        port: server.port,
        // keepalived turns 0 into 1 s.
        step_timeout: g.smtp_connect_timeout.max(Duration::from_secs(1)),
        envelope: Envelope {
            helo,
            from,
            to: g.notification_email.clone(),
        },
    })
}

impl Mailer {
    /// The mailer for `g`; it sends nothing without `smtp_server` and
    /// `notification_email`, as keepalived.
    pub fn new(g: &GlobalDefs) -> Mailer {
        Mailer {
            settings: settings(g).map(Arc::new),
            router_id: router_id(g),
        }
    }

    /// True when mails can go out.
    pub fn enabled(&self) -> bool {
        self.settings.is_some()
    }

    /// The `[ROUTER_ID]` of subjects.
    pub fn router_id(&self) -> &str {
        &self.router_id
    }

    /// Queues `mail`; never blocks.
    pub fn send(&self, mail: Mail) {
        let Some(settings) = self.settings.clone() else {
            return;
        };
        if PENDING.fetch_add(1, Ordering::SeqCst) >= MAX_QUEUED {
            PENDING.fetch_sub(1, Ordering::SeqCst);
            log::warn!(
                "SMTP alert \"{}\" dropped: {MAX_QUEUED} mails already waiting",
                mail.subject
            );
            return;
        }
        let tx = QUEUE.get_or_init(start);
        if tx.try_send(Job { settings, mail }).is_err() {
            PENDING.fetch_sub(1, Ordering::SeqCst);
            log::warn!("SMTP alert dropped: the mail thread is gone");
        }
    }
}

/// Waits up to `grace` for queued mails (the STOP alerts at shutdown).
pub async fn drain(grace: Duration) {
    let t0 = std::time::Instant::now();
    while PENDING.load(Ordering::SeqCst) > 0 && t0.elapsed() < grace {
        smol::Timer::after(Duration::from_millis(10)).await;
    }
}

/// Local time of now, as `localtime_r` sees the zone.
fn now_local() -> LocalTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let utc = LocalTime::utc(i64::try_from(secs).unwrap_or(0));
    let t = secs.try_into().unwrap_or(0);
    // SAFETY: localtime_r only writes the tm we hand it; a zeroed tm is valid.
    let mut tm: nix::libc::tm = unsafe { core::mem::zeroed() };
    if unsafe { nix::libc::localtime_r(&t, &mut tm) }.is_null() {
        return utc;
    }
    let b = |v: i32| u8::try_from(v).unwrap_or(0);
    LocalTime {
        year: tm.tm_year + 1900,
        month: b(tm.tm_mon + 1),
        day: b(tm.tm_mday),
        hour: b(tm.tm_hour),
        minute: b(tm.tm_min),
        second: b(tm.tm_sec),
        weekday: b(tm.tm_wday),
        utc_offset_secs: i32::try_from(tm.tm_gmtoff).unwrap_or(0),
    }
}

fn start() -> smol::channel::Sender<Job> {
    let (tx, rx) = smol::channel::bounded::<Job>(MAX_QUEUED);
    let spawned = std::thread::Builder::new()
        .name("vigil-mail".into())
        .stack_size(256 * 1024)
        .spawn(move || run(rx));
    if let Err(e) = spawned {
        log::error!("cannot start the mail thread: {e}; no alert mail will be sent");
    }
    tx
}

fn run(rx: smol::channel::Receiver<Job>) {
    let ex = smol::LocalExecutor::new();
    let running = Arc::new(AtomicUsize::new(0));
    smol::block_on(ex.run(async {
        while let Ok(job) = rx.recv().await {
            while running.load(Ordering::SeqCst) >= MAX_RUNNING {
                smol::Timer::after(Duration::from_millis(20)).await;
            }
            running.fetch_add(1, Ordering::SeqCst);
            let running = running.clone();
            ex.spawn(async move {
                deliver(job).await;
                running.fetch_sub(1, Ordering::SeqCst);
                PENDING.fetch_sub(1, Ordering::SeqCst);
            })
            .detach();
        }
    }));
}

async fn deliver(job: Job) {
    let s = &job.settings;
    let subject = &job.mail.subject;
    let result = async {
        let addr = smtp_alert::resolve(&s.host, s.port).await?;
        let data = s.envelope.data(&now_local().rfc822(), &job.mail);
        let dialog = Dialog::new(s.envelope.clone(), data);
        smtp_alert::send(addr, s.step_timeout, dialog).await
    }
    .await;
    match result {
        Ok(()) => log::debug!("SMTP alert \"{subject}\" successfully sent"),
        Err(e) => log::warn!("SMTP alert \"{subject}\" not sent: {e}"),
    }
}
