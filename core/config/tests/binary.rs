//! The binary form: exact round trip, and every kind of damage refused.

mod common;

use vigil_config::binary::{FORMAT_VERSION, HEADER_LEN};
use vigil_config::{
    from_binary, load_any, to_binary, BinaryError, LoadAnyError, MemoryLoader, Options,
};

fn sample() -> Vec<u8> {
    let c = common::ok(&common::gen::big_config(3, 2, 3));
    to_binary(&c).unwrap()
}

#[test]
fn truncated_at_every_length_is_refused() {
    let b = sample();
    for n in 0..b.len() {
        let e = from_binary(&b[..n]).unwrap_err();
        let expected = if n < HEADER_LEN {
            matches!(e, BinaryError::TruncatedHeader(m) if m == n)
        } else {
            matches!(e, BinaryError::TruncatedBody { present, .. } if present == n - HEADER_LEN)
        };
        assert!(expected, "length {n}: {e:?}");
    }
    assert!(from_binary(&b).is_ok());
}

#[test]
fn a_flipped_byte_anywhere_is_refused() {
    let b = sample();
    for i in 0..b.len() {
        for bit in [0x01u8, 0x80] {
            let mut d = b.clone();
            d[i] ^= bit;
            let e = from_binary(&d);
            assert!(e.is_err(), "flip {bit:#x} at {i} accepted");
        }
    }
}

#[test]
fn future_version_and_trailing_garbage_are_refused() {
    let b = sample();
    let mut f = b.clone();
    f[4..6].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert_eq!(
        from_binary(&f),
        Err(BinaryError::FutureVersion(FORMAT_VERSION + 1))
    );
    let mut t = b.clone();
    t.extend_from_slice(b"garbage");
    assert_eq!(from_binary(&t), Err(BinaryError::TrailingBytes(7)));
    // Messages differ per reason.
    let m1 = BinaryError::FutureVersion(9).to_string();
    let m2 = BinaryError::TrailingBytes(7).to_string();
    assert_ne!(m1, m2);
}

#[test]
fn load_any_sniffs_the_magic() {
    let text = common::gen::big_config(2, 1, 2);
    let l = MemoryLoader::new();
    let (from_text, _) = load_any(text.as_bytes(), "k.conf", &l, Options::default()).unwrap();
    let bin = to_binary(&from_text).unwrap();
    let (from_bin, w) = load_any(&bin, "k.vigil", &l, Options::default()).unwrap();
    assert!(w.is_empty());
    assert_eq!(from_bin, from_text);
    let mut bad = bin.clone();
    bad.truncate(20);
    assert!(matches!(
        load_any(&bad, "k", &l, Options::default()),
        Err(LoadAnyError::Binary(_))
    ));
    let e = load_any(
        b"global_defs {\n  router_id \xff\n}\n",
        "k",
        &l,
        Options::default(),
    )
    .unwrap_err();
    match e {
        LoadAnyError::Text(d) => assert_eq!((d[0].line, d[0].col), (2, 13)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn big_generated_config_round_trips_through_binary_and_show() {
    let text = common::gen::big_config(200, 50, 20);
    let c = common::ok(&text);
    assert_eq!((c.instances.len(), c.virtual_servers.len()), (200, 50));
    assert_eq!(from_binary(&to_binary(&c).unwrap()).unwrap(), c);
    let shown = vigil_config::show(&c);
    assert_eq!(common::ok(&shown), c);
}

#[test]
fn durations_of_every_precision_and_commands_round_trip() {
    use std::time::Duration;
    let mut c = common::ok(&common::gen::big_config(1, 1, 1));
    // What text can write: microseconds, up to each keyword's maximum.
    let cases = [
        Duration::ZERO,
        Duration::from_secs(1),
        Duration::from_millis(10),
        Duration::from_micros(3_000_001),
        Duration::from_secs(1000),
    ];
    for d in cases {
        c.global.vrrp_garp_interval = d;
        assert_eq!(from_binary(&to_binary(&c).unwrap()).unwrap(), c, "{d:?}");
    }
    c.virtual_servers[0].delay_loop = Duration::from_secs(365 * 86_400);
    assert_eq!(from_binary(&to_binary(&c).unwrap()).unwrap(), c);
    // argv is rebuilt from the text when loading.
    let cmd = vigil_model::Command::new("/bin/x 'a b' e\\ f", None);
    assert_eq!(cmd.argv, ["/bin/x", "a b", "e f"]);
    c.instances[0].notify.stop = Some(cmd);
    assert_eq!(from_binary(&to_binary(&c).unwrap()).unwrap(), c);
    // A '"' no text can write (the grammar has no escapes) is refused.
    c.instances[0].notify.stop = Some(vigil_model::Command::new("/bin/x \"c\\\"d\"", None));
    match to_binary(&c) {
        Err(BinaryError::Invalid(r)) => assert_eq!(r[0].field, "notify_stop", "{r:?}"),
        other => panic!("{other:?}"),
    }
    c.instances[0].notify.stop = None;
    // Over the keyword's range: refused, naming the keyword.
    c.global.vrrp_garp_interval = Duration::from_secs(1001);
    match to_binary(&c) {
        Err(BinaryError::Invalid(r)) => {
            assert_eq!(
                (r[0].block.as_str(), r[0].field.as_str()),
                ("global_defs", "vrrp_garp_interval")
            );
        }
        other => panic!("{other:?}"),
    }
}
