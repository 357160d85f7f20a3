//! Reading the file's TOML into the model of [`FileConfig`]: every key is
//! checked against the schema (every unknown key is reported, with the known
//! key it was probably meant to be), every value against its type, and where
//! each key and value sits in the file is kept, for line and column numbers.
//!
//! The TOML is parsed once, by `toml_edit` (the parser under the `toml`
//! crate), whose document keeps the byte range of every key and value.

use std::collections::HashSet;
use std::ops::Range;
use std::path::PathBuf;

use toml_edit::{ImDocument, Item, TableLike};

use super::super::Problem;
use super::place::Spans;
use super::suggest::suggestion;

/// The keys of the top level.
pub(crate) const ROOT_KEYS: &[&str] = &[
    "listen",
    "upstream",
    "workers",
    "tls",
    "admin",
    "limits",
    "paths",
    "upstream_ca",
    "policy",
];
const TLS_KEYS: &[&str] = &["cert", "key"];
const ADMIN_KEYS: &[&str] = &["listen"];
const LIMITS_KEYS: &[&str] = &[
    "header_read_timeout",
    "upstream_timeout",
    "upstream_read_timeout",
    "max_header_bytes",
    "max_connections",
    "shutdown_grace",
    "websocket_idle_timeout",
    "websocket_max_duration",
];
const PATHS_KEYS: &[&str] = &["merge_slashes", "encoded_slashes", "semicolons", "case_sensitive"];
/// The keys of a `[[policy]]` table.
pub(crate) const POLICY_KEYS: &[&str] = &[
    "name",
    "hosts",
    "path_prefix",
    "allow_origins",
    "allow_methods",
    "allow_headers",
    "expose_headers",
    "allow_credentials",
    "max_age",
    "allow_private_network",
    "allow_insecure_origins",
    "debug",
    "mode",
    "protect_unsafe_requests",
    "protect_unsafe_requests_exempt",
];

/// Every table of the schema: its name as a message shows it, its keys.
const TABLES: &[(&str, &[&str])] = &[
    ("the top level", ROOT_KEYS),
    ("[tls]", TLS_KEYS),
    ("[admin]", ADMIN_KEYS),
    ("[limits]", LIMITS_KEYS),
    ("[paths]", PATHS_KEYS),
    ("a [[policy]] table", POLICY_KEYS),
];

/// The file as written. Integers are kept as TOML has them (`i64`); their
/// ranges are checked with the other values.
#[derive(Debug, Default)]
pub(super) struct FileConfig {
    pub(super) listen: Option<String>,
    pub(super) upstream: Option<String>,
    pub(super) workers: Option<i64>,
    pub(super) tls: Option<TlsTable>,
    pub(super) admin: Option<String>,
    pub(super) limits: LimitsTable,
    pub(super) paths: PathsTable,
    pub(super) upstream_ca: Option<PathBuf>,
    pub(super) policy: Vec<PolicyTable>,
}

/// `[tls]`; a missing key is reported when read.
#[derive(Debug, Default)]
pub(super) struct TlsTable {
    pub(super) cert: Option<PathBuf>,
    pub(super) key: Option<PathBuf>,
}

/// `[limits]`.
#[derive(Debug, Default)]
pub(super) struct LimitsTable {
    pub(super) header_read_timeout: Option<i64>,
    pub(super) upstream_timeout: Option<i64>,
    pub(super) upstream_read_timeout: Option<i64>,
    pub(super) max_header_bytes: Option<i64>,
    pub(super) max_connections: Option<i64>,
    pub(super) shutdown_grace: Option<i64>,
    pub(super) websocket_idle_timeout: Option<i64>,
    pub(super) websocket_max_duration: Option<i64>,
}

/// `[paths]`.
#[derive(Debug, Default)]
pub(super) struct PathsTable {
    pub(super) merge_slashes: Option<bool>,
    pub(super) encoded_slashes: Option<String>,
    pub(super) semicolons: Option<String>,
    pub(super) case_sensitive: Option<bool>,
}

/// One `[[policy]]` table as read: the engine's model of the table
/// ([`corsair::PolicyTable`], validated by the engine), and `mode` as
/// written, which the gateway checks with its own message.
#[derive(Debug, Default)]
pub(super) struct PolicyTable {
    pub(super) table: corsair::PolicyTable,
    pub(super) mode: Option<String>,
}

/// What reading produced: the model, where every key sits, the problems, and
/// the keys whose value could not be read (problems that merely follow from
/// them are not reported).
pub(super) struct Read {
    pub(super) config: FileConfig,
    pub(super) spans: Spans,
    pub(super) problems: Vec<Placed>,
    pub(super) unread: HashSet<String>,
}

/// A problem and where it sits in the file, when it has a place.
pub(super) type Placed = (Option<Range<usize>>, Problem);

/// Reads `text`: `Err` with the syntax error when it is not TOML.
pub(super) fn read(text: &str) -> Result<Read, Box<Placed>> {
    let doc = ImDocument::parse(text).map_err(|e| {
        let p = Problem::new("", e.message().trim_end().to_owned()).with_code("syntax");
        Box::new((e.span(), p))
    })?;
    let mut r = Reader::default();
    let root = doc.as_table();
    r.keys("", root, ROOT_KEYS);
    let mut c = FileConfig::default();
    for (name, item) in root.iter() {
        match name {
            "listen" => c.listen = r.string("listen", item),
            "upstream" => c.upstream = r.string("upstream", item),
            "workers" => c.workers = r.integer("workers", item),
            "upstream_ca" => c.upstream_ca = r.string("upstream_ca", item).map(PathBuf::from),
            "tls" => c.tls = r.table("tls", item).map(|t| r.tls(t, item)),
            "admin" => {
                if let Some(t) = r.table("admin", item) {
                    r.keys("admin", t, ADMIN_KEYS);
                    c.admin = r.required_string("admin", "listen", t, item);
                }
            }
            "limits" => {
                if let Some(t) = r.table("limits", item) {
                    c.limits = r.limits(t);
                }
            }
            "paths" => {
                if let Some(t) = r.table("paths", item) {
                    c.paths = r.paths(t);
                }
            }
            "policy" => c.policy = r.policies(item),
            _ => {}
        }
    }
    Ok(Read {
        config: c,
        spans: r.spans,
        problems: r.problems,
        unread: r.unread,
    })
}

/// The reader's state: spans, problems, unreadable keys.
#[derive(Default)]
struct Reader {
    spans: Spans,
    problems: Vec<Placed>,
    unread: HashSet<String>,
}

/// `a`/`an` and a TOML type name, for messages.
fn a(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl Reader {
    fn problem(&mut self, span: Option<Range<usize>>, p: Problem) {
        self.problems.push((span, p));
    }

    /// A value of the wrong type at `path`.
    fn wrong_type(&mut self, path: &str, span: Option<Range<usize>>, expected: &str, found: &str) {
        self.unread.insert(path.to_owned());
        self.problem(
            span,
            Problem::new(path, format!("expected {expected}, found {}", a(found))).with_code("wrong_type"),
        );
    }

    /// Records where each key of `table` (at `path`) sits and reports the
    /// unknown ones, each with the known key it was probably meant to be.
    fn keys(&mut self, path: &str, table: &dyn TableLike, known: &[&str]) {
        for (name, item) in table.iter() {
            let key_span = table.key(name).and_then(toml_edit::Key::span);
            let full = join(path, name);
            if known.contains(&name) {
                if let Some(s) = item.span().or(key_span) {
                    self.spans.0.insert(full, s);
                }
                continue;
            }
            let here = TABLES
                .iter()
                .find(|(_, keys)| std::ptr::eq(*keys, known))
                .map_or("this table", |(n, _)| *n);
            let mut message = format!("unknown key `{name}` in {here}");
            let guess = suggestion(name, known);
            if let Some(g) = guess {
                message.push_str(&format!("; did you mean `{g}`?"));
                // The key it was meant to be is then missing: what follows
                // from its absence is not a problem of its own.
                if !table.contains_key(g) {
                    self.unread.insert(join(path, g));
                }
            } else if let Some((elsewhere, _)) = TABLES
                .iter()
                .find(|(_, keys)| !std::ptr::eq(*keys, known) && keys.contains(&name))
            {
                message.push_str(&format!("; `{name}` belongs in {elsewhere}"));
            }
            let mut p = Problem::new(&full, message).with_code("unknown_key");
            if let Some(g) = guess {
                p = p.with_suggestion(g);
            }
            self.problem(key_span, p);
        }
    }

    fn string(&mut self, path: &str, item: &Item) -> Option<String> {
        match item.as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                self.wrong_type(path, item.span(), "a string", item.type_name());
                None
            }
        }
    }

    fn integer(&mut self, path: &str, item: &Item) -> Option<i64> {
        match item.as_integer() {
            Some(i) => Some(i),
            None => {
                self.wrong_type(path, item.span(), "an integer", item.type_name());
                None
            }
        }
    }

    fn boolean(&mut self, path: &str, item: &Item) -> Option<bool> {
        match item.as_bool() {
            Some(b) => Some(b),
            None => {
                self.wrong_type(path, item.span(), "`true` or `false`", item.type_name());
                None
            }
        }
    }

    /// An array of strings; each element's span is kept as `path[j]`.
    fn strings(&mut self, path: &str, item: &Item) -> Vec<String> {
        let Some(array) = item.as_array() else {
            self.wrong_type(path, item.span(), "an array of strings", item.type_name());
            return Vec::new();
        };
        let mut out = Vec::new();
        for (j, v) in array.iter().enumerate() {
            let key = format!("{path}[{j}]");
            if let Some(s) = v.span() {
                self.spans.0.insert(key.clone(), s);
            }
            match v.as_str() {
                Some(s) => out.push(s.to_owned()),
                None => {
                    // The list is not what was meant: nothing follows from it.
                    self.unread.insert(path.to_owned());
                    self.wrong_type(&key, v.span(), "a string", v.type_name());
                }
            }
        }
        out
    }

    fn table<'i>(&mut self, path: &str, item: &'i Item) -> Option<&'i dyn TableLike> {
        let t = item.as_table_like();
        if t.is_none() {
            self.wrong_type(path, item.span(), "a table", item.type_name());
        }
        t
    }

    /// The string under `key` of `table` (at `path`), reported when missing.
    fn required_string(&mut self, path: &str, key: &str, table: &dyn TableLike, item: &Item) -> Option<String> {
        let full = join(path, key);
        match table.get(key) {
            Some(v) => self.string(&full, v),
            None => {
                self.unread.insert(full.clone());
                self.problem(
                    item.span(),
                    Problem::new(&full, "missing".to_owned()).with_code("missing"),
                );
                None
            }
        }
    }

    fn tls(&mut self, t: &dyn TableLike, item: &Item) -> TlsTable {
        self.keys("tls", t, TLS_KEYS);
        TlsTable {
            cert: self.required_string("tls", "cert", t, item).map(PathBuf::from),
            key: self.required_string("tls", "key", t, item).map(PathBuf::from),
        }
    }

    fn limits(&mut self, t: &dyn TableLike) -> LimitsTable {
        self.keys("limits", t, LIMITS_KEYS);
        let mut l = LimitsTable::default();
        for (name, item) in t.iter() {
            let slot = match name {
                "header_read_timeout" => &mut l.header_read_timeout,
                "upstream_timeout" => &mut l.upstream_timeout,
                "upstream_read_timeout" => &mut l.upstream_read_timeout,
                "max_header_bytes" => &mut l.max_header_bytes,
                "max_connections" => &mut l.max_connections,
                "shutdown_grace" => &mut l.shutdown_grace,
                "websocket_idle_timeout" => &mut l.websocket_idle_timeout,
                "websocket_max_duration" => &mut l.websocket_max_duration,
                _ => continue,
            };
            *slot = self.integer(&join("limits", name), item);
        }
        l
    }

    fn paths(&mut self, t: &dyn TableLike) -> PathsTable {
        self.keys("paths", t, PATHS_KEYS);
        let mut p = PathsTable::default();
        for (name, item) in t.iter() {
            let key = join("paths", name);
            match name {
                "merge_slashes" => p.merge_slashes = self.boolean(&key, item),
                "case_sensitive" => p.case_sensitive = self.boolean(&key, item),
                "encoded_slashes" => p.encoded_slashes = self.string(&key, item),
                "semicolons" => p.semicolons = self.string(&key, item),
                _ => {}
            }
        }
        p
    }

    /// `[[policy]]` tables, or `policy = [{…}, …]`.
    fn policies(&mut self, item: &Item) -> Vec<PolicyTable> {
        let mut out = Vec::new();
        if let Some(tables) = item.as_array_of_tables() {
            for (i, t) in tables.iter().enumerate() {
                out.push(self.policy(i, t, t.span()));
            }
        } else if let Some(array) = item.as_array() {
            for (i, v) in array.iter().enumerate() {
                match v.as_inline_table() {
                    Some(t) => out.push(self.policy(i, t, v.span())),
                    None => {
                        self.wrong_type(&format!("policy[{i}]"), v.span(), "a table", v.type_name());
                        out.push(PolicyTable::default());
                    }
                }
            }
        } else {
            self.wrong_type("policy", item.span(), "[[policy]] tables", item.type_name());
        }
        out
    }

    fn policy(&mut self, i: usize, t: &dyn TableLike, span: Option<Range<usize>>) -> PolicyTable {
        let path = format!("policy[{i}]");
        if let Some(s) = span {
            self.spans.0.insert(path.clone(), s);
        }
        self.keys(&path, t, POLICY_KEYS);
        let mut p = PolicyTable::default();
        let table = &mut p.table;
        for (name, item) in t.iter() {
            let key = join(&path, name);
            let flag = |r: &mut Self| r.boolean(&key, item).unwrap_or(false);
            match name {
                "name" => table.name = self.string(&key, item),
                "path_prefix" => table.path_prefix = self.string(&key, item),
                "hosts" => table.hosts = self.strings(&key, item),
                "allow_origins" => table.allow_origins = self.strings(&key, item),
                "allow_methods" => table.allow_methods = self.strings(&key, item),
                "allow_headers" => table.allow_headers = self.strings(&key, item),
                "expose_headers" => table.expose_headers = self.strings(&key, item),
                "max_age" => table.max_age = self.integer(&key, item),
                "allow_credentials" => table.allow_credentials = flag(self),
                "allow_private_network" => table.allow_private_network = flag(self),
                "allow_insecure_origins" => table.allow_insecure_origins = flag(self),
                "debug" => table.debug = flag(self),
                "mode" => p.mode = self.string(&key, item),
                "protect_unsafe_requests" => table.protect_unsafe_requests = self.boolean(&key, item),
                "protect_unsafe_requests_exempt" => table.protect_unsafe_requests_exempt = self.strings(&key, item),
                _ => {}
            }
        }
        p
    }
}
