//! A synthetic market calibrated to real Binance spot: seeded, deterministic, in integer units,
//! written straight into [`Tape`]s (and, through [`wire`], into the recorded-stream format).
//!
//! Five layers (docs/market.md has the model and the measured figures):
//! 1. **Volatility.** σ(t) = σ̄·exp(h − ν²) with h a log-vol Ornstein-Uhlenbeck process
//!    (stationary variance ν², reversion over `vol_reversion_s`), so E[σ²] = σ̄².
//! 2. **Efficient log-price** X, stepped every 100 ms: Student-t (ν = 4, unit variance) steps
//!    scaled by σ(t), compound-Poisson jumps (a few a day), a drift, and on a range day an
//!    Ornstein-Uhlenbeck pull to the start price.
//! 3. **Taker flow.** A Hawkes process with two exponential kernels (50 ms and 10 s) whose
//!    baseline rises with σ²; an informed taker trades toward where X is going, so resting
//!    orders meet adverse selection; sizes are lognormal with a Pareto tail, and each level a
//!    taker reaches prints as a few fills (the maker orders queued there).
//! 4. **Book.** Levels on the tick, one tick of spread between sweeps; the touch is refreshed
//!    from a lognormal around ~1 BTC, deeper levels are sparse and refreshed by Poisson
//!    add/cancel so the cumulative depth lands near the measured profile. A jump or a sweep far
//!    through the book leaves the spread wide for 100-500 ms.
//! 5. **Emission.** Every 100 ms, the levels that changed (the book diff, as Binance's
//!    `depth@100ms` sends it) and a [`BOOK_END`]; trades as they happen. The first window starts
//!    with the whole book ([`CLEAR`], levels, [`BOOK_END`]) followed by an empty diff, the shape
//!    the recording reader gives a snapshot and its first diff.

pub mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::sim::tape::{Tape, ASK, BID, BOOK_END, CLEAR, TRADE_BUY, TRADE_SELL, UNIT};

/// One window of the depth diffs, in microseconds.
pub const WINDOW_US: i64 = 100_000;
const WINDOW_S: f64 = 0.1;
const YEAR_S: f64 = 365.0 * 86_400.0;

/// A bad synthetic-market setting.
#[derive(Debug, Clone, PartialEq)]
pub enum SynthError {
    /// A setting out of its range: the name and what it must be.
    Setting(&'static str, &'static str),
}

impl fmt::Display for SynthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SynthError::Setting(name, must) => {
                write!(f, "synthetic market: {name} must be {must}")
            }
        }
    }
}

impl std::error::Error for SynthError {}

/// The market's settings. Prices and quantities in tape units (10^-8), rates per second.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    pub seed: u64,
    /// The first event's time, microseconds since the epoch.
    pub start_us: i64,
    /// The price tick and the quantity step, in units.
    pub tick: i64,
    pub step: i64,
    /// The starting price, in units.
    pub start_price: i64,
    /// Quantities scale: 1.0 is BTCUSDT's book and flow (in base units of the symbol).
    pub size_scale: f64,
    /// Annualised volatility σ̄ (jumps included), e.g. 0.5.
    pub vol: f64,
    /// Annualised drift of the log-price.
    pub drift: f64,
    /// Standard deviation of the log-volatility (ν) and its reversion time.
    pub vol_of_vol: f64,
    pub vol_reversion_s: f64,
    /// Degrees of freedom of the Student-t steps (> 2).
    pub tail_dof: f64,
    /// Jumps a day and their size (standard deviation of the log jump).
    pub jumps_per_day: f64,
    pub jump_size: f64,
    /// On a range day, the half-life of the pull to the start price (seconds); 0: no pull.
    pub range_half_life_s: f64,
    /// Mean taker events a second at σ = σ̄ (the Hawkes process's stationary rate).
    pub taker_rate: f64,
    /// Branching ratios of the fast (50 ms) and slow (10 s) kernels; their sum is below 1.
    pub branching_fast: f64,
    pub branching_slow: f64,
    /// Probability that a taker trades toward the next efficient-price move.
    pub informed: f64,
}

impl SynthConfig {
    /// BTCUSDT spot's defaults at 50% volatility, from `seed`.
    #[must_use]
    pub fn btcusdt(seed: u64) -> Self {
        SynthConfig {
            seed,
            start_us: 1_704_067_200_000_000,
            tick: UNIT / 100,
            step: UNIT / 100_000,
            start_price: 65_000 * UNIT,
            size_scale: 1.0,
            vol: 0.5,
            drift: 0.0,
            vol_of_vol: 0.7,
            vol_reversion_s: 7_200.0,
            tail_dof: 4.0,
            jumps_per_day: 4.0,
            jump_size: 0.004,
            range_half_life_s: 0.0,
            taker_rate: 8.0,
            branching_fast: 0.4,
            branching_slow: 0.3,
            informed: 0.65,
        }
    }

    fn check(&self) -> Result<(), SynthError> {
        let pos = |x: f64| x.is_finite() && x > 0.0;
        let nonneg = |x: f64| x.is_finite() && x >= 0.0;
        if self.tick <= 0 {
            return Err(SynthError::Setting("tick", "positive"));
        }
        if self.step <= 0 {
            return Err(SynthError::Setting("step", "positive"));
        }
        if self.start_price < 100 * self.tick || self.start_price > 1_000_000_000 * UNIT {
            return Err(SynthError::Setting(
                "start_price",
                "at least 100 ticks and at most 10^9",
            ));
        }
        if self.start_us <= 0 {
            return Err(SynthError::Setting("start_us", "a positive epoch time"));
        }
        if !(pos(self.vol) && self.vol <= 5.0) {
            return Err(SynthError::Setting("vol", "in (0, 5] (annualised)"));
        }
        if !(self.drift.is_finite() && self.drift.abs() <= 10.0) {
            return Err(SynthError::Setting("drift", "in [-10, 10] (annualised)"));
        }
        if !(nonneg(self.vol_of_vol) && self.vol_of_vol <= 2.0) {
            return Err(SynthError::Setting("vol_of_vol", "in [0, 2]"));
        }
        if !pos(self.vol_reversion_s) {
            return Err(SynthError::Setting("vol_reversion_s", "positive"));
        }
        if !(self.tail_dof.is_finite() && self.tail_dof > 2.0) {
            return Err(SynthError::Setting("tail_dof", "above 2"));
        }
        if !(nonneg(self.jumps_per_day) && nonneg(self.jump_size) && self.jump_size < 0.5) {
            return Err(SynthError::Setting(
                "jumps_per_day, jump_size",
                "non-negative (jump_size below 0.5)",
            ));
        }
        if !nonneg(self.range_half_life_s) {
            return Err(SynthError::Setting("range_half_life_s", "non-negative"));
        }
        if !(pos(self.size_scale) && self.size_scale < 1e6) {
            return Err(SynthError::Setting("size_scale", "positive"));
        }
        if !(pos(self.taker_rate) && self.taker_rate <= 10_000.0) {
            return Err(SynthError::Setting("taker_rate", "in (0, 10000]"));
        }
        let n = self.branching_fast + self.branching_slow;
        if !(nonneg(self.branching_fast) && nonneg(self.branching_slow) && n < 0.95) {
            return Err(SynthError::Setting(
                "branching_fast + branching_slow",
                "non-negative and below 0.95",
            ));
        }
        if !(nonneg(self.informed) && self.informed <= 1.0) {
            return Err(SynthError::Setting("informed", "in [0, 1]"));
        }
        Ok(())
    }
}

/// xoshiro256** (Blackman and Vigna), seeded through splitmix64.
#[derive(Debug, Clone)]
struct Rng {
    s: [u64; 4],
}

impl Rng {
    fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1].
    fn open(&mut self) -> f64 {
        1.0 - self.uniform()
    }

    fn normal(&mut self) -> f64 {
        let r = (-2.0 * self.open().ln()).sqrt();
        r * (std::f64::consts::TAU * self.uniform()).cos()
    }

    fn exponential(&mut self, rate: f64) -> f64 {
        -self.open().ln() / rate
    }

    fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Student-t with `dof` degrees of freedom, scaled to unit variance.
    fn student(&mut self, dof: f64) -> f64 {
        // chi-square(dof) as 2 x gamma(dof / 2); for dof = 4, -2 ln(u1 u2).
        let chi = if (dof - 4.0).abs() < 1e-12 {
            -2.0 * (self.open() * self.open()).ln()
        } else {
            self.chi_square(dof)
        };
        self.normal() / (chi / dof).sqrt() * ((dof - 2.0) / dof).sqrt()
    }

    /// Chi-square by Wilson-Hilferty (the t tails stay close; exact for dof = 4 above).
    fn chi_square(&mut self, dof: f64) -> f64 {
        let a = 2.0 / (9.0 * dof);
        let z = 1.0 - a + self.normal() * a.sqrt();
        (dof * z * z * z).max(1e-9)
    }

    fn poisson(&mut self, mean: f64) -> u32 {
        let limit = (-mean).exp();
        let mut k = 0;
        let mut p = self.uniform();
        while p > limit && k < 1000 {
            k += 1;
            p *= self.uniform();
        }
        k
    }

    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }
}

/// The book's state: price → quantity per side, and the levels changed since the last diff.
#[derive(Debug, Default)]
struct Book {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
    changed_bids: BTreeSet<i64>,
    changed_asks: BTreeSet<i64>,
}

impl Book {
    fn side(&mut self, bid: bool) -> (&mut BTreeMap<i64, i64>, &mut BTreeSet<i64>) {
        if bid {
            (&mut self.bids, &mut self.changed_bids)
        } else {
            (&mut self.asks, &mut self.changed_asks)
        }
    }

    fn set(&mut self, bid: bool, price: i64, qty: i64) {
        let (levels, changed) = self.side(bid);
        let old = if qty > 0 {
            levels.insert(price, qty)
        } else {
            levels.remove(&price)
        };
        if old != (qty > 0).then_some(qty) {
            changed.insert(price);
        }
    }

    fn best_bid(&self) -> Option<i64> {
        self.bids.keys().next_back().copied()
    }

    fn best_ask(&self) -> Option<i64> {
        self.asks.keys().next().copied()
    }
}

/// The synthetic market: call [`SynthMarket::generate`] for each next stretch of market time.
#[derive(Debug)]
pub struct SynthMarket {
    cfg: SynthConfig,
    rng: Rng,
    /// The end of the last generated window, µs.
    now_us: i64,
    started: bool,
    /// Log-volatility deviation h, the efficient log-price X (in log of ticks).
    h: f64,
    x: f64,
    anchor: f64,
    /// Hawkes excitations (events per second) of the two kernels.
    fast: f64,
    slow: f64,
    /// The spread is left wide until this time (after a jump or a sweep).
    wide_until_us: i64,
    book: Book,
    /// The taker event times of the current window (kept to reuse the allocation).
    events: Vec<i64>,
    /// Geometry in ticks: one basis point, the deepest level kept.
    ticks_per_bp: f64,
    max_depth_ticks: i64,
    /// Sparse levels: occupancy of a tick far from the touch and the mean size of a level.
    occupancy: f64,
    level_mean: f64,
    diffusive_var: f64,
}

const FAST_DECAY: f64 = 1.0 / 0.05;
const SLOW_DECAY: f64 = 1.0 / 10.0;
/// Depth beyond the touch, in BTCUSDT's base per basis point (~5 BTC/bp measured to 10 bp).
const DEPTH_PER_BP: f64 = 4.6;
/// Non-empty levels per basis point per side (~270 within 10 bp measured).
const LEVELS_PER_BP: f64 = 27.0;
/// Levels kept to this many basis points from the touch (a 1000-level snapshot reaches ~33).
const BOOK_BP: f64 = 25.0;
/// Median touch size (base), and the spread of its logarithm.
const TOUCH_MEDIAN: f64 = 1.2;
const TOUCH_SIGMA: f64 = 1.1;
/// Taker size: lognormal body (median, sigma), Pareto tail (probability, scale, alpha, cap).
const TAKER_MEDIAN: f64 = 0.003;
const TAKER_SIGMA: f64 = 2.0;
const TAIL_P: f64 = 0.012;
const TAIL_SCALE: f64 = 0.25;
const TAIL_ALPHA: f64 = 1.4;
const TAIL_CAP: f64 = 30.0;
/// Level refreshes per side per window, and how they favour the touch (d = D·u^k).
const REFRESHES: u32 = 60;
const REFRESH_POWER: i32 = 3;
/// Share of the efficient price's variance that follows the taker flow (trading time).
const TRADING_TIME: f64 = 0.8;
/// Probability that an informed taker takes every level on the way to the efficient price.
const INFORMED_SWEEP: f64 = 0.1;
/// A forced sweep this many times the threshold leaves the spread wide for a while.
const WIDE_SWEEP: i64 = 1;
/// Mean fills (maker orders met) per level a taker reaches.
const FILLS_PER_LEVEL: f64 = 1.3;
/// A gap between the book and the efficient price beyond this (bp) is swept at once.
const SWEEP_BP: f64 = 3.0;

impl SynthMarket {
    /// A market from `cfg`, or the setting that is out of range.
    pub fn new(cfg: SynthConfig) -> Result<Self, SynthError> {
        cfg.check()?;
        let rng = Rng::new(cfg.seed);
        let price_ticks = (cfg.start_price / cfg.tick) as f64;
        let ticks_per_bp = price_ticks / 10_000.0;
        let levels_per_bp = LEVELS_PER_BP.min(ticks_per_bp);
        let jump_var = cfg.jumps_per_day * 365.0 * cfg.jump_size * cfg.jump_size;
        let diffusive_var = (cfg.vol * cfg.vol - jump_var).max(0.1 * cfg.vol * cfg.vol);
        let x = price_ticks.ln();
        Ok(SynthMarket {
            now_us: cfg.start_us,
            started: false,
            // The market starts at the mean volatility (σ = σ̄) and wanders from there.
            h: cfg.vol_of_vol * cfg.vol_of_vol,
            x,
            anchor: x,
            fast: 0.0,
            slow: 0.0,
            wide_until_us: 0,
            book: Book::default(),
            events: Vec::new(),
            ticks_per_bp,
            max_depth_ticks: ((BOOK_BP * ticks_per_bp) as i64).max(50),
            occupancy: levels_per_bp / ticks_per_bp,
            level_mean: DEPTH_PER_BP * cfg.size_scale / levels_per_bp,
            diffusive_var,
            rng,
            cfg,
        })
    }

    #[must_use]
    pub fn config(&self) -> &SynthConfig {
        &self.cfg
    }

    /// The end of the market generated so far, µs.
    #[must_use]
    pub fn now_us(&self) -> i64 {
        self.now_us
    }

    /// Generate whole 100 ms windows until `until_us` (at least one), appending to `out`.
    pub fn generate(&mut self, until_us: i64, out: &mut Tape) {
        if !self.started {
            self.start(out);
        }
        loop {
            self.window(out);
            if self.now_us >= until_us {
                break;
            }
        }
    }

    fn qty(&mut self, base: f64) -> i64 {
        let units = (base * UNIT as f64 / self.cfg.step as f64).round();
        (units.clamp(1.0, 1e9) as i64) * self.cfg.step
    }

    fn touch_size(&mut self) -> i64 {
        let b = self
            .rng
            .lognormal(TOUCH_MEDIAN * self.cfg.size_scale, TOUCH_SIGMA);
        self.qty(b)
    }

    fn level_size(&mut self) -> i64 {
        // Lognormal with sigma 1.2 and the level mean: median = mean * exp(-0.72).
        let b = self.rng.lognormal(self.level_mean * (-0.72f64).exp(), 1.2);
        self.qty(b)
    }

    fn taker_size(&mut self) -> f64 {
        let base = if self.rng.chance(TAIL_P) {
            (TAIL_SCALE * self.rng.open().powf(-1.0 / TAIL_ALPHA)).min(TAIL_CAP)
        } else {
            self.rng.lognormal(TAKER_MEDIAN, TAKER_SIGMA).min(TAIL_CAP)
        };
        base * self.cfg.size_scale
    }

    /// Occupancy of a tick `d` ticks behind the touch: denser near it, sparse beyond.
    fn occupied(&self, d: i64) -> f64 {
        let near = 0.05 * (-(d as f64) / 30.0).exp();
        (self.occupancy + near).min(1.0)
    }

    /// The efficient price in ticks.
    fn fair(&self) -> i64 {
        self.x.exp().round() as i64
    }

    /// The initial book around the start price, emitted as a snapshot and an empty diff.
    fn start(&mut self, out: &mut Tape) {
        self.started = true;
        let mid = self.fair();
        let (bid, ask) = (mid, mid + 1);
        let touch = self.touch_size();
        self.book.set(true, bid * self.cfg.tick, touch);
        let touch = self.touch_size();
        self.book.set(false, ask * self.cfg.tick, touch);
        for d in 1..=self.max_depth_ticks {
            for is_bid in [true, false] {
                if self.rng.chance(self.occupied(d)) {
                    let q = self.level_size();
                    let p = if is_bid { bid - d } else { ask + d };
                    self.book.set(is_bid, p * self.cfg.tick, q);
                }
            }
        }
        self.book.changed_bids.clear();
        self.book.changed_asks.clear();
        let t = self.now_us;
        out.push(CLEAR, t, 0, 0);
        for (&p, &q) in self.book.bids.iter().rev() {
            out.push(BID, t, p, q);
        }
        for (&p, &q) in &self.book.asks {
            out.push(ASK, t, p, q);
        }
        out.push(BOOK_END, t, 0, 0);
        out.push(BOOK_END, t, 0, 0);
    }

    /// σ(t)/σ̄ now.
    fn vol_factor(&self) -> f64 {
        let nu = self.cfg.vol_of_vol;
        (self.h - nu * nu).exp()
    }

    /// One 100 ms window: volatility, the efficient price, the takers, the book, the diff.
    fn window(&mut self, out: &mut Tape) {
        let t0 = self.now_us;
        let t1 = t0 + WINDOW_US;
        let dt = WINDOW_S;
        // 1. Log-volatility OU, exact over one window.
        let nu = self.cfg.vol_of_vol;
        let a = (-dt / self.cfg.vol_reversion_s).exp();
        self.h = self.h * a + nu * (1.0 - a * a).sqrt() * self.rng.normal();
        let factor = self.vol_factor();
        // 3a. Taker event times over the window (Hawkes, by thinning).
        let n = self.cfg.branching_fast + self.cfg.branching_slow;
        let baseline = self.cfg.taker_rate * (1.0 - n) * factor * factor;
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        let mut s = 0.0;
        loop {
            let bound = baseline + self.fast + self.slow;
            let w = self.rng.exponential(bound);
            let next = s + w;
            let step = next.min(dt) - s;
            self.fast *= (-FAST_DECAY * step).exp();
            self.slow *= (-SLOW_DECAY * step).exp();
            if next >= dt {
                break;
            }
            s = next;
            let lambda = baseline + self.fast + self.slow;
            if self.rng.uniform() * bound <= lambda {
                self.fast += self.cfg.branching_fast * FAST_DECAY;
                self.slow += self.cfg.branching_slow * SLOW_DECAY;
                events.push((t0 + (s * 1e6) as i64).min(t1 - 1));
            }
        }
        // 2. The efficient log-price at the end of the window; the price moves in trading
        // time, so a window of busy trading moves it more (the variance follows the count).
        let expected = self.cfg.taker_rate * factor * factor * dt;
        let busy = TRADING_TIME * events.len() as f64 / expected.max(1e-9);
        let var = self.diffusive_var * factor * factor * dt / YEAR_S * (1.0 - TRADING_TIME + busy);
        let mut dx = var.sqrt() * self.rng.student(self.cfg.tail_dof)
            + (self.cfg.drift - 0.5 * var / dt * YEAR_S) * dt / YEAR_S;
        let mut jumped = false;
        if self.rng.chance(self.cfg.jumps_per_day * dt / 86_400.0) {
            dx += self.cfg.jump_size * self.rng.normal();
            jumped = true;
        }
        if self.cfg.range_half_life_s > 0.0 {
            let k = std::f64::consts::LN_2 / self.cfg.range_half_life_s;
            dx -= (self.x - self.anchor) * (1.0 - (-k * dt).exp());
        }
        self.x += dx;
        let target = self.fair();
        // 3b. The takers, in time order.
        for &at in &events {
            self.taker(at, target, false, out);
        }
        self.events = events;
        // A jump or a book far from the efficient price is swept now, and the spread stays wide.
        let thr = (SWEEP_BP * self.ticks_per_bp) as i64;
        let bid = self.book.best_bid().map_or(target, |p| p / self.cfg.tick);
        let ask = self.book.best_ask().map_or(target, |p| p / self.cfg.tick);
        let gap = (target - ask).max(bid - target);
        if jumped || gap > thr {
            self.taker(t1 - 1, target, true, out);
            if jumped || gap > WIDE_SWEEP * thr {
                self.wide_until_us = t1 + 100_000 + (self.rng.uniform() * 400_000.0) as i64;
            }
        }
        // 4. Makers: close the spread, refresh the touch, add and cancel deeper levels.
        if t1 >= self.wide_until_us {
            self.close_spread(target);
        }
        for is_bid in [true, false] {
            self.refresh(is_bid);
        }
        // 5. The diff.
        self.now_us = t1;
        let changed_bids = std::mem::take(&mut self.book.changed_bids);
        for &p in changed_bids.iter().rev() {
            out.push(BID, t1, p, self.book.bids.get(&p).copied().unwrap_or(0));
        }
        let changed_asks = std::mem::take(&mut self.book.changed_asks);
        for &p in &changed_asks {
            out.push(ASK, t1, p, self.book.asks.get(&p).copied().unwrap_or(0));
        }
        out.push(BOOK_END, t1, 0, 0);
    }

    /// One taker event at `at`: its side (toward `target` if informed), its size, the levels it
    /// takes (a sweep takes every level on the way to `target`), printed as fills.
    fn taker(&mut self, at: i64, target: i64, sweep: bool, out: &mut Tape) {
        let tick = self.cfg.tick;
        let bid = self.book.best_bid().map_or(target, |p| p / tick);
        let ask = self.book.best_ask().map_or(target + 1, |p| p / tick);
        let buy = if sweep || self.rng.chance(self.cfg.informed) {
            if target >= ask {
                true
            } else if target <= bid {
                false
            } else {
                2 * target >= bid + ask
            }
        } else {
            self.rng.chance(0.5)
        };
        let size = self.taker_size();
        let mut left = self.qty(size);
        // Informed takers and sweeps take every level on the way to where the price is going.
        let through = if buy {
            (target >= ask).then_some(target * tick)
        } else {
            (target <= bid).then_some(target * tick)
        };
        let limit_through = if sweep || self.rng.chance(INFORMED_SWEEP) {
            through
        } else {
            None
        };
        loop {
            let level = if buy {
                self.book.asks.iter().next().map(|(&p, &q)| (p, q))
            } else {
                self.book.bids.iter().next_back().map(|(&p, &q)| (p, q))
            };
            let Some((price, qty)) = level else { break };
            let in_sweep = limit_through.is_some_and(|l| if buy { price <= l } else { price >= l });
            if left <= 0 && !in_sweep {
                break;
            }
            let take = if in_sweep { qty } else { left.min(qty) };
            left -= take;
            self.print(at, buy, price, take, out);
            self.book.set(!buy, price, qty - take);
        }
    }

    /// A taker's quantity at one level, as the fills of the maker orders queued there.
    fn print(&mut self, at: i64, buy: bool, price: i64, qty: i64, out: &mut Tape) {
        let kind = if buy { TRADE_BUY } else { TRADE_SELL };
        let steps = qty / self.cfg.step;
        let orders = i64::from(1 + self.rng.poisson(FILLS_PER_LEVEL - 1.0)).min(steps.max(1));
        let mut left = qty;
        for i in 0..orders {
            let q = if i + 1 == orders {
                left
            } else {
                let share = (self.rng.uniform() * 0.6 * (left / self.cfg.step) as f64) as i64;
                (share.max(1) * self.cfg.step).min(left - (orders - 1 - i) * self.cfg.step)
            };
            if q <= 0 {
                continue;
            }
            out.push(kind, at, price, q);
            left -= q;
        }
    }

    /// Makers quote into a wide spread: back to one tick, around the efficient price.
    fn close_spread(&mut self, target: i64) {
        let tick = self.cfg.tick;
        let bid = self.book.best_bid().map(|p| p / tick);
        let ask = self.book.best_ask().map(|p| p / tick);
        let (new_bid, new_ask) = match (bid, ask) {
            (Some(b), Some(a)) if a - b <= 1 => return,
            (Some(b), Some(a)) => {
                if target >= a - 1 {
                    (a - 1, a)
                } else if target <= b {
                    (b, b + 1)
                } else {
                    (target, target + 1)
                }
            }
            (Some(b), None) => (b, b.max(target) + 1),
            (None, Some(a)) => (a.min(target + 1) - 1, a),
            (None, None) => (target, target + 1),
        };
        if bid != Some(new_bid) {
            let q = self.touch_size();
            self.book.set(true, new_bid * tick, q);
        }
        if ask != Some(new_ask) {
            let q = self.touch_size();
            self.book.set(false, new_ask * tick, q);
        }
    }

    /// Poisson adds and cancels behind the touch on one side, a fresh touch now and then, and
    /// levels beyond the kept depth cancelled.
    fn refresh(&mut self, bid: bool) {
        let tick = self.cfg.tick;
        let best = if bid {
            self.book.best_bid()
        } else {
            self.book.best_ask()
        };
        let Some(best) = best else { return };
        let best_t = best / tick;
        // The touch: makers join and leave (a new size every ~2 s).
        if self.rng.chance(0.05) {
            let q = self.touch_size();
            self.book.set(bid, best, q);
        }
        let depth = self.max_depth_ticks;
        for _ in 0..REFRESHES {
            let u = self.rng.uniform();
            let d = 1 + (depth as f64 * u.powi(REFRESH_POWER)) as i64;
            let p = if bid { best_t - d } else { best_t + d };
            if p <= 0 {
                continue;
            }
            let q = if self.rng.chance(self.occupied(d)) {
                self.level_size()
            } else {
                0
            };
            self.book.set(bid, p * tick, q);
        }
        // Levels left far behind by the price are cancelled.
        let far: Vec<i64> = if bid {
            let lo = (best_t - depth * 6 / 5) * tick;
            self.book.bids.range(..lo).map(|(&p, _)| p).collect()
        } else {
            let hi = (best_t + depth * 6 / 5) * tick;
            self.book.asks.range(hi + 1..).map(|(&p, _)| p).collect()
        };
        for p in far {
            self.book.set(bid, p, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64, seconds: i64) -> Tape {
        let mut m = SynthMarket::new(SynthConfig::btcusdt(seed)).unwrap();
        let mut t = Tape::default();
        let end = m.now_us() + seconds * 1_000_000;
        m.generate(end, &mut t);
        t
    }

    #[test]
    fn the_same_seed_gives_the_same_tape_in_any_chunks() {
        let whole = run(7, 60);
        let mut m = SynthMarket::new(SynthConfig::btcusdt(7)).unwrap();
        let mut chunks = Tape::default();
        let start = m.now_us();
        for s in [1, 13, 14, 60] {
            m.generate(start + s * 1_000_000, &mut chunks);
        }
        assert_eq!(whole, chunks);
        assert_ne!(whole, run(8, 60));
    }

    #[test]
    fn time_never_goes_back_and_the_book_never_crosses() {
        let tape = run(3, 300);
        let t = &tape;
        assert!(t.time_us.windows(2).all(|w| w[0] <= w[1]));
        let mut bids = BTreeMap::new();
        let mut asks = BTreeMap::new();
        let mut ends = 0;
        for i in 0..t.len() {
            let (price, qty) = (t.price[i], t.qty[i]);
            match t.kind[i] {
                CLEAR => {
                    bids.clear();
                    asks.clear();
                }
                BID | ASK => {
                    let side = if t.kind[i] == BID {
                        &mut bids
                    } else {
                        &mut asks
                    };
                    assert_eq!(price % (UNIT / 100), 0, "price off the tick");
                    if qty == 0 {
                        side.remove(&price);
                    } else {
                        assert_eq!(qty % 1000, 0, "quantity off the step");
                        side.insert(price, qty);
                    }
                }
                BOOK_END => {
                    ends += 1;
                    let bid = *bids.keys().next_back().unwrap();
                    let ask = *asks.keys().next().unwrap();
                    assert!(bid < ask, "crossed book at row {i}");
                }
                _ => assert!(qty > 0 && price > 0),
            }
        }
        assert_eq!(
            ends, 3002,
            "the snapshot, its empty diff, one diff per 100 ms"
        );
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        let mut c = SynthConfig::btcusdt(1);
        c.vol = 0.0;
        assert_eq!(
            SynthMarket::new(c).unwrap_err(),
            SynthError::Setting("vol", "in (0, 5] (annualised)")
        );
        let mut c = SynthConfig::btcusdt(1);
        c.branching_fast = 0.9;
        assert!(SynthMarket::new(c).is_err());
        let mut c = SynthConfig::btcusdt(1);
        c.tick = 0;
        assert!(SynthMarket::new(c)
            .unwrap_err()
            .to_string()
            .contains("tick"));
    }

    #[test]
    fn student_steps_have_unit_variance_and_fat_tails() {
        let mut r = Rng::new(1);
        let n = 400_000;
        let xs: Vec<f64> = (0..n).map(|_| r.student(4.0)).collect();
        let var = xs.iter().map(|x| x * x).sum::<f64>() / f64::from(n);
        let kurt = xs.iter().map(|x| x.powi(4)).sum::<f64>() / f64::from(n) / (var * var);
        assert!((var - 1.0).abs() < 0.05, "{var}");
        assert!(kurt > 6.0, "{kurt}");
    }
}
