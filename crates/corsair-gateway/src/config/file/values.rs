//! The values of a file: every setting checked and turned into the
//! validated [`Config`] (keys in the index form, `policy[0].…`; the caller
//! places and names them).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use corsair::PolicyMode;

use super::super::{
    Config, EncodedSlashes, Limits, PathRules, Problem, RoutedPolicy, Semicolons, Tls, Upstream, BUILTIN_ECHO,
    MAX_WORKERS,
};
use super::read::FileConfig;

/// The largest `limits.websocket_max_duration`: 30 days.
const MAX_WEBSOCKET_DURATION: u64 = 30 * 86_400;

/// Validates the values of a file read without error, or collects every
/// problem (keys in the index form, `policy[0].…`).
pub(super) fn validate(raw: FileConfig, file: &str, base: Option<&Path>) -> (Option<Config>, Vec<Problem>) {
    let mut problems = Vec::new();
    // The policy engine's errors, with their codes.
    let mut coded = Vec::new();
    let mut p = |key: &str, message: String| problems.push(Problem::new(key, message));

    let listen = match raw.listen.as_deref().unwrap_or("127.0.0.1:8080").parse::<SocketAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            p(
                "listen",
                format!(
                    "{:?} is not an address such as `127.0.0.1:8080` or `[::1]:8443`",
                    raw.listen.unwrap_or_default()
                ),
            );
            None
        }
    };
    let upstream = match raw.upstream.as_deref() {
        None => {
            p(
                "upstream",
                format!("missing: the URL of the service to proxy (`http://127.0.0.1:3000`), or `{BUILTIN_ECHO}`"),
            );
            None
        }
        Some(BUILTIN_ECHO) => Some(Upstream::Echo),
        Some(u) => match parse_upstream(u) {
            Ok(uri) => Some(Upstream::Url(uri)),
            Err(m) => {
                p("upstream", format!("{u:?}: {m}"));
                None
            }
        },
    };
    let workers = match raw.workers {
        None => None,
        Some(v) => match usize::try_from(v) {
            Ok(n) if (1..=MAX_WORKERS).contains(&n) => Some(n),
            _ => {
                p("workers", format!("{v} is out of range: 1 to {MAX_WORKERS}"));
                None
            }
        },
    };
    // A `[tls]` without `cert` or `key` was reported when read.
    let tls = raw.tls.and_then(|t| {
        let resolve = |f: PathBuf| match base {
            Some(b) if f.is_relative() => b.join(f),
            _ => f,
        };
        let t = Tls {
            cert: resolve(t.cert?),
            key: resolve(t.key?),
        };
        for (key, f) in [("tls.cert", &t.cert), ("tls.key", &t.key)] {
            if let Err(e) = std::fs::metadata(f) {
                p(key, format!("cannot read {}: {e}", f.display()));
            }
        }
        Some(t)
    });
    let admin = raw.admin.and_then(|a| match a.parse::<SocketAddr>() {
        Ok(addr) => Some(addr),
        Err(_) => {
            p(
                "admin.listen",
                format!("{a:?} is not an address such as `127.0.0.1:9090`"),
            );
            None
        }
    });
    if let (Some(a), Some(l)) = (admin, listen) {
        // Port 0 asks the system for any free port: never the same one.
        if a == l && a.port() != 0 {
            p("admin.listen", format!("{a} is also the gateway's `listen` address"));
        }
    }

    let mut limits = Limits::default();
    let l = raw.limits;
    let mut secs = |key: &str, v: Option<i64>, max: u64, slot: &mut Duration| {
        if let Some(v) = v {
            match u64::try_from(v) {
                Ok(s) if (1..=max).contains(&s) => *slot = Duration::from_secs(s),
                _ => p(key, format!("{v} is out of range: 1 to {max} seconds")),
            }
        }
    };
    secs(
        "limits.header_read_timeout",
        l.header_read_timeout,
        3600,
        &mut limits.header_read_timeout,
    );
    secs(
        "limits.upstream_timeout",
        l.upstream_timeout,
        3600,
        &mut limits.upstream_timeout,
    );
    secs(
        "limits.upstream_read_timeout",
        l.upstream_read_timeout,
        3600,
        &mut limits.upstream_read_timeout,
    );
    secs(
        "limits.shutdown_grace",
        l.shutdown_grace,
        3600,
        &mut limits.shutdown_grace,
    );
    secs(
        "limits.websocket_idle_timeout",
        l.websocket_idle_timeout,
        86_400,
        &mut limits.websocket_idle_timeout,
    );
    secs(
        "limits.websocket_max_duration",
        l.websocket_max_duration,
        MAX_WEBSOCKET_DURATION,
        &mut limits.websocket_max_duration,
    );
    if let Some(v) = l.max_header_bytes {
        match usize::try_from(v) {
            Ok(n) if (1024..=1024 * 1024).contains(&n) => limits.max_header_bytes = n,
            _ => p(
                "limits.max_header_bytes",
                format!("{v} is out of range: 1024 to 1048576 bytes"),
            ),
        }
    }
    if let Some(v) = l.max_connections {
        match usize::try_from(v) {
            Ok(n) if (1..=1_000_000).contains(&n) => limits.max_connections = n,
            _ => p("limits.max_connections", format!("{v} is out of range: 1 to 1000000")),
        }
    }

    let mut paths = PathRules::default();
    let pt = raw.paths;
    if let Some(v) = pt.merge_slashes {
        paths.merge_slashes = v;
    }
    if let Some(v) = pt.case_sensitive {
        paths.case_sensitive = v;
    }
    match pt.encoded_slashes.as_deref() {
        None | Some("reject") => {}
        Some("keep") => paths.encoded_slashes = EncodedSlashes::Keep,
        Some(v) => p(
            "paths.encoded_slashes",
            format!("{v:?} is not one of \"reject\" (400, the default) or \"keep\""),
        ),
    }
    match pt.semicolons.as_deref() {
        None | Some("reject") => {}
        Some("keep") => paths.semicolons = Semicolons::Keep,
        Some("strip") => paths.semicolons = Semicolons::Strip,
        Some(v) => p(
            "paths.semicolons",
            format!("{v:?} is not one of \"reject\" (400, the default), \"keep\" or \"strip\""),
        ),
    }
    let upstream_ca = raw.upstream_ca.map(|f| {
        let f = match base {
            Some(b) if f.is_relative() => b.join(f),
            _ => f,
        };
        if let Err(e) = std::fs::metadata(&f) {
            p("upstream_ca", format!("cannot read {}: {e}", f.display()));
        }
        f
    });
    if raw.policy.is_empty() {
        p(
            "policy",
            "no [[policy]] table: corsair would add no CORS headers at all; add at least one".to_owned(),
        );
    }
    let mut policies = Vec::new();
    let mut names = std::collections::HashSet::new();
    // Requests are routed on their canonical path, so a path prefix or an
    // exempt path must be canonical too, or it could never match.
    let canonical = |path: &str| {
        crate::proxy::target::canonical_path(path, &paths)
            .map(std::borrow::Cow::into_owned)
            .map_err(|r| r.to_string())
    };
    for (i, t) in raw.policy.into_iter().enumerate() {
        // The engine validates the table (one set of rules for the gateway
        // and `corsair::PolicyFile`); its own errors keep their codes.
        let mut found = Vec::new();
        let entry = t
            .table
            .validate_routed(i, &mut names, &mut found, paths.case_sensitive, &canonical);
        for f in found {
            match f.kind {
                Some(kind) => coded.push(Problem::new(&f.key, f.message).with_code(kind.code())),
                None => p(&f.key, f.message),
            }
        }
        let mode = match t.mode.as_deref() {
            None | Some("enforce") => PolicyMode::Enforce,
            Some("report-only") => PolicyMode::ReportOnly,
            Some(v) => {
                p(
                    &format!("policy[{i}].mode"),
                    format!("{v:?} is not one of \"enforce\" (the default) or \"report-only\""),
                );
                PolicyMode::Enforce
            }
        };
        if let Some(e) = entry {
            policies.push(RoutedPolicy {
                name: e.name,
                hosts: e.hosts,
                path_prefix: e.path_prefix,
                mode,
                policy: Arc::new(e.policy),
                protection: e.protection,
            });
        }
    }

    problems.extend(coded);
    let config = match (listen, upstream) {
        (Some(listen), Some(upstream)) if problems.is_empty() => Some(Config {
            source: file.to_owned(),
            listen,
            upstream,
            workers,
            tls,
            admin,
            limits,
            paths,
            upstream_ca,
            policies,
            warnings: Vec::new(),
        }),
        _ => None,
    };
    (config, problems)
}

/// Parses an `upstream` value given outside the file (`corsair serve --upstream`).
pub fn parse_upstream_value(u: &str) -> Result<Upstream, String> {
    if u == BUILTIN_ECHO {
        return Ok(Upstream::Echo);
    }
    parse_upstream(u).map(Upstream::Url).map_err(|m| format!("{u:?}: {m}"))
}

fn parse_upstream(u: &str) -> Result<http::Uri, &'static str> {
    let uri: http::Uri = u.parse().map_err(|_| "not a URL")?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err("the upstream must be an `http://` or `https://` URL"),
    }
    if uri.authority().is_none() {
        return Err("the URL has no host");
    }
    if uri.path() != "/" && !uri.path().is_empty() || uri.query().is_some() {
        return Err("give the upstream's origin only (`http://host:port`); paths are passed through as requested");
    }
    Ok(uri)
}
