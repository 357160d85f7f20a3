//! Text for explanations: raw bytes rendered printable, and lists of names
//! quoted for messages.

/// Renders bytes for a message: printable ASCII as is, anything else as `\xNN`.
pub(crate) fn show(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) {
            out.push(char::from(b));
        } else if b == b'\t' {
            out.push_str("\\t");
        } else {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// Joins names as `` `a`, `b` and `c` `` for messages.
pub(crate) fn quote_list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{}`", s.as_ref())).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering() {
        assert_eq!(show(b"a\x01\tb"), "a\\x01\\tb");
        assert_eq!(show(b"caf\xE9"), "caf\\xE9");
        assert_eq!(quote_list(&["a", "b", "c"]), "`a`, `b` and `c`");
        assert_eq!(quote_list(&["a"]), "`a`");
        assert_eq!(quote_list::<&str>(&[]), "");
    }
}
