//! Where things are in the file: line and column of a byte offset, and the
//! byte range of every key path (`policy[0].allow_origins[1]`).

use std::collections::HashMap;
use std::ops::Range;

/// Line and column (1-based, the column in characters) of byte offsets.
pub(crate) struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { text, starts }
    }

    /// The line and column of byte `offset`.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self.text.get(start..offset).map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }
}

/// Where each key path (`policy[0].allow_origins[1]`) sits in the file.
#[derive(Debug, Default)]
pub(super) struct Spans(pub(super) HashMap<String, Range<usize>>);

impl Spans {
    /// The span of `key`, or of the nearest enclosing key that has one.
    pub(super) fn find(&self, key: &str) -> Option<Range<usize>> {
        let mut k = key;
        loop {
            if let Some(s) = self.0.get(k) {
                return Some(s.clone());
            }
            k = &k[..parent_end(k)?];
        }
    }
}

/// Where the parent of `key` ends: before its last `.name` or `[i]`.
fn parent_end(key: &str) -> Option<usize> {
    key.rfind(['.', '[']).filter(|&i| i > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_in_characters() {
        let text = "a = 1\nbé = \"x\"\n\nc";
        let l = Lines::new(text);
        assert_eq!(l.position(0), (1, 1));
        assert_eq!(l.position(4), (1, 5));
        assert_eq!(l.position(6), (2, 1));
        // `=` after a two-byte character is the 4th character of line 2.
        assert_eq!(l.position(10), (2, 4));
        assert_eq!(l.position(text.len()), (4, 2));
    }

    #[test]
    fn spans_fall_back_to_the_enclosing_key() {
        let mut s = Spans::default();
        s.0.insert("policy[1]".into(), 10..20);
        s.0.insert("policy[1].allow_origins".into(), 30..40);
        assert_eq!(s.find("policy[1].allow_origins[2]"), Some(30..40));
        assert_eq!(s.find("policy[1].name"), Some(10..20));
        assert_eq!(s.find("listen"), None);
    }
}
