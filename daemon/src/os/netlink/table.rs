//! The interfaces as the monitor last reported them: name <-> index, MAC and
//! usability. Seeded from one RTM_GETLINK dump at start and kept current by
//! the monitor's events, so that resolving a name (per VIP, per advert, per
//! event) costs a lookup instead of a dump of every link.
//!
//! An index names one interface for its whole life: a deleted and re-created
//! interface (PPP, VLAN, USB modem, hot-plug) comes back under a new index,
//! which is how the shell knows its sockets must be opened again.

use std::collections::HashMap;

use super::{LinkEvent, LinkInfo};

/// One interface of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownLink {
    pub index: u32,
    pub name: String,
    /// Hardware address (6 bytes on Ethernet; empty on e.g. tunnels).
    pub mac: Vec<u8>,
    /// Up and running (see [`LinkInfo::is_usable`]).
    pub usable: bool,
}

impl KnownLink {
    /// The MAC as six bytes, if it is an Ethernet-style address.
    pub fn mac6(&self) -> Option<[u8; 6]> {
        <[u8; 6]>::try_from(self.mac.as_slice()).ok()
    }
}

/// Interfaces by index and by name.
#[derive(Debug, Default, Clone)]
pub struct LinkTable {
    by_index: HashMap<u32, KnownLink>,
    by_name: HashMap<String, u32>,
}

impl LinkTable {
    /// A table holding exactly `links` (a dump).
    pub fn from_links(links: &[LinkInfo]) -> LinkTable {
        let mut t = LinkTable::default();
        t.reset(links);
        t
    }

    /// Replace everything with `links` (after a monitor overrun).
    pub fn reset(&mut self, links: &[LinkInfo]) {
        self.by_index.clear();
        self.by_name.clear();
        for l in links {
            self.upsert(KnownLink {
                index: l.index,
                name: l.name.clone(),
                mac: l.mac.clone(),
                usable: l.is_usable(),
            });
        }
    }

    /// Take in one monitor event. Returns the interface names whose entry
    /// changed (for a rename both the old and the new name); address events
    /// and `Resync` change nothing here and return no name.
    pub fn apply(&mut self, ev: &LinkEvent) -> Vec<String> {
        match ev {
            LinkEvent::Up { index, name, mac } | LinkEvent::Down { index, name, mac } => {
                let link = KnownLink {
                    index: *index,
                    name: name.clone(),
                    mac: mac.clone(),
                    usable: matches!(ev, LinkEvent::Up { .. }),
                };
                let mut names: Vec<String> = self.upsert(link).into_iter().collect();
                if !names.contains(name) {
                    names.push(name.clone());
                }
                names
            }
            LinkEvent::Gone { index, name } => {
                let mut names = vec![name.clone()];
                if let Some(old) = self.remove(*index) {
                    if old.name != *name {
                        names.push(old.name);
                    }
                }
                names
            }
            LinkEvent::AddressAdded { .. }
            | LinkEvent::AddressRemoved { .. }
            | LinkEvent::Resync => Vec::new(),
        }
    }

    /// Insert or replace by index; returns the names that lost their entry
    /// (the old name of a renamed index, or of a stale index that had this
    /// name: kernel names are unique, so that one is gone or renamed too).
    fn upsert(&mut self, link: KnownLink) -> Vec<String> {
        let mut lost = Vec::new();
        if let Some(&other) = self.by_name.get(&link.name) {
            if other != link.index {
                if let Some(o) = self.remove(other) {
                    lost.push(o.name);
                }
            }
        }
        if let Some(old) = self.by_index.get(&link.index) {
            if old.name != link.name {
                let old_name = old.name.clone();
                self.by_name.remove(&old_name);
                lost.push(old_name);
            }
        }
        self.by_name.insert(link.name.clone(), link.index);
        self.by_index.insert(link.index, link);
        lost
    }

    fn remove(&mut self, index: u32) -> Option<KnownLink> {
        let old = self.by_index.remove(&index)?;
        if self.by_name.get(&old.name) == Some(&index) {
            self.by_name.remove(&old.name);
        }
        Some(old)
    }

    pub fn by_name(&self, name: &str) -> Option<&KnownLink> {
        self.by_name.get(name).and_then(|i| self.by_index.get(i))
    }

    pub fn by_index(&self, index: u32) -> Option<&KnownLink> {
        self.by_index.get(&index)
    }

    /// Name -> index.
    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// Index -> name.
    pub fn name_of(&self, index: u32) -> Option<&str> {
        self.by_index.get(&index).map(|l| l.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.by_index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_index.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(index: u32, name: &str, usable: bool) -> LinkInfo {
        LinkInfo {
            index,
            name: name.into(),
            mac: vec![2, 0, 0, 0, 0, index as u8],
            up: usable,
            running: usable,
            mtu: 1500,
            hw_type: 1,
        }
    }

    fn up(index: u32, name: &str) -> LinkEvent {
        LinkEvent::Up {
            index,
            name: name.into(),
            mac: vec![2, 0, 0, 0, 0, 9],
        }
    }

    #[test]
    fn seeded_then_deleted_and_recreated_under_a_new_index() {
        let mut t = LinkTable::from_links(&[info(1, "lo", true), info(5, "eth0", true)]);
        assert_eq!(t.index_of("eth0"), Some(5));
        assert_eq!(t.name_of(1), Some("lo"));
        assert_eq!(
            t.apply(&LinkEvent::Gone {
                index: 5,
                name: "eth0".into()
            }),
            vec!["eth0".to_string()]
        );
        assert_eq!(t.index_of("eth0"), None);
        assert_eq!(t.by_index(5), None);
        let down = LinkEvent::Down {
            index: 7,
            name: "eth0".into(),
            mac: vec![2, 0, 0, 0, 0, 5],
        };
        assert_eq!(t.apply(&down), vec!["eth0".to_string()]);
        assert_eq!(
            t.by_name("eth0").map(|l| (l.index, l.usable)),
            Some((7, false))
        );
        t.apply(&up(7, "eth0"));
        assert_eq!(t.by_name("eth0").map(|l| l.usable), Some(true));
        assert_eq!(
            t.by_name("eth0").and_then(KnownLink::mac6),
            Some([2, 0, 0, 0, 0, 9])
        );
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn rename_reports_both_names() {
        let mut t = LinkTable::from_links(&[info(5, "eth0", true)]);
        let mut names = t.apply(&up(5, "wan"));
        names.sort();
        assert_eq!(names, vec!["eth0".to_string(), "wan".to_string()]);
        assert_eq!(t.index_of("eth0"), None);
        assert_eq!(t.index_of("wan"), Some(5));
    }

    #[test]
    fn a_name_taken_by_a_new_index_drops_the_stale_one() {
        // The DELLINK of index 5 was lost (overrun) before eth0 came back as 7.
        let mut t = LinkTable::from_links(&[info(5, "eth0", true)]);
        t.apply(&up(7, "eth0"));
        assert_eq!(t.index_of("eth0"), Some(7));
        assert_eq!(t.by_index(5), None);
        assert_eq!(t.len(), 1);
        // A late Gone for the stale index removes nothing else.
        t.apply(&LinkEvent::Gone {
            index: 5,
            name: "eth0".into(),
        });
        assert_eq!(t.index_of("eth0"), Some(7));
    }

    #[test]
    fn address_events_change_nothing() {
        let mut t = LinkTable::from_links(&[info(5, "eth0", true)]);
        let ev = LinkEvent::AddressRemoved {
            index: 5,
            addr: "10.0.0.1".parse().unwrap(),
            prefix_len: 24,
        };
        assert!(t.apply(&ev).is_empty());
        assert!(t.apply(&LinkEvent::Resync).is_empty());
        assert_eq!(t.index_of("eth0"), Some(5));
    }
}
