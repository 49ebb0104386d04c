//! The hosts of one scheduler group, iterated in id order (the tie-break order).
//!
//! Every allocation change moves a host out of one group and into another, so insert and remove
//! are the index's hot path. A small group is a sorted vector (a short shift per change); a
//! group holding a sizeable share of the cloud is a bitset (one bit per change). A group switches
//! back to a vector once it shrinks to half the threshold: groups are disjoint, so few groups
//! can be bitsets at once and the index stays linear in the host count.

use crate::model::HostId;

#[derive(Debug, Clone)]
pub(super) enum HostSet {
    Sorted(Vec<HostId>),
    Bits { words: Vec<u64>, len: usize },
}

impl Default for HostSet {
    fn default() -> Self {
        HostSet::Sorted(Vec::new())
    }
}

/// Beyond this many members a set of a cloud of `hosts` hosts becomes a bitset: at least 64
/// (a vector that short shifts faster than a bitset iterates), and at least 1/256 of the cloud.
/// A bitset keeps at least half that many of the disjoint groups' hosts, so at most
/// `hosts / 32` (small clouds) or 512 groups are bitsets of `hosts / 8` bytes: all of them
/// together take at most 64 bytes per host.
pub(super) fn dense_threshold(hosts: usize) -> usize {
    (hosts / 256).max(64)
}

impl HostSet {
    pub(super) fn len(&self) -> usize {
        match self {
            HostSet::Sorted(v) => v.len(),
            HostSet::Bits { len, .. } => *len,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `h` (no effect if present); becomes a bitset beyond `dense_at` members.
    pub(super) fn insert(&mut self, h: HostId, dense_at: usize) {
        match self {
            HostSet::Sorted(v) => {
                if let Err(pos) = v.binary_search(&h) {
                    v.insert(pos, h);
                    if v.len() > dense_at {
                        *self = Self::bits_of(v);
                    }
                }
            }
            HostSet::Bits { words, len } => {
                let (w, bit) = (h.index() / 64, 1u64 << (h.index() % 64));
                if w >= words.len() {
                    words.resize(w + 1, 0);
                }
                if words[w] & bit == 0 {
                    words[w] |= bit;
                    *len += 1;
                }
            }
        }
    }

    /// Removes `h` (no effect if absent); a bitset becomes a vector again below half of
    /// `dense_at` members.
    pub(super) fn remove(&mut self, h: HostId, dense_at: usize) {
        match self {
            HostSet::Sorted(v) => {
                if let Ok(pos) = v.binary_search(&h) {
                    v.remove(pos);
                }
            }
            HostSet::Bits { words, len } => {
                let (w, bit) = (h.index() / 64, 1u64 << (h.index() % 64));
                if let Some(word) = words.get_mut(w) {
                    if *word & bit != 0 {
                        *word &= !bit;
                        *len -= 1;
                    }
                }
                if *len < dense_at / 2 {
                    *self = HostSet::Sorted(self.iter().collect());
                }
            }
        }
    }

    fn bits_of(ids: &[HostId]) -> HostSet {
        let top = ids.last().map_or(0, |h| h.index() / 64 + 1);
        let mut words = vec![0u64; top];
        for h in ids {
            words[h.index() / 64] |= 1 << (h.index() % 64);
        }
        HostSet::Bits {
            words,
            len: ids.len(),
        }
    }

    /// The members in increasing id order.
    pub(super) fn iter(&self) -> Iter<'_> {
        match self {
            HostSet::Sorted(v) => Iter::Sorted(v.iter()),
            HostSet::Bits { words, .. } => Iter::Bits {
                words,
                at: 0,
                current: words.first().copied().unwrap_or(0),
            },
        }
    }
}

pub(super) enum Iter<'a> {
    Sorted(std::slice::Iter<'a, HostId>),
    Bits {
        words: &'a [u64],
        /// Index of the word `current` holds the unread bits of.
        at: usize,
        current: u64,
    },
}

impl Iterator for Iter<'_> {
    type Item = HostId;

    #[inline]
    fn next(&mut self) -> Option<HostId> {
        match self {
            Iter::Sorted(it) => it.next().copied(),
            Iter::Bits { words, at, current } => {
                while *current == 0 {
                    *at += 1;
                    *current = *words.get(*at)?;
                }
                let bit = current.trailing_zeros() as usize;
                *current &= *current - 1;
                // Ids come from `HostId`s, so they fit in u32.
                Some(HostId((*at * 64 + bit) as u32))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        /// Inserts and removes in any order, across both representations, keep the same
        /// members in the same order as a `BTreeSet`.
        #[test]
        fn behaves_like_a_btreeset(
            ops in prop::collection::vec((any::<bool>(), 0u32..600), 0..800),
            dense_at in 2usize..80,
        ) {
            let mut set = HostSet::default();
            let mut model = BTreeSet::new();
            for (add, id) in ops {
                let h = HostId(id);
                if add {
                    set.insert(h, dense_at);
                    model.insert(h);
                } else {
                    set.remove(h, dense_at);
                    model.remove(&h);
                }
                prop_assert_eq!(set.len(), model.len());
                prop_assert_eq!(set.is_empty(), model.is_empty());
            }
            prop_assert_eq!(set.iter().collect::<Vec<_>>(), model.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn switches_representation_with_hysteresis() {
        let mut set = HostSet::default();
        for i in 0..=10 {
            set.insert(HostId(i * 7), 10);
        }
        assert!(matches!(set, HostSet::Bits { len: 11, .. }));
        for i in 0..6 {
            set.remove(HostId(i * 7), 10);
        }
        assert!(matches!(set, HostSet::Bits { len: 5, .. }));
        set.remove(HostId(42), 10);
        assert!(matches!(&set, HostSet::Sorted(v) if v.len() == 4));
        assert_eq!(
            set.iter().map(|h| h.0).collect::<Vec<_>>(),
            vec![49, 56, 63, 70]
        );
    }

    #[test]
    fn threshold_grows_with_the_cloud() {
        assert_eq!(dense_threshold(1_000), 64);
        assert_eq!(dense_threshold(100_000), 390);
    }
}
