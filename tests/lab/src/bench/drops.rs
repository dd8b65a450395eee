//! The drop counters of `vigil status --json`, and what a flood of each crafted
//! kind must do to them.

use super::craft::Kind;
use super::json::Value;

/// Every drop counter of one router: `((global?, key), n)`.
pub type Drops = Vec<((bool, String), u64)>;

/// The share of sent packets that must be counted: a little receive-queue loss
/// is tolerated on a busy machine; a drop counted under the wrong reason is not.
pub const MIN_COUNTED: f64 = 0.99;

/// The drop counter `kind` must raise, and whether it is the global one
/// (packets that match no instance). `None`: no single counter is known.
pub fn counter_of(kind: Kind) -> Option<(&'static str, bool)> {
    match kind {
        Kind::Ttl => Some(("ttl", false)),
        Kind::Checksum => Some(("checksum", false)),
        Kind::Short => Some(("length", false)),
        Kind::Vrid => Some(("unknown_vrid", true)),
        Kind::Password => Some(("auth_password", false)),
        Kind::Version => Some(("version", false)),
        Kind::Interval => Some(("interval", false)),
        // Random bytes land under several reasons: only the total is known.
        Kind::Garbage | Kind::Valid => None,
    }
}

/// The drop counters of the first instance and the global ones.
pub fn from_status(status: &Value) -> Result<Drops, String> {
    let inst = status
        .get("instances")
        .and_then(|a| a.at(0))
        .ok_or("status: no instance")?;
    let mut out = Vec::new();
    for (global, d) in [
        (false, inst.get("counters").and_then(|c| c.get("drops"))),
        (true, status.get("global").and_then(|g| g.get("drops"))),
    ] {
        let d = d.ok_or("status: no drops object")?;
        for (k, v) in d.members() {
            let n = v
                .as_f64()
                .filter(|n| *n >= 0.0)
                .ok_or_else(|| format!("status: drops.{k} is not a count"))?;
            out.push(((global, k.clone()), n as u64));
        }
    }
    if out.is_empty() {
        return Err("status: empty drop counters".into());
    }
    Ok(out)
}

/// The counters that grew from `before` to `after`, by how much.
pub fn delta(before: &Drops, after: &Drops) -> Drops {
    after
        .iter()
        .map(|(k, a)| {
            let b = before.iter().find(|(bk, _)| bk == k).map_or(0, |(_, n)| *n);
            (k.clone(), a.saturating_sub(b))
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// `ttl +3, global.unknown_vrid +1`, or `nothing`.
pub fn show(d: &Drops) -> String {
    let parts: Vec<String> = d
        .iter()
        .map(|((g, k), n)| format!("{}{k} +{n}", if *g { "global." } else { "" }))
        .collect();
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join(", ")
    }
}

/// Checks that `grew` is what `sent` packets of `kind` cause, and nothing else;
/// returns how many were counted.
pub fn check(kind: Kind, sent: u64, grew: &Drops) -> Result<u64, String> {
    let total: u64 = grew.iter().map(|(_, n)| n).sum();
    let lo = (sent as f64 * MIN_COUNTED).ceil() as u64;
    match counter_of(kind) {
        Some((key, global)) => {
            let got = grew
                .iter()
                .find(|((g, k), _)| *g == global && k == key)
                .map_or(0, |(_, n)| *n);
            if got < lo || got > sent || total != got {
                return Err(format!(
                    "{} flood of {sent}: expected {}{key} +{sent} only, got {}",
                    kind.name(),
                    if global { "global." } else { "" },
                    show(grew)
                ));
            }
            Ok(got)
        }
        None => {
            if total < lo || total > sent {
                return Err(format!(
                    "{} flood of {sent}: drops grew by {total} ({})",
                    kind.name(),
                    show(grew)
                ));
            }
            Ok(total)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::json;
    use super::*;

    /// The shape `vigil status --json` prints (daemon/src/control/render.rs).
    fn status(ttl: u64, vrid: u64) -> Value {
        json::parse(&format!(
            r#"{{"pid":1,"instances":[{{"name":"VI_1","counters":{{"adverts_sent":9,
            "drops":{{"ttl":{ttl},"checksum":0,"length":0}}}}}}],
            "global":{{"drops":{{"unknown_vrid":{vrid},"checksum":0}}}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn reads_instance_and_global_counters() {
        let d = from_status(&status(4, 2)).unwrap();
        assert_eq!(d.len(), 5);
        assert!(d.contains(&((false, "ttl".into()), 4)));
        assert!(d.contains(&((true, "unknown_vrid".into()), 2)));
        assert!(from_status(&json::parse(r#"{"instances":[]}"#).unwrap()).is_err());
    }

    #[test]
    fn a_flood_must_land_in_its_own_counter() {
        let before = from_status(&status(4, 2)).unwrap();
        let grew = delta(&before, &from_status(&status(2004, 2)).unwrap());
        assert_eq!(show(&grew), "ttl +2000");
        assert_eq!(check(Kind::Ttl, 2000, &grew), Ok(2000));
        // The wrong counter, too few, or an extra one: all refused.
        assert!(check(Kind::Checksum, 2000, &grew).is_err());
        assert!(check(Kind::Ttl, 2100, &grew).is_err());
        let both = delta(&before, &from_status(&status(2004, 3)).unwrap());
        assert!(check(Kind::Ttl, 2000, &both).is_err());
        let vrid = delta(&before, &from_status(&status(4, 1002)).unwrap());
        assert_eq!(check(Kind::Vrid, 1000, &vrid), Ok(1000));
        // Garbage: any reasons, as long as the total matches.
        assert_eq!(check(Kind::Garbage, 2001, &both), Ok(2001));
        assert!(check(Kind::Garbage, 3000, &both).is_err());
        assert_eq!(show(&delta(&before, &before)), "nothing");
    }
}
