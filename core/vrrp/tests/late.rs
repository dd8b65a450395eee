//! A backup that processes its adverts late (a loaded CPU woke it after the
//! Master_Down deadline) must not take over when adverts that arrived in time
//! are waiting: fed first with their receive times (`handle_packet_at`), they
//! restart the Master_Down_Timer from when they arrived. Simulated clock only.

use std::net::{IpAddr, Ipv4Addr};

mod direct;

use direct::{GROUP, PEER};
use vigil_vrrp::{InstanceConfig, Instant, Repr, Router, RxMeta, State, Version};

const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 77, 0, 1));
/// v3, advert 0.02 s, priority 80: 3 x 20 ms + (256 - 80) / 256 x 20 ms.
const DOWN_US: u64 = 60_000 + 13_750;

fn ms(t: u64) -> Instant {
    Instant::from_micros(t * 1000)
}

fn backup() -> Router {
    let mut c = InstanceConfig::new("VP_1", "eth0", 1);
    c.version = Version::V3;
    c.advert_int_cs = 2;
    c.priority = 80;
    c.virtual_addresses = vec![VIP];
    direct::started(c)
}

fn advert() -> Vec<u8> {
    let repr = Repr {
        version: Version::V3,
        vrid: 1,
        priority: 100,
        adver_int_cs: 2,
        auth: vigil_vrrp::Auth::None,
        addresses: vec![VIP],
    };
    direct::bytes(&repr, PEER, GROUP)
}

fn meta() -> RxMeta<'static> {
    direct::meta(PEER, GROUP, 255)
}

fn state(r: &Router) -> State {
    r.instance(r.instance_id("VP_1").unwrap()).unwrap().state
}

/// The master's adverts every 20 ms from 10 ms up to `last` ms, all read at
/// `read` ms (a wake-up that late), each with its receive time.
fn feed_late(r: &mut Router, last: u64, read: u64) {
    let pkt = advert();
    for t in (10..=last).step_by(20) {
        r.handle_packet_at(ms(read), ms(t), &meta(), &pkt);
    }
}

#[test]
fn queued_adverts_read_before_the_timers_hold_the_backup() {
    let mut r = backup();
    r.handle_packet(ms(10), &meta(), &advert());
    assert_eq!(r.poll_timeout(), Some(ms(10).plus_micros(DOWN_US)));
    // Woken at 200 ms, long past the 83.75 ms deadline; adverts up to 190 ms
    // are queued. Read first, then fire timers: no takeover.
    feed_late(&mut r, 190, 200);
    assert_eq!(r.poll_timeout(), Some(ms(190).plus_micros(DOWN_US)));
    r.handle_timeout(ms(200));
    assert_eq!(state(&r), State::Backup);
    assert_eq!(r.poll_action(), None);
}

#[test]
fn timers_fired_before_reading_would_take_over() {
    // The control: the same late wake-up firing timers first flaps.
    let mut r = backup();
    r.handle_packet(ms(10), &meta(), &advert());
    r.handle_timeout(ms(200));
    assert_eq!(state(&r), State::Master);
}

#[test]
fn the_timer_runs_from_the_receive_time_not_the_read_time() {
    let mut r = backup();
    // One advert at 50 ms read at 120 ms: the deadline is 50 + 73.75 ms.
    r.handle_packet_at(ms(120), ms(50), &meta(), &advert());
    assert_eq!(r.poll_timeout(), Some(ms(50).plus_micros(DOWN_US)));
    r.handle_timeout(ms(123));
    assert_eq!(state(&r), State::Backup);
    r.handle_timeout(ms(50).plus_micros(DOWN_US));
    assert_eq!(state(&r), State::Master);
}

#[test]
fn an_advert_that_arrived_after_a_real_silence_does_not_hide_it() {
    let mut r = backup();
    r.handle_packet(ms(10), &meta(), &advert());
    // The master was silent from 10 to 150 ms, then sent one advert, read at
    // 300 ms: its own timer ran out at 223.75 ms, so the master is down.
    r.handle_packet_at(ms(300), ms(150), &meta(), &advert());
    r.handle_timeout(ms(300));
    assert_eq!(state(&r), State::Master);
}

#[test]
fn a_receive_time_after_now_counts_as_now() {
    let mut r = backup();
    r.handle_packet_at(ms(40), ms(90), &meta(), &advert());
    assert_eq!(r.poll_timeout(), Some(ms(40).plus_micros(DOWN_US)));
}
