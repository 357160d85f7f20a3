//! What each browser error means: the check that failed, why it can fail
//! (every candidate cause when the text fits several), what to look at next,
//! and the change that fixes it, in the words of the request at hand.

/// What is known of the request besides the message.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    pub(crate) url: String,
    pub(crate) origin: String,
    /// The failed parameters the message names.
    pub(crate) hints: Vec<String>,
    pub(crate) status: Option<u16>,
    /// The method, when given (or named by the message).
    pub(crate) method: Option<String>,
    /// The CORS-unsafe request header names, when the headers were given.
    pub(crate) unsafe_headers: Option<Vec<String>>,
    pub(crate) credentialed: bool,
}

impl Context {
    fn hint(&self) -> &str {
        self.hints.first().map_or("", String::as_str)
    }

    /// The `corsair check` command for this request.
    fn check_command(&self) -> String {
        let mut c = format!("corsair check '{}' --origin '{}'", self.url, self.origin);
        if let Some(m) = &self.method {
            c.push_str(&format!(" --method {m}"));
        }
        for h in self.unsafe_headers.iter().flatten() {
            c.push_str(&format!(" -H '{h}: …'"));
        }
        if self.credentialed {
            c.push_str(" --credentials");
        }
        c
    }
}

/// The explanation of one error.
#[derive(Debug, Clone)]
pub(crate) struct Advice {
    /// Which check failed.
    pub(crate) check: String,
    /// Why, in one paragraph.
    pub(crate) explanation: String,
    /// Every cause the message can stand for.
    pub(crate) causes: Vec<String>,
    /// What to look at next.
    pub(crate) next: Vec<String>,
    /// What to change.
    pub(crate) fix: String,
}

/// The Network tab advice for a preflight.
fn network_tab_preflight(c: &Context) -> String {
    format!(
        "in the browser's Network tab, find the OPTIONS request to {} (filter `method:OPTIONS`; Chrome lists it as \
         type `preflight`): its status and response headers show what the server answered",
        c.url
    )
}

/// Advice for the Chromium error `name`.
pub(crate) fn advise(name: &str, c: &Context) -> Advice {
    let o = &c.origin;
    let base = name.strip_prefix("preflight_").unwrap_or(name);
    let on = if name.starts_with("preflight_") {
        "the answer to the preflight (the OPTIONS request the browser sent first)"
    } else {
        "the response"
    };
    let acac = if c.credentialed {
        " and `Access-Control-Allow-Credentials: true`"
    } else {
        ""
    };
    let check_cmd = c.check_command();
    match (name, base) {
        ("preflight_missing_allow_origin_header", _) => {
            let mut causes = vec![format!("the server refused the origin `{o}`")];
            match &c.method {
                Some(m) if !matches!(m.as_str(), "GET" | "HEAD" | "POST") => {
                    causes.push(format!("the server refused the method `{m}`"))
                }
                Some(_) => {}
                None => causes.push("the server refused the method (pass --method to name it)".to_owned()),
            }
            match &c.unsafe_headers {
                Some(names) => causes.extend(names.iter().map(|h| format!("the server refused the request header `{h}`"))),
                None => causes.push("the server refused one of the request headers (pass --header to name them)".to_owned()),
            }
            causes.extend([
                "there is no OPTIONS route for this URL (404 or 405 without CORS headers)".to_owned(),
                "an authentication layer answered the preflight (401 or 403): preflights never carry cookies or \
                 Authorization, so they must be answered before authentication"
                    .to_owned(),
                "a WAF, proxy or gateway answered with an error page of its own, or stripped the CORS headers"
                    .to_owned(),
            ]);
            Advice {
                check: "the CORS check on the preflight's answer: it has no Access-Control-Allow-Origin".to_owned(),
                explanation: format!(
                    "Chromium checks Access-Control-Allow-Origin before the status, so a preflight refused with a 403 \
                     (or 401, 404, 405) without CORS headers prints this same line whether the server refused the \
                     origin `{o}`, the method or a header: the message does not say which."
                ),
                causes,
                next: vec![
                    network_tab_preflight(c),
                    format!(
                        "`{check_cmd}` asks the server about the origin, the method and each header alone (safe \
                         requests only) and names every refused part; `corsair explain --probe` does the same"
                    ),
                    "if the server is a corsair gateway: `corsair explain --policy corsair.toml` names the rejection \
                     and the key"
                        .to_owned(),
                ],
                fix: format!(
                    "the preflight needs a 2xx answer with `Access-Control-Allow-Origin: {o}`{acac}, the method in \
                     Access-Control-Allow-Methods and every request header in Access-Control-Allow-Headers: allow the \
                     refused part on the server"
                ),
            }
        }
        (_, "missing_allow_origin_header") => Advice {
            check: format!("the CORS check on {on}: it has no Access-Control-Allow-Origin"),
            explanation: format!(
                "The response reached the browser, but without Access-Control-Allow-Origin, so the page may not \
                 read it{}.",
                c.status.map(|s| format!(" (status {s})")).unwrap_or_default()
            ),
            causes: vec![
                format!("the server does not allow the origin `{o}` (it answers without CORS headers)"),
                "the response is an error (4xx, 5xx, a proxy's timeout page) without CORS headers, although the \
                 origin is allowed"
                    .to_owned(),
                "this route is not covered by the server's CORS configuration".to_owned(),
                "a redirect (3xx) without Access-Control-Allow-Origin: the URL shown is the redirect's".to_owned(),
            ],
            next: vec![
                format!(
                    "in the Network tab, the request to {}: a 4xx or 5xx status points at the error, not at CORS",
                    c.url
                ),
                format!("`{check_cmd}` sends the request as the browser does and names what is missing"),
            ],
            fix: format!(
                "have the server answer {} with `Access-Control-Allow-Origin: {o}`{acac} (or `*` for a public \
                 resource without credentials), on error responses too",
                c.url
            ),
        },
        (_, "wildcard_origin_not_allowed") => Advice {
            check: format!("the CORS check on {on}: `*` with credentials"),
            explanation: "The request was sent with credentials (`credentials: 'include'`, `withCredentials`), and \
                          browsers refuse `Access-Control-Allow-Origin: *` for such a request: this is the browser's \
                          own rule, whatever the server's policy allows."
                .to_owned(),
            causes: vec![
                "the server answers every origin with `*`".to_owned(),
                "the page sends credentials it does not need".to_owned(),
            ],
            next: vec!["does the request need cookies or HTTP authentication? If not, drop the credentials".to_owned()],
            fix: format!(
                "echo the origin instead of `*`: `Access-Control-Allow-Origin: {o}` with \
                 `Access-Control-Allow-Credentials: true` and `Vary: Origin`; or send the request without credentials"
            ),
        },
        (_, "multiple_allow_origin_values") => Advice {
            check: format!("the CORS check on {on}: Access-Control-Allow-Origin holds several values"),
            explanation: format!(
                "Access-Control-Allow-Origin must hold exactly one origin; it holds `{}` (two header lines are \
                 joined with `, `, so they land here too).",
                c.hint()
            ),
            causes: vec![
                "two layers (a proxy or gateway and the application) both add the header".to_owned(),
                "the server sends its whole allow-list instead of the one matching origin".to_owned(),
            ],
            next: vec!["look at the response headers in the Network tab: count the Access-Control-Allow-Origin lines".to_owned()],
            fix: format!("send exactly one `Access-Control-Allow-Origin: {o}`: let one layer add it, and only the requesting origin"),
        },
        (_, "invalid_allow_origin_value") => Advice {
            check: format!("the CORS check on {on}: Access-Control-Allow-Origin is not an origin"),
            explanation: format!(
                "`{}` is neither `*` nor an origin (scheme://host[:port]); patterns such as `*.example.com` are not \
                 understood by browsers.",
                c.hint()
            ),
            causes: vec!["a pattern or a malformed value is sent instead of the matching origin".to_owned()],
            next: vec![],
            fix: format!("send the requesting origin exactly: `Access-Control-Allow-Origin: {o}`"),
        },
        (_, "allow_origin_mismatch") => Advice {
            check: format!("the CORS check on {on}: Access-Control-Allow-Origin names another origin"),
            explanation: format!(
                "Access-Control-Allow-Origin is `{}`, but the page's origin is `{o}`; the comparison is byte for byte \
                 (no trailing `/`, no default port, lowercase).",
                c.hint()
            ),
            causes: vec![
                "the server sends a fixed origin, not the requesting one".to_owned(),
                "a cache served a response made for another origin (the response lacks `Vary: Origin`)".to_owned(),
                "the value is almost the origin: a trailing `/`, a default port, another case".to_owned(),
            ],
            next: vec!["reload with the cache disabled (DevTools: Disable cache): if it passes, `Vary: Origin` is missing".to_owned()],
            fix: format!("echo the requesting origin when it is allowed, `Access-Control-Allow-Origin: {o}`, with `Vary: Origin`"),
        },
        (_, "invalid_allow_credentials") => Advice {
            check: format!("the CORS check on {on}: credentials are not allowed"),
            explanation: format!(
                "The request was sent with credentials, so {on} must carry `Access-Control-Allow-Credentials: true` \
                 exactly; it carries `{}`.",
                c.hint()
            ),
            causes: vec![
                "the server does not allow credentials for this origin".to_owned(),
                "the page sends credentials it does not need".to_owned(),
            ],
            next: vec![],
            fix: "send `Access-Control-Allow-Credentials: true` (lowercase, once) with the origin, or send the request \
                  without credentials"
                .to_owned(),
        },
        ("preflight_invalid_status", _) => Advice {
            check: "the status of the preflight's answer: not 2xx".to_owned(),
            explanation: format!(
                "The preflight's answer granted the origin (its Access-Control-Allow-Origin passed), but its status{} \
                 is not in 200-299.",
                c.status.map(|s| format!(" {s}")).unwrap_or_default()
            ),
            causes: vec![
                "there is no OPTIONS route, and the framework answered 404 or 405 with CORS headers added".to_owned(),
                "authentication runs before CORS: preflights carry no credentials and get 401 or 403".to_owned(),
                "the OPTIONS handler failed (5xx)".to_owned(),
            ],
            next: vec![network_tab_preflight(c)],
            fix: format!("answer OPTIONS requests for {} with 204 (or 200), before any authentication", c.url),
        },
        ("preflight_disallowed_redirect", _) => Advice {
            check: "the preflight's answer: a redirect".to_owned(),
            explanation: "Browsers never follow a redirect for a preflight.".to_owned(),
            causes: vec!["an http-to-https, trailing-slash or login redirect applies to OPTIONS too".to_owned()],
            next: vec![network_tab_preflight(c)],
            fix: "call the final URL from the page, or answer OPTIONS at this exact URL with a 2xx status".to_owned(),
        },
        ("invalid_allow_methods_preflight_response" | "invalid_allow_headers_preflight_response", _) => {
            let which = if name.contains("methods") { "Methods" } else { "Headers" };
            Advice {
                check: format!("the preflight's Access-Control-Allow-{which}: it does not parse"),
                explanation: format!("Access-Control-Allow-{which} must be a comma-separated list of tokens; one element is not a token, so the whole header is refused."),
                causes: vec!["a value with spaces inside a name, quotes, or another separator".to_owned()],
                next: vec![network_tab_preflight(c)],
                fix: format!("send a plain comma-separated list, e.g. `Access-Control-Allow-{which}: {}`", if which == "Methods" { "GET, POST, PUT" } else { "Content-Type, X-Token" }),
            }
        }
        ("method_disallowed_by_preflight_response", _) => {
            let m = c.hint();
            Advice {
                check: "the preflight's Access-Control-Allow-Methods: the method is not listed".to_owned(),
                explanation: format!(
                    "The preflight's answer accepted the origin but does not list `{m}`; methods are compared byte for \
                     byte, and browsers uppercase only DELETE, GET, HEAD, OPTIONS, POST and PUT."
                ),
                causes: vec![
                    format!("`{m}` is not in the server's allowed methods"),
                    format!("it is listed in another case (`{}` is not `{m}`)", m.to_ascii_uppercase()),
                    "`*` was sent for a request with credentials, for which it is a literal method name".to_owned(),
                ],
                next: vec![],
                fix: format!("add `{m}` (exactly) to the methods the server allows (its Access-Control-Allow-Methods)"),
            }
        }
        ("header_disallowed_by_preflight_response", _) => {
            let h = c.hint();
            Advice {
                check: "the preflight's Access-Control-Allow-Headers: a request header is not listed".to_owned(),
                explanation: format!("The preflight's answer accepted the origin but does not list the request header `{h}`."),
                causes: vec![
                    format!("`{h}` is not in the server's allowed headers"),
                    "`*` was sent for a request with credentials, for which it is a literal header name".to_owned(),
                    "the header is `authorization`, which `*` never covers".to_owned(),
                ],
                next: vec![],
                fix: format!("add `{h}` to the headers the server allows (its Access-Control-Allow-Headers)"),
            }
        }
        ("redirect_contains_credentials", _) => Advice {
            check: "a redirect's Location: it has a user name and password".to_owned(),
            explanation: format!("The redirect to `{}` carries `user:password@`, which cross-origin requests may not follow.", c.hint()),
            causes: vec![],
            next: vec![],
            fix: "redirect to a URL without user information".to_owned(),
        },
        ("cors_disabled_scheme" | "disallowed_by_mode", _) => Advice {
            check: "the request's scheme or mode".to_owned(),
            explanation: "CORS applies to http and https URLs in `cors` mode only; this request is neither (a `file:` \
                          page, a custom scheme, or `mode: 'same-origin'`)."
                .to_owned(),
            causes: vec![],
            next: vec![],
            fix: "serve the page and the API over http(s), and use `mode: 'cors'` (the default of fetch())".to_owned(),
        },
        ("insecure_local_network" | "invalid_local_network_access" | "local_network_access_permission_denied"
        | "unexpected_private_network_access" | "private_network_access_permission_unavailable", _) => Advice {
            check: "Local Network Access: a request from a more public address space to a local or loopback one".to_owned(),
            explanation: format!(
                "This is not CORS: no response header fixes it. Since Chrome 142, a public page's requests to the \
                 local network or loopback need the user's permission, from a secure (https) page{}.",
                if c.hints.iter().any(|h| h == "local") {
                    " (in logs from before Chrome 142, `local` meant loopback, 127.0.0.1)"
                } else {
                    ""
                }
            ),
            causes: vec![
                "the page is not a secure context (http)".to_owned(),
                "the user did not grant (or denied) the local network permission".to_owned(),
            ],
            next: vec!["chrome://settings/content/localNetworkAccess shows the permission".to_owned()],
            fix: "serve the page over https, pass `targetAddressSpace: 'local'` (or 'loopback') to fetch(), and let \
                  the user grant the permission; or serve the API from a public address"
                .to_owned(),
        },
        _ if name.contains("private_network") || name.contains("external") => Advice {
            check: "Private Network Access (Chrome about 98-141): the preflight's Access-Control-Allow-Private-Network".to_owned(),
            explanation: "Older Chrome asked a private-network target to answer the preflight with \
                          `Access-Control-Allow-Private-Network: true`. Chrome 142 and later ask the user's permission \
                          instead (Local Network Access), and ignore the header."
                .to_owned(),
            causes: vec!["the server does not answer Access-Control-Request-Private-Network".to_owned()],
            next: vec!["check which Chrome version printed the message".to_owned()],
            fix: "for old Chrome, answer such preflights with `Access-Control-Allow-Private-Network: true`; for \
                  Chrome 142+, see Local Network Access (a permission, from an https page)"
                .to_owned(),
        },
        _ => Advice {
            check: "the network request itself".to_owned(),
            explanation: "The preflight or the request failed at the network level (Chromium reports it only to \
                          DevTools)."
                .to_owned(),
            causes: vec!["a refused connection, a DNS or TLS error, a cancelled request".to_owned()],
            next: vec!["the Network tab's status column shows the network error (`net::ERR_…`)".to_owned()],
            fix: "make the server reachable from the browser".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::names::CHROMIUM;
    use super::*;

    fn ctx() -> Context {
        Context {
            url: "https://api.example.com/items".to_owned(),
            origin: "https://app.example.com".to_owned(),
            hints: vec!["PATCH".to_owned()],
            ..Context::default()
        }
    }

    #[test]
    fn the_ambiguous_preflight_message_lists_every_part_it_knows() {
        let mut c = ctx();
        let a = advise("preflight_missing_allow_origin_header", &c);
        assert!(a.causes.iter().any(|x| x.contains("pass --method")), "{:?}", a.causes);
        c.method = Some("PATCH".to_owned());
        c.unsafe_headers = Some(vec!["x-a".to_owned(), "x-b".to_owned()]);
        let a = advise("preflight_missing_allow_origin_header", &c);
        for want in [
            "origin `https://app.example.com`",
            "method `PATCH`",
            "header `x-a`",
            "header `x-b`",
            "OPTIONS route",
            "authentication",
        ] {
            assert!(a.causes.iter().any(|x| x.contains(want)), "{want}: {:?}", a.causes);
        }
        assert!(a.next.iter().any(|n| n.contains("corsair check 'https://api.example.com/items' --origin 'https://app.example.com' --method PATCH -H 'x-a: …' -H 'x-b: …'")), "{:?}", a.next);
    }

    #[test]
    fn every_name_has_advice_that_is_not_the_fallback() {
        for r in CHROMIUM {
            let mut names = vec![r.name.to_owned()];
            if r.twin {
                names.push(format!("preflight_{}", r.name));
            }
            for n in names {
                let a = advise(&n, &ctx());
                if n != "invalid_response" {
                    assert_ne!(a.check, "the network request itself", "{n}");
                }
                assert!(!a.fix.is_empty() && !a.explanation.is_empty(), "{n}");
            }
        }
        let lna = advise("local_network_access_permission_denied", &ctx());
        assert!(lna.explanation.contains("no response header fixes it"));
    }
}
