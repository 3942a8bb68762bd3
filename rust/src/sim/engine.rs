//! The matching engine of backtests: the market tape in, the strategy's orders matched against
//! it, fills and the events the strategy asked for out.
//!
//! Pure Rust, integers only (prices and quantities in 10^-8 units, times in microseconds). The
//! Python side (`tradewire.backtest`) keeps the account (balances, fees, order states) and runs
//! the strategy; this engine decides *whether, when, how much and at what price* an order
//! fills, and calls back only for what the strategy can act on.
//!
//! Honesty rules, each tested:
//! - **No look-ahead.** An order submitted at `t` is active from `t + order_latency`; it can
//!   only fill on tape rows processed after it became active.
//! - **No fill larger than what traded** under `TradeThrough` and `Queue`: a print's quantity is
//!   shared once among the strategy's resting orders (best price first, then oldest), and a
//!   crossing book level's quantity is consumed by the fills it gives.
//! - A taker order walks the book it finds on arrival; on a tape without a book (trades or bars
//!   only) it takes the next prints of the same aggressor side, capped by their size.

use std::collections::{BTreeMap, VecDeque};

use crate::sim::tape::{Tape, ASK, BID, BOOK_END, CLEAR, TRADE_BUY, TRADE_SELL};

/// A price level: `(price, qty)`.
pub type Level = (i64, i64);

/// When a resting order fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillModel {
    /// The paper broker's historical rule, kept for comparison: in full, as soon as a print goes
    /// strictly through the price or the opposite best price reaches it. Overstates fills.
    Touch,
    /// A print strictly through the price fills at most the print's quantity; a book crossing
    /// the price fills at most the crossing levels' quantity.
    TradeThrough,
    /// As `TradeThrough`, and prints *at* the price fill it once the quantity that was ahead of
    /// it in the level's queue (the level's size when it arrived, shrunk by prints and by the
    /// level shrinking) has traded.
    Queue,
}

/// The engine's settings, fixed for a run.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    pub fill_model: FillModel,
    /// From submitting an order to the exchange acting on it, in microseconds.
    pub order_latency_us: i64,
    /// Book callbacks: `Some(0)` on every change of the best prices, `Some(n)` at most one per
    /// `n` microseconds of market time (and only if the best prices changed), `None` never.
    pub book_every_us: Option<i64>,
    /// Deliver every public trade to the strategy.
    pub trades: bool,
    /// A timer every this many microseconds of market time (0: none).
    pub timer_us: i64,
}

/// A buy or a sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

/// What the engine hands back to the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The tape is used up: feed the next one, or finish.
    NeedData,
    /// One of the strategy's orders filled (part of) its quantity.
    Fill {
        id: u64,
        time_us: i64,
        price: i64,
        qty: i64,
        maker: bool,
    },
    /// A MARKET order's remainder expired: the book it arrived at could not fill it.
    Expired { id: u64, time_us: i64 },
    /// A public trade (only if asked for).
    Trade {
        time_us: i64,
        price: i64,
        qty: i64,
        buyer_taker: bool,
    },
    /// The best prices changed (at the cadence asked for).
    Book { time_us: i64 },
    /// The timer is due.
    Timer { time_us: i64 },
}

/// Why an order was refused by the engine (the account checks everything else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitError {
    DuplicateId,
    NonPositiveQuantity,
    NonPositivePrice,
    /// A tape that starts before the end of the last one.
    TimeBackwards,
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SubmitError::DuplicateId => "an order with this id was already submitted",
            SubmitError::NonPositiveQuantity => "the quantity must be positive",
            SubmitError::NonPositivePrice => "the price must be positive",
            SubmitError::TimeBackwards => "the data goes back in time: files out of order?",
        })
    }
}

#[derive(Debug, Clone)]
struct SimOrder {
    id: u64,
    side: Side,
    /// None: a MARKET order.
    price: Option<i64>,
    remaining: i64,
    /// Quantity ahead of the order in its price level's queue (`Queue` model).
    ahead: i64,
    /// True while the order takes liquidity (it arrived marketable on a tape without a book).
    taking: bool,
}

/// The simulation engine: one symbol, one strategy.
#[derive(Debug)]
pub struct Engine {
    cfg: EngineConfig,
    tape: Tape,
    pos: usize,
    now_us: i64,
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
    /// What the strategy's orders took from each level, kept off the level until the market
    /// shows the level shrink or go, so one displayed quantity fills only once.
    taken_bids: Taken,
    taken_asks: Taken,
    /// The last buy and sell prints: the strategy's view of the market on a tape without a book.
    last_buy_print: Option<Level>,
    last_sell_print: Option<Level>,
    /// Orders submitted, not yet arrived: (arrival time, order), in arrival order.
    arriving: VecDeque<(i64, SimOrder)>,
    /// Orders working at the exchange, in arrival order (time priority).
    working: Vec<SimOrder>,
    out: VecDeque<Step>,
    top: (Option<i64>, Option<i64>),
    top_dirty: bool,
    last_book_us: i64,
    next_timer_us: Option<i64>,
    events: u64,
    ids: std::collections::HashSet<u64>,
}

impl Engine {
    #[must_use]
    pub fn new(cfg: EngineConfig) -> Self {
        Engine {
            cfg,
            tape: Tape::default(),
            pos: 0,
            now_us: 0,
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            taken_bids: Taken::default(),
            taken_asks: Taken::default(),
            last_buy_print: None,
            last_sell_print: None,
            arriving: VecDeque::new(),
            working: Vec::new(),
            out: VecDeque::new(),
            top: (None, None),
            top_dirty: false,
            last_book_us: i64::MIN,
            next_timer_us: None,
            events: 0,
            ids: std::collections::HashSet::new(),
        }
    }

    /// The next chunk of the tape (the last one must be used up: `advance` said `NeedData`).
    pub fn feed(&mut self, tape: Tape) {
        self.tape = tape;
        self.pos = 0;
    }

    /// The time of the last row of the tape fed last, if any.
    #[must_use]
    pub fn last_fed_us(&self) -> Option<i64> {
        self.tape.last_time_us()
    }

    /// Market time: the time of the last tape row processed (or timer delivered).
    #[must_use]
    pub fn now_us(&self) -> i64 {
        self.now_us
    }

    /// Turn book callbacks on (at the cadence set at construction, or on every change) or off.
    pub fn set_books(&mut self, every_us: Option<i64>) {
        self.cfg.book_every_us = every_us;
    }

    /// Tape rows processed so far.
    #[must_use]
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Orders submitted or working.
    #[must_use]
    pub fn open_orders(&self) -> usize {
        self.arriving.len() + self.working.len()
    }

    /// The best bid and ask as the strategy sees them: the book's, or on a tape without a book
    /// the last sell and buy prints. Each is `(price, qty)`.
    #[must_use]
    pub fn best(&self) -> (Option<Level>, Option<Level>) {
        if self.bids.is_empty() && self.asks.is_empty() {
            return (self.last_sell_print, self.last_buy_print);
        }
        (
            self.bids.iter().next_back().map(|(p, q)| (*p, *q)),
            self.asks.iter().next().map(|(p, q)| (*p, *q)),
        )
    }

    /// The top `n` levels of each side of the book, best first.
    #[must_use]
    pub fn levels(&self, n: usize) -> (Vec<Level>, Vec<Level>) {
        if self.bids.is_empty() && self.asks.is_empty() {
            let (b, a) = self.best();
            return (b.into_iter().collect(), a.into_iter().collect());
        }
        (
            self.bids
                .iter()
                .rev()
                .take(n)
                .map(|(p, q)| (*p, *q))
                .collect(),
            self.asks.iter().take(n).map(|(p, q)| (*p, *q)).collect(),
        )
    }

    /// Submit an order at market time `now_us`; it reaches the book `order_latency` later.
    pub fn submit(
        &mut self,
        id: u64,
        side: Side,
        price: Option<i64>,
        qty: i64,
    ) -> Result<(), SubmitError> {
        if qty <= 0 {
            return Err(SubmitError::NonPositiveQuantity);
        }
        if price.is_some_and(|p| p <= 0) {
            return Err(SubmitError::NonPositivePrice);
        }
        if !self.ids.insert(id) {
            return Err(SubmitError::DuplicateId);
        }
        let order = SimOrder {
            id,
            side,
            price,
            remaining: qty,
            ahead: 0,
            taking: false,
        };
        let at = self.now_us.saturating_add(self.cfg.order_latency_us.max(0));
        self.arriving.push_back((at, order));
        Ok(())
    }

    /// Cancel an order at once; returns its unfilled quantity, or None if it is not open.
    pub fn cancel(&mut self, id: u64) -> Option<i64> {
        if let Some(i) = self.working.iter().position(|o| o.id == id) {
            return Some(self.working.remove(i).remaining);
        }
        if let Some(i) = self.arriving.iter().position(|(_, o)| o.id == id) {
            return self.arriving.remove(i).map(|(_, o)| o.remaining);
        }
        None
    }

    /// Let orders whose latency has passed by now reach the book at once (with no latency, the
    /// order just submitted), and hand back what that did; steps queued before are kept.
    pub fn settle(&mut self) -> Vec<Step> {
        let before = self.out.len();
        self.arrive(self.now_us);
        self.out.drain(before..).collect()
    }

    /// Run until there is something to hand back.
    pub fn advance(&mut self) -> Step {
        loop {
            if let Some(step) = self.out.pop_front() {
                return step;
            }
            if self.pos >= self.tape.len() {
                return Step::NeedData;
            }
            let t = self.tape.time_us[self.pos];
            if let Some(due) = self.timer_due(t) {
                self.now_us = due;
                self.arrive(due);
                self.out.push_back(Step::Timer { time_us: due });
                continue;
            }
            self.now_us = t;
            self.arrive(t);
            let i = self.pos;
            self.pos += 1;
            self.events += 1;
            let (kind, price, qty) = (self.tape.kind[i], self.tape.price[i], self.tape.qty[i]);
            match kind {
                TRADE_BUY | TRADE_SELL => self.on_trade(t, kind == TRADE_BUY, price, qty),
                BID => set_level(&mut self.bids, &mut self.taken_bids, price, qty),
                ASK => set_level(&mut self.asks, &mut self.taken_asks, price, qty),
                BOOK_END => {
                    self.taken_bids.stale.clear();
                    self.taken_asks.stale.clear();
                    self.on_book_end(t);
                }
                CLEAR => {
                    self.bids.clear();
                    self.asks.clear();
                    self.taken_bids.stale = std::mem::take(&mut self.taken_bids.now);
                    self.taken_asks.stale = std::mem::take(&mut self.taken_asks.now);
                }
                _ => {}
            }
        }
    }

    /// The timer tick due before an event at `t`, if any (ticks a gap in the data skipped are
    /// dropped, as the live runner drops them).
    fn timer_due(&mut self, t: i64) -> Option<i64> {
        if self.cfg.timer_us <= 0 {
            return None;
        }
        let Some(next) = self.next_timer_us else {
            self.next_timer_us = Some(t.saturating_add(self.cfg.timer_us));
            return None;
        };
        if t < next {
            return None;
        }
        let mut following = next.saturating_add(self.cfg.timer_us);
        while following <= t {
            following = following.saturating_add(self.cfg.timer_us);
        }
        self.next_timer_us = Some(following);
        Some(next)
    }

    /// Orders whose latency has passed reach the book.
    fn arrive(&mut self, t: i64) {
        while self.arriving.front().is_some_and(|(at, _)| *at <= t) {
            let Some((_, order)) = self.arriving.pop_front() else {
                break;
            };
            self.on_arrival(order, t);
        }
    }

    fn on_arrival(&mut self, mut order: SimOrder, t: i64) {
        let book_side_empty = match order.side {
            Side::Buy => self.asks.is_empty(),
            Side::Sell => self.bids.is_empty(),
        };
        if book_side_empty && self.bids.is_empty() && self.asks.is_empty() {
            // No book on this tape: a MARKET order, or a LIMIT at or through the last print of
            // the other side, takes the next prints; anything else rests.
            let marketable = match (order.side, order.price) {
                (_, None) => true,
                (Side::Buy, Some(p)) => self.last_buy_print.is_some_and(|(a, _)| p >= a),
                (Side::Sell, Some(p)) => self.last_sell_print.is_some_and(|(b, _)| p <= b),
            };
            order.taking = marketable;
            self.working.push(order);
            return;
        }
        // Walk the book as taker, consuming the levels it takes.
        let (levels, taken) = match order.side {
            Side::Buy => (&mut self.asks, &mut self.taken_asks),
            Side::Sell => (&mut self.bids, &mut self.taken_bids),
        };
        while order.remaining > 0 {
            let best = match order.side {
                Side::Buy => levels.iter().next().map(|(p, q)| (*p, *q)),
                Side::Sell => levels.iter().next_back().map(|(p, q)| (*p, *q)),
            };
            let Some((price, avail)) = best else { break };
            let crosses = match (order.side, order.price) {
                (_, None) => true,
                (Side::Buy, Some(limit)) => price <= limit,
                (Side::Sell, Some(limit)) => price >= limit,
            };
            if !crosses {
                break;
            }
            let take = avail.min(order.remaining);
            order.remaining -= take;
            consume(levels, taken, price, take, avail);
            self.out.push_back(Step::Fill {
                id: order.id,
                time_us: t,
                price,
                qty: take,
                maker: false,
            });
        }
        if order.remaining == 0 {
            return;
        }
        match order.price {
            None => self.out.push_back(Step::Expired {
                id: order.id,
                time_us: t,
            }),
            Some(p) => {
                let same = match order.side {
                    Side::Buy => &self.bids,
                    Side::Sell => &self.asks,
                };
                order.ahead = same.get(&p).copied().unwrap_or(0);
                self.working.push(order);
            }
        }
    }

    fn on_trade(&mut self, t: i64, buyer_taker: bool, price: i64, qty: i64) {
        if buyer_taker {
            self.last_buy_print = Some((price, qty));
            if let Some((b, q)) = self.last_sell_print {
                if b > price {
                    self.last_sell_print = Some((price, q));
                }
            }
        } else {
            self.last_sell_print = Some((price, qty));
            if let Some((a, q)) = self.last_buy_print {
                if a < price {
                    self.last_buy_print = Some((price, q));
                }
            }
        }
        if !self.working.is_empty() {
            self.match_print(t, buyer_taker, price, qty);
        }
        if self.bids.is_empty() && self.asks.is_empty() {
            self.top_dirty = true;
            self.maybe_book(t);
        }
        if self.cfg.trades {
            self.out.push_back(Step::Trade {
                time_us: t,
                price,
                qty,
                buyer_taker,
            });
        }
    }

    /// The strategy's takers of the aggressor's side join the print's sweep (there is no book
    /// to walk); returns what is left of the print.
    fn take_print(&mut self, t: i64, buyer_taker: bool, price: i64, qty: i64) -> i64 {
        let mut left = qty;
        let taker_side = if buyer_taker { Side::Buy } else { Side::Sell };
        let mut filled_out: Vec<usize> = Vec::new();
        for (i, o) in self.working.iter_mut().enumerate() {
            if left <= 0 {
                break;
            }
            if !o.taking || o.side != taker_side {
                continue;
            }
            let within = match (o.side, o.price) {
                (_, None) => true,
                (Side::Buy, Some(l)) => price <= l,
                (Side::Sell, Some(l)) => price >= l,
            };
            if !within {
                o.taking = false; // the market moved away: the limit rests from here on
                continue;
            }
            let take = o.remaining.min(left);
            left -= take;
            o.remaining -= take;
            self.out.push_back(Step::Fill {
                id: o.id,
                time_us: t,
                price,
                qty: take,
                maker: false,
            });
            if o.remaining == 0 {
                filled_out.push(i);
            }
        }
        remove_indices(&mut self.working, &filled_out);
        left
    }

    /// A print of `qty` at `price`: the strategy's takers of the same side take from it, then
    /// its resting orders of the other side fill as the model says.
    fn match_print(&mut self, t: i64, buyer_taker: bool, price: i64, qty: i64) {
        let model = self.cfg.fill_model;
        let mut left = if self.working.iter().any(|o| o.taking) {
            self.take_print(t, buyer_taker, price, qty)
        } else {
            qty
        };
        // Resting orders on the maker side: buys when the taker sold, sells when it bought.
        let maker_side = if buyer_taker { Side::Sell } else { Side::Buy };
        let queue = model == FillModel::Queue;
        let reachable = self.working.iter().any(|o| {
            o.side == maker_side
                && !o.taking
                && o.price.is_some_and(|l| match maker_side {
                    Side::Buy => price < l || (queue && price == l),
                    Side::Sell => price > l || (queue && price == l),
                })
        });
        if !reachable {
            return;
        }
        let mut order: Vec<usize> = (0..self.working.len())
            .filter(|&i| {
                let o = &self.working[i];
                o.side == maker_side && !o.taking && o.price.is_some()
            })
            .collect();
        if order.is_empty() {
            return;
        }
        // Best price first (highest buy, lowest sell), then time priority (index order).
        order.sort_by_key(|&i| {
            let p = self.working[i].price.unwrap_or(0);
            (if maker_side == Side::Buy { -p } else { p }, i)
        });
        let mut done: Vec<usize> = Vec::new();
        for i in order {
            let o = &mut self.working[i];
            let Some(limit) = o.price else { continue };
            let through = match maker_side {
                Side::Buy => price < limit,
                Side::Sell => price > limit,
            };
            let take = if through {
                match model {
                    FillModel::Touch => o.remaining,
                    FillModel::TradeThrough | FillModel::Queue => o.remaining.min(left),
                }
            } else if price == limit && model == FillModel::Queue && left > 0 {
                // The print eats the queue ahead first.
                let eaten = o.ahead.min(left);
                o.ahead -= eaten;
                left -= eaten;
                if o.ahead > 0 {
                    0
                } else {
                    o.remaining.min(left)
                }
            } else {
                0
            };
            if take <= 0 {
                continue;
            }
            if model != FillModel::Touch {
                left -= take;
            }
            o.remaining -= take;
            self.out.push_back(Step::Fill {
                id: o.id,
                time_us: t,
                price: limit,
                qty: take,
                maker: true,
            });
            if o.remaining == 0 {
                done.push(i);
            }
        }
        done.sort_unstable();
        remove_indices(&mut self.working, &done);
    }

    fn on_book_end(&mut self, t: i64) {
        if !self.working.is_empty() {
            self.match_book(t);
        }
        let top = (
            self.bids.keys().next_back().copied(),
            self.asks.keys().next().copied(),
        );
        if top != self.top {
            self.top = top;
            self.top_dirty = true;
        }
        // A queue shrinks when its level does (cancels ahead of the order).
        if self.cfg.fill_model == FillModel::Queue {
            for o in &mut self.working {
                if let Some(p) = o.price {
                    let level = match o.side {
                        Side::Buy => self.bids.get(&p),
                        Side::Sell => self.asks.get(&p),
                    };
                    o.ahead = o.ahead.min(level.copied().unwrap_or(0));
                }
            }
        }
        self.maybe_book(t);
    }

    /// Resting orders the book now crosses fill from the crossing levels (consumed as they give).
    fn match_book(&mut self, t: i64) {
        let model = self.cfg.fill_model;
        let mut done: Vec<usize> = Vec::new();
        for (i, o) in self.working.iter_mut().enumerate() {
            let Some(limit) = o.price else { continue };
            if o.taking {
                continue;
            }
            let (levels, taken) = match o.side {
                Side::Buy => (&mut self.asks, &mut self.taken_asks),
                Side::Sell => (&mut self.bids, &mut self.taken_bids),
            };
            loop {
                if o.remaining == 0 {
                    break;
                }
                let best = match o.side {
                    Side::Buy => levels.iter().next().map(|(p, q)| (*p, *q)),
                    Side::Sell => levels.iter().next_back().map(|(p, q)| (*p, *q)),
                };
                let Some((price, avail)) = best else { break };
                let crosses = match o.side {
                    Side::Buy => price <= limit,
                    Side::Sell => price >= limit,
                };
                if !crosses {
                    break;
                }
                let take = match model {
                    FillModel::Touch => o.remaining,
                    FillModel::TradeThrough | FillModel::Queue => o.remaining.min(avail),
                };
                o.remaining -= take;
                consume(levels, taken, price, take, avail);
                self.out.push_back(Step::Fill {
                    id: o.id,
                    time_us: t,
                    price: limit,
                    qty: take,
                    maker: true,
                });
                if model == FillModel::Touch {
                    break;
                }
            }
            if o.remaining == 0 {
                done.push(i);
            }
        }
        remove_indices(&mut self.working, &done);
    }

    fn maybe_book(&mut self, t: i64) {
        let Some(every) = self.cfg.book_every_us else {
            return;
        };
        if !self.top_dirty || (every > 0 && t.saturating_sub(self.last_book_us) < every) {
            return;
        }
        self.top_dirty = false;
        self.last_book_us = t;
        self.out.push_back(Step::Book { time_us: t });
    }
}

/// What the strategy took from one side's levels: `now` for the book as it stands, `stale`
/// for the book before a snapshot, until the snapshot has set its levels again.
#[derive(Debug, Default)]
struct Taken {
    now: BTreeMap<i64, i64>,
    stale: BTreeMap<i64, i64>,
}

/// The market sets a level to `qty`: what the strategy took from it stays taken, up to `qty`
/// (the level shrank: others took or cancelled the rest), and is gone with the level.
fn set_level(levels: &mut BTreeMap<i64, i64>, taken: &mut Taken, price: i64, qty: i64) {
    let was_taken = taken
        .now
        .remove(&price)
        .or_else(|| taken.stale.remove(&price))
        .unwrap_or(0);
    if qty <= 0 {
        levels.remove(&price);
        return;
    }
    let still = was_taken.min(qty);
    if still > 0 {
        taken.now.insert(price, still);
    }
    if qty > still {
        levels.insert(price, qty - still);
    } else {
        levels.remove(&price);
    }
}

/// The strategy takes `take` of the `avail` shown at `price`.
fn consume(levels: &mut BTreeMap<i64, i64>, taken: &mut Taken, price: i64, take: i64, avail: i64) {
    if take >= avail {
        levels.remove(&price);
    } else if let Some(q) = levels.get_mut(&price) {
        *q -= take;
    }
    *taken.now.entry(price).or_insert(0) += take.min(avail);
}

/// Remove the elements at `indices` (sorted ascending), keeping the others' order.
fn remove_indices<T>(v: &mut Vec<T>, indices: &[usize]) {
    for &i in indices.iter().rev() {
        v.remove(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: i64 = crate::sim::tape::UNIT;

    fn cfg(model: FillModel) -> EngineConfig {
        EngineConfig {
            fill_model: model,
            order_latency_us: 0,
            book_every_us: None,
            trades: false,
            timer_us: 0,
        }
    }

    fn run(engine: &mut Engine) -> Vec<Step> {
        let mut out = Vec::new();
        loop {
            match engine.advance() {
                Step::NeedData => return out,
                s => out.push(s),
            }
        }
    }

    fn fills(steps: &[Step]) -> Vec<(u64, i64, i64, bool)> {
        steps
            .iter()
            .filter_map(|s| match *s {
                Step::Fill {
                    id,
                    price,
                    qty,
                    maker,
                    ..
                } => Some((id, price, qty, maker)),
                _ => None,
            })
            .collect()
    }

    fn trades(rows: &[(u8, i64, i64, i64)]) -> Tape {
        let mut t = Tape::default();
        for &(k, time, p, q) in rows {
            t.push(k, time, p, q);
        }
        t
    }

    /// A resting buy at 100 with 1.0: a 0.3 print through it fills 0.3, not 1.0.
    #[test]
    fn trade_through_caps_by_print() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(trades(&[(TRADE_SELL, 1, 101 * U, U)]));
        run(&mut e);
        e.submit(1, Side::Buy, Some(100 * U), U).unwrap();
        e.feed(trades(&[
            (TRADE_SELL, 2, 100 * U, 5 * U), // at the price: no fill
            (TRADE_SELL, 3, 99 * U, 3 * U / 10),
            (TRADE_SELL, 4, 99 * U, U),
        ]));
        let f = fills(&run(&mut e));
        assert_eq!(
            f,
            vec![
                (1, 100 * U, 3 * U / 10, true),
                (1, 100 * U, 7 * U / 10, true)
            ]
        );
        assert_eq!(e.open_orders(), 0);
    }

    /// Touch fills the whole order on the first print through it.
    #[test]
    fn touch_fills_in_full() {
        let mut e = Engine::new(cfg(FillModel::Touch));
        e.feed(trades(&[(TRADE_SELL, 1, 101 * U, U)]));
        run(&mut e);
        e.submit(1, Side::Buy, Some(100 * U), 5 * U).unwrap();
        e.feed(trades(&[(TRADE_SELL, 3, 99 * U, U / 100)]));
        assert_eq!(fills(&run(&mut e)), vec![(1, 100 * U, 5 * U, true)]);
    }

    /// One print is shared once between two resting orders, the better price first.
    #[test]
    fn one_print_serves_once() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(trades(&[(TRADE_SELL, 1, 105 * U, U)]));
        run(&mut e);
        e.submit(1, Side::Buy, Some(100 * U), U).unwrap();
        e.submit(2, Side::Buy, Some(101 * U), U).unwrap();
        e.feed(trades(&[(TRADE_SELL, 2, 99 * U, 3 * U / 2)]));
        assert_eq!(
            fills(&run(&mut e)),
            vec![(2, 101 * U, U, true), (1, 100 * U, U / 2, true)]
        );
    }

    /// An order cannot fill on a print before its latency has passed.
    #[test]
    fn latency_no_look_ahead() {
        let mut c = cfg(FillModel::TradeThrough);
        c.order_latency_us = 10;
        let mut e = Engine::new(c);
        e.feed(trades(&[(TRADE_SELL, 100, 101 * U, U)]));
        run(&mut e);
        e.submit(1, Side::Buy, Some(100 * U), U).unwrap();
        e.feed(trades(&[
            (TRADE_SELL, 105, 90 * U, U), // before arrival at 110
            (TRADE_SELL, 110, 95 * U, U / 4),
        ]));
        assert_eq!(fills(&run(&mut e)), vec![(1, 100 * U, U / 4, true)]);
    }

    /// Queue: the order waits behind the level's size when it arrived.
    #[test]
    fn queue_position() {
        let mut e = Engine::new(cfg(FillModel::Queue));
        e.feed(trades(&[
            (CLEAR, 1, 0, 0),
            (BID, 1, 100 * U, 2 * U),
            (ASK, 1, 101 * U, U),
            (BOOK_END, 1, 0, 0),
        ]));
        run(&mut e);
        e.submit(1, Side::Buy, Some(100 * U), U).unwrap();
        e.feed(trades(&[
            (TRADE_SELL, 2, 100 * U, U), // 1 of 2 ahead traded
            (BID, 3, 100 * U, U / 2),    // a cancel ahead: 0.5 left ahead
            (BOOK_END, 3, 0, 0),
            (TRADE_SELL, 4, 100 * U, U), // 0.5 eats the queue, 0.5 fills
        ]));
        assert_eq!(fills(&run(&mut e)), vec![(1, 100 * U, U / 2, true)]);
    }

    /// A MARKET order walks the book; what it cannot fill expires.
    #[test]
    fn market_walks_and_expires() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(trades(&[
            (CLEAR, 1, 0, 0),
            (ASK, 1, 101 * U, U),
            (ASK, 1, 102 * U, U),
            (BID, 1, 100 * U, U),
            (BOOK_END, 1, 0, 0),
        ]));
        run(&mut e);
        e.submit(7, Side::Buy, None, 3 * U).unwrap();
        e.feed(trades(&[(TRADE_BUY, 2, 101 * U, U / 10)]));
        let steps = run(&mut e);
        assert_eq!(
            fills(&steps),
            vec![(7, 101 * U, U, false), (7, 102 * U, U, false)]
        );
        assert!(steps.contains(&Step::Expired { id: 7, time_us: 2 }));
    }

    /// Without a book, a MARKET buy takes the next buy prints, capped by their size.
    #[test]
    fn market_without_book_takes_prints() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(trades(&[(TRADE_BUY, 1, 101 * U, U)]));
        run(&mut e);
        e.submit(1, Side::Buy, None, U).unwrap();
        e.feed(trades(&[
            (TRADE_SELL, 2, 100 * U, 5 * U),
            (TRADE_BUY, 3, 102 * U, U / 4),
            (TRADE_BUY, 4, 103 * U, U),
        ]));
        assert_eq!(
            fills(&run(&mut e)),
            vec![(1, 102 * U, U / 4, false), (1, 103 * U, 3 * U / 4, false)]
        );
    }

    /// A crossing level shown again by the next snapshot does not fill twice; when it grows,
    /// only the new quantity is offered.
    #[test]
    fn a_level_fills_once_across_snapshots() {
        let snapshot = |t: i64, ask_qty: i64| {
            trades(&[
                (CLEAR, t, 0, 0),
                (BID, t, 99 * U, U),
                (ASK, t, 100 * U, ask_qty),
                (BOOK_END, t, 0, 0),
            ])
        };
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(snapshot(1, 5 * U));
        run(&mut e);
        e.submit(1, Side::Sell, Some(101 * U), 5 * U).unwrap();
        e.feed(trades(&[(TRADE_BUY, 2, 101 * U, U)])); // at the price: nothing
        run(&mut e);
        e.feed(trades(&[
            (CLEAR, 3, 0, 0),
            (BID, 3, 102 * U, U), // the bid jumps over the sell: 1 offered
            (ASK, 3, 103 * U, U),
            (BOOK_END, 3, 0, 0),
        ]));
        assert_eq!(fills(&run(&mut e)), vec![(1, 101 * U, U, true)]);
        e.feed(trades(&[
            (CLEAR, 4, 0, 0),
            (BID, 4, 102 * U, U), // the same 1 again: already taken
            (ASK, 4, 103 * U, U),
            (BOOK_END, 4, 0, 0),
        ]));
        assert_eq!(fills(&run(&mut e)), vec![]);
        e.feed(trades(&[
            (BID, 5, 102 * U, 3 * U), // 2 more arrive
            (BOOK_END, 5, 0, 0),
        ]));
        assert_eq!(fills(&run(&mut e)), vec![(1, 101 * U, 2 * U, true)]);
    }

    /// Timers fire in market time, skipping ticks inside a gap.
    #[test]
    fn timers_in_market_time() {
        let mut c = cfg(FillModel::TradeThrough);
        c.timer_us = 1_000_000;
        let mut e = Engine::new(c);
        e.feed(trades(&[
            (TRADE_BUY, 0, U, U),
            (TRADE_BUY, 1_500_000, U, U),
            (TRADE_BUY, 9_000_000, U, U),
        ]));
        let timers: Vec<i64> = run(&mut e)
            .into_iter()
            .filter_map(|s| match s {
                Step::Timer { time_us } => Some(time_us),
                _ => None,
            })
            .collect();
        assert_eq!(timers, vec![1_000_000, 2_000_000]);
    }
}
