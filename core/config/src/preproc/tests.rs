//! The preprocessor's unit tests (built only under `#[cfg(test)]`, see `mod.rs`).

use super::*;

fn run(id: Option<&str>, text: &str) -> (Vec<String>, Vec<Problem>) {
    run_with(id, text, &Limits::DEFAULT)
}

fn run_with(id: Option<&str>, text: &str, limits: &Limits) -> (Vec<String>, Vec<Problem>) {
    let mut p = Preproc::new(id, false, limits);
    let mut found = Findings::new(limits);
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let at = Span {
            file: 0,
            line: i as u32 + 1,
            col: 1,
        };
        p.feed(at, l, &mut found, &mut |_, _, t| {
            out.push(t.trim().to_string());
            false
        });
    }
    let problems = found.into_sorted().into_iter().map(|f| f.1).collect();
    (out, problems)
}

#[test]
fn conditionals_follow_the_config_id() {
    let text = "@main router_id a\n@backup router_id b\n@^main x\n@main";
    assert_eq!(run(Some("main"), text).0, ["router_id a"]);
    assert_eq!(run(Some("backup"), text).0, ["router_id b", "x"]);
    assert_eq!(run(None, text).0, ["x"]);
}

#[test]
fn parameters_are_replaced_at_use_and_rescanned() {
    let text = "$B=10.2.${S}\n$S=0\n${B}.100/32\n$S=10\n${B}.100/32\n$P priority $P\n";
    let (out, p) = run(None, text);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(out, ["10.2.0.100/32", "10.2.10.100/32", "$P priority $P"]);
    let (out, _) = run(Some("m"), "@m $PRIO=240\n@b $PRIO=200\npriority $PRIO\n");
    assert_eq!(out, ["priority 240"]);
    let (out, _) = run(Some("m"), "$IF=@m\n$IF priority 1\n");
    assert_eq!(out, ["priority 1"]);
}

#[test]
fn multiline_parameters_expand_to_their_lines_and_nest() {
    let text = "$RS= \\\n real_server 1.1.1.${N} 80 { \\\n weight 1 \\\n }\n\
                $VS= \\\n virtual_server x { \\\n $N=1 \\\n $RS \\\n $N=2 \\\n $RS \\\n }\n$VS\n";
    let (out, p) = run(None, text);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(
        out,
        [
            "virtual_server x {",
            "real_server 1.1.1.1 80 {",
            "weight 1",
            "}",
            "real_server 1.1.1.2 80 {",
            "weight 1",
            "}",
            "}"
        ]
    );
}

#[test]
fn sequences_repeat_their_line() {
    let (out, p) = run(
        None,
        "~SEQ(S, 0, 3) a 10.0.${S}.1\n~SEQx(X, 0x90, 0x10, 0xc0) ${X}\n",
    );
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(
        out,
        [
            "a 10.0.0.1",
            "a 10.0.1.1",
            "a 10.0.2.1",
            "a 10.0.3.1",
            "90",
            "a0",
            "b0",
            "c0"
        ]
    );
    let (out, _) = run(None, "~SEQ(A,2) ~SEQ(B,3,-1,2) ${A}.${B}\n");
    assert_eq!(out, ["1.3", "1.2", "2.3", "2.2"]);
    let (_, p) = run(None, "~SEQ(A, 1, 0, 3) x\n");
    assert!(matches!(p[..], [Problem::BadSequence(_)]));
}

#[test]
fn bombs_are_refused_with_one_error() {
    let limits = Limits {
        tokens: 1000,
        ..Limits::DEFAULT
    };
    let (out, p) = run_with(None, "~SEQ(A, 1, 1000000000000) x\n", &limits);
    assert!(out.is_empty());
    assert!(matches!(p[..], [Problem::ExpansionTooLarge(_)]));
    // Nested: each level is small, the product is not.
    let (out, p) = run_with(None, "~SEQ(A,100) ~SEQ(B,100) ~SEQ(C,100) x\n", &limits);
    assert!(out.len() < 1000);
    assert!(matches!(p[..], [Problem::ExpansionTooLarge(_)]));
    // A parameter that names itself.
    let (_, p) = run(None, "$A=x $A\ny $A\n");
    assert!(matches!(
        p[..],
        [Problem::ExpansionTooDeep(_)] | [Problem::LineTooLong(_)]
    ));
    let (_, p) = run(None, "$A= \\\n$A\n$A\n");
    assert!(matches!(p[..], [Problem::ExpansionTooDeep(_)]), "{p:?}");
    // Doubling: 2^30 bytes would come out; the replacement or line cap
    // stops it.
    let mut text = String::from("$A0=xx\n");
    for i in 1..31 {
        text.push_str(&alloc::format!("$A{i}=${{A{}}}${{A{}}}\n", i - 1, i - 1));
    }
    text.push_str("${A30}\n");
    let (out, p) = run(None, &text);
    assert!(out.is_empty());
    assert!(
        matches!(
            p[..],
            [Problem::LineTooLong(_)] | [Problem::ExpansionTooDeep(_)]
        ),
        "{p:?}"
    );
}

#[test]
fn predefined_and_comments() {
    let (out, _) = run(
        Some("r1"),
        "x ${_INSTANCE} ${_HASH} # c\n$V=a # comment\n$V\n",
    );
    assert_eq!(out, ["x r1 \\#", "a"]);
}

#[test]
fn random_takes_keepalived_arguments() {
    let text = "a ${_RANDOM}\nb ${_RANDOM 5 9}\nc $_RANDOM\nd ${_RANDOM 7}\ne ${_RANDOM 1 }\nf ${_RANDOM  }\n";
    let (out, p) = run(None, text);
    assert!(p.is_empty(), "{p:?}");
    let num = |l: &str, tag: &str| -> u64 {
        l.strip_prefix(tag)
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{l}"))
    };
    assert!(num(&out[0], "a") <= 32767);
    assert!((5..=9).contains(&num(&out[1], "b")));
    assert!(num(&out[2], "c") <= 32767);
    assert!((7..=32767).contains(&num(&out[3], "d")));
    // A blank after an argument: not a reference, left as written.
    assert_eq!(out[4], "e ${_RANDOM 1 }");
    // Blanks alone are no arguments.
    assert!(num(&out[5], "f") <= 32767);
    // Arguments on a user parameter: not a reference.
    let (out, _) = run(None, "$X=1\ny ${X 2}\n");
    assert_eq!(out, ["y ${X 2}"]);
    // A new number at each use.
    let (out, _) = run(None, "~SEQ(I, 40) ${_RANDOM 0 1000000}\n");
    let distinct: std::collections::BTreeSet<&String> = out.iter().collect();
    assert!(distinct.len() > 30, "{}", distinct.len());
}

#[test]
fn random_follows_the_seed() {
    let draw = |seed: u64| {
        let limits = Limits::DEFAULT;
        let mut p = Preproc::new(None, false, &limits);
        p.set_random_seed(seed);
        let mut found = Findings::new(&limits);
        let mut out = Vec::new();
        let at = Span {
            file: 0,
            line: 1,
            col: 1,
        };
        p.feed(at, "x ${_RANDOM} ${_RANDOM}", &mut found, &mut |_, _, t| {
            out.push(t.to_string());
            false
        });
        out
    };
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3), draw(4));
}

#[test]
fn lists_repeat_their_line() {
    let (out, p) = run(None, "~LST(IF, eth0, eth1) interface $IF\n");
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(out, ["interface eth0", "interface eth1"]);
    let (out, p) = run(
        None,
        "~LST({VS, PORT}, {10.0.0.1, 80}, {10.0.0.2}) vs ${VS} ${PORT}.\n",
    );
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(out, ["vs 10.0.0.1 80.", "vs 10.0.0.2 ."]);
    // Nested with ~SEQ; a parameter in a value is replaced in the line.
    let (out, _) = run(None, "$B=9\n~LST(A, x, $B) ~SEQ(N, 2) ${A} ${N}\n");
    assert_eq!(out, ["x 1", "x 2", "9 1", "9 2"]);
    // `}` ends a value, so `${B}` cannot be one (keepalived: invalid).
    let (_, p) = run(None, "$B=9\n~LST(A, ${B}) x\n");
    assert!(matches!(p[..], [Problem::BadList(_)]), "{p:?}");
    let (_, p) = run(None, "~LST({A,B}, {1,2,3}) x\n");
    assert!(matches!(p[..], [Problem::ListTooManyValues(_)]), "{p:?}");
    let (out, p) = run(None, "~LST(A 1) x\n");
    assert!(out.is_empty());
    assert!(matches!(p[..], [Problem::BadList(_)]), "{p:?}");
}
