//! `OriginPattern::parse` on arbitrary strings: never panics; an accepted
//! pattern is already in canonical form (the parser accepts only what a
//! browser would serialize), its canonical form re-parses to the same
//! pattern, and a policy built from it matches its own canonical origin.
#![no_main]

use corsair::{OriginPattern, PolicyConfig};
use libfuzzer_sys::fuzz_target;

fn canonical(p: &OriginPattern) -> String {
    match p {
        OriginPattern::Any => "*".to_owned(),
        OriginPattern::Exact(s) => s.clone(),
        OriginPattern::AnyPort { scheme, host } => format!("{scheme}://{host}:*"),
        OriginPattern::Subdomains { scheme, domain, port } => match port {
            None => format!("{scheme}://*.{domain}"),
            Some(0) => format!("{scheme}://*.{domain}:*"),
            Some(n) => format!("{scheme}://*.{domain}:{n}"),
        },
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = OriginPattern::parse(s) else {
        return;
    };
    let c = canonical(&p);
    assert_eq!(c, s, "accepted a non-canonical pattern");
    assert_eq!(
        OriginPattern::parse(&c).as_ref(),
        Ok(&p),
        "canonical form re-parses differently"
    );
    let _ = p.is_potentially_trustworthy();
    if p == OriginPattern::Any {
        return;
    }
    // Built into a policy (insecure origins permitted), it admits an origin of
    // its own shape and nothing with a path or an uppercase scheme.
    let Ok(policy) = PolicyConfig::new()
        .allow_origins([s])
        .allow_insecure_origins(true)
        .build()
    else {
        return; // e.g. a public suffix: refused by the policy, not the parser
    };
    let sample = match &p {
        OriginPattern::Any => unreachable!(),
        OriginPattern::Exact(e) => e.clone(),
        OriginPattern::AnyPort { scheme, host } => format!("{scheme}://{host}"),
        OriginPattern::Subdomains { scheme, domain, port } => match port {
            None | Some(0) => format!("{scheme}://x.{domain}"),
            Some(n) => format!("{scheme}://x.{domain}:{n}"),
        },
    };
    assert!(policy.allows_origin(&sample), "{s:?} does not admit {sample:?}");
    assert!(!policy.allows_origin(&format!("{sample}/")));
    assert!(!policy.allows_origin(&sample.to_ascii_uppercase()) || sample == sample.to_ascii_uppercase());
    assert!(
        corsair_fuzz::ref_allows(&[s.to_owned()], &sample),
        "reference disagrees on {sample:?}"
    );
});
