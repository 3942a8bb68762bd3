//! A level-2 order book kept by Binance's local-book rules.
//!
//! Each side is a sorted `Vec` of levels with the best price at the end, so the levels that
//! change most (near the top) are the cheapest to insert and remove, and the top of the book is
//! one read. Prices and quantities are exact [`Dec`]s. The book knows nothing of JSON or Python.

use crate::decimal::{Dec, DecError};

/// Why an update was refused. After any of these the book is dropped and needs a new snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookError {
    /// The update's first id is past the book's last id + 1: events were missed.
    Gap { expected: u64, got: u64 },
    /// No snapshot yet, or the book was dropped after an error.
    NotSynced,
    /// The book would be crossed (best bid >= best ask): the data is inconsistent.
    Crossed,
    /// The message is for another symbol.
    SymbolMismatch { expected: String, got: String },
}

impl std::fmt::Display for BookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BookError::Gap { expected, got } => write!(
                f,
                "sequence gap: expected an update starting at or before id {expected}, got one \
                 starting at {got}; the book was dropped, fetch a new snapshot"
            ),
            BookError::NotSynced => f.write_str(
                "the book has no valid snapshot (never loaded, or dropped after a gap): \
                 apply a new depth snapshot first",
            ),
            BookError::Crossed => f.write_str(
                "the update would leave the book crossed (best bid >= best ask); the book was \
                 dropped, fetch a new snapshot",
            ),
            BookError::SymbolMismatch { expected, got } => {
                write!(
                    f,
                    "message for symbol '{got}' applied to the {expected} book"
                )
            }
        }
    }
}

impl std::error::Error for BookError {}

/// One side of the book.
///
/// Levels live in one vector of (key, quantity) sorted by a key that grows toward the best price
/// (the price for bids, its negation for asks), so the best level is last, and the levels that
/// change most (near the top) are found by a short search from the end and moved cheaply.
#[derive(Default, Clone, Debug)]
pub struct Side {
    /// `true` for bids.
    is_bid: bool,
    levels: Vec<(i128, Dec)>,
}

/// Index of the first level whose key is not below `k` (`levels.len()` if none), without
/// data-dependent branches.
#[inline]
fn lower_bound(levels: &[(i128, Dec)], k: i128) -> usize {
    let mut base = 0usize;
    let mut size = levels.len();
    if size == 0 {
        return 0;
    }
    while size > 1 {
        let half = size / 2;
        // `base + half < levels.len()` holds: base + size <= len and half < size.
        let probe = levels.get(base + half).map_or(i128::MAX, |l| l.0);
        base = if probe < k { base + half } else { base };
        size -= half;
    }
    let last = levels.get(base).map_or(i128::MAX, |l| l.0);
    base + usize::from(last < k)
}

/// `lower_bound`, tuned for keys near the top: the last `TOP_SCAN` keys are counted without
/// branches (changes cluster near the best price); deeper keys are bracketed by galloping down
/// from the top (distances 16, 32, 64, ...) and then binary-searched within the bracket.
#[inline]
fn find_from_top(levels: &[(i128, Dec)], k: i128) -> usize {
    const TOP_SCAN: usize = 8;
    let n = levels.len();
    let head = n.saturating_sub(TOP_SCAN);
    let tail = &levels[head..];
    // Keys are ascending, so those >= k form a suffix; count it within the tail.
    let mut above = 0usize;
    for l in tail {
        // At most TOP_SCAN: cannot wrap.
        above = above.wrapping_add(usize::from(l.0 >= k));
    }
    if above < tail.len() {
        return n - above;
    }
    // levels[head..] are all >= k: find lo with key < k, doubling the distance from the top.
    let mut hi = head;
    let mut step = TOP_SCAN;
    loop {
        let lo = hi.saturating_sub(step);
        if lo == 0 || levels.get(lo).is_some_and(|l| l.0 < k) {
            return lo + lower_bound(&levels[lo..hi], k);
        }
        hi = lo;
        step *= 2;
    }
}

impl Side {
    fn new(is_bid: bool) -> Self {
        Side {
            is_bid,
            levels: Vec::new(),
        }
    }

    #[inline]
    fn key(&self, price: Dec) -> i128 {
        if self.is_bid {
            price.raw()
        } else {
            -price.raw()
        }
    }

    #[inline]
    fn price(&self, key: i128) -> Dec {
        Dec::from_raw(if self.is_bid { key } else { -key })
    }

    /// Set the quantity at `price`; zero removes the level.
    #[inline]
    pub fn set(&mut self, price: Dec, qty: Dec) {
        let k = self.key(price);
        // A new best level (the price moved toward the other side) is a push.
        if self.levels.last().is_none_or(|top| k > top.0) {
            if !qty.is_zero() {
                self.levels.push((k, qty));
            }
            return;
        }
        let i = find_from_top(&self.levels, k);
        match self.levels.get_mut(i) {
            Some(level) if level.0 == k => {
                if qty.is_zero() {
                    self.levels.remove(i);
                } else {
                    level.1 = qty;
                }
            }
            _ => {
                if !qty.is_zero() {
                    self.levels.insert(i, (k, qty));
                }
            }
        }
    }

    #[inline]
    #[must_use]
    pub fn best(&self) -> Option<(Dec, Dec)> {
        self.levels.last().map(|&(k, q)| (self.price(k), q))
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.levels.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// Levels as (price, quantity), from the best outward.
    pub fn iter(&self) -> impl Iterator<Item = (Dec, Dec)> + '_ {
        self.levels.iter().rev().map(|&(k, q)| (self.price(k), q))
    }

    fn clear(&mut self) {
        self.levels.clear();
    }

    /// Replace all levels (any order; a repeated price: the last one wins; zeros dropped).
    fn load(&mut self, levels: &[(Dec, Dec)]) {
        let mut v: Vec<(i128, Dec)> = levels
            .iter()
            .filter(|l| !l.1.is_zero())
            .map(|&(p, q)| (self.key(p), q))
            .collect();
        // Stable sort keeps input order among equal keys, so the last of a run is the latest.
        v.sort_by_key(|l| l.0);
        self.levels.clear();
        for (k, q) in v {
            match self.levels.last_mut() {
                Some(last) if last.0 == k => last.1 = q,
                _ => self.levels.push((k, q)),
            }
        }
    }
}

/// A parsed diff-depth event, borrowed from reusable buffers.
#[derive(Default, Debug)]
pub struct DepthDiff {
    pub first_update_id: u64,
    pub final_update_id: u64,
    pub event_time: i64,
    pub bids: Vec<(Dec, Dec)>,
    pub asks: Vec<(Dec, Dec)>,
}

impl DepthDiff {
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.first_update_id = 0;
        self.final_update_id = 0;
        self.event_time = 0;
    }
}

/// What happened to an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Applied: the book moved to the update's final id.
    Applied,
    /// Older than the book (`u <= lastUpdateId`): ignored, as Binance's procedure says.
    Stale,
}

/// An order book for one symbol.
#[derive(Clone, Debug)]
pub struct Book {
    pub bids: Side,
    pub asks: Side,
    last_update_id: Option<u64>,
    pub last_event_time: i64,
}

impl Default for Book {
    fn default() -> Self {
        Book::new()
    }
}

impl Book {
    #[must_use]
    pub fn new() -> Self {
        Book {
            bids: Side::new(true),
            asks: Side::new(false),
            last_update_id: None,
            last_event_time: 0,
        }
    }

    /// The id of the last applied snapshot or update; `None` when not synced.
    #[must_use]
    pub fn last_update_id(&self) -> Option<u64> {
        self.last_update_id
    }

    #[must_use]
    pub fn is_synced(&self) -> bool {
        self.last_update_id.is_some()
    }

    /// Drop all levels; the book needs a new snapshot.
    pub fn reset(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.last_update_id = None;
    }

    /// Load a snapshot (REST `/api/v3/depth`): replaces the book.
    pub fn load_snapshot(
        &mut self,
        last_update_id: u64,
        bids: &[(Dec, Dec)],
        asks: &[(Dec, Dec)],
    ) -> Result<(), BookError> {
        self.bids.load(bids);
        self.asks.load(asks);
        if self.is_crossed() {
            self.reset();
            return Err(BookError::Crossed);
        }
        self.last_update_id = Some(last_update_id);
        Ok(())
    }

    fn is_crossed(&self) -> bool {
        matches!((self.bids.best(), self.asks.best()), (Some(b), Some(a)) if b.0 >= a.0)
    }

    /// Apply a diff-depth event by Binance's rules.
    ///
    /// `u <= last`: stale, ignored. `U > last + 1`: a gap, the book is dropped. Otherwise each
    /// level is set (quantity zero removes it) and the book moves to `u`.
    pub fn apply_diff(&mut self, d: &DepthDiff) -> Result<Applied, BookError> {
        let Some(last) = self.last_update_id else {
            return Err(BookError::NotSynced);
        };
        if d.final_update_id <= last {
            return Ok(Applied::Stale);
        }
        if d.first_update_id > last + 1 {
            self.reset();
            return Err(BookError::Gap {
                expected: last + 1,
                got: d.first_update_id,
            });
        }
        for &(p, q) in &d.bids {
            self.bids.set(p, q);
        }
        for &(p, q) in &d.asks {
            self.asks.set(p, q);
        }
        if self.is_crossed() {
            self.reset();
            return Err(BookError::Crossed);
        }
        self.last_update_id = Some(d.final_update_id);
        self.last_event_time = d.event_time;
        Ok(Applied::Applied)
    }

    /// The average price of filling `qty` against one side (`buy`: walk the asks), exactly,
    /// with the filled quantity; `None` if the side is empty or `qty` is not positive.
    pub fn average_fill_price(&self, buy: bool, qty: Dec) -> Result<Option<(Dec, Dec)>, DecError> {
        if qty.raw() <= 0 {
            return Ok(None);
        }
        let side = if buy { &self.asks } else { &self.bids };
        let mut left = qty;
        let mut cost = Dec::ZERO;
        for (p, q) in side.iter() {
            let take = if q < left { q } else { left };
            // Analytics: a product beyond 18 decimals is truncated there, not refused.
            cost = cost.checked_add(p.mul_trunc(take)?)?;
            left = left.checked_sub(take)?;
            if left.is_zero() {
                break;
            }
        }
        let filled = qty.checked_sub(left)?;
        if filled.is_zero() {
            return Ok(None);
        }
        Ok(Some((cost.checked_div_trunc(filled)?, filled)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dec {
        Dec::parse_str(s).unwrap()
    }

    fn diff(first: u64, last: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> DepthDiff {
        DepthDiff {
            first_update_id: first,
            final_update_id: last,
            event_time: 0,
            bids: bids.iter().map(|(p, q)| (d(p), d(q))).collect(),
            asks: asks.iter().map(|(p, q)| (d(p), d(q))).collect(),
        }
    }

    #[test]
    fn follows_binance_sequencing() {
        let mut b = Book::new();
        assert_eq!(
            b.apply_diff(&diff(1, 2, &[], &[])),
            Err(BookError::NotSynced)
        );
        b.load_snapshot(
            100,
            &[(d("10"), d("1")), (d("9"), d("2"))],
            &[(d("11"), d("1"))],
        )
        .unwrap();
        assert_eq!(b.bids.best(), Some((d("10"), d("1"))));
        // Stale: u <= 100.
        assert_eq!(
            b.apply_diff(&diff(90, 100, &[("10", "5")], &[])),
            Ok(Applied::Stale)
        );
        assert_eq!(b.bids.best(), Some((d("10"), d("1"))));
        // Straddling the snapshot: applied.
        assert_eq!(
            b.apply_diff(&diff(95, 105, &[("10", "0"), ("9.5", "3")], &[])),
            Ok(Applied::Applied)
        );
        assert_eq!(b.bids.best(), Some((d("9.5"), d("3"))));
        assert_eq!(b.last_update_id(), Some(105));
        // Gap.
        assert_eq!(
            b.apply_diff(&diff(107, 110, &[], &[])),
            Err(BookError::Gap {
                expected: 106,
                got: 107
            })
        );
        assert!(!b.is_synced());
        assert!(b.bids.is_empty());
    }

    #[test]
    fn refuses_a_crossed_book() {
        let mut b = Book::new();
        b.load_snapshot(1, &[(d("10"), d("1"))], &[(d("11"), d("1"))])
            .unwrap();
        assert_eq!(
            b.apply_diff(&diff(2, 2, &[("11", "1")], &[])),
            Err(BookError::Crossed)
        );
        assert!(!b.is_synced());
    }

    #[test]
    fn average_fill_walks_the_book() {
        let mut b = Book::new();
        b.load_snapshot(
            1,
            &[(d("9"), d("1"))],
            &[(d("10"), d("1")), (d("12"), d("1"))],
        )
        .unwrap();
        assert_eq!(
            b.average_fill_price(true, d("1.5")).unwrap(),
            Some((d("10.666666666666666666"), d("1.5")))
        );
        assert_eq!(
            b.average_fill_price(true, d("5")).unwrap(),
            Some((d("11"), d("2")))
        );
        assert_eq!(b.average_fill_price(false, d("0")).unwrap(), None);
    }
}
