//! The policy's sets of allowed methods, request headers and exact origins.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};

/// A set of short names (allowed methods, request headers or exact origins):
/// lists scanned while the set is small, which beats hashing for the
/// handful of names a policy lists (a hashed lookup costs more per name:
/// figures in bench/notes.md), and a `HashSet` beyond that. Names of up to
/// 16 bytes (methods, header names) are kept as [`Words`], compared without
/// a call to `memcmp`; longer ones (origins) length-first, then as bytes.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameSet {
    /// The names of up to [`WORDS_MAX`] bytes of a short set, as words.
    short: Vec<Words>,
    /// The longer names of a short set.
    long: Vec<Box<[u8]>>,
    set: HashSet<Box<[u8]>, FastHash>,
}

/// A name of up to 16 bytes as its length and two words that hold every
/// byte (the first and last 8 bytes, overlapping; shorter names packed into
/// the first word): names of one length are equal exactly when their words
/// are. Comparing two words per listed name costs less than a call to
/// `memcmp` per name; longer names (origins) are compared as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Words {
    len: usize,
    head: u64,
    tail: u64,
}

/// The longest name [`Words`] holds.
const WORDS_MAX: usize = 16;

impl Words {
    /// The words of `name`, of at most [`WORDS_MAX`] bytes.
    #[inline]
    fn of(name: &[u8]) -> Self {
        let len = name.len();
        let (head, tail) = match (name.first_chunk::<8>(), name.last_chunk::<8>()) {
            (Some(h), Some(t)) => (u64::from_le_bytes(*h), u64::from_le_bytes(*t)),
            _ => match (name.first_chunk::<4>(), name.last_chunk::<4>()) {
                (Some(h), Some(t)) => (
                    u64::from(u32::from_le_bytes(*h)) | u64::from(u32::from_le_bytes(*t)) << 32,
                    0,
                ),
                // 0 to 3 bytes: the first, middle and last cover them all.
                _ => match (name.first(), name.get(len / 2), name.last()) {
                    (Some(&a), Some(&b), Some(&c)) => (u64::from(a) | u64::from(b) << 8 | u64::from(c) << 16, 0),
                    _ => (0, 0),
                },
            },
        };
        Self { len, head, tail }
    }
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
        if self.set.len() > LINEAR_MAX {
            self.short.clear();
            self.long.clear();
        } else if name.len() <= WORDS_MAX {
            self.short.push(Words::of(name.as_bytes()));
        } else {
            self.long.push(name.as_bytes().into());
        }
        true
    }

    /// The number of names.
    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether the exact bytes are in the set.
    #[inline(always)]
    pub(crate) fn contains(&self, name: &[u8]) -> bool {
        if self.set.len() <= LINEAR_MAX {
            if name.len() <= WORDS_MAX {
                let w = Words::of(name);
                self.short.contains(&w)
            } else {
                self.long.iter().any(|n| **n == *name)
            }
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
    fn short_lists_compare_every_byte() {
        // Names of every length to 40 that differ from a listed one in one
        // byte, at every position: head, tail, the overlap of the two words
        // (9-15 bytes) and the middle that only the slice comparison sees.
        for len in 0..=40usize {
            let name: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let mut s = NameSet::default();
            assert!(s.insert(std::str::from_utf8(&name).unwrap()));
            assert!(s.insert("x"));
            assert!(s.contains(&name), "{len}");
            for i in 0..len {
                let mut other = name.clone();
                other[i] = b'-';
                assert!(!s.contains(&other), "{len} {i}");
            }
            // Zero padding is not a byte: "ab" and "ab\0" differ.
            let mut longer = name.clone();
            longer.push(0);
            assert!(!s.contains(&longer), "{len}");
            if len > 0 {
                assert!(!s.contains(&name[..len - 1]), "{len}");
            }
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
