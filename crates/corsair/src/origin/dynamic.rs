//! [`DynamicOrigins`]: an origin set that changes while a policy serves
//! (tenants' origins kept in a database), validated entry by entry exactly
//! as `allow_origins` is, read lock-free in O(1).

use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

use super::matcher::PatternMatcher;
use super::OriginPattern;
use crate::policy::{ConfigError, ConfigErrorKind, ConfigErrors, INSECURE_ORIGIN};

/// The key [`ConfigError`]s of a dynamic origin set carry.
const KEY: &str = "dynamic_origins";

/// A set of allowed origins that can change while the policies using it
/// serve requests: origins (and patterns) are added and removed at run time,
/// each validated on insertion exactly as an `allow_origins` entry of a
/// configuration is (the same [`OriginPattern`] parsing, so the same
/// refusals of `null`, paths, uppercase, default ports, public-suffix
/// patterns; and plain-`http` origins off loopback only when the set was made
/// with [`DynamicOrigins::allowing_insecure_origins`]).
///
/// Reads are lock-free and O(1) (O(labels) for subdomain patterns): the
/// request path loads the current snapshot (an [`arc_swap::ArcSwap`]) and
/// looks the origin up in hash sets, hashed with SipHash and a random key,
/// since the entries may come from outside (a tenant registering its own
/// origin). Updates copy the snapshot, change the copy and swap it in (one
/// writer at a time): O(n) each, so add many origins at once with
/// [`extend`](Self::extend) or [`replace_all`](Self::replace_all).
///
/// Clones share the same set. Give one to a policy with
/// [`PolicyConfig::build_with_dynamic_origins`](crate::PolicyConfig::build_with_dynamic_origins);
/// the policy then allows its `allow_origins` and, at each request, what the
/// set holds at that moment.
///
/// ```
/// use corsair::{ConfigErrorKind, DynamicOrigins, PolicyConfig};
/// use http::{HeaderMap, HeaderValue, Method};
///
/// let tenants = DynamicOrigins::new();
/// let policy = PolicyConfig::new()
///     .allow_methods(["PUT"])
///     .allow_credentials(true)
///     .build_with_dynamic_origins(&tenants)?;
///
/// let mut req = HeaderMap::new();
/// req.insert("origin", HeaderValue::from_static("https://shop.tenant-a.example"));
/// assert!(!policy.evaluate(&Method::GET, &req).is_allowed());
///
/// // A tenant signs up: its origin is validated, then served at once.
/// assert!(tenants.insert("https://shop.tenant-a.example")?);
/// assert!(policy.evaluate(&Method::GET, &req).is_allowed());
///
/// // Refused exactly as in a configuration file.
/// let e = tenants.insert("https://shop.tenant-b.example/").unwrap_err();
/// assert_eq!(e.kind, ConfigErrorKind::InvalidOrigin);
/// assert_eq!(tenants.insert("http://shop.tenant-b.example").unwrap_err().code(), "insecure_origin");
/// assert_eq!(tenants.insert("null").unwrap_err().code(), "opaque_origin");
///
/// tenants.remove("https://shop.tenant-a.example");
/// assert!(!policy.evaluate(&Method::GET, &req).is_allowed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct DynamicOrigins {
    shared: Arc<Shared>,
}

struct Shared {
    current: ArcSwap<Snapshot>,
    /// One writer at a time (a copy-on-write update that raced another
    /// would lose it).
    writer: Mutex<()>,
    allow_insecure: bool,
}

/// One immutable state of the set.
#[derive(Clone, Default)]
struct Snapshot {
    exact: HashSet<Box<str>, RandomState>,
    patterns: PatternMatcher<RandomState>,
}

impl Snapshot {
    fn insert(&mut self, p: &OriginPattern) -> bool {
        match p {
            OriginPattern::Exact(s) => self.exact.insert(s.as_str().into()),
            _ => self.patterns.insert(p),
        }
    }

    fn remove(&mut self, p: &OriginPattern) -> bool {
        match p {
            OriginPattern::Exact(s) => self.exact.remove(s.as_str()),
            _ => self.patterns.remove(p),
        }
    }

    fn len(&self) -> usize {
        self.exact.len() + self.patterns.len()
    }
}

impl Default for DynamicOrigins {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for DynamicOrigins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicOrigins")
            .field("len", &self.len())
            .field("allow_insecure_origins", &self.shared.allow_insecure)
            .finish()
    }
}

/// Two handles are equal when they share one set.
impl PartialEq for DynamicOrigins {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl Eq for DynamicOrigins {}

impl DynamicOrigins {
    /// An empty set that refuses origins which are not potentially
    /// trustworthy (plain `http` off loopback), as a configuration does by
    /// default.
    pub fn new() -> Self {
        Self::with(false)
    }

    /// An empty set that also accepts plain-`http` origins off loopback (as
    /// `allow_insecure_origins = true` does). A policy can use it only if
    /// its configuration says `allow_insecure_origins = true` too.
    pub fn allowing_insecure_origins() -> Self {
        Self::with(true)
    }

    fn with(allow_insecure: bool) -> Self {
        Self {
            shared: Arc::new(Shared {
                current: ArcSwap::from_pointee(Snapshot::default()),
                writer: Mutex::new(()),
                allow_insecure,
            }),
        }
    }

    /// Whether the set accepts insecure origins.
    pub fn allows_insecure_origins(&self) -> bool {
        self.shared.allow_insecure
    }

    /// Validates one entry as an `allow_origins` entry is validated.
    fn check(&self, raw: &str) -> Result<OriginPattern, ConfigError> {
        let err = |kind, message: &str| ConfigError {
            kind,
            key: KEY.to_owned(),
            value: Some(raw.to_owned()),
            message: message.to_owned(),
        };
        let pattern = OriginPattern::parse(raw).map_err(|e| err(e.kind(), e.message()))?;
        if pattern == OriginPattern::Any {
            return Err(err(
                ConfigErrorKind::WildcardNotAlone,
                "`*` allows every origin: a dynamic set names origins; for a public resource use \
                 allow_origins = [\"*\"] instead",
            ));
        }
        if !self.shared.allow_insecure && !pattern.is_potentially_trustworthy() {
            return Err(err(ConfigErrorKind::InsecureOrigin, INSECURE_ORIGIN));
        }
        Ok(pattern)
    }

    /// Copies the current snapshot, lets `f` change the copy, and swaps it
    /// in when `f` says it changed.
    fn update<R>(&self, f: impl FnOnce(&mut Snapshot) -> (R, bool)) -> R {
        let _writer = self.shared.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = Snapshot::clone(&self.shared.current.load());
        let (r, changed) = f(&mut next);
        if changed {
            self.shared.current.store(Arc::new(next));
        }
        r
    }

    /// Adds an origin or pattern (`https://app.example.com`,
    /// `https://*.tenant.example`, `http://localhost:*`), validated as an
    /// `allow_origins` entry. `Ok(false)` if it was there already.
    pub fn insert(&self, origin: &str) -> Result<bool, ConfigError> {
        let p = self.check(origin)?;
        Ok(self.update(|s| {
            let added = s.insert(&p);
            (added, added)
        }))
    }

    /// Adds every origin, or none: when one is refused, the set is left as
    /// it was and every refusal is returned. Returns how many were new.
    pub fn extend<I>(&self, origins: I) -> Result<usize, ConfigErrors>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let patterns = self.check_all(origins)?;
        Ok(self.update(|s| {
            let added = patterns.iter().filter(|p| s.insert(p)).count();
            (added, added > 0)
        }))
    }

    /// Replaces the whole set at once (requests see the old set or the new
    /// one, never a mixture), or changes nothing when one entry is refused.
    pub fn replace_all<I>(&self, origins: I) -> Result<(), ConfigErrors>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let patterns = self.check_all(origins)?;
        self.update(|s| {
            let mut next = Snapshot::default();
            for p in &patterns {
                next.insert(p);
            }
            *s = next;
            ((), true)
        });
        Ok(())
    }

    fn check_all<I>(&self, origins: I) -> Result<Vec<OriginPattern>, ConfigErrors>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut errs = ConfigErrors::default();
        let mut patterns = Vec::new();
        for o in origins {
            match self.check(o.as_ref()) {
                Ok(p) => patterns.push(p),
                Err(e) => errs.0.push(e),
            }
        }
        if errs.is_empty() {
            Ok(patterns)
        } else {
            Err(errs)
        }
    }

    /// Removes an origin or pattern (written as it was inserted); `false`
    /// if it was not in the set.
    pub fn remove(&self, origin: &str) -> bool {
        let Ok(p) = OriginPattern::parse(origin) else {
            return false;
        };
        self.update(|s| {
            let removed = s.remove(&p);
            (removed, removed)
        })
    }

    /// Empties the set.
    pub fn clear(&self) {
        self.update(|s| {
            *s = Snapshot::default();
            ((), true)
        });
    }

    /// Whether a request's origin (its exact serialization) is allowed by
    /// the set: an exact entry or a pattern. Lock-free; never allocates.
    ///
    /// ```
    /// let set = corsair::DynamicOrigins::new();
    /// set.insert("https://*.tenant.example").unwrap();
    /// assert!(set.matches("https://eu.tenant.example"));
    /// assert!(!set.matches("https://tenant.example"));
    /// ```
    pub fn matches(&self, origin: &str) -> bool {
        let s = self.shared.current.load();
        s.exact.contains(origin) || s.patterns.matches(origin)
    }

    /// Whether this exact entry (an origin or a pattern, as inserted) is in
    /// the set.
    pub fn contains(&self, origin: &str) -> bool {
        let Ok(p) = OriginPattern::parse(origin) else {
            return false;
        };
        let s = self.shared.current.load();
        match &p {
            OriginPattern::Exact(e) => s.exact.contains(e.as_str()),
            _ => s.patterns.contains(&p),
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.shared.current.load().len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries, sorted, written as in a configuration.
    pub fn to_vec(&self) -> Vec<String> {
        let s = self.shared.current.load();
        let mut v: Vec<String> = s.exact.iter().map(|e| e.to_string()).collect();
        v.extend(s.patterns.to_strings());
        v.sort_unstable();
        v
    }
}
