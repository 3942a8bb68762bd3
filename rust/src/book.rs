//! A level-2 order book kept by Binance's local-book rules.
//!
//! Each side keeps the levels near its best price in a flat ladder indexed by tick, so the
//! levels that change most are one store away, and the deeper ones in a sorted `Vec`. Prices
//! and quantities are exact [`Dec`]s. The book knows nothing of JSON or Python.

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

/// Slots in a side's price ladder: quantities at consecutive ticks around the best price.
const LADDER: usize = 2048;
/// Where a rebuild puts the best level: this many slots above the ladder's lowest one, leaving
/// the rest as headroom for the price to move toward the other side.
const LADDER_BEST: usize = LADDER / 2;
/// When the best level falls below this slot and deeper levels exist, the ladder moves down.
const LADDER_LOW: usize = LADDER / 4;

/// One side of the book.
///
/// Prices are keyed by a number that grows toward the best price (the price for bids, its
/// negation for asks). The levels near the best price, where nearly all changes happen, live in
/// a ladder: a flat array of quantities at keys `base + i * tick` (zero: no level), so a change
/// is an exact division (a multiplication) and one store. The tick is the greatest common
/// divisor of the keys in the ladder's window, so any price grid works; a key inside the window
/// that is off the grid refines the tick. A far outlier stays below the window and does not
/// shrink the tick. The ladder is `LADDER` quantities (32 KiB) whatever the prices. Levels
/// below the window live in a sorted vector (best last); nothing is ever above it: a new best
/// price past the window moves the window up, and when the best level sinks toward the window's
/// bottom the window moves down, taking the vector's top levels.
#[derive(Default, Clone, Debug)]
pub struct Side {
    /// `true` for bids.
    is_bid: bool,
    /// Levels below the ladder's window, ascending by key (the deepest first).
    deep: Vec<(i128, Dec)>,
    /// Quantity at key `base + i * tick` for slot `i`, zero for none; `LADDER` slots once used.
    ladder: Vec<Dec>,
    /// Key of slot 0.
    base: i128,
    /// Key step between slots; 0 until the side has held a level (ladder unused).
    tick: u128,
    /// Slots in use: the window is the keys `base + i * tick` for `i < window` (`LADDER`, fewer
    /// only near the end of the key range; 0 while the ladder is unused).
    window: u128,
    /// Trailing zero bits of `tick`.
    shift: u32,
    /// Inverse of `tick >> shift` modulo 2^128, for exact division (see `slot`).
    inv: u128,
    /// One past the best occupied slot; 0 if the ladder is empty.
    top: usize,
    /// Occupied slots.
    count: usize,
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

/// Set the quantity at key `k` in a vector sorted by key; zero removes the level.
#[inline]
fn set_sorted(levels: &mut Vec<(i128, Dec)>, k: i128, qty: Dec) {
    // A new best level (the price moved toward the other side) is a push.
    if levels.last().is_none_or(|top| k > top.0) {
        if !qty.is_zero() {
            levels.push((k, qty));
        }
        return;
    }
    let i = find_from_top(levels, k);
    match levels.get_mut(i) {
        Some(level) if level.0 == k => {
            if qty.is_zero() {
                levels.remove(i);
            } else {
                level.1 = qty;
            }
        }
        _ => {
            if !qty.is_zero() {
                levels.insert(i, (k, qty));
            }
        }
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Side {
    fn new(is_bid: bool) -> Self {
        Side {
            is_bid,
            ..Side::default()
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

    /// The key of ladder slot `i`.
    #[inline]
    fn key_at(&self, i: usize) -> i128 {
        // Only called for occupied slots, whose keys are real keys: no overflow.
        self.base.wrapping_add_unsigned(i as u128 * self.tick)
    }

    /// The ladder slot of key `k`: `Some(i)` if `k = base + i * tick` with `i < window`.
    ///
    /// Exact division by a constant (Granlund and Montgomery): with `tick = odd << shift`, the
    /// offset times the inverse of `odd`, rotated right by `shift`, is the quotient when the
    /// offset is a multiple of `tick` and above `u128::MAX / tick` otherwise; `window` never
    /// exceeds that bound plus one. An offset taken modulo 2^128 (a key below `base`) could only
    /// alias a slot whose key is past `i128::MAX`, and `window` stops before those.
    #[inline]
    fn slot(&self, k: i128) -> Option<usize> {
        let d = k.wrapping_sub(self.base) as u128;
        let q = d.wrapping_mul(self.inv).rotate_right(self.shift);
        (q < self.window).then_some(q as usize)
    }

    /// Set the quantity at `price`; zero removes the level.
    #[inline]
    pub fn set(&mut self, price: Dec, qty: Dec) {
        let k = self.key(price);
        match self.slot(k) {
            Some(i) => self.set_slot(i, qty),
            None => self.set_outside(k, qty),
        }
    }

    /// `set` for a key that is not on the ladder.
    #[inline(never)]
    fn set_outside(&mut self, k: i128, qty: Dec) {
        if self.tick != 0 && k >= self.base {
            // Past the window or off its grid: no level is there, and a new one needs the
            // ladder rebuilt (moved up, or on a finer grid).
            if !qty.is_zero() {
                self.insert_and_rebuild(k, qty);
            }
            return;
        }
        set_sorted(&mut self.deep, k, qty);
        if self.tick == 0 && !qty.is_zero() {
            self.rebuild(0);
        }
    }

    #[inline]
    fn set_slot(&mut self, i: usize, qty: Dec) {
        let slot = &mut self.ladder[i];
        let was = !slot.is_zero();
        let now = !qty.is_zero();
        *slot = qty;
        if was != now {
            if now {
                self.count += 1;
                self.top = self.top.max(i + 1);
            } else {
                self.count -= 1;
                if i + 1 == self.top {
                    self.best_removed(i);
                }
            }
        }
    }

    /// The best ladder level, at slot `i`, was removed: find the next one below it, and move
    /// the ladder down if the best level is now near its bottom and deeper levels exist.
    #[inline(never)]
    fn best_removed(&mut self, i: usize) {
        self.top = if self.count == 0 {
            0
        } else {
            self.ladder[..i]
                .iter()
                .rposition(|q| !q.is_zero())
                .map_or(0, |j| j + 1)
        };
        if self.top < LADDER_LOW && !self.deep.is_empty() {
            let tick = self.tick;
            self.rebuild(tick);
        }
    }

    /// Add a level the ladder cannot hold as it is (past the window, or off the grid), then
    /// rebuild the ladder around the best level.
    #[cold]
    #[inline(never)]
    fn insert_and_rebuild(&mut self, k: i128, qty: Dec) {
        self.flush();
        set_sorted(&mut self.deep, k, qty);
        let tick = self.tick;
        self.rebuild(tick);
    }

    /// Move every ladder level to the top of `deep` (they are all above its levels).
    fn flush(&mut self) {
        for i in 0..self.top {
            let q = std::mem::replace(&mut self.ladder[i], Dec::ZERO);
            if !q.is_zero() {
                let k = self.key_at(i);
                self.deep.push((k, q));
            }
        }
        self.top = 0;
        self.count = 0;
    }

    /// Centre the ladder on the best level, with a tick that divides `hint` (0: none) and the
    /// distance from the best level to every key in the new window, and move the levels in the
    /// window out of `deep`.
    #[cold]
    #[inline(never)]
    fn rebuild(&mut self, hint: u128) {
        self.flush();
        let Some(&(best, _)) = self.deep.last() else {
            return;
        };
        let mut t = hint;
        if t == 0 {
            // A fresh start: the step of the top prices, so a far outlier does not shrink it.
            for &(k, _) in self.deep.iter().rev().take(8) {
                t = gcd(t, k.unsigned_abs());
            }
        }
        t = gcd(t, best.unsigned_abs());
        if t == 0 {
            t = 1; // every key is a multiple of 1
        }
        // Slots below the best level: LADDER_BEST, fewer only at the very end of the key range.
        let mut below = (LADDER_BEST as u128).min(best.abs_diff(i128::MIN) / t);
        for &(k, _) in self.deep.iter().rev() {
            let diff = best.abs_diff(k);
            if diff > below * t {
                break;
            }
            if diff % t != 0 {
                // A finer grid: the window shrinks to the same number of slots.
                t = gcd(t, diff);
                below = below.min(best.abs_diff(i128::MIN) / t);
            }
        }
        self.tick = t;
        self.base = best.wrapping_sub_unsigned(below * t);
        // The slots' keys stay within i128 (and `window - 1 <= u128::MAX / tick`, see `slot`).
        self.window = (LADDER as u128).min(i128::MAX.abs_diff(self.base) / t + 1);
        self.shift = t.trailing_zeros();
        let odd = t >> self.shift;
        // Newton's iteration doubles the correct low bits: 3 (odd * odd = 1 mod 8), 6, ..., 192.
        let mut inv = odd;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u128.wrapping_sub(odd.wrapping_mul(inv)));
        }
        debug_assert_eq!(odd.wrapping_mul(inv), 1);
        self.inv = inv;
        if self.ladder.is_empty() {
            self.ladder = vec![Dec::ZERO; LADDER];
        }
        while let Some(&(k, q)) = self.deep.last() {
            if k < self.base {
                break;
            }
            let i = self
                .slot(k)
                .expect("the tick divides the distance of every key in the window");
            self.ladder[i] = q;
            self.count += 1;
            self.top = self.top.max(i + 1);
            self.deep.pop();
        }
    }

    #[inline]
    #[must_use]
    pub fn best(&self) -> Option<(Dec, Dec)> {
        if let Some(i) = self.top.checked_sub(1) {
            return Some((self.price(self.key_at(i)), self.ladder[i]));
        }
        self.deep.last().map(|&(k, q)| (self.price(k), q))
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.count + self.deep.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Levels as (price, quantity), from the best outward.
    pub fn iter(&self) -> impl Iterator<Item = (Dec, Dec)> + '_ {
        self.ladder[..self.top]
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, q)| !q.is_zero())
            .map(|(i, &q)| (self.price(self.key_at(i)), q))
            .chain(self.deep.iter().rev().map(|&(k, q)| (self.price(k), q)))
    }

    /// Drop every level and forget the grid.
    fn clear(&mut self) {
        self.ladder[..self.top].fill(Dec::ZERO);
        self.top = 0;
        self.count = 0;
        self.deep.clear();
        self.tick = 0;
        self.window = 0;
        self.base = 0;
    }

    /// Replace all levels (any order; a repeated price: the last one wins; zeros dropped).
    fn load(&mut self, levels: &[(Dec, Dec)]) {
        self.clear();
        let mut v: Vec<(i128, Dec)> = levels
            .iter()
            .filter(|l| !l.1.is_zero())
            .map(|&(p, q)| (self.key(p), q))
            .collect();
        // Stable sort keeps input order among equal keys, so the last of a run is the latest.
        v.sort_by_key(|l| l.0);
        for (k, q) in v {
            match self.deep.last_mut() {
                Some(last) if last.0 == k => last.1 = q,
                _ => self.deep.push((k, q)),
            }
        }
        self.rebuild(0);
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

    /// A deterministic generator (xorshift64*), so failures replay.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// The reference: a map from raw price to quantity.
    fn reference_levels(
        m: &std::collections::BTreeMap<i128, Dec>,
        is_bid: bool,
    ) -> Vec<(Dec, Dec)> {
        let it = m.iter().map(|(&p, &q)| (Dec::from_raw(p), q));
        if is_bid {
            it.rev().collect()
        } else {
            it.collect()
        }
    }

    /// The side's internal bookkeeping holds.
    fn check_invariants(s: &Side) {
        let occupied: Vec<usize> = (0..s.ladder.len())
            .filter(|&i| !s.ladder[i].is_zero())
            .collect();
        assert_eq!(occupied.len(), s.count);
        assert_eq!(occupied.last().map_or(0, |&i| i + 1), s.top);
        assert!(s.top as u128 <= s.window);
        assert!(s.deep.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(s.deep.iter().all(|l| !l.1.is_zero()));
        if s.tick != 0 {
            assert!(
                s.deep.iter().all(|l| l.0 < s.base),
                "a deep level in the window"
            );
        } else {
            assert_eq!(s.count, 0);
        }
    }

    fn check_side(s: &Side, m: &std::collections::BTreeMap<i128, Dec>) {
        check_invariants(s);
        let want = reference_levels(m, s.is_bid);
        assert_eq!(s.len(), want.len());
        assert_eq!(s.is_empty(), want.is_empty());
        assert_eq!(s.best(), want.first().copied());
        assert_eq!(s.iter().collect::<Vec<_>>(), want);
    }

    /// Runs random loads and sets on both sides against the reference; `price` draws a raw
    /// price from the generator and the current mid.
    fn differential(seed: u64, steps: usize, price: &dyn Fn(&mut Rng, i128) -> i128) {
        let mut rng = Rng(seed);
        for is_bid in [true, false] {
            let mut side = Side::new(is_bid);
            let mut m = std::collections::BTreeMap::new();
            let mut mid: i128 = 0;
            check_side(&side, &m);
            for _ in 0..steps {
                match rng.below(200) {
                    0 => {
                        // A fresh snapshot, with duplicates and zeros.
                        let n = rng.below(60) as usize;
                        let mut levels = Vec::new();
                        m.clear();
                        for _ in 0..n {
                            let p = price(&mut rng, mid);
                            let q = Dec::from_raw(i128::from(rng.below(3)) * 1_000);
                            levels.push((Dec::from_raw(p), q));
                            // A snapshot's zeros are dropped, not applied.
                            if !q.is_zero() {
                                m.insert(p, q);
                            }
                        }
                        side.load(&levels);
                    }
                    1 => {
                        side.clear();
                        m.clear();
                    }
                    2 => {
                        // Empty the top of the book: the best price falls.
                        for _ in 0..rng.below(40) {
                            let top = if is_bid {
                                m.keys().next_back().copied()
                            } else {
                                m.keys().next().copied()
                            };
                            if let Some(p) = top {
                                m.remove(&p);
                                side.set(Dec::from_raw(p), Dec::ZERO);
                            }
                        }
                    }
                    _ => {
                        let p = price(&mut rng, mid);
                        let q = if rng.below(3) == 0 {
                            Dec::ZERO
                        } else {
                            Dec::from_raw(i128::from(rng.below(1 << 40)) + 1)
                        };
                        side.set(Dec::from_raw(p), q);
                        if q.is_zero() {
                            m.remove(&p);
                        } else {
                            m.insert(p, q);
                        }
                    }
                }
                if rng.below(50) == 0 {
                    mid = price(&mut rng, mid);
                }
                check_side(&side, &m);
            }
        }
    }

    const E16: i128 = 10_000_000_000_000_000; // 0.01

    fn walk(rng: &mut Rng, mid: i128, tick: i128, spread: u64) -> i128 {
        let off = i128::from(rng.below(2 * spread + 1)) - i128::from(spread);
        mid + off * tick
    }

    #[test]
    fn ladder_matches_a_map_on_a_dense_grid() {
        // 0.01 ticks around 65000, moves within a few hundred ticks.
        differential(1, 20_000, &|r, mid| {
            let mid = if mid == 0 { 6_500_000 * E16 } else { mid };
            walk(r, mid, E16, 300)
        });
    }

    #[test]
    fn ladder_matches_a_map_when_the_price_moves_far() {
        // Jumps of thousands of ticks both ways: the window moves up and down.
        differential(2, 20_000, &|r, mid| {
            let mid = if mid == 0 { 6_500_000 * E16 } else { mid };
            let spread = if r.below(10) == 0 { 20_000 } else { 50 };
            walk(r, mid, E16, spread).max(E16)
        });
    }

    #[test]
    fn ladder_matches_a_map_on_sparse_huge_and_fine_prices() {
        differential(3, 20_000, &|r, mid| match r.below(6) {
            // 10-decimal prices near 0.0000012345.
            0 => 12_345 * 100_000_000 + i128::from(r.below(5_000)) * 100_000_000,
            // A far outlier beside 65000.
            1 => 10_000_000_000,
            // Sparse: prices anywhere up to 10^12.
            2 => i128::from(r.below(1_000_000_000_000)) * 1_000_000_000_000_000_000,
            // Any raw value at all (18 decimals, off every grid).
            3 => i128::from(r.next()),
            // Near the current mid on a 0.01 grid.
            _ => walk(r, if mid == 0 { 6_500_000 * E16 } else { mid }, E16, 100).max(1),
        });
    }

    #[test]
    fn ladder_matches_a_map_at_the_ends_of_the_key_range() {
        let edge = i128::MAX - 1_000_000;
        differential(4, 10_000, &|r, _| match r.below(4) {
            0 => edge + i128::from(r.below(1_000_000)),
            1 => -edge - i128::from(r.below(1_000_000)),
            2 => (i128::from(r.below(5)) - 2) * (i128::MAX / 4),
            _ => i128::from(r.below(3)) - 1,
        });
    }

    #[test]
    fn tick_is_inferred_and_refined() {
        let mut s = Side::new(true);
        s.load(&[
            (d("100.00"), d("1")),
            (d("99.98"), d("1")),
            (d("99.96"), d("2")),
        ]);
        assert_eq!(s.tick, 2 * E16 as u128);
        assert_eq!(s.count, 3);
        // 99.99 is off the 0.02 grid: the tick becomes 0.01 and nothing is lost.
        s.set(d("99.99"), d("5"));
        assert_eq!(s.tick, E16 as u128);
        assert_eq!(s.count, 4);
        assert_eq!(
            s.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            [d("100"), d("99.99"), d("99.98"), d("99.96")]
        );
        // Removing an off-grid price that is not there changes nothing.
        s.set(d("99.995"), d("0"));
        assert_eq!(s.tick, E16 as u128);
        assert_eq!(s.len(), 4);
        // A single level: its own price is the tick until a second one refines it.
        let mut one = Side::new(false);
        one.load(&[(d("65000.01"), d("1"))]);
        one.set(d("65000.02"), d("2"));
        assert_eq!(one.tick, E16 as u128);
        assert_eq!(one.best(), Some((d("65000.01"), d("1"))));
        check_invariants(&one);
    }

    #[test]
    fn far_outlier_stays_deep_and_keeps_the_tick() {
        let mut s = Side::new(true);
        let mut levels: Vec<(Dec, Dec)> = (0..100)
            .map(|i| (Dec::from_raw((6_500_000 - i) * E16), d("1")))
            .collect();
        levels.push((d("0.00000001"), d("3")));
        s.load(&levels);
        assert_eq!(s.tick, E16 as u128);
        assert_eq!(s.count, 100);
        assert_eq!(s.deep, [(d("0.00000001").raw(), d("3"))]);
        // Emptying the ladder falls back to the outlier as the best bid.
        for i in 0..100 {
            s.set(Dec::from_raw((6_500_000 - i) * E16), Dec::ZERO);
            check_invariants(&s);
        }
        assert_eq!(s.best(), Some((d("0.00000001"), d("3"))));
        assert_eq!(s.len(), 1);
        s.set(d("0.00000001"), Dec::ZERO);
        assert!(s.is_empty());
        assert_eq!(s.best(), None);
    }

    #[test]
    fn window_moves_up_and_down() {
        let mut s = Side::new(true);
        s.load(&[(d("10.00"), d("1")), (d("10.01"), d("1"))]);
        let base = s.base;
        // A bid 9000 ticks above the best is past the window: it moves up.
        s.set(d("100.01"), d("2"));
        assert!(s.base > base);
        assert_eq!(s.best(), Some((d("100.01"), d("2"))));
        assert_eq!(s.len(), 3);
        assert_eq!(s.deep.len(), 2);
        check_invariants(&s);
        // The old levels are now deep; removing the best brings the window back down.
        s.set(d("100.01"), d("0"));
        assert_eq!(s.base, base);
        assert_eq!(s.best(), Some((d("10.01"), d("1"))));
        assert_eq!(s.count, 2);
        assert!(s.deep.is_empty());
        check_invariants(&s);
    }

    #[test]
    fn best_removal_scans_to_the_next_level() {
        let mut s = Side::new(true);
        s.load(&[(d("100"), d("1")), (d("99"), d("1")), (d("90"), d("2"))]);
        s.set(d("100"), d("0"));
        assert_eq!(s.best(), Some((d("99"), d("1"))));
        s.set(d("99"), d("0"));
        assert_eq!(s.best(), Some((d("90"), d("2"))));
        s.set(d("90"), d("0"));
        assert_eq!(s.best(), None);
        assert!(s.is_empty());
        assert_eq!(s.iter().count(), 0);
        // Zeros on an empty side change nothing; a new level comes back.
        s.set(d("80"), d("0"));
        assert!(s.is_empty());
        s.set(d("80"), d("4"));
        assert_eq!(s.best(), Some((d("80"), d("4"))));
        check_invariants(&s);
    }

    #[test]
    fn empty_sides_and_sets_before_any_snapshot() {
        let mut b = Book::new();
        assert_eq!(b.bids.best(), None);
        assert!(b.asks.is_empty());
        b.load_snapshot(1, &[], &[]).unwrap();
        assert!(b.bids.is_empty() && b.asks.is_empty());
        b.apply_diff(&diff(2, 2, &[("5", "1")], &[("6", "1")]))
            .unwrap();
        assert_eq!(b.bids.best(), Some((d("5"), d("1"))));
        assert_eq!(b.asks.best(), Some((d("6"), d("1"))));
        // Crossing through the ladder is still refused.
        assert_eq!(
            b.apply_diff(&diff(3, 3, &[("6", "1")], &[])),
            Err(BookError::Crossed)
        );
        assert!(b.bids.is_empty() && b.asks.is_empty());
        // A price of zero works too.
        let mut s = Side::new(true);
        s.set(d("0"), d("1"));
        assert_eq!(s.best(), Some((d("0"), d("1"))));
        check_invariants(&s);
    }
}
