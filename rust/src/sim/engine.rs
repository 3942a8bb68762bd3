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
    /// A MARKET order's remainder expired (a triggered stop-market's too): the book it met
    /// could not fill it.
    Expired { id: u64, time_us: i64 },
    /// An order was refused when it reached the exchange (after the order latency): the market
    /// had moved so that it broke its type's rule there.
    Rejected {
        id: u64,
        time_us: i64,
        reason: Refusal,
    },
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

/// Why the exchange refuses an order of a valid form, as Binance does (-2010).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A post-only (`LIMIT_MAKER`) order would cross the book and take.
    WouldTake,
    /// A stop-limit order's stop price is already reached by the last trade price.
    WouldTrigger,
}

impl Refusal {
    /// Binance's message for the refusal (code -2010).
    #[must_use]
    pub fn message(self) -> &'static str {
        match self {
            Refusal::WouldTake => "Order would immediately match and take.",
            Refusal::WouldTrigger => "Order would trigger immediately.",
        }
    }
}

/// A stop price and the direction of the last trade price that reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trigger {
    /// The stop price, in 10^-8 units.
    pub price: i64,
    /// True: reached when the last price is at or above the stop price; false: at or below.
    pub rising: bool,
}

impl Trigger {
    /// A `STOP_LOSS(_LIMIT)`'s trigger: a BUY when the price rises to the stop, a SELL when it
    /// falls to it.
    #[must_use]
    pub fn stop_loss(side: Side, price: i64) -> Self {
        Trigger {
            price,
            rising: side == Side::Buy,
        }
    }

    /// A `TAKE_PROFIT(_LIMIT)`'s trigger: a BUY when the price falls to the stop, a SELL when
    /// it rises to it.
    #[must_use]
    pub fn take_profit(side: Side, price: i64) -> Self {
        Trigger {
            price,
            rising: side == Side::Sell,
        }
    }

    /// Whether the last trade price `last` reaches the stop.
    #[must_use]
    pub fn reached(self, last: i64) -> bool {
        if self.rising {
            last >= self.price
        } else {
            last <= self.price
        }
    }
}

/// What makes an order more than a LIMIT or MARKET order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderOptions {
    /// `LIMIT_MAKER`: refused instead of taking.
    pub post_only: bool,
    /// A stop order: held off the book until the last trade price reaches the stop, then a
    /// LIMIT (GTC) at its price (`STOP_LOSS_LIMIT`, `TAKE_PROFIT_LIMIT`), or without a price
    /// a MARKET order (`STOP_LOSS`, `TAKE_PROFIT`) that walks the book it meets then as taker.
    pub stop: Option<Trigger>,
}

/// Why an order was refused by the engine (the account checks everything else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitError {
    DuplicateId,
    NonPositiveQuantity,
    NonPositivePrice,
    /// A post-only order without a limit price.
    NoLimitPrice,
    /// A tape that starts before the end of the last one.
    TimeBackwards,
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SubmitError::DuplicateId => "an order with this id was already submitted",
            SubmitError::NonPositiveQuantity => "the quantity must be positive",
            SubmitError::NonPositivePrice => "the price must be positive",
            SubmitError::NoLimitPrice => "a post-only order needs a limit price",
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
    /// Quantity ahead of the order in its price level's queue (`Queue` model); None while the
    /// book the engine holds does not reach the order's price (it joined a level nobody showed).
    ahead: Option<i64>,
    /// True while the order takes liquidity (it arrived marketable on a tape without a book).
    taking: bool,
    post_only: bool,
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
    /// Stop orders at the exchange waiting for their trigger, in arrival order.
    stops: Vec<(Trigger, SimOrder)>,
    /// Stop orders submitted, not yet arrived, by id.
    arriving_stops: std::collections::HashMap<u64, Trigger>,
    /// The last trade price: what stop orders trigger on.
    last_trade: Option<i64>,
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
            stops: Vec::new(),
            arriving_stops: std::collections::HashMap::new(),
            last_trade: None,
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

    /// Orders submitted, working or waiting for their trigger.
    #[must_use]
    pub fn open_orders(&self) -> usize {
        self.arriving.len() + self.working.len() + self.stops.len()
    }

    /// The last trade price seen, if any.
    #[must_use]
    pub fn last_trade(&self) -> Option<i64> {
        self.last_trade
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

    /// Submit a LIMIT (`price`) or MARKET (`None`) order at market time `now_us`; it reaches
    /// the book `order_latency` later.
    pub fn submit(
        &mut self,
        id: u64,
        side: Side,
        price: Option<i64>,
        qty: i64,
    ) -> Result<(), SubmitError> {
        self.submit_with(id, side, price, qty, OrderOptions::default())
            .map(|_| ())
    }

    /// Submit an order of any type at market time `now_us`; it reaches the exchange
    /// `order_latency` later. `Ok(Some(refusal))`: the exchange as the strategy sees it now
    /// refuses it (a post-only order that would take, a stop the last trade price already
    /// reached), and nothing is submitted. The same rule is applied again on arrival, where a
    /// refusal comes back as [`Step::Rejected`].
    pub fn submit_with(
        &mut self,
        id: u64,
        side: Side,
        price: Option<i64>,
        qty: i64,
        options: OrderOptions,
    ) -> Result<Option<Refusal>, SubmitError> {
        if qty <= 0 {
            return Err(SubmitError::NonPositiveQuantity);
        }
        if price.is_some_and(|p| p <= 0) || options.stop.is_some_and(|s| s.price <= 0) {
            return Err(SubmitError::NonPositivePrice);
        }
        let Some(limit) = price.or((!options.post_only).then_some(0)) else {
            return Err(SubmitError::NoLimitPrice);
        };
        if self.ids.contains(&id) {
            return Err(SubmitError::DuplicateId);
        }
        if let Some(refusal) = self.refusal(side, limit, options) {
            return Ok(Some(refusal));
        }
        self.ids.insert(id);
        let order = SimOrder {
            id,
            side,
            price,
            remaining: qty,
            ahead: None,
            taking: false,
            post_only: options.post_only,
        };
        if let Some(trigger) = options.stop {
            self.arriving_stops.insert(id, trigger);
        }
        let at = self.now_us.saturating_add(self.cfg.order_latency_us.max(0));
        self.arriving.push_back((at, order));
        Ok(None)
    }

    /// Whether the exchange, as it stands, refuses an order of this kind.
    fn refusal(&self, side: Side, limit: i64, options: OrderOptions) -> Option<Refusal> {
        if let Some(trigger) = options.stop {
            return self
                .last_trade
                .is_some_and(|last| trigger.reached(last))
                .then_some(Refusal::WouldTrigger);
        }
        (options.post_only && self.would_take(side, limit)).then_some(Refusal::WouldTake)
    }

    /// Whether a LIMIT order at `limit` would take on arrival now: the book's opposite best
    /// reaches it, or on a tape without a book the last print of the other side does.
    fn would_take(&self, side: Side, limit: i64) -> bool {
        if self.bids.is_empty() && self.asks.is_empty() {
            return match side {
                Side::Buy => self.last_buy_print.is_some_and(|(a, _)| limit >= a),
                Side::Sell => self.last_sell_print.is_some_and(|(b, _)| limit <= b),
            };
        }
        match side {
            Side::Buy => self.asks.keys().next().is_some_and(|a| *a <= limit),
            Side::Sell => self.bids.keys().next_back().is_some_and(|b| *b >= limit),
        }
    }

    /// Cancel an order at once (working, waiting for its trigger, or on its way); returns its
    /// unfilled quantity, or None if it is not open.
    pub fn cancel(&mut self, id: u64) -> Option<i64> {
        if let Some(i) = self.working.iter().position(|o| o.id == id) {
            return Some(self.working.remove(i).remaining);
        }
        if let Some(i) = self.stops.iter().position(|(_, o)| o.id == id) {
            return Some(self.stops.remove(i).1.remaining);
        }
        if let Some(i) = self.arriving.iter().position(|(_, o)| o.id == id) {
            self.arriving_stops.remove(&id);
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
        self.advance_until(None).unwrap_or(Step::NeedData)
    }

    /// As [`Engine::advance`], but leave every row at or after `until_us` (if given) for
    /// later: a driver of several engines (one per symbol) moves each only as far as the
    /// others, so no symbol's market is processed ahead of another's. Steps already queued are
    /// handed back first; a timer tick due before the next row waits for that row, as in
    /// `advance`. Feeding the next tape is allowed only after [`Step::NeedData`].
    ///
    /// # Errors
    ///
    /// `Err(t)`: nothing to hand back before the bound; the next row, at `t >= until_us`, is
    /// left unprocessed (not an error of the data: the caller's signal to move another engine).
    pub fn advance_until(&mut self, until_us: Option<i64>) -> Result<Step, i64> {
        loop {
            if let Some(step) = self.out.pop_front() {
                return Ok(step);
            }
            if self.pos >= self.tape.len() {
                return Ok(Step::NeedData);
            }
            let t = self.tape.time_us[self.pos];
            if until_us.is_some_and(|until| t >= until) {
                return Err(t);
            }
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
            let trigger = if self.arriving_stops.is_empty() {
                None
            } else {
                self.arriving_stops.remove(&order.id)
            };
            if let Some(trigger) = trigger {
                if self.last_trade.is_some_and(|last| trigger.reached(last)) {
                    self.reject(order.id, t, Refusal::WouldTrigger);
                } else {
                    self.stops.push((trigger, order));
                }
                continue;
            }
            if order.post_only && order.price.is_some_and(|p| self.would_take(order.side, p)) {
                self.reject(order.id, t, Refusal::WouldTake);
                continue;
            }
            self.on_arrival(order, t);
        }
    }

    #[cold]
    fn reject(&mut self, id: u64, time_us: i64, reason: Refusal) {
        self.out.push_back(Step::Rejected {
            id,
            time_us,
            reason,
        });
    }

    /// Stop orders the last trade price reached become LIMIT (or, without a price, MARKET)
    /// orders now, in the order they arrived; each meets the market as it stands after the
    /// print that triggered it.
    fn trigger_stops(&mut self, t: i64, last: i64) {
        if !self.stops.iter().any(|(trigger, _)| trigger.reached(last)) {
            return;
        }
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.stops)
            .into_iter()
            .partition(|(trigger, _)| trigger.reached(last));
        self.stops = waiting;
        for (_, order) in ready {
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
                order.ahead = queue_ahead(order.side, p, &self.bids, &self.asks);
                self.working.push(order);
            }
        }
    }

    fn on_trade(&mut self, t: i64, buyer_taker: bool, price: i64, qty: i64) {
        self.clear_through(buyer_taker, price, qty);
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
        self.last_trade = Some(price);
        if !self.stops.is_empty() {
            self.trigger_stops(t, price);
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

    /// A trade at `price` proves the levels it went through are gone: a sell print at `p`
    /// leaves no bid above `p` (and `qty` less at `p`), a buy print no ask below. The book the
    /// engine holds lags the trades (depth comes every 100 ms); without this, a strategy could
    /// sell into bids the market had already taken.
    fn clear_through(&mut self, buyer_taker: bool, price: i64, qty: i64) {
        let (levels, taken) = if buyer_taker {
            (&mut self.asks, &mut self.taken_asks)
        } else {
            (&mut self.bids, &mut self.taken_bids)
        };
        if levels.is_empty() {
            return;
        }
        let gone: Vec<i64> = if buyer_taker {
            levels.range(..price).map(|(p, _)| *p).collect()
        } else {
            levels.range(price + 1..).map(|(p, _)| *p).collect()
        };
        for p in gone {
            levels.remove(&p);
            taken.now.remove(&p);
        }
        if let Some(q) = levels.get_mut(&price) {
            *q -= qty.min(*q);
            if *q == 0 {
                levels.remove(&price);
            }
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
                // The print eats the queue ahead first (an unknown queue: no fill).
                match o.ahead {
                    None => 0,
                    Some(ahead) => {
                        let eaten = ahead.min(left);
                        o.ahead = Some(ahead - eaten);
                        left -= eaten;
                        if ahead > eaten {
                            0
                        } else {
                            o.remaining.min(left)
                        }
                    }
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
        // A queue shrinks when its level does (cancels ahead of the order); an unknown queue
        // is the level's size once the book reaches the order's price.
        if self.cfg.fill_model == FillModel::Queue {
            for o in &mut self.working {
                if let Some(p) = o.price {
                    let now = queue_ahead(o.side, p, &self.bids, &self.asks);
                    o.ahead = match (o.ahead, now) {
                        (Some(a), Some(n)) => Some(a.min(n)),
                        (Some(a), None) => Some(a),
                        (None, n) => n,
                    };
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
                if model != FillModel::Touch {
                    // touch ignores sizes: the book stays as the market shows it
                    consume(levels, taken, price, take, avail);
                }
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

/// The queue at `price` on an order's side as the book shows it: the level's size, 0 for a price
/// inside the range the book covers with no level, None beyond it (not shown: unknown).
fn queue_ahead(
    side: Side,
    price: i64,
    bids: &BTreeMap<i64, i64>,
    asks: &BTreeMap<i64, i64>,
) -> Option<i64> {
    let same = match side {
        Side::Buy => bids,
        Side::Sell => asks,
    };
    if let Some(q) = same.get(&price) {
        return Some(*q);
    }
    let covered = match side {
        Side::Buy => bids.keys().next().is_some_and(|lowest| price > *lowest),
        Side::Sell => asks
            .keys()
            .next_back()
            .is_some_and(|highest| price < *highest),
    };
    covered.then_some(0)
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

    /// `advance_until` processes no row at or after its bound and says where it stopped; the
    /// rows left are processed by the next call, exactly as `advance` would have.
    #[test]
    fn advance_until_stops_before_the_bound() {
        let config = EngineConfig {
            trades: true,
            ..cfg(FillModel::TradeThrough)
        };
        let rows = [
            (TRADE_SELL, 10, 101 * U, U),
            (TRADE_BUY, 20, 102 * U, U),
            (TRADE_SELL, 20, 99 * U, U),
            (TRADE_BUY, 30, 100 * U, U),
        ];
        let mut whole = Engine::new(config);
        whole.feed(trades(&rows));
        let expected = run(&mut whole);
        let mut e = Engine::new(config);
        e.feed(trades(&rows));
        let mut got = Vec::new();
        let mut stops = Vec::new();
        for until in [5, 20, 21, 21, 40] {
            loop {
                match e.advance_until(Some(until)) {
                    Ok(Step::NeedData) => break,
                    Ok(step) => got.push(step),
                    Err(next) => {
                        assert!(next >= until);
                        stops.push((until, next, e.now_us(), e.events()));
                        break;
                    }
                }
            }
        }
        assert_eq!(got, expected);
        // Stopped before 10 (nothing read), before both rows at 20, before 30 (twice: a call
        // with the same bound does nothing), then the tape was used up. Market time stays the
        // last row's: an order placed now counts its latency from there, as on paper.
        assert_eq!(
            stops,
            vec![
                (5, 10, 0, 0),
                (20, 20, 10, 1),
                (21, 30, 20, 3),
                (21, 30, 20, 3)
            ]
        );
        assert_eq!(e.advance_until(Some(i64::MIN)), Ok(Step::NeedData));
    }

    /// An order cannot fill on a row beyond the bound, and a timer tick waits for its row.
    #[test]
    fn advance_until_neither_fills_nor_ticks_beyond_the_bound() {
        let mut e = Engine::new(EngineConfig {
            timer_us: 15,
            ..cfg(FillModel::TradeThrough)
        });
        e.feed(trades(&[
            (TRADE_SELL, 10, 101 * U, U),
            (TRADE_SELL, 40, 99 * U, U),
        ]));
        assert_eq!(e.advance_until(Some(40)), Err(40));
        e.submit(1, Side::Buy, Some(100 * U), U).unwrap();
        assert_eq!(e.advance_until(Some(40)), Err(40)); // the tick due at 25 waits for row 40
        assert_eq!(e.open_orders(), 1);
        assert_eq!(e.advance_until(Some(41)), Ok(Step::Timer { time_us: 25 }));
        assert_eq!(
            fills(&[e.advance_until(Some(41)).unwrap()]),
            vec![(1, 100 * U, U, true)]
        );
        assert_eq!(e.advance_until(Some(41)), Ok(Step::NeedData));
        assert_eq!(e.advance(), Step::NeedData);
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

    /// Queue: an order at a price the book does not reach has an unknown queue: prints at its
    /// price do not fill it until the book shows the level (then it waits behind that).
    #[test]
    fn queue_unknown_until_the_level_shows() {
        let mut e = Engine::new(cfg(FillModel::Queue));
        e.feed(trades(&[
            (CLEAR, 1, 0, 0),
            (BID, 1, 100 * U, U),
            (ASK, 1, 101 * U, U),
            (BOOK_END, 1, 0, 0),
        ]));
        run(&mut e);
        e.submit(1, Side::Buy, Some(95 * U), U).unwrap();
        e.feed(trades(&[
            (TRADE_SELL, 2, 95 * U, 2 * U), // at the price, queue unknown: nothing
            (BID, 3, 95 * U, U),            // the level shows: 1 ahead
            (BOOK_END, 3, 0, 0),
            (TRADE_SELL, 4, 95 * U, 3 * U / 2), // 1 eats the queue, 0.5 fills
        ]));
        assert_eq!(fills(&run(&mut e)), vec![(1, 95 * U, U / 2, true)]);
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

    /// Trades through stale levels take them off the book: a marketable order placed after a
    /// sell print at 98 cannot sell into the 100 bid the print went through.
    #[test]
    fn prints_clear_the_levels_they_went_through() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(trades(&[
            (CLEAR, 1, 0, 0),
            (BID, 1, 100 * U, U),
            (BID, 1, 98 * U, 2 * U),
            (BID, 1, 97 * U, U),
            (ASK, 1, 101 * U, U),
            (BOOK_END, 1, 0, 0),
            (TRADE_SELL, 2, 98 * U, U / 2),
        ]));
        run(&mut e);
        assert_eq!(e.best().0, Some((98 * U, 3 * U / 2)));
        e.submit(1, Side::Sell, Some(97 * U), 2 * U).unwrap();
        e.feed(trades(&[(TRADE_SELL, 3, 98 * U, U / 100)]));
        assert_eq!(
            fills(&run(&mut e)),
            vec![(1, 98 * U, 3 * U / 2, false), (1, 97 * U, U / 2, false)]
        );
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

    fn book(t: i64, bid: i64, ask: i64) -> Tape {
        trades(&[
            (CLEAR, t, 0, 0),
            (BID, t, bid, U),
            (ASK, t, ask, U),
            (BOOK_END, t, 0, 0),
        ])
    }

    fn post_only() -> OrderOptions {
        OrderOptions {
            post_only: true,
            stop: None,
        }
    }

    fn stop(trigger: Trigger) -> OrderOptions {
        OrderOptions {
            post_only: false,
            stop: Some(trigger),
        }
    }

    /// Binance's trigger directions: a stop-loss buys on a rise and sells on a fall, a
    /// take-profit the other way round; the stop price itself triggers.
    #[test]
    fn trigger_directions() {
        assert!(Trigger::stop_loss(Side::Sell, 100).reached(100));
        assert!(Trigger::stop_loss(Side::Sell, 100).reached(99));
        assert!(!Trigger::stop_loss(Side::Sell, 100).reached(101));
        assert!(Trigger::stop_loss(Side::Buy, 100).reached(101));
        assert!(!Trigger::stop_loss(Side::Buy, 100).reached(99));
        assert!(Trigger::take_profit(Side::Sell, 100).reached(101));
        assert!(!Trigger::take_profit(Side::Sell, 100).reached(99));
        assert!(Trigger::take_profit(Side::Buy, 100).reached(99));
        assert!(!Trigger::take_profit(Side::Buy, 100).reached(101));
    }

    /// A post-only order that would cross is refused at submit and is not open; one that does
    /// not cross rests and fills as maker.
    #[test]
    fn post_only_refused_or_rests_as_maker() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(book(1, 100 * U, 101 * U));
        run(&mut e);
        assert_eq!(
            e.submit_with(1, Side::Buy, Some(101 * U), U, post_only()),
            Ok(Some(Refusal::WouldTake))
        );
        assert_eq!(e.open_orders(), 0);
        assert_eq!(
            e.submit_with(2, Side::Sell, Some(100 * U), U, post_only()),
            Ok(Some(Refusal::WouldTake))
        );
        assert_eq!(
            e.submit_with(3, Side::Buy, Some(100 * U), U, post_only()),
            Ok(None)
        );
        assert!(e.settle().is_empty());
        e.feed(trades(&[(TRADE_SELL, 2, 99 * U, 2 * U)]));
        assert_eq!(fills(&run(&mut e)), vec![(3, 100 * U, U, true)]);
    }

    /// Without a book, a post-only order is judged against the last prints.
    #[test]
    fn post_only_without_book_uses_the_prints() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(trades(&[
            (TRADE_BUY, 1, 101 * U, U),
            (TRADE_SELL, 1, 100 * U, U),
        ]));
        run(&mut e);
        assert_eq!(
            e.submit_with(1, Side::Buy, Some(101 * U), U, post_only()),
            Ok(Some(Refusal::WouldTake))
        );
        assert_eq!(
            e.submit_with(2, Side::Sell, Some(101 * U), U, post_only()),
            Ok(None)
        );
    }

    /// With latency, the rule is applied again when the order arrives: the market moved into
    /// the price meanwhile, and the order is rejected there.
    #[test]
    fn post_only_rejected_on_arrival() {
        let mut c = cfg(FillModel::TradeThrough);
        c.order_latency_us = 10;
        let mut e = Engine::new(c);
        e.feed(book(1, 100 * U, 102 * U));
        run(&mut e);
        assert_eq!(
            e.submit_with(1, Side::Buy, Some(101 * U), U, post_only()),
            Ok(None)
        );
        e.feed(trades(&[
            (ASK, 5, 101 * U, U), // the ask comes down to the price before it arrives
            (BOOK_END, 5, 0, 0),
            (TRADE_BUY, 11, 103 * U, U / 100),
        ]));
        let steps = run(&mut e);
        assert_eq!(
            steps,
            vec![Step::Rejected {
                id: 1,
                time_us: 11,
                reason: Refusal::WouldTake
            }]
        );
        assert_eq!(e.open_orders(), 0);
    }

    /// A stop-loss sell waits off the book until a trade at or below its stop, then works as
    /// a limit placed after that trade: the triggering print does not fill it. Below the
    /// market (no book on this tape), it takes the next sell prints down to its limit.
    #[test]
    fn stop_loss_sell_triggers_on_the_last_trade() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(trades(&[(TRADE_SELL, 1, 100 * U, U)]));
        run(&mut e);
        let trigger = Trigger::stop_loss(Side::Sell, 95 * U);
        assert_eq!(
            e.submit_with(1, Side::Sell, Some(94 * U), U, stop(trigger)),
            Ok(None)
        );
        assert!(e.settle().is_empty());
        e.feed(trades(&[
            (TRADE_SELL, 2, 96 * U, 5 * U), // above the stop: nothing
            (TRADE_SELL, 3, 95 * U, 5 * U), // the trigger: the order is placed after it
        ]));
        assert_eq!(fills(&run(&mut e)), vec![]);
        assert_eq!(e.open_orders(), 1);
        e.feed(trades(&[
            (TRADE_SELL, 4, 95 * U, U / 2),
            (TRADE_SELL, 5, 93 * U, U), // below the limit: not taken
        ]));
        assert_eq!(fills(&run(&mut e)), vec![(1, 95 * U, U / 2, false)]);
    }

    /// A stop-limit triggered above its limit (a take-profit-like sell placed after a rise)
    /// rests, and fills as maker when the market comes back through it.
    #[test]
    fn triggered_stop_rests_when_not_marketable() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(trades(&[
            (TRADE_SELL, 1, 100 * U, U),
            (TRADE_BUY, 1, 100 * U, U),
        ]));
        run(&mut e);
        let trigger = Trigger::stop_loss(Side::Buy, 102 * U);
        e.submit_with(1, Side::Buy, Some(101 * U), U, stop(trigger))
            .unwrap();
        e.feed(trades(&[
            (TRADE_BUY, 2, 102 * U, U), // the trigger; the limit 101 is below the market
            (TRADE_SELL, 3, 100 * U, U / 4),
        ]));
        assert_eq!(fills(&run(&mut e)), vec![(1, 101 * U, U / 4, true)]);
    }

    /// Triggered into a book it crosses, a stop-limit takes as a LIMIT order would.
    #[test]
    fn triggered_stop_takes_the_book() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(book(1, 100 * U, 101 * U));
        run(&mut e);
        let trigger = Trigger::stop_loss(Side::Sell, 99 * U);
        e.submit_with(1, Side::Sell, Some(97 * U), U, stop(trigger))
            .unwrap();
        e.feed(trades(&[
            (CLEAR, 2, 0, 0),
            (BID, 2, 98 * U, 2 * U),
            (ASK, 2, 99 * U, U),
            (BOOK_END, 2, 0, 0),
        ]));
        assert_eq!(fills(&run(&mut e)), vec![]); // a book change is not a trade
        e.feed(trades(&[(TRADE_SELL, 3, 98 * U, U / 2)]));
        assert_eq!(fills(&run(&mut e)), vec![(1, 98 * U, U, false)]);
    }

    /// A take-profit sell triggers on a rise to its stop.
    #[test]
    fn take_profit_sell_triggers_on_a_rise() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(trades(&[(TRADE_SELL, 1, 100 * U, U)]));
        run(&mut e);
        let trigger = Trigger::take_profit(Side::Sell, 105 * U);
        e.submit_with(1, Side::Sell, Some(105 * U), U, stop(trigger))
            .unwrap();
        e.feed(trades(&[
            (TRADE_SELL, 2, 90 * U, U), // a fall does not trigger it
            (TRADE_BUY, 3, 104 * U, U),
            (TRADE_BUY, 4, 105 * U, U), // the trigger
            (TRADE_BUY, 5, 106 * U, U),
        ]));
        assert_eq!(fills(&run(&mut e)), vec![(1, 105 * U, U, true)]);
    }

    /// A stop the last trade price already reached is refused, at submit and on arrival.
    #[test]
    fn stop_already_reached_is_refused() {
        let mut c = cfg(FillModel::TradeThrough);
        c.order_latency_us = 10;
        let mut e = Engine::new(c);
        e.feed(trades(&[(TRADE_SELL, 1, 100 * U, U)]));
        run(&mut e);
        let reached = Trigger::stop_loss(Side::Sell, 100 * U);
        assert_eq!(
            e.submit_with(1, Side::Sell, Some(99 * U), U, stop(reached)),
            Ok(Some(Refusal::WouldTrigger))
        );
        let trigger = Trigger::stop_loss(Side::Sell, 95 * U);
        assert_eq!(
            e.submit_with(2, Side::Sell, Some(94 * U), U, stop(trigger)),
            Ok(None)
        );
        e.feed(trades(&[
            (TRADE_SELL, 5, 94 * U, U), // before it arrives: no look-ahead, no trigger
            (TRADE_SELL, 12, 94 * U, U),
        ]));
        assert_eq!(
            run(&mut e),
            vec![Step::Rejected {
                id: 2,
                time_us: 12,
                reason: Refusal::WouldTrigger
            }]
        );
    }

    /// Cancel works on a stop waiting for its trigger, and on one triggered and resting.
    #[test]
    fn cancel_stop_before_and_after_the_trigger() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(trades(&[(TRADE_SELL, 1, 100 * U, U)]));
        run(&mut e);
        let trigger = Trigger::stop_loss(Side::Sell, 95 * U);
        e.submit_with(1, Side::Sell, Some(94 * U), U, stop(trigger))
            .unwrap();
        e.submit_with(2, Side::Sell, Some(94 * U), 2 * U, stop(trigger))
            .unwrap();
        assert!(e.settle().is_empty());
        assert_eq!(e.cancel(1), Some(U));
        e.feed(trades(&[(TRADE_SELL, 2, 95 * U, U)]));
        run(&mut e);
        assert_eq!(e.cancel(2), Some(2 * U));
        assert_eq!(e.open_orders(), 0);
        e.feed(trades(&[(TRADE_BUY, 3, 99 * U, 5 * U)]));
        assert_eq!(fills(&run(&mut e)), vec![]);
    }

    /// Post-only orders need a limit price (a stop without one is a stop-market); a stop price
    /// must be positive.
    #[test]
    fn order_options_need_prices() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        assert_eq!(
            e.submit_with(1, Side::Buy, None, U, post_only()),
            Err(SubmitError::NoLimitPrice)
        );
        let trigger = Trigger::stop_loss(Side::Buy, U);
        assert_eq!(
            e.submit_with(9, Side::Buy, None, U, stop(trigger)),
            Ok(None)
        );
        let bad_market = Trigger::stop_loss(Side::Buy, -U);
        assert_eq!(
            e.submit_with(10, Side::Buy, None, U, stop(bad_market)),
            Err(SubmitError::NonPositivePrice)
        );
        let bad = Trigger::stop_loss(Side::Buy, 0);
        assert_eq!(
            e.submit_with(1, Side::Buy, Some(U), U, stop(bad)),
            Err(SubmitError::NonPositivePrice)
        );
        assert_eq!(
            e.submit_with(1, Side::Buy, Some(U), U, post_only()),
            Ok(None)
        );
        assert_eq!(
            e.submit_with(1, Side::Buy, Some(U), U, post_only()),
            Err(SubmitError::DuplicateId)
        );
    }

    fn ladder(t: i64, bids: &[Level], asks: &[Level]) -> Tape {
        let mut rows = vec![(CLEAR, t, 0, 0)];
        rows.extend(bids.iter().map(|&(p, q)| (BID, t, p, q)));
        rows.extend(asks.iter().map(|&(p, q)| (ASK, t, p, q)));
        rows.push((BOOK_END, t, 0, 0));
        trades(&rows)
    }

    /// A stop-loss market sell waits off the book; the trade that reaches its stop makes it a
    /// MARKET order that walks the bids left after that trade, as taker.
    #[test]
    fn stop_market_sell_walks_the_book_after_the_trigger() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(ladder(
            1,
            &[(100 * U, U), (99 * U, U), (98 * U, 2 * U)],
            &[(101 * U, U)],
        ));
        run(&mut e);
        e.feed(trades(&[(TRADE_BUY, 1, 101 * U, U / 10)]));
        run(&mut e);
        let trigger = Trigger::stop_loss(Side::Sell, 99 * U + U / 2);
        assert_eq!(
            e.submit_with(1, Side::Sell, None, 3 * U / 2, stop(trigger)),
            Ok(None)
        );
        assert!(e.settle().is_empty());
        e.feed(trades(&[(TRADE_SELL, 2, 100 * U, U / 2)])); // above the stop: waits
        assert_eq!(fills(&run(&mut e)), vec![]);
        assert_eq!(e.open_orders(), 1);
        // A sell print at 99 takes the 100 bid and half of 99: the stop sells the rest of 99,
        // then 98.
        e.feed(trades(&[(TRADE_SELL, 3, 99 * U, U / 2)]));
        assert_eq!(
            fills(&run(&mut e)),
            vec![(1, 99 * U, U / 2, false), (1, 98 * U, U, false)]
        );
        assert_eq!(e.open_orders(), 0);
    }

    /// Without a book, a triggered stop-market takes the next prints of its side (not the one
    /// that triggered it), never more than they traded.
    #[test]
    fn stop_market_without_a_book_takes_the_next_prints() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(trades(&[(TRADE_SELL, 1, 100 * U, U)]));
        run(&mut e);
        let trigger = Trigger::stop_loss(Side::Sell, 95 * U);
        e.submit_with(1, Side::Sell, None, U, stop(trigger))
            .unwrap();
        e.feed(trades(&[
            (TRADE_SELL, 2, 96 * U, 5 * U),     // above the stop: nothing
            (TRADE_SELL, 3, 95 * U, 5 * U),     // the trigger: it does not fill the order
            (TRADE_SELL, 4, 94 * U, U / 4),     // a quarter
            (TRADE_BUY, 5, 96 * U, 5 * U),      // a buyer took: not the seller's liquidity
            (TRADE_SELL, 6, 90 * U, 3 * U / 4), // the rest, wherever it trades
            (TRADE_SELL, 7, 89 * U, 5 * U),
        ]));
        assert_eq!(
            fills(&run(&mut e)),
            vec![(1, 94 * U, U / 4, false), (1, 90 * U, 3 * U / 4, false)]
        );
        assert_eq!(e.open_orders(), 0);
    }

    /// A take-profit market buy triggers on a fall to its stop and buys the asks; what the book
    /// cannot fill expires, as a MARKET order's rest does.
    #[test]
    fn take_profit_market_buy_triggers_on_a_fall_and_expires_the_rest() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(ladder(1, &[(100 * U, U)], &[(101 * U, U)]));
        run(&mut e);
        e.feed(trades(&[(TRADE_BUY, 1, 101 * U, U / 10)]));
        run(&mut e);
        let trigger = Trigger::take_profit(Side::Buy, 97 * U);
        e.submit_with(1, Side::Buy, None, 2 * U, stop(trigger))
            .unwrap();
        e.feed(trades(&[(TRADE_BUY, 2, 103 * U, U)])); // a rise does not trigger it
        assert_eq!(fills(&run(&mut e)), vec![]);
        e.feed(ladder(3, &[(96 * U, U)], &[(97 * U, U / 2), (98 * U, U)]));
        assert_eq!(fills(&run(&mut e)), vec![]); // a book is not a trade
        e.feed(trades(&[(TRADE_SELL, 4, 96 * U, U / 10)]));
        let steps = run(&mut e);
        assert_eq!(
            fills(&steps),
            vec![(1, 97 * U, U / 2, false), (1, 98 * U, U, false)]
        );
        assert!(steps.contains(&Step::Expired { id: 1, time_us: 4 }));
    }

    /// A stop-market whose stop the last trade price already reached is refused as the
    /// stop-limits are: at submit, and on arrival after the latency; before it arrives, no
    /// print triggers it.
    #[test]
    fn stop_market_already_reached_is_refused() {
        let mut c = cfg(FillModel::TradeThrough);
        c.order_latency_us = 10;
        let mut e = Engine::new(c);
        e.feed(trades(&[(TRADE_BUY, 1, 100 * U, U)]));
        run(&mut e);
        let reached = Trigger::take_profit(Side::Sell, 100 * U);
        assert_eq!(
            e.submit_with(1, Side::Sell, None, U, stop(reached)),
            Ok(Some(Refusal::WouldTrigger))
        );
        let trigger = Trigger::stop_loss(Side::Buy, 105 * U);
        assert_eq!(
            e.submit_with(2, Side::Buy, None, U, stop(trigger)),
            Ok(None)
        );
        e.feed(trades(&[
            (TRADE_BUY, 5, 106 * U, U),  // before it arrives: no trigger
            (TRADE_BUY, 12, 106 * U, U), // on arrival the last price is past the stop
        ]));
        assert_eq!(
            run(&mut e),
            vec![Step::Rejected {
                id: 2,
                time_us: 12,
                reason: Refusal::WouldTrigger
            }]
        );
        assert_eq!(e.open_orders(), 0);
    }

    /// A stop-market waiting for its trigger can be cancelled, and then never fills.
    #[test]
    fn cancel_a_stop_market_before_the_trigger() {
        let mut e = Engine::new(cfg(FillModel::TradeThrough));
        e.feed(trades(&[(TRADE_SELL, 1, 100 * U, U)]));
        run(&mut e);
        let trigger = Trigger::stop_loss(Side::Sell, 95 * U);
        e.submit_with(1, Side::Sell, None, U, stop(trigger))
            .unwrap();
        assert_eq!(e.cancel(1), Some(U));
        e.feed(trades(&[
            (TRADE_SELL, 2, 94 * U, U),
            (TRADE_SELL, 3, 93 * U, U),
        ]));
        assert_eq!(fills(&run(&mut e)), vec![]);
        assert_eq!(e.open_orders(), 0);
    }
}
