//! The command line of `check` turned into the engine's request, as a script's `fetch()`
//! call would make it (the engine refuses what `fetch()` refuses: a forbidden method or
//! header, a malformed origin or URL).

use corsair::agent::{BodyType, CredentialsMode, Request};

use super::CheckError;

/// The request as the command line describes it (`check` and `explain` share it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestSpec<'a> {
    pub(crate) origin: &'a str,
    pub(crate) url: &'a str,
    pub(crate) method: &'a str,
    /// `Name: value` arguments.
    pub(crate) headers: &'a [String],
    pub(crate) credentials: bool,
    pub(crate) body_type: Option<&'a str>,
}

/// Builds the engine's request from the command line.
pub(crate) fn build_request(spec: &RequestSpec<'_>) -> Result<Request, CheckError> {
    let mut builder = Request::builder(spec.origin, spec.url).method(spec.method);
    for raw in spec.headers {
        let (name, value) = parse_header_arg(raw)?;
        builder = builder.header(name, value);
    }
    if spec.credentials {
        builder = builder.credentials(CredentialsMode::Include);
    }
    if let Some(body) = spec.body_type {
        builder = builder.body(BodyType::parse(body));
    }
    builder.build().map_err(|e| CheckError::new(e.code(), e.to_string()))
}

/// `Name: value` (or curl's `Name;` for an empty value).
pub(crate) fn parse_header_arg(raw: &str) -> Result<(String, String), CheckError> {
    if let Some((name, value)) = raw.split_once(':') {
        return Ok((name.trim().to_string(), value.trim().to_string()));
    }
    if let Some(name) = raw.trim().strip_suffix(';') {
        return Ok((name.trim().to_string(), String::new()));
    }
    Err(CheckError::new(
        "invalid-header-argument",
        format!("--header `{raw}` is not `Name: value`"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_arguments() {
        assert_eq!(
            parse_header_arg("X-Token: abc: d").unwrap(),
            ("X-Token".to_string(), "abc: d".to_string())
        );
        assert_eq!(
            parse_header_arg("X-Empty;").unwrap(),
            ("X-Empty".to_string(), String::new())
        );
        assert_eq!(
            parse_header_arg("X-Empty:").unwrap(),
            ("X-Empty".to_string(), String::new())
        );
        assert!(parse_header_arg("nocolon").is_err());
    }
}
