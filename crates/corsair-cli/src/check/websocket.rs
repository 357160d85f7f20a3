//! `corsair check ws://… --origin O` (or `--websocket` with an http(s)
//! URL): would a browser's WebSocket from `O` be opened, and if not, why?
//!
//! Browsers make no CORS check on WebSockets: a page from any origin sends
//! the handshake with the user's cookies and its `Origin`, and only the
//! server's own check of that `Origin` stands between it and the socket
//! (Cross-Site WebSocket Hijacking). So the question is the server's
//! answer to the handshake:
//!
//! - with `--policy FILE`, nothing is sent: the config's policy decides as
//!   the gateway would (`corsair_gateway::websocket::origin`: no `Origin`,
//!   the request's own origin, or an origin the covering policy allows);
//! - otherwise one handshake is sent (a `GET` with `Upgrade: websocket`;
//!   safe: it changes nothing) and closed at once after a 101, without a
//!   message. When it is refused, a second one without `Origin` (as a
//!   non-browser client) tells a refused origin from an endpoint that takes
//!   no WebSocket at all.
//!
//! Exit status: 0 opened, 1 refused, 2 error.

use std::process::ExitCode;
use std::time::Duration;

use corsair_gateway::config;
use corsair_gateway::websocket::origin::{decide, Allowed};
use corsair_gateway::websocket::Refusal;
use http::header::{HeaderMap, HeaderValue, ORIGIN};
use serde::Serialize;
use url::Url;

use crate::wsprobe::{handshake, http_url, Answer};
use crate::{CheckArgs, Format};

const TIMEOUT: Duration = Duration::from_secs(10);

/// The report (JSON as it is; the text is made from it).
#[derive(Debug, Serialize)]
struct Report {
    /// Always `websocket`.
    kind: &'static str,
    url: String,
    origin: String,
    /// `network` or `policy`.
    mode: &'static str,
    /// `allowed` or `blocked`.
    verdict: &'static str,
    /// The status of the answer (network mode).
    status: Option<u16>,
    /// A stable reason code: the gateway's (`websocket_origin_not_allowed`
    /// …), `no_origin`/`same_origin`/`policy` for an allowed one, or
    /// `handshake_refused`/`invalid_101` for another server's answer.
    reason: String,
    /// What happened, in words.
    detail: String,
    /// The policy that covers the URL (policy mode).
    policy: Option<String>,
    /// The status of the same handshake without `Origin` (network mode,
    /// when the first was refused).
    status_without_origin: Option<u16>,
    /// What to change.
    fix: Option<String>,
}

/// Runs the WebSocket check.
pub(crate) fn run(args: &CheckArgs) -> ExitCode {
    let result = inner(args);
    match result {
        Ok(report) => {
            match args.format {
                Format::Text => out!("{}", text(&report)),
                Format::Json => outln!("{}", crate::report::to_json(&report)),
            }
            if report.verdict == "allowed" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err((code, message)) => {
            match args.format {
                Format::Text => eprintln!("corsair check: {message}"),
                Format::Json => outln!(
                    "{}",
                    crate::report::to_json(&super::report::ErrorJson::new(code, &message))
                ),
            }
            ExitCode::from(2)
        }
    }
}

fn inner(args: &CheckArgs) -> Result<Report, (&'static str, String)> {
    let (Some(url_text), Some(origin)) = (&args.url, &args.origin) else {
        return Err(("usage", "give the URL and --origin".to_owned()));
    };
    let url = http_url(url_text).map_err(|e| ("invalid-url", e))?;
    let mut report = Report {
        kind: "websocket",
        url: url_text.trim().to_owned(),
        origin: origin.clone(),
        mode: "network",
        verdict: "blocked",
        status: None,
        reason: String::new(),
        detail: String::new(),
        policy: None,
        status_without_origin: None,
        fix: None,
    };
    match &args.policy {
        Some(path) => {
            report.mode = "policy";
            let cfg = config::load(path).map_err(|e| ("invalid-config", e.to_string().trim_end().to_owned()))?;
            decide_offline(&mut report, &cfg, &path.display().to_string(), &url, origin)?;
        }
        None => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| ("runtime", format!("cannot start the async runtime: {e}")))?;
            runtime.block_on(decide_live(&mut report, &url, origin))?;
        }
    }
    Ok(report)
}

/// The `Host` a browser sends (the port only when not the default) and the
/// path with the query.
fn authority_and_path(url: &Url) -> (String, String) {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    };
    (
        authority,
        url[url::Position::BeforePath..url::Position::AfterQuery].to_owned(),
    )
}

fn decide_offline(
    report: &mut Report,
    cfg: &config::Config,
    file: &str,
    url: &Url,
    origin: &str,
) -> Result<(), (&'static str, String)> {
    let (authority, path) = authority_and_path(url);
    let routed = cfg.route(Some(&authority), &path);
    report.policy = routed.map(|r| r.name.clone());
    let mut headers = HeaderMap::new();
    let value =
        HeaderValue::from_str(origin).map_err(|_| ("invalid-origin", format!("`{origin}` is not a header value")))?;
    headers.insert(ORIGIN, value);
    let place = match routed {
        Some(r) => format!("policy `{}` in {file}", r.name),
        None => format!("{file}, where no policy covers {authority}{path}"),
    };
    match decide(&headers, Some(authority.as_bytes()), routed.map(|r| &*r.policy)) {
        Ok(a) => {
            report.verdict = "allowed";
            report.reason = a.code().to_owned();
            report.detail = match a {
                Allowed::Policy => {
                    format!("{place} allows {origin}: the gateway forwards the handshake to the upstream")
                }
                Allowed::SameOrigin => format!("{origin} is the URL's own origin: the gateway forwards the handshake"),
                Allowed::NoOrigin => "no Origin: a non-browser client".to_owned(),
            };
        }
        Err(r) => {
            report.reason = r.code().to_owned();
            report.detail = format!("the gateway answers {} by {place}: {r}", r.status().as_u16());
            report.fix = fix(r, origin, Some((&place, file, &authority, &path)));
        }
    }
    Ok(())
}

async fn decide_live(report: &mut Report, url: &Url, origin: &str) -> Result<(), (&'static str, String)> {
    let a = handshake(url, Some(origin), TIMEOUT)
        .await
        .map_err(|e| ("unreachable", e))?;
    report.status = Some(a.status);
    if a.accepted {
        report.verdict = "allowed";
        report.reason = "opened".to_owned();
        report.detail = format!("the server accepted the handshake from {origin} (101); check closed it at once");
        return Ok(());
    }
    if a.status == 101 {
        report.reason = "invalid_101".to_owned();
        report.detail = "the server answered 101 without a valid WebSocket acceptance (`Upgrade: websocket` and the \
                         Sec-WebSocket-Accept of the key): browsers fail the connection"
            .to_owned();
        return Ok(());
    }
    refused(report, &a, origin);
    // Without Origin: is it the origin, or no WebSocket at all?
    if let Ok(b) = handshake(url, None, TIMEOUT).await {
        report.status_without_origin = Some(b.status);
        if b.accepted {
            report.detail.push_str(&format!(
                "; without an Origin (as a non-browser client) the same handshake is accepted (101): the refusal is about {origin}"
            ));
        } else {
            report.detail.push_str(&format!(
                "; without an Origin it is refused too ({}): the URL may not take WebSockets at all",
                b.status
            ));
        }
    }
    Ok(())
}

fn refused(report: &mut Report, a: &Answer, origin: &str) {
    match a
        .corsair_reason()
        .and_then(|c| Refusal::ALL.into_iter().find(|r| r.code() == c))
    {
        Some(r) => {
            report.reason = r.code().to_owned();
            report.detail = format!("a corsair gateway refused the handshake with {}: {r}", a.status);
            report.fix = fix(r, origin, None);
        }
        None => {
            report.reason = "handshake_refused".to_owned();
            report.detail = if (300..400).contains(&a.status) {
                format!(
                    "the server redirects the handshake ({}): browsers fail WebSockets on a redirect",
                    a.status
                )
            } else {
                format!("the server refused the handshake with {}", a.status)
            };
            if !a.body.is_empty() {
                report
                    .detail
                    .push_str(&format!(" ({})", a.body.lines().next().unwrap_or("")));
            }
        }
    }
}

/// What to change for a gateway refusal; `policy`: the place, the file,
/// the authority and the path, when a config file is known.
fn fix(r: Refusal, origin: &str, policy: Option<(&str, &str, &str, &str)>) -> Option<String> {
    Some(match (r, policy) {
        (Refusal::OriginNotAllowed, Some((place, ..))) => format!("add `{origin}` to allow_origins of {place}"),
        (Refusal::OriginNotAllowed, None) => {
            format!("add `{origin}` to allow_origins of the gateway's policy that covers this path")
        }
        (Refusal::NullOrigin, _) => {
            "serve the page from a real origin: corsair lets `null` open a WebSocket only under a public (`*`) policy"
                .to_owned()
        }
        (Refusal::CrossOriginUncovered, Some((_, file, authority, path))) => format!(
            "add a [[policy]] to {file} whose hosts and path_prefix cover {authority}{path}, with `{origin}` in allow_origins"
        ),
        (Refusal::CrossOriginUncovered, None) => {
            format!("add a [[policy]] covering this path to the gateway's config, with `{origin}` in allow_origins")
        }
        _ => return None,
    })
}

fn text(r: &Report) -> String {
    let mut s = format!(
        "WebSocket {} from {} ({}): {}\n",
        r.url,
        r.origin,
        if r.mode == "policy" {
            "decided by the config, nothing sent"
        } else {
            "one handshake sent"
        },
        match (r.verdict, r.mode) {
            ("allowed", "policy") => "ALLOWED (the gateway forwards it; the upstream must then accept it)",
            ("allowed", _) => "OPENED",
            _ => "REFUSED",
        }
    );
    s.push_str(&format!("  reason: {}\n  {}\n", r.reason, r.detail));
    if let Some(f) = &r.fix {
        s.push_str(&format!("  fix: {f}\n"));
    }
    if r.verdict == "allowed" && r.reason != "no_origin" {
        s.push_str("  note: browsers make no CORS check on WebSockets; the server's Origin check is the only one\n");
    }
    s
}
