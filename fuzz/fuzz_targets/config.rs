//! The `corsair` config parser (`config::parse`) on arbitrary text: no
//! panic, every error names its file, and an accepted config routes any
//! host and path without panicking to a policy that really covers them.
#![no_main]

use corsair_fuzz::config;
use libfuzzer_sys::fuzz_target;

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
            // Route requests named by the config itself and some others.
            let mut hosts: Vec<Option<&str>> = vec![None, Some(""), Some("[::1]:8080"), Some("a:b:c")];
            let mut paths = vec!["/", "", "/api", "/api/x", "?", "/%2e%2e/"];
            for p in &c.policies {
                hosts.extend(p.hosts.iter().map(|h| Some(h.as_str())));
                paths.push(&p.path_prefix);
            }
            for h in &hosts {
                for path in &paths {
                    if let Some(r) = c.route(*h, path) {
                        assert!(r.covers(*h, path));
                    }
                }
            }
        }
    }
});
