//! The probe keywords `bind_port` and `http_protocol`, and DNS_CHECK names:
//! parsed into the model, refused with FILE:LINE:COL, printed by `show`, and
//! kept by the binary form.

mod common;

use common::{errors, ok};
use vigil_config::{from_binary, show, to_binary};
use vigil_model::{CheckKind, HttpProtocol};

fn vs(checker: &str) -> String {
    format!("virtual_server 10.0.0.1 80 {{\n    real_server 10.0.0.2 80 {{\n{checker}    }}\n}}\n")
}

#[test]
fn bind_port_and_http_protocol_reach_the_model_show_and_binary() {
    let text = vs("        HTTP_GET {\n            bind_port 4000\n            http_protocol 1.0C\n            url {\n                path /\n            }\n        }\n        TCP_CHECK {\n            bind_port 4001\n        }\n        DNS_CHECK {\n            bind_port 53\n            name example.org.\n        }\n        HTTP_GET {\n            http_protocol 1.1\n            url {\n                path /s\n            }\n        }\n");
    let c = ok(&text);
    let cs = &c.virtual_servers[0].real_servers[0].checkers;
    assert_eq!(cs[0].common.bind_port, Some(4000));
    assert!(matches!(&cs[0].kind, CheckKind::HttpGet(h) if h.protocol == HttpProtocol::V10Close));
    assert_eq!(cs[1].common.bind_port, Some(4001));
    assert_eq!(cs[2].common.bind_port, Some(53));
    assert!(matches!(&cs[2].kind, CheckKind::Dns(d) if d.name == "example.org."));
    assert_eq!(cs[3].common.bind_port, None);
    assert!(matches!(&cs[3].kind, CheckKind::HttpGet(h) if h.protocol == HttpProtocol::V11));

    let shown = show(&c);
    assert!(shown.contains("bind_port 4000\n"), "{shown}");
    assert!(shown.contains("http_protocol 1.0C\n"), "{shown}");
    assert!(shown.contains("http_protocol 1.1\n"), "{shown}");
    // `show` is canonical: reading it back gives the same model.
    assert_eq!(ok(&shown), c);
    assert_eq!(from_binary(&to_binary(&c).unwrap()).unwrap(), c);
}

#[test]
fn ssl_get_is_refused_with_its_reason() {
    let e = errors(&vs(
        "        SSL_GET {\n            url {\n                path /\n            }\n        }\n",
    ));
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].line, e[0].col), (3, 9));
    assert!(e[0]
        .problem
        .to_string()
        .contains("SSL_GET is not supported"));
}

#[test]
fn http_protocol_defaults_to_1_0_and_accepts_lowercase_c() {
    let c = ok(&vs(
        "        HTTP_GET {\n            url {\n                path /\n            }\n        }\n",
    ));
    let CheckKind::HttpGet(h) = &c.virtual_servers[0].real_servers[0].checkers[0].kind else {
        panic!("not HTTP_GET");
    };
    assert_eq!(h.protocol, HttpProtocol::V10);
    assert!(show(&c).contains("http_protocol 1.0\n"));
    let c = ok(&vs("        HTTP_GET {\n            http_protocol 1.0c\n            url {\n                path /\n            }\n        }\n"));
    assert!(matches!(
        &c.virtual_servers[0].real_servers[0].checkers[0].kind,
        CheckKind::HttpGet(h) if h.protocol == HttpProtocol::V10Close
    ));
}

#[test]
fn bad_values_are_errors_at_their_place() {
    let e = errors(&vs(
        "        TCP_CHECK {\n            bind_port 70000\n        }\n",
    ));
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].line, e[0].col), (4, 23));
    assert_eq!(
        e[0].problem.to_string(),
        "bind_port: out of range 1..65535 (70000)"
    );

    let e = errors(&vs("        HTTP_GET {\n            http_protocol 2\n            url {\n                path /\n            }\n        }\n"));
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].line, e[0].col), (4, 27));
    assert_eq!(
        e[0].problem.to_string(),
        "http_protocol: expected 1.0|1.0C|1.1 (2)"
    );

    for bad in ["a..b", ".a", "..", &"x".repeat(64)] {
        let e = errors(&vs(&format!(
            "        DNS_CHECK {{\n            name {bad}\n        }}\n"
        )));
        assert_eq!(e.len(), 1, "{bad}");
        assert_eq!((e[0].line, e[0].col), (4, 18), "{bad}");
        assert!(
            e[0].problem
                .to_string()
                .starts_with("name: expected a domain name"),
            "{}",
            e[0].problem
        );
    }
}

#[test]
fn http_protocol_is_unknown_outside_http_and_bind_port_in_misc() {
    // keepalived has no such keywords there: warnings, as any unknown one.
    let c = ok(&vs("        TCP_CHECK {\n            http_protocol 1.1\n        }\n        MISC_CHECK {\n            misc_path /bin/true\n            bind_port 5\n        }\n"));
    let cs = &c.virtual_servers[0].real_servers[0].checkers;
    assert_eq!(cs[1].common.bind_port, None);
}
