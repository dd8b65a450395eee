//! `include`: relative resolution, glob order, cycles, depth, empty globs.

mod common;

use common::{parse_with, BASE};
use vigil_config::{LoadError, Problem, Severity};

const MAIN: &str = "/etc/keepalived/keepalived.conf";

fn inst(name: &str, vrid: u8) -> String {
    format!("vrrp_instance {name} {{\n  interface eth0\n  virtual_router_id {vrid}\n}}\n")
}

#[test]
fn relative_glob_in_sorted_order_even_inside_a_block() {
    let files = [
        ("/etc/keepalived/conf.d/b.conf", inst("B", 2)),
        ("/etc/keepalived/conf.d/a.conf", inst("A", 1)),
        ("/etc/keepalived/conf.d/B.conf", inst("UPPER", 3)),
        ("/etc/keepalived/conf.d/a.conf.bak", inst("BAK", 4)),
        ("/etc/keepalived/conf.d/.hidden.conf", inst("HIDDEN", 5)),
        ("/etc/keepalived/conf.d/sub/c.conf", inst("C", 6)),
        (
            "/etc/keepalived/vips.inc",
            "10.0.0.1/24\n10.0.0.2/24\n".into(),
        ),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let main = "include conf.d/*.conf\ninclude conf.d/[s]*/?.conf\nvrrp_instance V {\n  interface eth1\n  virtual_router_id 9\n  virtual_ipaddress {\n    include vips.inc\n  }\n}\n";
    let (c, w) = parse_with(main, &files, true).unwrap();
    assert!(w.is_empty(), "{}", common::render(&w));
    let names: Vec<&str> = c.instances.iter().map(|i| i.name.as_str()).collect();
    // Byte order as glob(3) in the C locale: uppercase first; no hidden files.
    assert_eq!(names, ["UPPER", "A", "B", "C", "V"]);
    assert_eq!(c.instances[4].virtual_addresses.len(), 2);
}

#[test]
fn diagnostics_name_the_included_file() {
    let files = [(
        "/etc/keepalived/x.conf",
        "vrrp_instance X {\n  interface eth0\n  virtual_router_id 999\n}\n",
    )];
    let e = parse_with("global_defs {\n}\ninclude x.conf\n", &files, false).unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(
        (e[0].file.as_str(), e[0].line, e[0].col),
        ("/etc/keepalived/x.conf", 3, 21)
    );
}

#[test]
fn absolute_paths_are_taken_as_they_are() {
    let files = [("/opt/vi.conf", BASE)];
    let (c, _) = parse_with("include /opt/vi.conf\n", &files, true).unwrap();
    assert_eq!(c.instances.len(), 1);
}

#[test]
fn include_cycle_is_refused_where_it_closes() {
    let files = [
        ("/etc/keepalived/a.conf", "include b.conf\n"),
        (
            "/etc/keepalived/b.conf",
            "global_defs {\n}\ninclude ./a.conf\n",
        ),
    ];
    let e = parse_with("include a.conf\n", &files, false).unwrap_err();
    assert_eq!(e.len(), 1, "{}", common::render(&e));
    assert_eq!(
        (e[0].file.as_str(), e[0].line, e[0].col),
        ("/etc/keepalived/b.conf", 3, 1)
    );
    assert_eq!(
        e[0].problem,
        Problem::IncludeCycle("/etc/keepalived/a.conf".into())
    );
    // Including oneself.
    let e = parse_with("\ninclude keepalived.conf\n", &[], false).unwrap_err();
    assert_eq!(
        (e[0].line, e[0].problem.clone()),
        (2, Problem::IncludeCycle(MAIN.into()))
    );
}

#[test]
fn include_depth_over_8_is_refused() {
    // main -> d1 -> ... -> d8 is fine; d9 is one too deep.
    let mut files: Vec<(String, String)> = (1..=9)
        .map(|i| {
            (
                format!("/etc/keepalived/d{i}.conf"),
                format!("include d{}.conf\n", i + 1),
            )
        })
        .collect();
    files[7].1 = BASE.into(); // d8 ends the chain
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let (c, _) = parse_with("include d1.conf\n", &refs, false).unwrap();
    assert_eq!(c.instances.len(), 1);
    files[7].1 = "include d9.conf\n".into();
    files[8].1 = BASE.into();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let e = parse_with("include d1.conf\n", &refs, false).unwrap_err();
    assert_eq!(e.len(), 1, "{}", common::render(&e));
    assert_eq!(
        (e[0].file.as_str(), e[0].line),
        ("/etc/keepalived/d8.conf", 1)
    );
    assert_eq!(
        e[0].problem,
        Problem::IncludeTooDeep("/etc/keepalived/d9.conf".into())
    );
}

#[test]
fn empty_glob_is_a_warning_and_includes_nothing() {
    let (c, w) = parse_with(&format!("{BASE}include conf.d/*.conf\n"), &[], false).unwrap();
    assert_eq!(c.instances.len(), 1);
    assert_eq!(w.len(), 1);
    assert_eq!(
        (w[0].severity, w[0].line, w[0].col),
        (Severity::Warning, 8, 1)
    );
    assert_eq!(
        w[0].problem,
        Problem::IncludeNoMatch("conf.d/*.conf".into())
    );
}

#[test]
fn a_missing_plain_file_is_an_error() {
    let e = parse_with("include nope.conf\n", &[], false).unwrap_err();
    assert_eq!(
        e[0].problem,
        Problem::Unreadable("/etc/keepalived/nope.conf".into(), LoadError::NotFound)
    );
    assert_eq!((e[0].line, e[0].col), (1, 1));
    // keepalived skips a bare `include` with a warning.
    let (_, w) = parse_with("include\n", &[], false).unwrap();
    assert_eq!(w[0].problem, Problem::IncludeWithoutPath);
}

#[test]
fn seed_include_config_reads_conf_d() {
    let dir = common::seed_dir().canonicalize().unwrap();
    let loader = common::load_tree(&dir);
    let path = dir.join("10-include.conf");
    let (c, w) =
        vigil_config::parse_file(&loader, path.to_str().unwrap(), Default::default()).unwrap();
    assert!(w.is_empty());
    assert_eq!(c.instances[0].virtual_router_id, 51);
}
