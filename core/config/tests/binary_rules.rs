//! A binary config meets the rules text meets: models that break each rule
//! are encoded by hand (as a hand-made or damaged-but-CRC-valid file would
//! be) and refused, naming the block and the field.

mod common;

use std::net::IpAddr;

use vigil_config::binary::{FORMAT_VERSION, MAGIC};
use vigil_config::{
    from_binary, load_any, to_binary, BinaryError, LoadAnyError, MemoryLoader, Options, Refusal,
};
use vigil_model::{Config, VirtualAddress};

const TEXT: &str = "\
vrrp_script chk {\n script \"/bin/true\"\n}\n\
vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 150\n\
 virtual_ipaddress {\n  10.0.0.1/24\n }\n track_script {\n  chk\n }\n}\n\
vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 52\n virtual_ipaddress {\n  10.0.0.2/24\n }\n}\n\
vrrp_sync_group G {\n group {\n  VI_1\n  VI_2\n }\n}\n\
virtual_server 10.0.0.1 80 {\n lb_kind DR\n real_server 10.0.1.1 80 {\n  TCP_CHECK {\n  }\n }\n}\n";

fn valid() -> Config {
    common::ok(TEXT)
}

/// What `vigil compile` would write, without its check: the header, the
/// CRC and the postcard body of any model.
fn encode(c: &Config) -> Vec<u8> {
    let body = postcard::to_allocvec(c).unwrap();
    let mut b = Vec::from(MAGIC);
    b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    b.extend_from_slice(&(body.len() as u32).to_le_bytes());
    b.extend_from_slice(&crc32(&body).to_le_bytes());
    b.extend_from_slice(&body);
    b
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The refusals of `c` as a binary file; the file must be refused, and
/// `vigil compile` (to_binary) must refuse the model the same way.
fn refused(c: &Config) -> Vec<Refusal> {
    let loaded = from_binary(&encode(c));
    let Err(BinaryError::Invalid(r)) = loaded else {
        panic!("accepted or refused for another reason: {loaded:?}");
    };
    assert!(!r.is_empty());
    assert_eq!(to_binary(c), Err(BinaryError::Invalid(r.clone())));
    r
}

/// Asserts one refusal names `block` and a field containing `field`.
fn names(r: &[Refusal], block: &str, field: &str) {
    assert!(
        r.iter()
            .any(|x| x.block == block && x.field.contains(field)),
        "no refusal at {block} / {field}: {r:#?}"
    );
}

#[test]
fn the_valid_model_loads() {
    let c = valid();
    assert_eq!(from_binary(&encode(&c)), Ok(c.clone()));
    assert_eq!(from_binary(&to_binary(&c).unwrap()), Ok(c));
}

#[test]
fn vrid_and_priority_out_of_range() {
    let mut c = valid();
    c.instances[0].virtual_router_id = 0;
    names(&refused(&c), "vrrp_instance VI_1", "virtual_router_id");
    let mut c = valid();
    c.instances[1].priority = 0;
    names(&refused(&c), "vrrp_instance VI_2", "priority");
}

#[test]
fn duplicate_vrids_and_names() {
    let mut c = valid();
    c.instances[1].virtual_router_id = 51;
    let r = refused(&c);
    assert!(r[0].block.starts_with("vrrp_instance VI_"), "{r:#?}");
    assert!(r[0].problem.contains("51"), "{r:#?}");
    let mut c = valid();
    c.instances[1].name = "VI_1".into();
    let r = refused(&c);
    assert!(
        r.iter()
            .any(|x| x.block == "vrrp_instance VI_1" && x.problem.contains("VI_1")),
        "{r:#?}"
    );
}

#[test]
fn address_families() {
    // An IPv6 VIP in an IPv4 instance: text skips it with a warning, so
    // the model read back differs from the decoded one.
    let mut c = valid();
    let mut v6: VirtualAddress = c.instances[0].virtual_addresses[0].clone();
    v6.addr = "fd00::1".parse::<IpAddr>().unwrap();
    v6.prefix_len = 64;
    c.instances[0].virtual_addresses.push(v6);
    let r = refused(&c);
    names(&r, "vrrp_instance VI_1", "virtual_ipaddress > fd00::1/64");
    assert!(
        r.iter()
            .any(|x| x.problem == "`fd00::1/64` is not kept by the text rules"),
        "{r:#?}"
    );
    // An IPv6 real server under an IPv4 DR service.
    let mut c = valid();
    c.virtual_servers[0].real_servers[0].addr = "fd00::5".parse().unwrap();
    let r = refused(&c);
    assert!(
        r.iter().any(|x| x.block == "virtual_server 10.0.0.1 80"),
        "{r:#?}"
    );
}

#[test]
fn references_between_blocks() {
    let mut c = valid();
    c.sync_groups[0].instances.push("VI_9".into());
    let r = refused(&c);
    assert!(
        r.iter()
            .any(|x| x.block == "vrrp_sync_group G" && x.problem.contains("VI_9")),
        "{r:#?}"
    );
    let mut c = valid();
    c.instances[0].track_scripts[0].name = "nope".into();
    let r = refused(&c);
    assert!(r.iter().any(|x| x.block == "vrrp_instance VI_1"), "{r:#?}");
}

#[test]
fn counts_over_what_text_can_hold() {
    let mut c = valid();
    c.instances[0].unicast_peers = (0..90_000u32)
        .map(|n| IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n)))
        .collect();
    let r = refused(&c);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].block, "configuration");
    assert!(r[0].problem.contains("81920"), "{r:#?}");
}

#[test]
fn the_message_is_one_line_naming_block_and_field() {
    let mut c = valid();
    c.instances[0].virtual_router_id = 0;
    let e = load_any(
        &encode(&c),
        "k.vigil",
        &MemoryLoader::new(),
        Options::default(),
    )
    .unwrap_err();
    assert!(matches!(e, LoadAnyError::Binary(BinaryError::Invalid(_))));
    let m = e.to_string();
    assert!(!m.contains('\n'), "{m}");
    assert!(
        m.starts_with("binary config refused (1 problem): vrrp_instance VI_1: virtual_router_id: "),
        "{m}"
    );
}

#[test]
fn a_checker_timer_names_the_nested_keyword() {
    let mut c = valid();
    let rs = &mut c.virtual_servers[0].real_servers[0];
    rs.checkers[0].common.connect_timeout = std::time::Duration::from_secs(400 * 86_400);
    let r = refused(&c);
    names(
        &r,
        "virtual_server 10.0.0.1 80",
        "real_server 10.0.1.1 80 > TCP_CHECK > connect_timeout",
    );
}
