//! Which policy covers a request: the first, in file order, whose `hosts`
//! and `path_prefix` cover it.

use super::{Config, RoutedPolicy};

impl RoutedPolicy {
    /// Whether this policy covers a request for `host` (the Host header or
    /// URL authority, port ignored, case-insensitive) and `path`.
    ///
    /// The gateway calls it with the request's canonical host name and path
    /// (`corsair_gateway` normalizes both first; see the README).
    pub fn covers(&self, host: Option<&str>, path: &str) -> bool {
        self.covers_with(host, path, true)
    }

    /// [`RoutedPolicy::covers`], the path compared ignoring ASCII case when
    /// `case_sensitive` is false (`[paths] case_sensitive = false`).
    pub fn covers_with(&self, host: Option<&str>, path: &str, case_sensitive: bool) -> bool {
        let name = host.map(|h| {
            let name = host_name(h);
            name.strip_suffix('.').unwrap_or(name).as_bytes()
        });
        self.covers_name(name, path, case_sensitive)
    }

    /// [`RoutedPolicy::covers_with`] for a host name without port or
    /// trailing dot (the gateway's canonical authority).
    pub(crate) fn covers_name(&self, name: Option<&[u8]>, path: &str, case_sensitive: bool) -> bool {
        let host_ok = self.hosts.is_empty()
            || name.is_some_and(|name| self.hosts.iter().any(|x| x.as_bytes().eq_ignore_ascii_case(name)));
        host_ok && corsair::cross_origin::path_has_prefix(path, &self.path_prefix, case_sensitive)
    }
}

/// The host name of a `Host` header value: the port removed.
fn host_name(h: &str) -> &str {
    if h.starts_with('[') {
        return h.split_once(']').map_or(h, |(a, _)| &h[..a.len() + 1]);
    }
    h.split_once(':').map_or(h, |(a, _)| a)
}

impl Config {
    /// The first policy covering a request, if any.
    pub fn route(&self, host: Option<&str>, path: &str) -> Option<&RoutedPolicy> {
        self.route_indexed(host, path).map(|(_, p)| p)
    }

    /// The index of the first policy covering a request for the host
    /// name `name` (canonical: lowercase, no port, no trailing dot) and the
    /// canonical `path`: the gateway's routing.
    pub(crate) fn route_name(&self, name: Option<&[u8]>, path: &str) -> Option<usize> {
        let case_sensitive = self.paths.case_sensitive;
        self.policies
            .iter()
            .position(|p| p.covers_name(name, path, case_sensitive))
    }

    /// [`Config::route`], with the policy's index in `policies` (which
    /// per-policy state, such as the gateway's counters, is indexed by).
    pub fn route_indexed(&self, host: Option<&str>, path: &str) -> Option<(usize, &RoutedPolicy)> {
        let case_sensitive = self.paths.case_sensitive;
        self.policies
            .iter()
            .enumerate()
            .find(|(_, p)| p.covers_with(host, path, case_sensitive))
    }
}
