//! The median of a sliding window of waits, kept up to date on every insert and removal
//! (`O(log n)` each) instead of being recomputed from the whole window on every tick (a
//! five-minute window at a few thousand matches per second holds millions of waits).

use std::collections::BTreeMap;

/// A multiset of values split into a lower and an upper half; the median is the smallest
/// value of the upper half, which holds `ceil(len / 2)` values: the element at index
/// `len / 2` of the sorted values, as `select_nth_unstable(len / 2)` would pick.
#[derive(Debug, Default)]
pub(super) struct SlidingMedian {
    low: Half,
    high: Half,
}

/// Values with their counts.
#[derive(Debug, Default)]
struct Half {
    counts: BTreeMap<u64, u32>,
    len: usize,
}

impl Half {
    fn insert(&mut self, v: u64) {
        *self.counts.entry(v).or_default() += 1;
        self.len += 1;
    }

    /// Removes one `v`; whether there was one.
    fn remove(&mut self, v: u64) -> bool {
        let Some(count) = self.counts.get_mut(&v) else {
            return false;
        };
        *count -= 1;
        if *count == 0 {
            self.counts.remove(&v);
        }
        self.len -= 1;
        true
    }

    fn min(&self) -> Option<u64> {
        self.counts.keys().next().copied()
    }

    fn max(&self) -> Option<u64> {
        self.counts.keys().next_back().copied()
    }
}

impl SlidingMedian {
    /// Adds a value.
    pub(super) fn insert(&mut self, v: u64) {
        if self.low.max().is_some_and(|m| v <= m) {
            self.low.insert(v);
        } else {
            self.high.insert(v);
        }
        self.rebalance();
    }

    /// Removes one occurrence of a value added before; a value never added is ignored.
    pub(super) fn remove(&mut self, v: u64) {
        if !self.low.remove(v) {
            self.high.remove(v);
        }
        self.rebalance();
    }

    /// The element at index `len / 2` of the values sorted, if any.
    pub(super) fn median(&self) -> Option<u64> {
        self.high.min()
    }

    fn rebalance(&mut self) {
        let total = self.low.len + self.high.len;
        let want_high = total - total / 2;
        while self.high.len > want_high {
            let v = self.high.min().expect("high is not empty");
            self.high.remove(v);
            self.low.insert(v);
        }
        while self.high.len < want_high {
            let v = self.low.max().expect("low holds the rest");
            self.low.remove(v);
            self.high.insert(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SlidingMedian;
    use proptest::prelude::*;

    fn reference(values: &[u64]) -> Option<u64> {
        let mut v = values.to_vec();
        if v.is_empty() {
            return None;
        }
        let mid = v.len() / 2;
        Some(*v.select_nth_unstable(mid).1)
    }

    #[test]
    fn empty_has_no_median() {
        let mut m = SlidingMedian::default();
        assert_eq!(m.median(), None);
        m.insert(5);
        m.remove(5);
        assert_eq!(m.median(), None);
    }

    #[test]
    fn even_counts_take_the_upper_middle() {
        let mut m = SlidingMedian::default();
        for v in [4, 1, 3, 2] {
            m.insert(v);
        }
        assert_eq!(m.median(), Some(3));
    }

    proptest! {
        /// A window sliding over a sequence (values added at the back, removed from the
        /// front, duplicates included) has the median of its contents after every step.
        #[test]
        fn matches_the_median_of_the_window(
            values in proptest::collection::vec(0u64..50, 1..200),
            window in 1usize..40,
        ) {
            let mut m = SlidingMedian::default();
            for (i, &v) in values.iter().enumerate() {
                m.insert(v);
                if i >= window {
                    m.remove(values[i - window]);
                }
                let start = (i + 1).saturating_sub(window);
                prop_assert_eq!(m.median(), reference(&values[start..=i]));
            }
        }
    }
}
