//! Carrying out a router's actions: adverts onto the wire, VIPs held or
//! dropped (each checked against the node's state), script runs queued,
//! and everything recorded for assertions.

use std::net::IpAddr;

use vigil_vrrp::{Action, NotifyTarget, ScriptResult};
use vigil_wire::vrrp::Packet;

use super::{Pending, Record, Sim, What};

impl Sim {
    fn record(&mut self, node: usize, what: What) {
        self.log.push(Record {
            at: self.now,
            node,
            what,
        });
    }

    fn instance_name(&self, node: usize, id: vigil_vrrp::InstanceId) -> String {
        self.nodes[node]
            .router
            .instance_name(id)
            .unwrap_or("?")
            .to_owned()
    }

    /// Carry out every queued action of `node`.
    pub(super) fn drain(&mut self, node: usize) {
        while let Some(action) = self.nodes[node].router.poll_action() {
            self.apply(node, action);
        }
        self.check_invariants(node);
    }

    fn apply(&mut self, node: usize, action: Action) {
        match action {
            Action::SendAdvert {
                instance,
                repr,
                src,
                dst,
                checksum,
                ah_seq,
            } => {
                let name = self.instance_name(node, instance);
                self.record(
                    node,
                    What::Advert {
                        instance: name,
                        priority: repr.priority,
                        dst,
                    },
                );
                let bytes = match (ah_seq, repr.auth, src, dst) {
                    // auth_type AH: the whole IPv4 datagram, as the shell
                    // sends it with IP_HDRINCL.
                    (Some(seq), vigil_vrrp::Auth::Ah(key), IpAddr::V4(s), IpAddr::V4(d)) => {
                        let mut out = Vec::new();
                        let sealing = vigil_wire::ah::Sealing {
                            src: s,
                            dst: d,
                            ident: 1,
                            seq,
                            key,
                        };
                        vigil_wire::ah::build(&mut out, &repr, &sealing).expect("AH datagram");
                        out
                    }
                    _ => {
                        let mut bytes = vec![0u8; repr.buffer_len()];
                        repr.emit(
                            &mut Packet::new_unchecked(&mut bytes[..]),
                            src,
                            dst,
                            checksum,
                        );
                        bytes
                    }
                };
                self.transmit(node, src, dst, bytes);
            }
            Action::AddVips { instance } => {
                let name = self.instance_name(node, instance);
                assert!(
                    self.nodes[node].vips.insert(name.clone()),
                    "{} added VIPs of {name} twice",
                    self.nodes[node].name
                );
                self.record(node, What::VipsAdded { instance: name });
            }
            Action::RemoveVips { instance } => {
                let name = self.instance_name(node, instance);
                assert!(
                    self.nodes[node].vips.remove(&name),
                    "{} removed VIPs of {name} it did not hold",
                    self.nodes[node].name
                );
                self.record(node, What::VipsRemoved { instance: name });
            }
            Action::SendGratuitous { instance, addrs } => {
                let name = self.instance_name(node, instance);
                self.record(
                    node,
                    What::Gratuitous {
                        instance: name,
                        addrs,
                    },
                );
            }
            Action::RunScript { script, timeout } => {
                let name = self.nodes[node]
                    .router
                    .script_name(script)
                    .unwrap_or("?")
                    .to_owned();
                let result = self.nodes[node]
                    .script_results
                    .get(&name)
                    .copied()
                    .unwrap_or(ScriptResult::Success);
                let after = if result == ScriptResult::TimedOut {
                    timeout
                } else {
                    self.script_time
                };
                let generation = self.nodes[node].generation;
                let code = match result {
                    ScriptResult::Success => 0,
                    ScriptResult::Failure => 1,
                    ScriptResult::TimedOut => 2,
                };
                self.record(
                    node,
                    What::ScriptRun {
                        script: name.clone(),
                    },
                );
                self.push(
                    self.now + after,
                    Pending::Script {
                        node,
                        generation,
                        script: name,
                        result: code,
                    },
                );
            }
            Action::Notify {
                target,
                state,
                priority,
            } => {
                let line = match target {
                    NotifyTarget::Instance(id) => {
                        format!(
                            "INSTANCE {} {state} {priority}",
                            self.instance_name(node, id)
                        )
                    }
                    NotifyTarget::Group(g) => {
                        let name = self.nodes[node]
                            .router
                            .group(g)
                            .map(|(n, _)| n)
                            .unwrap_or("?");
                        format!("GROUP {name} {state} {priority}")
                    }
                };
                self.record(node, What::Notify { line });
            }
            Action::StateChanged {
                instance,
                from,
                to,
                reason,
            } => {
                let name = self.instance_name(node, instance);
                self.record(
                    node,
                    What::State {
                        instance: name,
                        from,
                        to,
                        reason,
                    },
                );
            }
        }
    }
}
