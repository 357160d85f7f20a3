//! The examples and exit codes that end each command's `--help`.
//!
//! Exit codes follow one rule across the CLI: 0 means the answer is "yes"
//! (allowed, valid, no high finding, understood), 1 means "no" (blocked,
//! invalid, a high finding), 2 is an error of use (bad arguments, a file that
//! cannot be read, an unreachable URL).

/// `corsair --help`.
pub(crate) const MAIN: &str = "\
Examples:
  corsair serve --config corsair.toml
  corsair check https://api.example.com/items --origin https://app.example.com --method PUT
  corsair explain \"Access to fetch at 'https://api.example.com/items' from origin ...\"
  corsair audit https://api.example.com/me --origin https://app.example.com
  corsair validate corsair.toml

Exit codes: 0 yes (allowed, valid, understood), 1 no (blocked, invalid, a high-severity
finding), 2 an error of use (bad arguments, unreadable file, unreachable URL).
Each command's --help has its own examples.";

/// `corsair serve --help`.
pub(crate) const SERVE: &str = "\
Examples:
  corsair serve                                   # embedded default: 127.0.0.1:8080 -> builtin:echo
  corsair serve --config corsair.toml
  corsair serve --config corsair.toml --listen 0.0.0.0:8443 --upstream http://127.0.0.1:3000
  corsair serve --config corsair.toml --log-format json

The config file is reloaded on SIGHUP and when it changes; a refused reload keeps the
previous config serving. SIGTERM or Ctrl-C drains in-flight requests, then exits.

Exit codes:
  0  stopped by a signal after draining
  1  the config was refused (every problem is printed) or the listener could not be bound
  2  bad arguments (--listen or --upstream malformed)";

/// `corsair check --help`.
pub(crate) const CHECK: &str = "\
Safe by default: GET and HEAD are sent as a browser sends them. For any other method,
check sends only the preflight (OPTIONS), decides, and stops, saying what the actual
request would need: a PUT, PATCH, POST or DELETE can change data on the server, so it is
sent only with --send. With --policy nothing is sent at all: the config file answers.

When a preflight is refused without any CORS header (a 403 looks the same whether the
origin, the method or a header was refused), check asks again as a browser could, with
safe requests only (a GET from the same origin, the preflight with the method alone and
with each header alone), and names every refused item with its fix.

WebSockets (a ws:// or wss:// URL, or --websocket): browsers make no CORS check on them,
so check asks the server's own Origin check: one handshake (a GET with Upgrade:
websocket), closed at once after a 101 without a message; when it is refused, one more
without Origin tells a refused origin from a URL that takes no WebSocket. With --policy,
the config decides as the gateway does (no Origin, the URL's own origin, or an origin the
covering policy allows).

Cross-site request forgery: a <form method=post> (--mode navigate) or a
fetch(url, {mode: \"no-cors\"}) POST (--mode no-cors) is sent without a preflight and the page
never reads the answer, so CORS does not stop it; what matters is whether it reaches the
service. check says so, and why: with --policy by the config's cross-origin protection
(protect_unsafe_requests: Sec-Fetch-Site, Origin, the policy's allow_origins, exempt
paths); against the URL only with --send for a POST (GET and HEAD are sent as usual).
A corsair gateway's refusal (403, reason cross_origin_request or origin_host_mismatch)
is recognized by its body. In --mode cors, the simulation applies the same protection to
the actual request (--policy), and adds the Sec-Fetch-* headers a browser sends.

Examples:
  corsair check https://api.example.com/items --origin https://app.example.com
  corsair check https://api.example.com/items --origin https://app.example.com \\
      --method PATCH -H 'Content-Type: application/json' -H 'X-Token: 1' --credentials
  corsair check https://api.example.com/items --origin https://app.example.com --method DELETE --send
  corsair check https://api.example.com/items --origin https://app.example.com --policy corsair.toml
  corsair check https://api.example.com/transfer --origin https://evil.example --method POST \\
      --mode navigate --policy corsair.toml
  corsair check https://api.example.com/transfer --origin https://evil.example --method POST \\
      --mode no-cors --body-type application/x-www-form-urlencoded --send
  corsair check --har session.har --format json
  corsair check wss://api.example.com/live --origin https://app.example.com
  corsair check wss://api.example.com/live --origin https://evil.example --policy corsair.toml

Exit codes:
  0  allowed (without --send, for a method other than GET/HEAD: the preflight allows it,
     or none is needed; the actual request was not sent); --mode no-cors|navigate: the
     request reaches the service
  1  blocked; --mode no-cors|navigate: refused (403)
  2  error of use (bad arguments, unreadable --policy or --har file, unreachable URL);
     --mode no-cors|navigate: also a POST neither sent (--send) nor decided (--policy)";

/// `corsair explain --help`.
pub(crate) const EXPLAIN: &str = "\
Paste the console line as the browser printed it (Chromium's \"Access to fetch at ...\"
in full, Firefox's \"Cross-Origin Request Blocked ...\" or just its Reason identifier such
as CORSMissingAllowOrigin, Safari's \"Origin ... is not allowed ...\"). The message names
the URL, the origin and the failed check, but not the method or the request headers:
give them with --method and --header to narrow the cause down. --policy runs the
request through a corsair config file and names the real rejection and the key to
change; --probe asks the live URL (safe requests only, as check does).

Examples:
  corsair explain \"Access to fetch at 'https://api.example.com/items' from origin \\
      'https://app.example.com' has been blocked by CORS policy: Response to preflight \\
      request doesn't pass access control check: No 'Access-Control-Allow-Origin' header \\
      is present on the requested resource.\" --method PATCH --policy corsair.toml
  pbpaste | corsair explain --method PUT -H 'X-Token: 1' --probe
  corsair explain CORSMissingAllowOrigin --format json

Exit codes:
  0  the message was understood (its check, cause and fix are printed)
  1  never: explain only explains
  2  the message was not understood, or an error of use (bad arguments, unreadable --policy)";

/// `corsair audit --help`.
pub(crate) const AUDIT: &str = "\
Methods used: GET and OPTIONS only, nothing that changes state (unless --unsafe-probes). The GETs carry crafted
Origin headers (look-alikes of the trusted origins, null, shared-hosting sites, local
and internal origins, other ports); one of them is sent over a connection of its own
with a carriage return in its Origin (to see whether it is reflected into a header);
one asks for a path that does not exist (to see whether error responses carry CORS
headers). The OPTIONS preflights ask, from an untrusted and from a trusted origin, for a
made-up method (CORSAIRPROBE) and headers, for GET alone, and for private network access.
Three GETs are WebSocket handshakes (Upgrade: websocket), from a trusted origin, an
arbitrary one and null, each closed at once after a 101 without a message: an endpoint
that accepts them from any origin is open to Cross-Site WebSocket Hijacking.

--unsafe-probes (opt in) adds three POSTs with a form body (corsair_probe=1): one from the
site's own origin (does the endpoint take POSTs?), one from an arbitrary origin with
Sec-Fetch-Site: cross-site and one without it (as an older browser, or any browser to a
plain-http URL, sends it). An endpoint that accepts the cross-site ones is open to
cross-site request forgery if it acts on cookies (findings cross-site-post and
cross-site-post-without-sec-fetch-site). A POST can change state: use it where that is
harmless, or on a test deployment.

Examples:
  corsair audit https://api.example.com/me
  corsair audit https://api.example.com/me --origin https://app.example.com --origin https://admin.example.com
  corsair audit https://api.example.com/me --origin https://app.example.com --format json
  corsair audit https://staging.example.com/account/email --unsafe-probes

Exit codes:
  0  no high-severity finding (a clean run lists what was probed)
  1  at least one high-severity finding
  2  error of use (bad URL or --origin, target unreachable, every probe failed)";

/// `corsair validate --help`.
pub(crate) const VALIDATE: &str = "\
Every problem at once, each as file:line:column, its key (a policy is named by its
`name`, e.g. policy \"api\".allow_methods[0]) and what is wrong; every unknown key with
the key it was probably meant to be. Warnings (a standard method in the wrong case such
as \"Patch\", allow_private_network, which Chrome no longer uses) are printed but do not
fail the file.

Examples:
  corsair validate corsair.toml
  corsair validate corsair.toml --format json
  corsair config default > corsair.toml && corsair validate corsair.toml

Exit codes:
  0  valid (warnings, if any, are printed)
  1  invalid: every error is printed
  2  the file cannot be read (error of use)";

/// `corsair config default --help`.
pub(crate) const CONFIG_DEFAULT: &str = "\
Examples:
  corsair config default > corsair.toml
  corsair config default | less

Exit codes: 0 always.";
