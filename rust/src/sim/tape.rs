//! The tape: market events in time order, in columns, as the simulation engine reads them.
//!
//! Every reader (Binance's historical CSV files, recorded stream files, the synthetic market)
//! produces a [`Tape`]; the engine consumes tapes one after another, so a day of data is
//! streamed chunk by chunk and memory stays flat. Prices and quantities are integers in units
//! of 10^-8 (the exchange's eight decimals); times are microseconds since the epoch.

/// A public trade whose taker bought (the maker sold: Binance `m == false`).
pub const TRADE_BUY: u8 = 0;
/// A public trade whose taker sold (the maker bought: Binance `m == true`).
pub const TRADE_SELL: u8 = 1;
/// Set one bid level to `qty` (0 removes it).
pub const BID: u8 = 2;
/// Set one ask level to `qty` (0 removes it).
pub const ASK: u8 = 3;
/// The end of one book message: the levels before it are applied together, and the top of
/// the book is compared with the last one here.
pub const BOOK_END: u8 = 4;
/// Empty the book: a full snapshot follows (its levels, then a [`BOOK_END`]).
pub const CLEAR: u8 = 5;

/// 10^8: one unit of price or quantity in a tape is 10^-8.
pub const UNIT: i64 = 100_000_000;

/// Market events in columns; row `i` is `(kind[i], time_us[i], price[i], qty[i])`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tape {
    pub kind: Vec<u8>,
    pub time_us: Vec<i64>,
    pub price: Vec<i64>,
    pub qty: Vec<i64>,
}

impl Tape {
    #[must_use]
    pub fn with_capacity(n: usize) -> Self {
        Tape {
            kind: Vec::with_capacity(n),
            time_us: Vec::with_capacity(n),
            price: Vec::with_capacity(n),
            qty: Vec::with_capacity(n),
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.kind.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.kind.is_empty()
    }

    /// Append one row.
    pub fn push(&mut self, kind: u8, time_us: i64, price: i64, qty: i64) {
        self.kind.push(kind);
        self.time_us.push(time_us);
        self.price.push(price);
        self.qty.push(qty);
    }

    /// The time of the last row, if any.
    #[must_use]
    pub fn last_time_us(&self) -> Option<i64> {
        self.time_us.last().copied()
    }
}
