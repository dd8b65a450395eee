//! `vigil check --peer`: the seed pairs are consistent, and each broken
//! variant gives exactly its one finding, naming both files and lines.

mod common;

use std::path::PathBuf;

use vigil_config::pair::{check_pair, read, PairFinding, Rule};
use vigil_config::{MemoryLoader, Options, Severity};

const A: &str = "/r1/keepalived.conf";
const B: &str = "/r2/keepalived.conf";

fn data(rel: &str) -> String {
    let p: PathBuf = common::seed_dir().join("..").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn seed(name: &str) -> String {
    data(&format!("seed-configs/{name}"))
}

fn mirror(name: &str) -> String {
    data(&format!("pairs/{}", name.replace(".conf", ".peer.conf")))
}

fn pair(a: &str, b: &str) -> Vec<PairFinding> {
    let mut l = MemoryLoader::new();
    l.insert(A, a);
    l.insert(B, b);
    let side = |p: &str| match read(&l, p, Options::default()) {
        Ok((s, _)) => s,
        Err(d) => panic!("{p} refused:\n{}", common::render(&d)),
    };
    check_pair(&side(A), &side(B))
}

/// `FILE:LINE:COL` of the first line of `text` containing `needle`, at
/// the needle's column.
fn at(file: &str, text: &str, needle: &str) -> String {
    for (n, line) in text.lines().enumerate() {
        if let Some(c) = line.find(needle) {
            return format!("{file}:{}:{}", n + 1, line[..c].chars().count() + 1);
        }
    }
    panic!("{needle:?} not in {file}")
}

/// Exactly one finding, of `rule` and `sev`, at `here` naming `peer`.
fn one(found: &[PairFinding], rule: Rule, sev: Severity, here: &str, peer: &str) -> String {
    let text: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(found.len(), 1, "{text:#?}");
    let f = &found[0];
    assert_eq!((f.rule, f.severity), (rule, sev), "{}", text[0]);
    assert!(
        text[0].starts_with(&format!("{here}: ")),
        "{} does not start at {here}",
        text[0]
    );
    assert!(
        text[0].ends_with(&format!("(peer: {peer})")),
        "{} not naming {peer}",
        text[0]
    );
    text[0].clone()
}

#[test]
fn seed_01_master_and_backup_are_a_consistent_pair() {
    let found = pair(
        &seed("01-single-master.master.conf"),
        &seed("01-single-master.backup.conf"),
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn seeds_02_to_09_and_their_mirrors_are_consistent_pairs() {
    for name in [
        "02-nopreempt.conf",
        "03-preempt-delay.conf",
        "04-unicast.conf",
        "05-notify.conf",
        "06-dual-master.conf",
        "07-lvs-dr.conf",
        "08-lvs-dr-dual-master.conf",
        "09-track-script.conf",
    ] {
        let found = pair(&seed(name), &mirror(name));
        assert!(found.is_empty(), "{name}: {found:#?}");
        // The seed compared with itself is not a pair: equal priorities
        // at least (and, for unicast, peers that are not mirrored).
        let same = pair(&seed(name), &seed(name));
        assert!(
            same.iter().any(|f| f.rule == Rule::EqualPriority),
            "{name}: {same:#?}"
        );
    }
}

fn master() -> String {
    seed("01-single-master.master.conf")
}

fn backup() -> String {
    seed("01-single-master.backup.conf")
}

#[test]
fn a_vrid_edited_on_one_router() {
    let (a, b) = (
        master(),
        backup().replace("virtual_router_id 51", "virtual_router_id 52"),
    );
    let found = pair(&a, &b);
    let msg = one(
        &found,
        Rule::Vrid,
        Severity::Error,
        &at(A, &a, "virtual_router_id"),
        &at(B, &b, "virtual_router_id"),
    );
    assert!(msg.contains("virtual_router_id 51 here, 52 in the peer's vrrp_instance VI_1"));
}

#[test]
fn an_instance_without_partner() {
    let a = master() + "vrrp_instance EXTRA {\n    interface eth0\n    virtual_router_id 60\n    virtual_ipaddress {\n        10.9.9.9\n    }\n}\n";
    let found = pair(&a, &backup());
    let msg = one(
        &found,
        Rule::Unpaired,
        Severity::Error,
        &at(A, &a, "vrrp_instance EXTRA"),
        &format!("{B}:1:1"),
    );
    assert!(msg.contains("vrrp_instance EXTRA (VRID 60, IPv4) has no partner"));
}

#[test]
fn a_vip_set_that_differs() {
    let b = backup().replace("192.168.67.150/24", "192.168.67.151/24");
    let a = master();
    let found = pair(&a, &b);
    let msg = one(
        &found,
        Rule::Vips,
        Severity::Error,
        &at(A, &a, "virtual_ipaddress"),
        &at(B, &b, "virtual_ipaddress"),
    );
    assert!(msg.contains("only here 192.168.67.150/24; only in the peer 192.168.67.151/24"));
}

#[test]
fn auth_advert_int_and_version_that_differ() {
    let a = master();
    let b = backup().replace("auth_pass 1111", "auth_pass 2222");
    let f = pair(&a, &b);
    let m = one(
        &f,
        Rule::Auth,
        Severity::Error,
        &at(A, &a, "authentication"),
        &at(B, &b, "authentication"),
    );
    assert!(
        m.contains("a different auth_pass") && !m.contains("2222"),
        "{m}"
    );

    let b = backup().replace("advert_int 1", "advert_int 2");
    let f = pair(&a, &b);
    one(
        &f,
        Rule::AdvertInt,
        Severity::Error,
        &at(A, &a, "advert_int"),
        &at(B, &b, "advert_int"),
    );

    // VRRPv3 has no authentication: drop it on that side too.
    let b = backup()
        .replace("advert_int 1", "advert_int 1\n    version 3")
        .replace("auth_type PASS", "")
        .replace("auth_pass 1111", "");
    let a2 = master()
        .replace("auth_type PASS", "")
        .replace("auth_pass 1111", "");
    let f = pair(&a2, &b);
    // Not written in A: the instance's line; in B the version line.
    one(
        &f,
        Rule::Version,
        Severity::Error,
        &at(A, &a2, "vrrp_instance VI_1"),
        &at(B, &b, "version 3"),
    );
}

#[test]
fn equal_priorities_are_a_warning() {
    let (a, b) = (master(), backup().replace("priority 80", "priority 100"));
    let f = pair(&a, &b);
    let m = one(
        &f,
        Rule::EqualPriority,
        Severity::Warning,
        &at(A, &a, "priority 100"),
        &at(B, &b, "priority 100"),
    );
    assert!(m.contains("priority 100 on both routers"));
}

#[test]
fn unicast_peers_not_mirrored() {
    let name = "04-unicast.conf";
    let a = seed(name);
    let b = mirror(name).replace("        192.168.67.100", "        192.168.67.101");
    let f = pair(&a, &b);
    let m = one(
        &f,
        Rule::Unicast,
        Severity::Error,
        &at(B, &b, "unicast_peer"),
        &at(A, &a, "unicast_src_ip"),
    );
    assert!(
        m.contains("does not list the other router's unicast_src_ip 192.168.67.100"),
        "{m}"
    );
}

#[test]
fn unicast_on_one_router_multicast_on_the_other() {
    let name = "04-unicast.conf";
    let a = seed(name);
    let b = mirror(name)
        .replace("unicast_peer {", "virtual_ipaddress_excluded {")
        .replace("        192.168.67.100              # 对端 IP", "");
    let f = pair(&a, &b);
    one(
        &f,
        Rule::Unicast,
        Severity::Error,
        &at(A, &a, "unicast_peer"),
        &at(B, &b, "vrrp_instance VI_1"),
    );
}

#[test]
fn both_master_with_nopreempt() {
    let name = "02-nopreempt.conf";
    let a = seed(name).replace("state BACKUP", "state MASTER");
    let b = mirror(name).replace("state BACKUP", "state MASTER");
    let f = pair(&a, &b);
    one(
        &f,
        Rule::MasterNopreempt,
        Severity::Warning,
        &at(A, &a, "state"),
        &at(B, &b, "state"),
    );
}

#[test]
fn a_track_weight_too_small_to_move_the_vip() {
    let name = "09-track-script.conf";
    let a = seed(name).replace("weight -30", "weight -10");
    let b = mirror(name);
    let f = pair(&a, &b);
    let m = one(
        &f,
        Rule::WeightTooSmall,
        Severity::Error,
        &track_entry(A, &a),
        &at(B, &b, "priority 80"),
    );
    assert!(
        m.contains("priority 100 -> 90 on failure, not below the peer's 80"),
        "{m}"
    );
}

#[test]
fn a_track_weight_so_large_the_priority_clamps() {
    let name = "09-track-script.conf";
    let a = seed(name).replace("weight -30", "weight -120");
    let b = mirror(name);
    let f = pair(&a, &b);
    let m = one(
        &f,
        Rule::WeightTooLarge,
        Severity::Warning,
        &track_entry(A, &a),
        &at(B, &b, "priority 80"),
    );
    assert!(
        m.contains("priority 100 -> -20 on failure, clamped to 1"),
        "{m}"
    );
}

/// The `TEST_CHECK` line inside `track_script { }` (not the vrrp_script's).
fn track_entry(file: &str, text: &str) -> String {
    let n = text
        .lines()
        .position(|l| l.trim() == "TEST_CHECK")
        .expect("track_script entry");
    let line = text.lines().nth(n).unwrap_or("");
    let col = line.len() - line.trim_start().len() + 1;
    format!("{file}:{}:{col}", n + 1)
}

#[test]
fn sync_groups_that_differ() {
    let name = "06-dual-master.conf";
    let a = seed(name)
        + "vrrp_sync_group G {\n    group {\n        WEB_VIP\n        DB_VIP\n    }\n}\n";
    let b = mirror(name);
    let f = pair(&a, &b);
    let m = one(
        &f,
        Rule::SyncGroup,
        Severity::Error,
        &at(A, &a, "group {"),
        &format!("{B}:1:1"),
    );
    assert!(
        m.contains("vrrp_sync_group G (VRIDs 51, 52) has no group"),
        "{m}"
    );
}

#[test]
fn virtual_servers_that_differ() {
    let name = "08-lvs-dr-dual-master.conf";
    let a = seed(name);
    // A service only on one router.
    let b = mirror(name).replace(
        "virtual_server 192.168.67.160 3306",
        "virtual_server 192.168.67.160 3307",
    );
    let f = pair(&a, &b);
    let text: Vec<String> = f.iter().map(ToString::to_string).collect();
    assert_eq!(f.len(), 2, "{text:#?}");
    assert!(
        text[0].starts_with(&format!(
            "{}: error: virtual_server 192.168.67.160 3306 is not in the peer's",
            at(A, &a, "virtual_server 192.168.67.160 3306")
        )),
        "{}",
        text[0]
    );
    assert!(
        text[1].starts_with(&at(B, &b, "virtual_server 192.168.67.160 3307")),
        "{}",
        text[1]
    );

    // A real server only on one router: both sides report theirs.
    let b = mirror(name).replacen(
        "real_server 192.168.67.20 80",
        "real_server 192.168.67.21 80",
        1,
    );
    let f = pair(&a, &b);
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f
        .iter()
        .all(|x| x.rule == Rule::RealServers && x.is_error()));
    assert_eq!(
        f[0].here.to_string(),
        at(A, &a, "real_server 192.168.67.20 80")
    );
    assert_eq!(
        f[0].peer.to_string(),
        at(B, &b, "virtual_server 192.168.67.150 80")
    );

    // A scheduler that differs: one warning.
    let b = mirror(name).replacen("lb_algo rr", "lb_algo wrr", 1);
    let f = pair(&a, &b);
    one(
        &f,
        Rule::ServiceOptions,
        Severity::Warning,
        &at(A, &a, "lb_algo"),
        &at(B, &b, "lb_algo"),
    );

    // A checker that differs: one warning at both checkers.
    let b = mirror(name).replacen("HTTP_GET {", "TCP_CHECK {", 1).replacen(
        "            url {\n                path /\n                status_code 200\n            }\n",
        "",
        1,
    );
    let f = pair(&a, &b);
    let m = one(
        &f,
        Rule::Checkers,
        Severity::Warning,
        &at(A, &a, "HTTP_GET"),
        &at(B, &b, "TCP_CHECK"),
    );
    assert!(
        m.contains("checkers HTTP_GET weight 1 here, checkers TCP_CHECK weight 1 in the peer"),
        "{m}"
    );
}

#[test]
fn a_track_process_weight_too_small_to_move_the_vip() {
    let name = "01-single-master.master.conf";
    let block = "vrrp_track_process web {\n    process nginx\n}\n";
    let track = "    track_process {\n        web weight -10\n    }\n    virtual_ipaddress {";
    let a = format!(
        "{block}{}",
        seed(name).replacen("    virtual_ipaddress {", track, 1)
    );
    let b = format!("{block}{}", seed("01-single-master.backup.conf"));
    let found = pair(&a, &b);
    let text: Vec<String> = found.iter().map(ToString::to_string).collect();
    let f = found.iter().find(|f| f.rule == Rule::WeightTooSmall);
    assert!(f.is_some(), "{text:#?}");
    assert!(
        text.iter()
            .any(|t| t.starts_with(&at(A, &a, "web weight -10"))),
        "{text:#?}"
    );
}

#[test]
fn ah_pairs_are_checked_like_pass() {
    let ah = |t: String| t.replace("auth_type PASS", "auth_type AH");
    // Both AH, one password: consistent (state MASTER is cleared to
    // BACKUP under AH, a warning of each side's own reading, not the pair's).
    let (a, b) = (ah(master()), ah(backup()));
    assert!(pair(&a, &b).is_empty());
    let b2 = b.replace("auth_pass 1111", "auth_pass 2222");
    let m = one(
        &pair(&a, &b2),
        Rule::Auth,
        Severity::Error,
        &at(A, &a, "authentication"),
        &at(B, &b2, "authentication"),
    );
    assert!(m.contains("a different auth_pass"), "{m}");
    let m = one(
        &pair(&a, &backup()),
        Rule::Auth,
        Severity::Error,
        &at(A, &a, "authentication"),
        &at(B, &backup(), "authentication"),
    );
    assert!(m.contains("auth_type AH here, PASS in the peer"), "{m}");
}
