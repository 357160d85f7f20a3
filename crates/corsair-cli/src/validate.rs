//! `corsair validate FILE`: lint a config file.

use std::process::ExitCode;

use corsair_gateway::config;

/// Prints every problem (file, key, what is wrong) and exits 1, or a summary
/// of the policies and exits 0.
pub fn run(args: crate::ValidateArgs) -> ExitCode {
    match config::load(&args.file) {
        Ok(c) => {
            outln!("{}: ok", args.file.display());
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
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprint!("{e}");
            ExitCode::FAILURE
        }
    }
}
