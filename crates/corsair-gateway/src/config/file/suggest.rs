//! "Did you mean": the known key closest to an unknown one.

/// The known key an unknown `key` was probably meant to be, if one is close
/// enough: the same key up to case and `-`/`_`, a key it is a typo of (an
/// edit distance, transpositions counted as one edit, of at most a third of
/// its length, and at most 3), or a key it abbreviates (`origins` for
/// `allow_origins`, `method` for `allow_methods`).
pub(crate) fn suggestion<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let folded = fold(key);
    if let Some(k) = known.iter().find(|k| fold(k) == folded) {
        return Some(k);
    }
    let limit = (key.chars().count() / 3).clamp(1, 3);
    let best = known
        .iter()
        .map(|k| (distance(&folded, &fold(k)), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d);
    if let Some((_, k)) = best {
        return Some(k);
    }
    // An abbreviation: `origins` / `origin` for `allow_origins` (a key of
    // two words, the second one given), when only one key fits (`headers`
    // could be two).
    let mut abbreviated = known.iter().copied().filter(|k| {
        let k = fold(k);
        let tail = k.split_once('_').map_or("", |(_, t)| t);
        folded.len() >= 4 && (tail == folded || tail.strip_suffix('s') == Some(folded.as_str()))
    });
    match (abbreviated.next(), abbreviated.next()) {
        (Some(k), None) => Some(k),
        _ => None,
    }
}

/// Lowercase, with `-` read as `_`.
fn fold(s: &str) -> String {
    s.chars()
        .map(|c| if c == '-' { '_' } else { c.to_ascii_lowercase() })
        .collect()
}

/// The optimal-string-alignment distance: insertions, deletions,
/// substitutions and transpositions of two neighbours each count 1.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, row) in d.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = v;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &[&str] = &[
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
    ];

    #[test]
    fn distances() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(distance("abc", "acb"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn typos_case_and_abbreviations() {
        let s = |k| suggestion(k, POLICY);
        assert_eq!(s("allow_origin"), Some("allow_origins"));
        assert_eq!(s("allowed_origins"), Some("allow_origins"));
        assert_eq!(s("Allow-Methods"), Some("allow_methods"));
        assert_eq!(s("max-age"), Some("max_age"));
        assert_eq!(s("maxage"), Some("max_age"));
        assert_eq!(s("allow_credential"), Some("allow_credentials"));
        assert_eq!(s("alow_hedaers"), Some("allow_headers"));
        assert_eq!(s("origins"), Some("allow_origins"));
        assert_eq!(s("methods"), Some("allow_methods"));
        assert_eq!(s("host"), Some("hosts"));
        assert_eq!(s("frobnicate"), None);
        assert_eq!(s("x"), None);
        assert_eq!(s("headers"), None, "allow_headers or expose_headers: no guess");
    }
}
