//! The options of a request that decide what it sends: [`CredentialsMode`]
//! and [`BodyType`].

use std::fmt;

/// The request's credentials mode (`fetch(url, { credentials })`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum CredentialsMode {
    /// Never send credentials.
    Omit,
    /// Send credentials to the same origin only (the `fetch()` default); a
    /// cross-origin request is then uncredentialed.
    #[default]
    SameOrigin,
    /// Always send credentials (`credentials: "include"`, XHR `withCredentials`).
    Include,
}

impl CredentialsMode {
    /// The `fetch()` spelling: `omit`, `same-origin` or `include`.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialsMode::Omit => "omit",
            CredentialsMode::SameOrigin => "same-origin",
            CredentialsMode::Include => "include",
        }
    }

    /// Whether the mode is `include`, the only mode in which CORS treats a
    /// cross-origin request as credentialed.
    pub fn is_include(self) -> bool {
        self == CredentialsMode::Include
    }
}

impl fmt::Display for CredentialsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of body a script sends, which decides the `Content-Type` the
/// browser adds when the script set none.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum BodyType {
    /// A string: `text/plain;charset=UTF-8`.
    Text,
    /// `URLSearchParams`: `application/x-www-form-urlencoded;charset=UTF-8`.
    UrlSearchParams,
    /// `FormData`: `multipart/form-data; boundary=…`.
    FormData,
    /// A `Blob` (or `File`) with this `type`: the type itself, lowercased; an
    /// empty type sets no `Content-Type`.
    Blob(String),
}

impl BodyType {
    /// Reads a CLI-style body type: `text`/`string`, `urlsearchparams`/`form`,
    /// `formdata`/`multipart`, otherwise a MIME type (as a `Blob` type).
    ///
    /// ```
    /// use corsair::agent::BodyType;
    /// assert_eq!(BodyType::parse("text"), BodyType::Text);
    /// assert_eq!(BodyType::parse("application/json"), BodyType::Blob("application/json".into()));
    /// ```
    pub fn parse(s: &str) -> BodyType {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "string" => BodyType::Text,
            "urlsearchparams" | "form" | "urlencoded" => BodyType::UrlSearchParams,
            "formdata" | "multipart" => BodyType::FormData,
            _ => BodyType::Blob(s.trim().to_string()),
        }
    }

    /// The `Content-Type` the browser sets for this body, if any.
    pub fn content_type(&self) -> Option<String> {
        match self {
            BodyType::Text => Some("text/plain;charset=UTF-8".to_string()),
            BodyType::UrlSearchParams => Some("application/x-www-form-urlencoded;charset=UTF-8".to_string()),
            BodyType::FormData => Some("multipart/form-data; boundary=----corsairFormBoundary".to_string()),
            BodyType::Blob(t) => {
                // Blob type: any code point outside U+0020..U+007E empties it; else lowercase.
                if t.is_empty() || !t.chars().all(|c| (' '..='~').contains(&c)) {
                    None
                } else {
                    Some(t.to_ascii_lowercase())
                }
            }
        }
    }
}
