//! `use_vmac`, `vmac_xmit_base`, `use_vmac_addr` as keepalived 2.2.7 reads them.

mod common;

fn parse(text: &str) -> (vigil_model::Config, Vec<String>) {
    match common::parse_with(text, &[], false) {
        Ok((c, w)) => (c, w.iter().map(|d| d.problem.to_string()).collect()),
        Err(d) => panic!("refused:\n{}", common::render(&d)),
    }
}

#[test]
fn acted_on_without_a_warning() {
    let (c, w) = parse(
        "vrrp_instance A {\n  interface eth0\n  virtual_router_id 51\n  use_vmac\n  vmac_xmit_base\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n",
    );
    assert!(w.is_empty(), "{w:?}");
    let i = &c.instances[0];
    assert_eq!(i.use_vmac.as_deref(), Some("vrrp.51"));
    assert!(i.vmac_xmit_base && !i.use_vmac_addr);
    assert_eq!(i.vmac_mac, None);
}

#[test]
fn name_and_mac_in_either_order() {
    let (c, w) = parse(
        "vrrp_instance A {\n  interface eth0\n  virtual_router_id 9\n  use_vmac 02:11:22:33:44 vm9\n  use_vmac_addr\n}\n",
    );
    assert!(w.is_empty(), "{w:?}");
    let i = &c.instances[0];
    assert_eq!(i.use_vmac.as_deref(), Some("vm9"));
    assert_eq!(
        i.vmac_mac,
        Some([2, 0x11, 0x22, 0x33, 0x44, 9]),
        "VRID completes 5 octets"
    );
    assert!(i.use_vmac_addr);
}

#[test]
fn bad_values_are_ignored_with_a_warning() {
    let (c, w) = parse(
        "vrrp_instance A {\n  interface eth0\n  virtual_router_id 3\n  use_vmac this-name-is-too-long 01:00:00:00:00:01\n}\n",
    );
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].contains("too long") && w[1].contains("multicast"),
        "{w:?}"
    );
    let i = &c.instances[0];
    assert_eq!((i.use_vmac.as_deref(), i.vmac_mac), (Some("vrrp.3"), None));
}

#[test]
fn unicast_forces_xmit_base_and_names_stay_unique() {
    let (c, w) = parse(
        "vrrp_instance A {\n  interface eth0\n  virtual_router_id 4\n  use_vmac\n  unicast_peer {\n    10.0.0.2\n  }\n}\nvrrp_instance B {\n  interface eth0\n  virtual_router_id 4\n  use_vmac\n  virtual_ipaddress {\n    fd00::4/64\n  }\n}\n",
    );
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("requires vmac_xmit_base"), "{w:?}");
    assert!(c.instances[0].vmac_xmit_base);
    assert!(!c.instances[1].vmac_xmit_base);
    assert_eq!(c.instances[1].use_vmac.as_deref(), Some("vrrp6.4"));
}

#[test]
fn show_round_trips() {
    let text = "vrrp_instance A {\n  interface eth0\n  virtual_router_id 9\n  use_vmac vm9 02:11:22:33:44:55\n  vmac_xmit_base\n  use_vmac_addr\n}\n";
    let (c, _) = parse(text);
    let shown = vigil_config::show(&c);
    let (again, w) = parse(&shown);
    // `show` writes every setting; only the VMAC ones matter here.
    assert!(!w.iter().any(|w| w.contains("vmac")), "{w:?}\n{shown}");
    assert_eq!(again.instances, c.instances, "{shown}");
}
