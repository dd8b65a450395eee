//! The binary loader on arbitrary bytes: no panic, and what it accepts
//! meets the text rules: it encodes back to bytes that load to the same
//! model, and its text form parses to that model too.
//!
//! The first byte picks how the rest is used:
//! - `x % 3 == 0`: the bytes as they are (header, CRC and all);
//! - `x % 3 == 1`: the rest wrapped in a valid header (magic, version,
//!   length, CRC), so the postcard decoder itself is exercised;
//! - `x % 3 == 2`: the body of a valid configuration with the rest's bytes
//!   written over it (pairs of offset, byte), under a valid header: models
//!   that decode but break a rule (a VRID, a family, a duplicate), which is
//!   what the validator of binary configs must catch.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vigil_config::binary::{FORMAT_VERSION, HEADER_LEN, MAGIC};
use vigil_config::{from_binary, parse_text, show, to_binary, MemoryLoader, Options};

const SAMPLE: &str = "global_defs {\n router_id r1\n}\n\
vrrp_script chk {\n script \"/bin/true\"\n interval 2\n weight -10\n}\n\
vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n\
 advert_int 1\n virtual_ipaddress {\n  10.0.0.1/24\n  10.0.0.2/24 dev eth1\n }\n\
 unicast_peer {\n  10.0.0.9\n }\n track_script {\n  chk\n }\n notify_master \"/bin/m\"\n}\n\
vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 52\n virtual_ipaddress {\n  fd00::1/64\n }\n}\n\
vrrp_sync_group G {\n group {\n  VI_1\n }\n}\n\
virtual_server 10.0.0.1 80 {\n delay_loop 5\n lb_algo rr\n lb_kind DR\n protocol TCP\n\
 real_server 10.0.1.1 80 {\n  weight 2\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n\
 real_server 10.0.1.2 80 {\n  HTTP_GET {\n   url {\n    path /\n    status_code 200\n   }\n  }\n }\n}\n";

fn sample_body() -> &'static [u8] {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    BODY.get_or_init(|| {
        let (c, _) = parse_text("s.conf", SAMPLE, &MemoryLoader::new(), Options::default())
            .expect("the sample is valid");
        to_binary(&c).expect("the sample encodes")[HEADER_LEN..].to_vec()
    })
}

fn wrap(body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(HEADER_LEN + body.len());
    b.extend_from_slice(&MAGIC);
    b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    b.extend_from_slice(&(body.len() as u32).to_le_bytes());
    b.extend_from_slice(&crc32(body).to_le_bytes());
    b.extend_from_slice(body);
    b
}

fuzz_target!(|data: &[u8]| {
    let wrapped;
    let bytes = match data.split_first() {
        Some((&sel, rest)) if sel % 3 == 1 => {
            wrapped = wrap(rest);
            &wrapped[..]
        }
        Some((&sel, rest)) if sel % 3 == 2 => {
            let mut body = sample_body().to_vec();
            for pair in rest.chunks_exact(2) {
                let at = usize::from(pair[0]) * body.len() / 256;
                body[at] = pair[1];
            }
            wrapped = wrap(&body);
            &wrapped[..]
        }
        _ => data,
    };
    if let Ok(config) = from_binary(bytes) {
        let again = to_binary(&config).expect("an accepted model encodes");
        assert_eq!(from_binary(&again).as_ref(), Ok(&config));
        // Accepted means what text would accept: its text form reads back.
        let text = show(&config);
        match parse_text("shown.conf", &text, &MemoryLoader::new(), Options::default()) {
            Ok((back, _)) => assert_eq!(back, config, "text form differs:\n{text}"),
            Err(d) => panic!("an accepted binary's text is refused: {d:?}\n{text}"),
        }
    }
});

/// CRC-32 (IEEE), bitwise: the crate's own is private.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
