//! `garp_extra_if SECS [all]` (vrrp_instance) and `vrrp_garp_extra_if SECS
//! [all]` (global_defs), read as keepalived 2.2.7 reads them (also under
//! their old names `vmac_garp_intvl` / `vrrp_vmac_garp_intvl`, which 2.2.7
//! still takes with a deprecation warning). A bad word drops the keyword
//! with a warning, as keepalived does.

use core::time::Duration;

use vigil_model::ExtraIfGarp;

use super::Ctx;
use crate::error::Problem;
use crate::parser::Stmt;

/// The longest period keepalived takes, in seconds.
const MAX_SECS: u64 = 86_400;

/// Reads one statement: `Some(None)` is an instance's explicit `0` (off,
/// whatever the global says); `None` is a keyword ignored with a warning.
/// The global form refuses 0, as keepalived does.
pub(super) fn parse(ctx: &mut Ctx, s: &Stmt, global: bool) -> Option<Option<ExtraIfGarp>> {
    let kw = s.keyword.text.as_str();
    let renamed = match kw {
        "vmac_garp_intvl" => Some(("vmac_garp_intvl", "garp_extra_if")),
        "vrrp_vmac_garp_intvl" => Some(("vrrp_vmac_garp_intvl", "vrrp_garp_extra_if")),
        _ => None,
    };
    if let Some((old, new)) = renamed {
        ctx.warn(s.keyword.span, Problem::Deprecated(old, new));
    }
    ctx.no_block(s);
    let min = u64::from(global);
    let mut all = false;
    let mut secs = None;
    for w in &s.args {
        if w.text == "all" {
            all = true;
            continue;
        }
        match crate::values::int(&w.text).and_then(|v| u64::try_from(v).ok()) {
            Some(v) if (min..=MAX_SECS).contains(&v) => secs = Some(v),
            _ => {
                let what = alloc::format!("{kw} '{}' invalid - ignoring", w.text);
                ctx.ignored(w.span, what);
                return None;
            }
        }
    }
    let Some(secs) = secs else {
        ctx.ignored(
            s.keyword.span,
            alloc::format!("{kw} specified without time - ignoring"),
        );
        return None;
    };
    Some((secs > 0).then(|| ExtraIfGarp {
        interval: Duration::from_secs(secs),
        all,
    }))
}

/// The name of a keyword handled here (both spellings, both blocks).
pub(super) fn is_keyword(kw: &str) -> bool {
    matches!(
        kw,
        "garp_extra_if" | "vmac_garp_intvl" | "vrrp_garp_extra_if" | "vrrp_vmac_garp_intvl"
    )
}
