//! A generated LVS table configuration for the engine tests: `nvs` virtual
//! servers x `nrs` real servers with a TCP_CHECK each.

use vigil_config::{parse_text, MemoryLoader, Options};

/// `text` parsed, or the test fails with the findings.
pub fn config(text: &str) -> vigil_model::Config {
    match parse_text("k.conf", text, &MemoryLoader::new(), Options::default()) {
        Ok((c, _)) => c,
        Err(d) => panic!("refused: {d:?}"),
    }
}

/// `nvs` virtual servers x `nrs` real servers, each TCP_CHECK's block being
/// `check` (its lines, indented); the real server `changed` (vs, rs) gets
/// weight 2.
pub fn table_conf(nvs: u16, nrs: u8, changed: Option<(u16, u8)>, check: &str) -> String {
    let mut s = String::new();
    for v in 0..nvs {
        s += &format!(
            "virtual_server 192.168.67.150 {} {{\n delay_loop 30\n lb_algo rr\n lb_kind DR\n",
            8001 + v
        );
        for r in 0..nrs {
            let w = if changed == Some((v, r)) { 2 } else { 1 };
            s += &format!(
                " real_server 192.168.67.{} {} {{\n  weight {w}\n  TCP_CHECK {{\n{check}  }}\n }}\n",
                10 + r,
                8001 + v
            );
        }
        s += "}\n";
    }
    s
}
