//! The classes about the CORS headers themselves: a carriage return reflected into a
//! header (`crlf-in-origin`), Private Network Access headers (`private-network-header`),
//! and `Access-Control-Allow-Origin` values a browser refuses for everyone
//! (`invalid-allow-origin`, `multiple-allow-origin`).

use http::header;

use super::super::explanation as text;
use super::super::findings::{severity_for, Finding, Id, Severity};
use super::super::origin::Origin;
use super::super::probes::{ProbeKind, INJECTED_HEADER};
use super::{evidence, finding_with, grant, origin_get, Done, Grant};
use crate::report::HeaderList;

/// Whether the raw head shows the smuggled header as a line of its own or after a bare
/// carriage return.
fn injected(raw: &[u8]) -> bool {
    let lower = raw.to_ascii_lowercase();
    let name = INJECTED_HEADER.to_ascii_lowercase();
    [format!("\r{name}"), format!("\n{name}:")]
        .iter()
        .any(|needle| lower.windows(needle.len()).any(|w| w == needle.as_bytes()))
}

/// The raw lines of a head that hold a CORS header or the smuggled one, as received.
fn raw_lines(raw: &[u8]) -> HeaderList {
    let name = INJECTED_HEADER.to_ascii_lowercase();
    let lines: Vec<(String, Vec<u8>)> = raw
        .split(|&b| b == b'\n')
        .skip(1)
        .filter_map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let colon = line.iter().position(|&b| b == b':')?;
            let n = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
            let value = line[colon + 1..].trim_ascii().to_vec();
            (n.starts_with("access-control-") || n == name).then_some((n, value))
        })
        .collect();
    HeaderList::from_lines(lines.iter().map(|(n, v)| (n.as_str(), v.as_slice())))
}

/// The raw probe's `Origin` came back with its carriage return.
pub(super) fn crlf(done: &[Done<'_>]) -> Option<Finding> {
    let &(probe, obs) = done.iter().find(|(p, _)| p.kind == ProbeKind::Crlf)?;
    let raw = obs.raw.as_deref()?;
    if !injected(raw) {
        return None;
    }
    let id = Id::CrlfInOrigin;
    let explanation = text::crlf();
    let mut f = finding_with(id, severity_for(id, false), probe, obs, explanation);
    f.response_headers = raw_lines(raw);
    Some(f)
}

/// `Access-Control-Allow-Private-Network` in any answer: medium when it comes with a
/// grant to an untrusted origin, low otherwise (Chrome no longer reads it).
pub(super) fn private_network(target: &Origin, done: &[Done<'_>]) -> Option<Finding> {
    let has = |d: &&Done<'_>| {
        d.1.headers
            .get(corsair::ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
    };
    let untrusted = |p: &super::super::probes::Probe| matches!(p.kind, ProbeKind::Origin(_) | ProbeKind::Preflight);
    let worst = done
        .iter()
        .filter(has)
        .find(|(p, o)| untrusted(p) && grant(&o.headers, &p.origin) == Grant::Exact);
    let (hit, severity) = match worst {
        Some(d) => (d, Severity::Medium),
        None => (done.iter().find(has)?, Severity::Low),
    };
    let &(probe, obs) = hit;
    let explanation = text::private_network(&evidence(target, probe, obs), severity == Severity::Medium);
    Some(finding_with(
        Id::PrivateNetworkHeader,
        severity,
        probe,
        obs,
        explanation,
    ))
}

/// Whether `value` is a serialized origin (what `Access-Control-Allow-Origin` must hold
/// when it is not `*` or `null`).
fn is_serialized_origin(value: &str) -> bool {
    url::Url::parse(value).is_ok_and(|u| u.origin().is_tuple() && u.origin().ascii_serialization() == value)
}

/// `Access-Control-Allow-Origin` a browser refuses whoever asks: several values, or one
/// that is not an origin. A value that merely echoes the probe's own (look-alike) origin
/// is the origin classes' business, not this one's.
pub(super) fn invalid_or_multiple(target: &Origin, done: &[Done<'_>]) -> Vec<Finding> {
    let mut multiple = None;
    let mut invalid = None;
    for d in done {
        let (p, o) = d;
        if !(origin_get(p) || p.is_preflight() || p.kind == ProbeKind::Missing) {
            continue;
        }
        let values: Vec<String> = o
            .headers
            .get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
            .collect();
        match values.as_slice() {
            // An echo of the probe's own (look-alike) origin.
            [one] if *one == p.origin => {}
            [] => {}
            [one] if one.contains([',', ' ']) => {
                multiple.get_or_insert((d, values.clone()));
            }
            [one] => {
                if one != "*" && one != "null" && !is_serialized_origin(one) {
                    invalid.get_or_insert((d, one.clone()));
                }
            }
            _ => {
                multiple.get_or_insert((d, values.clone()));
            }
        }
    }
    let mut out = Vec::new();
    if let Some((&(probe, obs), values)) = multiple {
        let id = Id::MultipleAllowOrigin;
        let explanation = text::multiple_acao(&evidence(target, probe, obs), &values);
        out.push(finding_with(id, severity_for(id, false), probe, obs, explanation));
    }
    if let Some((&(probe, obs), value)) = invalid {
        let id = Id::InvalidAllowOrigin;
        let explanation = text::invalid_acao(&evidence(target, probe, obs), &value);
        out.push(finding_with(id, severity_for(id, false), probe, obs, explanation));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injection_is_seen_in_the_raw_head() {
        assert!(injected(
            b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: https://e\rX-Corsair-Injected: 1\r\n\r\n"
        ));
        assert!(injected(
            b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: https://e\r\nx-corsair-injected: 1\r\n\r\n"
        ));
        assert!(!injected(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
        // Echoed in a body-like place without a line of its own: not a header.
        assert!(!injected(
            b"HTTP/1.1 200 OK\r\nX-Echo: X-Corsair-Injected is here\r\n\r\n"
        ));
        let lines = raw_lines(
            b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: https://e\rX-Corsair-Injected: 1\r\nVary: Origin\r\n\r\n",
        );
        let got: Vec<(String, String)> = lines.iter().map(|l| (l.name.clone(), l.value.clone())).collect();
        assert_eq!(
            got,
            [(
                "access-control-allow-origin".to_owned(),
                "https://e\rX-Corsair-Injected: 1".to_owned()
            )]
        );
    }

    #[test]
    fn serialized_origins() {
        for ok in ["https://a.example", "http://a.example:8080", "http://[::1]:3000"] {
            assert!(is_serialized_origin(ok), "{ok}");
        }
        for bad in [
            "https://a.example/",
            "HTTPS://A.EXAMPLE",
            "https://a.example:443",
            "*.example.com",
            "a.example",
            "",
        ] {
            assert!(!is_serialized_origin(bad), "{bad}");
        }
    }
}
