//! Generated policies: the configuration as written, kept beside the
//! compiled policy so that the reference reads the configuration itself.

use proptest::prelude::*;
use proptest::sample::select;

use corsair::{Policy, PolicyConfig};

/// Registrable domains (none is a public suffix) the generated policies use.
pub(crate) const DOMAINS: &[&str] = &[
    "example.com",
    "example.co.uk",
    "api.example.org",
    "corp-1.example.net",
    "a_b.example.io",
    "xn--bcher-kva.example",
    "localhost",
    "dev.localhost",
];

/// Hosts for exact and any-port patterns that are not domains.
pub(crate) const IP_HOSTS: &[&str] = &["127.0.0.1", "127.8.9.10", "[::1]", "10.0.0.7"];

pub(crate) const METHODS: &[&str] = &["PUT", "DELETE", "PATCH", "patch", "purge", "OPTIONS", "GET", "X-Custom"];
pub(crate) const HEADERS: &[&str] = &["content-type", "x-request-id", "authorization", "X-Api-Key", "x_under"];
pub(crate) const EXPOSE: &[&str] = &["x-request-id", "etag", "X-Total"];

/// A policy as configured, kept alongside the compiled one so the reference
/// can read the configuration directly.
#[derive(Debug, Clone)]
pub(crate) struct Gen {
    pub(crate) origins: Vec<String>,
    pub(crate) methods: Vec<String>,
    pub(crate) headers: Vec<String>,
    pub(crate) expose: Vec<String>,
    pub(crate) credentials: bool,
    pub(crate) max_age: Option<i64>,
    pub(crate) private_network: bool,
    pub(crate) insecure: bool,
    pub(crate) debug: bool,
}

impl Gen {
    pub(crate) fn config(&self) -> PolicyConfig {
        let mut c = PolicyConfig::new()
            .allow_origins(self.origins.clone())
            .allow_methods(self.methods.clone())
            .allow_headers(self.headers.clone())
            .expose_headers(self.expose.clone())
            .allow_credentials(self.credentials)
            .allow_private_network(self.private_network)
            .allow_insecure_origins(self.insecure)
            .debug(self.debug);
        if let Some(n) = self.max_age {
            c = c.max_age(n);
        }
        c
    }

    pub(crate) fn build(&self) -> Policy {
        match self.config().build() {
            Ok(p) => p,
            Err(e) => panic!("a sound generated policy was refused: {e}\n{self:#?}"),
        }
    }

    pub(crate) fn is_public(&self) -> bool {
        self.origins.iter().any(|o| o == "*")
    }
}

pub(crate) fn default_port(scheme: &str) -> u16 {
    if scheme == "https" {
        443
    } else {
        80
    }
}

pub(crate) fn non_default_port(scheme: &'static str) -> impl Strategy<Value = u16> {
    prop_oneof![select(vec![3000u16, 8080, 8443, 1, 65535, 443, 80]), 1u16..=65535,].prop_map(move |p| {
        if p == default_port(scheme) {
            8443
        } else {
            p
        }
    })
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum PortChoice {
    Default,
    Port(u16),
    Any,
}

pub(crate) fn port_choice(scheme: &'static str) -> impl Strategy<Value = PortChoice> {
    prop_oneof![
        3 => Just(PortChoice::Default),
        2 => non_default_port(scheme).prop_map(PortChoice::Port),
        1 => Just(PortChoice::Any),
    ]
}

pub(crate) fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec!["app", "a", "www", "x-1", "eu_west", "0", "xn--p1ai"]).prop_map(str::to_owned),
        "[a-z0-9][a-z0-9_-]{0,10}",
    ]
}

/// One `allow_origins` entry (never `*`).
pub(crate) fn pattern() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![3 => Just("https"), 1 => Just("http")];
    scheme.prop_flat_map(|scheme| {
        let exact_host = prop_oneof![
            3 => select(DOMAINS).prop_map(str::to_owned),
            2 => (label(), select(DOMAINS)).prop_map(|(l, d)| format!("{l}.{d}")),
            1 => select(IP_HOSTS).prop_map(str::to_owned),
        ];
        prop_oneof![
            // Exact, or any-port when the port choice is `*`.
            4 => (exact_host, port_choice(scheme)).prop_map(move |(h, p)| match p {
                PortChoice::Default => format!("{scheme}://{h}"),
                PortChoice::Port(n) => format!("{scheme}://{h}:{n}"),
                PortChoice::Any => format!("{scheme}://{h}:*"),
            }),
            // Subdomains of a registrable domain.
            3 => (select(DOMAINS), port_choice(scheme)).prop_map(move |(d, p)| match p {
                PortChoice::Default => format!("{scheme}://*.{d}"),
                PortChoice::Port(n) => format!("{scheme}://*.{d}:{n}"),
                PortChoice::Any => format!("{scheme}://*.{d}:*"),
            }),
        ]
    })
}

pub(crate) fn is_loopback_pattern(p: &str) -> bool {
    let rest = p.split_once("://").map_or(p, |(_, r)| r);
    let host = if rest.starts_with('[') {
        &rest[..rest.find(']').map_or(rest.len(), |i| i + 1)]
    } else {
        rest.split(':').next().unwrap_or(rest)
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host.starts_with("127.")
        || host == "[::1]"
        || host == "*.localhost"
}

pub(crate) fn subset(pool: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(pool, 0..=pool.len()).prop_map(|v| v.into_iter().map(str::to_owned).collect())
}

pub(crate) fn gen_policy() -> impl Strategy<Value = Gen> {
    (
        any::<bool>(),                                  // credentials
        prop_oneof![8 => Just(false), 1 => Just(true)], // public
        proptest::collection::vec(pattern(), 1..6),
        (subset(METHODS), any::<bool>()),
        (subset(HEADERS), any::<bool>()),
        (subset(EXPOSE), any::<bool>()),
        proptest::option::of(prop_oneof![Just(0i64), Just(86_400), 0i64..=86_400]),
        (
            any::<bool>(),
            any::<bool>(),
            prop_oneof![4 => Just(false), 1 => Just(true)],
        ),
    )
        .prop_map(
            |(
                credentials,
                public,
                patterns,
                (mut methods, mstar),
                (mut headers, hstar),
                (mut expose, estar),
                max_age,
                (pna, insecure_flag, debug),
            )| {
                let public = public && !credentials;
                let mut origins: Vec<String> = Vec::new();
                if public {
                    origins.push("*".into());
                } else {
                    for p in patterns {
                        if !origins.contains(&p) {
                            origins.push(p);
                        }
                    }
                }
                let insecure = insecure_flag
                    || origins
                        .iter()
                        .any(|o| o.starts_with("http://") && !is_loopback_pattern(o));
                // `*` in allow_headers is sound with credentials too (the
                // answer reflects the names); in allow_methods and
                // expose_headers it is not.
                if hstar {
                    headers.push("*".into());
                }
                if !credentials {
                    if mstar {
                        methods.push("*".into());
                    }
                    if estar {
                        expose.push("*".into());
                    }
                }
                Gen {
                    origins,
                    methods,
                    headers,
                    expose,
                    credentials,
                    max_age,
                    private_network: pna,
                    insecure,
                    debug,
                }
            },
        )
}
