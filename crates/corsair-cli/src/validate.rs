//! `corsair validate FILE [--format text|json]`: lint a config file.
//!
//! Every problem at once, each with its place (`file:line:column`), its key
//! (`policy "api".allow_methods[0]`: a policy is named by its `name`, or
//! `policy[0]` when it has none) and what is wrong: every unknown key (with
//! the key it was probably meant to be), every value of the wrong type, every
//! insecure or malformed setting. Warnings (a wrongly cased standard method,
//! `allow_private_network`) are printed but do not refuse the file.
//!
//! Exit status: 0 when the file has no error (warnings allowed), 1 when it has
//! errors, 2 when it cannot be read at all (no such file: an error of use).
//!
//! # `--format json`
//!
//! One document on stdout, whatever the exit status:
//!
//! ```text
//! {
//!   "file": string,
//!   "valid": boolean,                  no error (warnings allowed)
//!   "errors": number,
//!   "warnings": number,
//!   "problems": [{                     in the order of the file; problems of the whole file first
//!     "severity": "error" | "warning",
//!     "code": string,                  e.g. "unknown_key", "wrong_type", "insecure_origin", "method_case"
//!     "key": string,                   e.g. "policy \"api\".allow_methods[0]"; "" for the whole file
//!     "line": number | null,           1-based
//!     "column": number | null,         1-based, in characters
//!     "message": string,
//!     "suggestion": string | null      e.g. "allow_origins" for an unknown `allow_origin`
//!   }],
//!   "config": null | {                 when valid
//!     "listen": string, "tls": boolean, "upstream": string, "admin": string | null,
//!     "policies": [{ "name": string, "hosts": [string], "path_prefix": string,
//!                    "allow_origins": [string], "allow_methods": [string], "allow_headers": [string],
//!                    "expose_headers": [string], "allow_credentials": boolean, "max_age": number | null }]
//!   }
//! }
//! ```
//!
//! The document follows the conventions of [`crate::report`] (pretty-printed, one
//! document, snake_case names).

use std::process::ExitCode;

use corsair_gateway::config::{self, Config, Lint, Problem};
use serde::Serialize;

use crate::{Format, ValidateArgs};

/// The JSON document (see the module documentation).
#[derive(Debug, Serialize)]
struct Json<'a> {
    file: &'a str,
    valid: bool,
    errors: usize,
    warnings: usize,
    problems: Vec<ProblemJson<'a>>,
    config: Option<ConfigJson<'a>>,
}

#[derive(Debug, Serialize)]
struct ProblemJson<'a> {
    severity: &'static str,
    code: &'static str,
    key: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    message: &'a str,
    suggestion: Option<&'a str>,
}

impl<'a> ProblemJson<'a> {
    fn of(p: &'a Problem) -> Self {
        ProblemJson {
            severity: p.severity.as_str(),
            code: p.code,
            key: &p.key,
            line: p.line,
            column: p.column,
            message: &p.message,
            suggestion: p.suggestion.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
struct ConfigJson<'a> {
    listen: String,
    tls: bool,
    upstream: String,
    admin: Option<String>,
    policies: Vec<PolicyJson<'a>>,
}

#[derive(Debug, Serialize)]
struct PolicyJson<'a> {
    name: &'a str,
    hosts: &'a [String],
    path_prefix: &'a str,
    allow_origins: &'a [String],
    allow_methods: &'a [String],
    allow_headers: &'a [String],
    expose_headers: &'a [String],
    allow_credentials: bool,
    max_age: Option<i64>,
}

fn upstream_text(c: &Config) -> String {
    match &c.upstream {
        config::Upstream::Echo => config::BUILTIN_ECHO.to_owned(),
        config::Upstream::Url(u) => u.to_string(),
    }
}

fn config_json(c: &Config) -> ConfigJson<'_> {
    ConfigJson {
        listen: c.listen.to_string(),
        tls: c.tls.is_some(),
        upstream: upstream_text(c),
        admin: c.admin.map(|a| a.to_string()),
        policies: c
            .policies
            .iter()
            .map(|p| {
                let cfg = p.policy.config();
                PolicyJson {
                    name: &p.name,
                    hosts: &p.hosts,
                    path_prefix: &p.path_prefix,
                    allow_origins: &cfg.allow_origins,
                    allow_methods: &cfg.allow_methods,
                    allow_headers: &cfg.allow_headers,
                    expose_headers: &cfg.expose_headers,
                    allow_credentials: cfg.allow_credentials,
                    max_age: cfg.max_age,
                }
            })
            .collect(),
    }
}

fn json(lint: &Lint) -> Json<'_> {
    Json {
        file: &lint.file,
        valid: lint.config.is_some(),
        errors: lint.errors().count(),
        warnings: lint.warnings().count(),
        problems: lint.problems.iter().map(ProblemJson::of).collect(),
        config: lint.config.as_ref().map(config_json),
    }
}

/// `file:line:column: severity: key: message` (a suggestion is in the message).
fn problem_line(file: &str, p: &Problem) -> String {
    let mut s = format!("{}: {}: ", p.place(file), p.severity);
    if !p.key.is_empty() {
        s.push_str(&p.key);
        s.push_str(": ");
    }
    s.push_str(p.message.trim_end());
    s
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Runs `corsair validate`.
pub fn run(args: ValidateArgs) -> ExitCode {
    let lint = config::lint(&args.file);
    let code = if lint.unreadable() {
        ExitCode::from(2)
    } else if lint.config.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    if args.format == Format::Json {
        outln!("{}", crate::report::to_json(&json(&lint)));
        return code;
    }
    let (errors, warnings) = (lint.errors().count(), lint.warnings().count());
    if !lint.problems.is_empty() {
        let mut head = format!("{}: {}", lint.file, plural(lint.problems.len(), "problem"));
        if warnings > 0 {
            head.push_str(&format!(
                " ({}, {})",
                plural(errors, "error"),
                plural(warnings, "warning")
            ));
        }
        eprintln!("{head}");
        for p in &lint.problems {
            eprintln!("  {}", problem_line(&lint.file, p));
        }
    }
    if let Some(c) = &lint.config {
        summary(&lint.file, c);
    }
    code
}

/// What a valid file configures, on stdout.
fn summary(file: &str, c: &Config) {
    let warned = if c.warnings.is_empty() {
        String::new()
    } else {
        format!(" ({}, printed above)", plural(c.warnings.len(), "warning"))
    };
    outln!("{file}: ok{warned}");
    outln!("  listen   {}{}", c.listen, if c.tls.is_some() { " (tls)" } else { "" });
    match &c.upstream {
        config::Upstream::Echo => outln!("  upstream {} (built-in echo)", config::BUILTIN_ECHO),
        config::Upstream::Url(u) => outln!("  upstream {u}"),
    }
    if let Some(a) = c.admin {
        outln!("  admin    {a}");
    }
    for p in &c.policies {
        let hosts = if p.hosts.is_empty() {
            "*".to_owned()
        } else {
            p.hosts.join(",")
        };
        let cfg = p.policy.config();
        outln!(
            "  policy {:?}: hosts {} path {} origins [{}]{}",
            p.name,
            hosts,
            p.path_prefix,
            cfg.allow_origins.join(", "),
            if cfg.allow_credentials { " credentials" } else { "" }
        );
    }
}
