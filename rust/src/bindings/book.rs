//! `tradewire.OrderBook`: the Rust book behind a lock, fed with raw exchange bytes.

use numpy::{IntoPyArray as _, PyArray2, PyArrayMethods as _};
use parking_lot::Mutex;
use pyo3::prelude::*;

use crate::binance::events::parse_depth_diff;
use crate::binance::fields::Fields;
use crate::bindings::decimal::{dec_from_py, decimal_type, side_from_str};
use crate::bindings::errors::{CoreError, CoreResult};
use crate::bindings::input::{maybe_detached, with_bytes};
use crate::book::{Applied, Book, BookError, DepthDiff};
use crate::decimal::{Dec, Side};

struct State {
    book: Book,
    /// Reused for every depth update, so the hot path does not allocate.
    scratch: DepthDiff,
}

/// A level-2 order book for one symbol, kept by Binance's local-book procedure.
///
/// Feed it a REST depth snapshot, then `depthUpdate` events as raw bytes (or str); parsing and
/// applying happen in Rust. Reads are O(1) for the top of the book. Safe to share across threads.
#[pyclass(
    frozen,
    name = "OrderBook",
    module = "tradewire._core",
    skip_from_py_object
)]
pub struct PyOrderBook {
    symbol: String,
    state: Mutex<State>,
    /// The last best bid and best ask handed out as `decimal.Decimal`s, reused while the best
    /// price is unchanged (a `Decimal` is immutable, and holds no reference that could form a
    /// cycle, so no `__traverse__` is needed).
    prices: Mutex<[Option<CachedPrice>; 2]>,
}

type Level = (f64, f64);

/// A best price and the `decimal.Decimal` made of it.
type CachedPrice = (Dec, Py<PyAny>);

/// Best bid and best ask prices, as Python objects (None for an empty side).
type BestPrices<'py> = (Option<Bound<'py, PyAny>>, Option<Bound<'py, PyAny>>);

/// A parsed snapshot: last update id, bids, asks.
type Snapshot = (u64, Vec<(Dec, Dec)>, Vec<(Dec, Dec)>);

fn parse_snapshot(raw: &[u8]) -> CoreResult<Snapshot> {
    let f = Fields::document(raw)?;
    let id = f.uint("lastUpdateId")?;
    let mut bids = Vec::new();
    let mut asks = Vec::new();
    f.get("bids")
        .ok_or_else(|| crate::binance::json::error("missing field", "bids", 0))?
        .levels_into("bids", &mut bids)?;
    f.get("asks")
        .ok_or_else(|| crate::binance::json::error("missing field", "asks", 0))?
        .levels_into("asks", &mut asks)?;
    Ok((id, bids, asks))
}

fn floats(levels: impl Iterator<Item = (Dec, Dec)>) -> Vec<Level> {
    levels.map(|(p, q)| (p.to_f64(), q.to_f64())).collect()
}

#[pymethods]
impl PyOrderBook {
    #[new]
    fn new(symbol: &str) -> PyResult<Self> {
        if symbol.is_empty() || !symbol.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "symbol must be letters and digits, like 'BTCUSDT', got {symbol:?}"
            )));
        }
        Ok(PyOrderBook {
            symbol: symbol.to_ascii_uppercase(),
            state: Mutex::new(State {
                book: Book::new(),
                scratch: DepthDiff::default(),
            }),
            prices: Mutex::new([None, None]),
        })
    }

    /// The symbol, upper case.
    #[getter]
    fn symbol(&self) -> &str {
        &self.symbol
    }

    /// Replace the book with a REST `/api/v3/depth` body (bytes or str).
    fn apply_snapshot(&self, py: Python<'_>, raw: &Bound<'_, PyAny>) -> PyResult<()> {
        let parsed = with_bytes(raw, |b| maybe_detached(py, b.len(), || parse_snapshot(b)))??;
        let (id, bids, asks) = parsed;
        let mut st = self.state.lock();
        st.book
            .load_snapshot(id, &bids, &asks)
            .map_err(CoreError::from)?;
        Ok(())
    }

    /// Apply a `depthUpdate` event (raw or in a combined-stream envelope).
    ///
    /// Returns True if applied, False if stale (`u <= last_update_id`). Raises `SequenceGap`
    /// (the book is dropped), `BookNotSynced`, `SymbolMismatch` or `ParseError`; a message that
    /// fails to parse leaves the book untouched.
    fn apply_depth_update(&self, raw: &Bound<'_, PyAny>) -> PyResult<bool> {
        let mut guard = self.state.lock();
        let st = &mut *guard;
        let res = with_bytes(raw, |b| -> CoreResult<Applied> {
            let (s, e) = parse_depth_diff(b, &mut st.scratch)?;
            if &b[s..e] != self.symbol.as_bytes() {
                return Err(BookError::SymbolMismatch {
                    expected: self.symbol.clone(),
                    got: String::from_utf8_lossy(&b[s..e]).into_owned(),
                }
                .into());
            }
            Ok(st.book.apply_diff(&st.scratch)?)
        })??;
        Ok(res == Applied::Applied)
    }

    /// The id of the last applied snapshot or update, or None when not synced.
    #[getter]
    fn last_update_id(&self) -> Option<u64> {
        self.state.lock().book.last_update_id()
    }

    /// Whether the book holds a valid snapshot.
    #[getter]
    fn is_synced(&self) -> bool {
        self.state.lock().book.is_synced()
    }

    /// Event time (ms) of the last applied update, 0 before any.
    #[getter]
    fn last_event_time(&self) -> i64 {
        self.state.lock().book.last_event_time
    }

    /// Number of bid levels.
    #[getter]
    fn bid_count(&self) -> usize {
        self.state.lock().book.bids.len()
    }

    /// Number of ask levels.
    #[getter]
    fn ask_count(&self) -> usize {
        self.state.lock().book.asks.len()
    }

    /// Drop every level; the book needs a new snapshot.
    fn clear(&self) {
        self.state.lock().book.reset();
    }

    /// Best bid as (price, quantity) floats, or None.
    fn best_bid(&self) -> Option<Level> {
        self.state
            .lock()
            .book
            .bids
            .best()
            .map(|(p, q)| (p.to_f64(), q.to_f64()))
    }

    /// Best ask as (price, quantity) floats, or None.
    fn best_ask(&self) -> Option<Level> {
        self.state
            .lock()
            .book
            .asks
            .best()
            .map(|(p, q)| (p.to_f64(), q.to_f64()))
    }

    /// The best bid and best ask prices as exact `decimal.Decimal`s (None for an empty side),
    /// read under one lock: what a strategy's book event reads first.
    fn best_prices<'py>(&self, py: Python<'py>) -> PyResult<BestPrices<'py>> {
        let (bid, ask) = {
            let st = self.state.lock();
            (
                st.book.bids.best().map(|(p, _)| p),
                st.book.asks.best().map(|(p, _)| p),
            )
        };
        Ok((
            self.price_object(py, 0, bid)?,
            self.price_object(py, 1, ask)?,
        ))
    }

    /// The best `n` bids, best first, as (price, quantity) floats, or exact strings.
    #[pyo3(signature = (n = 10, *, exact = false))]
    fn bids<'py>(&self, py: Python<'py>, n: usize, exact: bool) -> PyResult<Bound<'py, PyAny>> {
        let st = self.state.lock();
        levels_out(py, st.book.bids.iter().take(n), exact)
    }

    /// The best `n` asks, best first, as (price, quantity) floats, or exact strings.
    #[pyo3(signature = (n = 10, *, exact = false))]
    fn asks<'py>(&self, py: Python<'py>, n: usize, exact: bool) -> PyResult<Bound<'py, PyAny>> {
        let st = self.state.lock();
        levels_out(py, st.book.asks.iter().take(n), exact)
    }

    /// The top `n` levels (all if None) as two float64 arrays of shape (k, 2): price, quantity.
    #[pyo3(signature = (n = None))]
    #[allow(clippy::type_complexity)]
    fn depth<'py>(
        &self,
        py: Python<'py>,
        n: Option<usize>,
    ) -> PyResult<(Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<f64>>)> {
        let (b, a) = {
            let st = self.state.lock();
            let n = n.unwrap_or(usize::MAX);
            let flat = |side: &crate::book::Side| -> Vec<f64> {
                side.iter()
                    .take(n)
                    .flat_map(|(p, q)| [p.to_f64(), q.to_f64()])
                    .collect()
            };
            (flat(&st.book.bids), flat(&st.book.asks))
        };
        let shape = |v: Vec<f64>| -> PyResult<Bound<'py, PyArray2<f64>>> {
            let rows = v.len() / 2;
            v.into_pyarray(py).reshape([rows, 2])
        };
        Ok((shape(b)?, shape(a)?))
    }

    /// Best ask minus best bid, or None if a side is empty.
    fn spread(&self) -> Option<f64> {
        let st = self.state.lock();
        let (b, a) = (st.book.bids.best()?, st.book.asks.best()?);
        a.0.checked_sub(b.0).ok().map(Dec::to_f64)
    }

    /// Midpoint of best bid and best ask, or None if a side is empty.
    fn mid(&self) -> Option<f64> {
        let st = self.state.lock();
        let (b, a) = (st.book.bids.best()?, st.book.asks.best()?);
        Some((b.0.to_f64() + a.0.to_f64()) / 2.0)
    }

    /// The average price of filling `quantity` now ("BUY" walks the asks), and the quantity the
    /// book can fill, or None if that side is empty. Computed exactly, returned as floats.
    fn average_fill_price(
        &self,
        side: &str,
        quantity: &Bound<'_, PyAny>,
    ) -> PyResult<Option<(f64, f64)>> {
        let buy = side_from_str(side)? == Side::Buy;
        let qty = dec_from_py(quantity, true)?;
        let st = self.state.lock();
        Ok(st
            .book
            .average_fill_price(buy, qty)
            .map_err(CoreError::from)?
            .map(|(p, q)| (p.to_f64(), q.to_f64())))
    }

    fn __repr__(&self) -> String {
        let st = self.state.lock();
        let fmt = |l: Option<(Dec, Dec)>| l.map_or("-".to_owned(), |(p, q)| format!("{q}@{p}"));
        match st.book.last_update_id() {
            None => format!("OrderBook('{}', not synced)", self.symbol),
            Some(id) => format!(
                "OrderBook('{}', last_update_id={id}, bids={}, asks={}, best_bid={}, best_ask={})",
                self.symbol,
                st.book.bids.len(),
                st.book.asks.len(),
                fmt(st.book.bids.best()),
                fmt(st.book.asks.best()),
            ),
        }
    }
}

impl PyOrderBook {
    /// `price` as a `decimal.Decimal`, the cached object when the side's best price is the same.
    fn price_object<'py>(
        &self,
        py: Python<'py>,
        side: usize,
        price: Option<Dec>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(price) = price else {
            return Ok(None);
        };
        if let Some((cached, object)) = &self.prices.lock()[side] {
            if *cached == price {
                return Ok(Some(object.bind(py).clone()));
            }
        }
        // Made outside the lock: the constructor is Python code.
        let object = decimal_type(py)?.call1((price.to_string(),))?;
        self.prices.lock()[side] = Some((price, object.clone().unbind()));
        Ok(Some(object))
    }
}

fn levels_out(
    py: Python<'_>,
    levels: impl Iterator<Item = (Dec, Dec)>,
    exact: bool,
) -> PyResult<Bound<'_, PyAny>> {
    if exact {
        let v: Vec<(String, String)> = levels
            .map(|(p, q)| (p.to_string(), q.to_string()))
            .collect();
        Ok(v.into_pyobject(py)?.into_any())
    } else {
        Ok(floats(levels).into_pyobject(py)?.into_any())
    }
}
