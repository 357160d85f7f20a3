//! The policy's sets of allowed methods, request headers and exact origins.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};

/// A set of short names (allowed methods, request headers or exact origins): a list
/// compared length-first while it is short, which beats hashing for the
/// handful of names a policy lists (a hashed lookup costs more per name:
/// figures in bench/notes.md), and a `HashSet` beyond that.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameSet {
    list: Vec<Box<[u8]>>,
    set: HashSet<Box<[u8]>, FastHash>,
}

/// The hasher of the large sets: a multiply-rotate hash over 8-byte words
/// (FxHash's step) from a random per-set seed, cheaper than SipHash on an
/// origin (measured in bench/notes.md).
///
/// Why not SipHash's flooding resistance: these sets are built once from
/// the configuration and only *read* on the request path. A client chooses
/// the bytes looked up, not what is stored, so the longest probe sequence it
/// can cause is the longest run the configured names already form; it
/// cannot grow the table or lengthen a cluster.
#[derive(Debug, Clone)]
pub(crate) struct FastHash {
    seed: u64,
}

impl Default for FastHash {
    fn default() -> Self {
        // A random seed, from the standard library's per-process keys.
        Self {
            seed: std::collections::hash_map::RandomState::new().hash_one(0x0063_6f72_7361_6972_u64) | 1,
        }
    }
}

impl BuildHasher for FastHash {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(self.seed)
    }
}

/// See [`FastHash`].
#[derive(Debug, Clone)]
pub(crate) struct FastHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        // The length prefix `[u8]`'s Hash writes: keeps "ab" and "ab\0"
        // apart.
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // Fold the high bits down: hashbrown takes its bucket index from the
        // low bits and its tag from the top 7.
        self.0 ^ (self.0 >> 29)
    }
}

/// Up to this many names, [`NameSet`] scans its list.
const LINEAR_MAX: usize = 16;

impl NameSet {
    /// Adds a name; `false` if it was there already.
    pub(crate) fn insert(&mut self, name: &str) -> bool {
        if !self.set.insert(name.as_bytes().into()) {
            return false;
        }
        if self.set.len() <= LINEAR_MAX {
            self.list.push(name.as_bytes().into());
        } else {
            self.list.clear();
        }
        true
    }

    /// The number of names.
    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether the exact bytes are in the set.
    #[inline]
    pub(crate) fn contains(&self, name: &[u8]) -> bool {
        if self.set.len() <= LINEAR_MAX {
            self.list.iter().any(|n| **n == *name)
        } else {
            self.set.contains(name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_hash_separates_prefixes_and_padding() {
        let h = FastHash::default();
        let keys: [&[u8]; 7] = [b"", b"\0", b"ab", b"ab\0", b"abcdefgh", b"abcdefgh\0", b"abcdefghi"];
        let hashes: Vec<u64> = keys.iter().map(|k| h.hash_one(k)).collect();
        for i in 0..keys.len() {
            for j in i + 1..keys.len() {
                assert_ne!(hashes[i], hashes[j], "{:?} vs {:?}", keys[i], keys[j]);
            }
        }
        // Seeded per set: two sets do not share a hash function.
        assert_ne!(FastHash::default().hash_one(b"x"), FastHash::default().hash_one(b"x"));
    }

    #[test]
    fn large_sets_of_similar_origins() {
        let mut s = NameSet::default();
        for i in 0..10_000 {
            assert!(s.insert(&format!("https://app{i}.example.com")));
        }
        for i in 0..10_000 {
            assert!(s.contains(format!("https://app{i}.example.com").as_bytes()));
            assert!(!s.contains(format!("https://app{i}.example.co").as_bytes()));
            assert!(!s.contains(format!("https://app{i}.example.com.").as_bytes()));
        }
    }

    #[test]
    fn small_and_large_sets() {
        for n in [0usize, 1, 3, LINEAR_MAX, LINEAR_MAX + 1, 100] {
            let mut s = NameSet::default();
            for i in 0..n {
                assert!(s.insert(&format!("x-h{i}")));
                assert!(!s.insert(&format!("x-h{i}")));
            }
            for i in 0..n {
                assert!(s.contains(format!("x-h{i}").as_bytes()), "{n} {i}");
            }
            assert!(!s.contains(format!("x-h{n}").as_bytes()));
            assert!(!s.contains(b"x-h"));
            assert!(!s.contains(b""));
        }
    }
}
