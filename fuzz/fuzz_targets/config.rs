//! The gateway's config parser (`corsair_gateway::config::parse`) on
//! arbitrary text: no panic; every error names its file and has a problem;
//! an accepted config has sound policies; and it routes every request
//! exactly as the documented rule says, checked against an oracle written
//! here from the README (not from the gateway's code): the first policy in
//! file order whose `hosts` (empty = any; the Host's name, port removed,
//! ASCII case-insensitive) and `path_prefix` (segment-aware: `/api` covers
//! `/api`, `/api/…` and `/api?…`, not `/apix`; a prefix ending in `/`
//! covers what starts with it) both cover it; no policy, no route.
#![no_main]

use corsair_gateway::config;
use libfuzzer_sys::fuzz_target;

/// The host name of a Host value: `[v6]` kept whole, else up to the first `:`.
fn oracle_name(host: &str) -> &str {
    if let Some(end) = host.find(']').filter(|_| host.starts_with('[')) {
        return &host[..=end];
    }
    host.split(':').next().unwrap_or("")
}

fn oracle_path_covers(prefix: &str, path: &str) -> bool {
    if prefix == "/" {
        return true;
    }
    if !path.starts_with(prefix) {
        return false;
    }
    if prefix.ends_with('/') {
        return true;
    }
    matches!(path.as_bytes().get(prefix.len()), None | Some(b'/') | Some(b'?'))
}

fn oracle_route(c: &config::Config, host: Option<&str>, path: &str) -> Option<usize> {
    c.policies.iter().position(|p| {
        let host_ok =
            p.hosts.is_empty() || host.is_some_and(|h| p.hosts.iter().any(|x| x.eq_ignore_ascii_case(oracle_name(h))));
        host_ok && oracle_path_covers(&p.path_prefix, path)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match config::parse(text, "fuzz.toml", None) {
        Err(e) => {
            assert_eq!(e.file, "fuzz.toml");
            assert!(!e.problems.is_empty(), "an error without a problem");
            let _ = e.to_string();
        }
        Ok(c) => {
            assert!(!c.policies.is_empty());
            for p in &c.policies {
                assert!(!p.name.trim().is_empty());
                assert!(p.path_prefix.starts_with('/'));
                assert!(p.hosts.iter().all(|h| *h == h.to_ascii_lowercase()));
            }
            // Requests named by the config itself, and variations of them.
            let mut hosts: Vec<String> = vec!["[::1]:8080".into(), "a:b:c".into(), "x.example".into()];
            let mut paths: Vec<String> = vec!["/".into(), "/api".into(), "/api/x".into(), "/apix".into()];
            for p in &c.policies {
                for h in &p.hosts {
                    hosts.push(h.clone());
                    hosts.push(h.to_ascii_uppercase());
                    hosts.push(format!("{h}:8443"));
                    hosts.push(format!("x{h}"));
                }
                let pp = &p.path_prefix;
                paths.push(pp.clone());
                paths.push(format!("{pp}/x"));
                paths.push(format!("{pp}x"));
                paths.push(format!("{pp}?q"));
                paths.push(pp.trim_end_matches('/').to_owned());
            }
            let hosts: Vec<Option<&str>> = std::iter::once(None)
                .chain(hosts.iter().map(|h| Some(h.as_str())))
                .collect();
            for h in &hosts {
                for path in &paths {
                    let got = c.route_indexed(*h, path).map(|(i, _)| i);
                    assert_eq!(got, oracle_route(&c, *h, path), "host {h:?} path {path:?}");
                }
            }
        }
    }
});
