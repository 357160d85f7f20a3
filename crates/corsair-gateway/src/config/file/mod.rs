//! The config file: reading its TOML (`read`: unknown keys, types, and
//! where each key sits, `place`), then validating every value (`values`),
//! and the warnings (`warnings`). Every problem is collected, not just the
//! first, and reported with the file, the line and column, the key (a
//! policy named by its name) and what is wrong; `lint` returns them all,
//! `load` and `parse` the config or its errors.

mod place;
mod read;
mod suggest;
mod values;
mod warnings;

use std::path::Path;

use self::place::Lines;
use self::read::{FileConfig, Read};
pub use self::values::parse_upstream_value;
use self::values::validate;
use super::{Config, ConfigFileError, Problem};

/// Everything `corsair validate` reports about a config file: the config
/// when the file has no error, and every problem, errors and warnings, in
/// the order of the file (problems of the whole file first).
#[derive(Debug)]
pub struct Lint {
    /// The file, as problems name it.
    pub file: String,
    /// The validated config, when there is no error (its
    /// [`Config::warnings`] are the warnings of [`Lint::problems`]).
    pub config: Option<Config>,
    /// Every problem.
    pub problems: Vec<Problem>,
}

impl Lint {
    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.is_error())
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| !p.is_error())
    }

    /// The config, or every error.
    pub fn into_result(self) -> Result<Config, ConfigFileError> {
        match self.config {
            Some(c) => Ok(c),
            None => Err(ConfigFileError {
                file: self.file,
                problems: self.problems.into_iter().filter(Problem::is_error).collect(),
            }),
        }
    }

    /// Whether the file could not be read at all (it does not exist, is not
    /// readable): the only problem is then `cannot_read`.
    pub fn unreadable(&self) -> bool {
        self.problems.iter().any(|p| p.code == "cannot_read")
    }
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigFileError> {
    lint(path).into_result()
}

/// Parses and validates config text. `base` resolves relative TLS paths.
pub fn parse(text: &str, file: &str, base: Option<&Path>) -> Result<Config, ConfigFileError> {
    lint_text(text, file, base).into_result()
}

/// Reads and checks a config file: every error and every warning.
pub fn lint(path: &Path) -> Lint {
    let file = path.display().to_string();
    let whole = |p: Problem| Lint {
        file: file.clone(),
        config: None,
        problems: vec![p],
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return whole(Problem::new("", format!("cannot read the file: {e}")).with_code("cannot_read")),
    };
    match std::str::from_utf8(&bytes) {
        Ok(text) => lint_text(text, &file, path.parent()),
        Err(e) => {
            // The place of the first byte that is not UTF-8.
            let valid = String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned();
            let (line, column) = Lines::new(&valid).position(valid.len());
            whole(
                Problem::new("", "the file is not UTF-8 text")
                    .with_code("syntax")
                    .at(line, column),
            )
        }
    }
}

/// Checks config text: every error and every warning. `file` names it in
/// problems, `base` resolves relative paths (the file's folder).
pub fn lint_text(text: &str, file: &str, base: Option<&Path>) -> Lint {
    let lines = Lines::new(text);
    let at = |p: Problem, span: Option<std::ops::Range<usize>>| match span {
        Some(s) => {
            let (l, c) = lines.position(s.start);
            p.at(l, c)
        }
        None => p,
    };
    let Read {
        config: raw,
        spans,
        problems: read_problems,
        unread,
    } = match read::read(text) {
        Ok(r) => r,
        Err(syntax) => {
            let (span, p) = *syntax;
            return Lint {
                file: file.to_owned(),
                config: None,
                problems: vec![at(p, span)],
            };
        }
    };
    let names = display_names(&raw);
    let warnings = warnings::of(&raw);
    let (config, semantic) = validate(raw, file, base);
    // A value that could not be read (or a key that is missing because it
    // was misspelt) makes no second problem of what follows from it.
    let follows_from_unread = |key: &str| {
        unread.iter().any(|u| {
            key.strip_prefix(u.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        })
    };
    let mut problems: Vec<Problem> = read_problems.into_iter().map(|(span, p)| at(p, span)).collect();
    for p in semantic.into_iter().chain(warnings) {
        if p.is_error() && follows_from_unread(&p.key) {
            continue;
        }
        let span = spans.find(&p.key);
        problems.push(at(p, span));
    }
    for p in &mut problems {
        p.key = display_key(&p.key, &names);
    }
    // In the order of the file; problems of the whole file first.
    problems.sort_by_key(|p| (p.line.unwrap_or(0), p.column.unwrap_or(0)));
    let config = match config {
        Some(mut c) if !problems.iter().any(Problem::is_error) => {
            c.warnings = problems.clone();
            Some(c)
        }
        _ => None,
    };
    Lint {
        file: file.to_owned(),
        config,
        problems,
    }
}

/// How each policy is named in problem keys: `policy "api"` when it has a
/// name of its own (not empty, not shared with another policy), else
/// `policy[i]`.
fn display_names(raw: &FileConfig) -> Vec<Option<String>> {
    raw.policy
        .iter()
        .map(|t| {
            t.table.name.as_ref().and_then(|n| {
                let unique = raw.policy.iter().filter(|o| o.table.name.as_ref() == Some(n)).count() == 1;
                (unique && !n.trim().is_empty()).then(|| format!("policy {n:?}"))
            })
        })
        .collect()
}

/// `policy[1].allow_methods[0]` as a person reads it: `policy "api".allow_methods[0]`.
fn display_key(key: &str, names: &[Option<String>]) -> String {
    let Some(rest) = key.strip_prefix("policy[") else {
        return key.to_owned();
    };
    let Some((index, tail)) = rest.split_once(']') else {
        return key.to_owned();
    };
    match index
        .parse::<usize>()
        .ok()
        .and_then(|i| names.get(i))
        .and_then(Option::as_ref)
    {
        Some(name) => format!("{name}{tail}"),
        None => key.to_owned(),
    }
}

#[cfg(test)]
mod tests;
