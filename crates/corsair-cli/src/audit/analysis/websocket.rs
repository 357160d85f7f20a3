//! `websocket-any-origin` and `websocket-null-origin`: a WebSocket handshake
//! from an origin nobody should trust was accepted (101). Only a 101 is a
//! finding, so a URL that takes no WebSocket at all (any other answer to
//! every handshake) shows none; the trusted origin's handshake only adds a
//! note.

use super::{finding, Done, Observed};
use crate::audit::findings::{severity_for, Finding};
use crate::audit::origin::Origin;
use crate::audit::probes::{Probe, ProbeKind};

/// One finding per WebSocket class whose handshake was accepted.
pub(super) fn opened(target: &Origin, done: &[Done<'_>]) -> Vec<Finding> {
    done.iter()
        .filter_map(|&(p, o)| match p.kind {
            ProbeKind::WebSocket(id) if o.status == 101 => Some(finding(id, severity_for(id, true), target, p, o)),
            _ => None,
        })
        .collect()
}

/// What the trusted origin's handshake shows.
pub(super) fn notes(probes: &[Probe], results: &[Option<Observed>]) -> Vec<String> {
    probes
        .iter()
        .zip(results)
        .filter_map(|(p, r)| match (p.kind, r) {
            (ProbeKind::WebSocketBaseline, Some(o)) if o.status == 101 => Some(format!(
                "the URL accepts WebSocket handshakes (101 for the trusted origin {}); \
                 the websocket-* classes check its Origin check",
                p.origin
            )),
            _ => None,
        })
        .collect()
}
