//! Verdicts with explanations: [`Step`], [`Trace`], [`Failure`] and [`FailureKind`].

use std::fmt;

/// One step of the browser's algorithm: what was checked, whether it passed,
/// a human explanation and, for a failed step, what the server must change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Step {
    /// Short machine-friendly name of the step, e.g. `allow-origin`.
    pub name: String,
    /// Whether the step passed.
    pub ok: bool,
    /// What was checked and what was found.
    pub explanation: String,
    /// For a failed step: what the server (or the page) must change.
    pub fix: Option<String>,
}

impl Step {
    /// A passed step.
    pub fn pass(name: impl Into<String>, explanation: impl Into<String>) -> Self {
        Step {
            name: name.into(),
            ok: true,
            explanation: explanation.into(),
            fix: None,
        }
    }

    /// A failed step with the change that would make it pass.
    pub fn fail(name: impl Into<String>, explanation: impl Into<String>, fix: impl Into<String>) -> Self {
        Step {
            name: name.into(),
            ok: false,
            explanation: explanation.into(),
            fix: Some(fix.into()),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.ok { "ok  " } else { "FAIL" };
        write!(f, "[{mark}] {}: {}", self.name, self.explanation)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n       fix: {fix}")?;
        }
        Ok(())
    }
}

/// The ordered steps of one simulated fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Trace {
    /// The steps, in the order the browser runs them.
    pub steps: Vec<Step>,
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Self {
        Trace::default()
    }

    /// Appends a step.
    pub fn push(&mut self, step: Step) {
        self.steps.push(step);
    }

    /// Appends all steps of `other`.
    pub fn extend(&mut self, other: Trace) {
        self.steps.extend(other.steps);
    }

    /// Whether every step passed.
    pub fn is_ok(&self) -> bool {
        self.steps.iter().all(|s| s.ok)
    }

    /// The first failed step, if any.
    pub fn first_failure(&self) -> Option<&Step> {
        self.steps.iter().find(|s| !s.ok)
    }

    /// The steps.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{step}")?;
        }
        Ok(())
    }
}

/// Why a browser blocks a cross-origin request: a machine-readable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum FailureKind {
    /// The preflight response was a redirect (3xx); preflights never follow redirects.
    PreflightRedirect,
    /// The preflight response status was not an ok status (200-299).
    PreflightStatus,
    /// No `Access-Control-Allow-Origin` header.
    MissingAllowOrigin,
    /// Several `Access-Control-Allow-Origin` values (several lines or a list).
    MultipleAllowOrigin,
    /// `Access-Control-Allow-Origin` is not byte-for-byte the request's origin.
    AllowOriginMismatch,
    /// `Access-Control-Allow-Origin: *` on a request with credentials.
    WildcardOriginWithCredentials,
    /// Credentials were included but `Access-Control-Allow-Credentials` is missing.
    MissingAllowCredentials,
    /// `Access-Control-Allow-Credentials` is present but not exactly `true`.
    InvalidAllowCredentials,
    /// `Access-Control-Allow-Methods` does not parse as a list of method tokens.
    InvalidAllowMethods,
    /// `Access-Control-Allow-Headers` does not parse as a list of header-name tokens.
    InvalidAllowHeaders,
    /// The request method is not allowed by `Access-Control-Allow-Methods`.
    MethodNotAllowed,
    /// A non-safelisted request header is not allowed by `Access-Control-Allow-Headers`.
    HeaderNotAllowed,
    /// `Authorization` is sent but not listed explicitly (`*` never covers it).
    AuthorizationNotAllowed,
    /// A redirect `Location` is missing or not a valid URL.
    InvalidRedirect,
    /// A redirect target carries credentials (`user:pass@`).
    RedirectWithCredentials,
    /// A redirect leads to a scheme other than `http` or `https`.
    RedirectScheme,
    /// More than 20 redirects.
    TooManyRedirects,
}

impl FailureKind {
    /// The kebab-case code, e.g. `missing-allow-origin`.
    pub fn code(self) -> &'static str {
        match self {
            FailureKind::PreflightRedirect => "preflight-redirect",
            FailureKind::PreflightStatus => "preflight-status",
            FailureKind::MissingAllowOrigin => "missing-allow-origin",
            FailureKind::MultipleAllowOrigin => "multiple-allow-origin",
            FailureKind::AllowOriginMismatch => "allow-origin-mismatch",
            FailureKind::WildcardOriginWithCredentials => "wildcard-origin-with-credentials",
            FailureKind::MissingAllowCredentials => "missing-allow-credentials",
            FailureKind::InvalidAllowCredentials => "invalid-allow-credentials",
            FailureKind::InvalidAllowMethods => "invalid-allow-methods",
            FailureKind::InvalidAllowHeaders => "invalid-allow-headers",
            FailureKind::MethodNotAllowed => "method-not-allowed",
            FailureKind::HeaderNotAllowed => "header-not-allowed",
            FailureKind::AuthorizationNotAllowed => "authorization-not-allowed",
            FailureKind::InvalidRedirect => "invalid-redirect",
            FailureKind::RedirectWithCredentials => "redirect-with-credentials",
            FailureKind::RedirectScheme => "redirect-scheme",
            FailureKind::TooManyRedirects => "too-many-redirects",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A network error as the browser would raise it, with the reason and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Failure {
    /// Machine-readable reason.
    pub kind: FailureKind,
    /// Name of the step that failed (as in [`Step::name`]).
    pub step: String,
    /// What the browser found.
    pub explanation: String,
    /// What the server must change.
    pub fix: String,
}

impl Failure {
    pub(crate) fn new(
        kind: FailureKind,
        step: impl Into<String>,
        explanation: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Failure {
            kind,
            step: step.into(),
            explanation: explanation.into(),
            fix: fix.into(),
        }
    }

    /// The failure as a failed [`Step`].
    pub fn to_step(&self) -> Step {
        Step::fail(self.step.clone(), self.explanation.clone(), self.fix.clone())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Fix: {}", self.explanation, self.fix)
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_display_has_fix() {
        let s = Step::fail("allow-origin", "no header", "add it");
        assert_eq!(s.to_string(), "[FAIL] allow-origin: no header\n       fix: add it");
        assert_eq!(Step::pass("x", "fine").to_string(), "[ok  ] x: fine".to_string());
    }

    #[test]
    fn failure_to_step_and_display() {
        let f = Failure::new(
            FailureKind::MethodNotAllowed,
            "allow-methods",
            "PUT missing.",
            "add `PUT`",
        );
        assert_eq!(f.kind.code(), "method-not-allowed");
        assert_eq!(f.to_string(), "PUT missing. Fix: add `PUT`");
        let s = f.to_step();
        assert!(!s.ok);
        assert_eq!(s.fix.as_deref(), Some("add `PUT`"));
        let mut t = Trace::new();
        t.push(Step::pass("a", "b"));
        assert!(t.is_ok());
        t.push(s);
        assert!(!t.is_ok());
        assert_eq!(t.first_failure().map(|s| s.name.as_str()), Some("allow-methods"));
    }
}
