//! `tradewire._core.Tape`: a chunk of market events in columns, handed between the readers and
//! the simulation engine without a Python object per row.

use numpy::{PyArray1, ToPyArray as _};
use pyo3::prelude::*;

use crate::bindings::errors::CoreError;
use crate::sim::engine::{
    Engine, EngineConfig, FillModel, Level, OrderOptions, Refusal, Side, Step, SubmitError, Trigger,
};
use crate::sim::tape::Tape;

/// A chunk of market events in time order, in columns (see `rust/src/sim/tape.rs`).
///
/// Made by the readers in `tradewire.backtest.data`; read by the backtest engine. Prices and
/// quantities are integers in units of 10^-8; times are microseconds since the epoch.
#[pyclass(frozen, name = "Tape", module = "tradewire._core", skip_from_py_object)]
pub struct PyTape {
    pub(crate) tape: Tape,
}

impl PyTape {
    #[must_use]
    pub fn new(tape: Tape) -> Self {
        PyTape { tape }
    }
}

#[pymethods]
impl PyTape {
    /// Build a tape from four equal-length columns (for tests and custom readers).
    #[staticmethod]
    fn from_columns(
        kind: Vec<u8>,
        time_us: Vec<i64>,
        price: Vec<i64>,
        qty: Vec<i64>,
    ) -> PyResult<Self> {
        let n = kind.len();
        if time_us.len() != n || price.len() != n || qty.len() != n {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "kind, time_us, price and qty must have the same length",
            ));
        }
        if let Some(k) = kind.iter().find(|k| **k > crate::sim::tape::CLEAR) {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "unknown event kind {k} (0..=5)"
            )));
        }
        if time_us.windows(2).any(|w| w[1] < w[0]) {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "time_us must not go backwards",
            ));
        }
        Ok(PyTape {
            tape: Tape {
                kind,
                time_us,
                price,
                qty,
            },
        })
    }

    fn __len__(&self) -> usize {
        self.tape.len()
    }

    fn __repr__(&self) -> String {
        match (self.tape.time_us.first(), self.tape.time_us.last()) {
            (Some(a), Some(b)) => format!("Tape({} events, {a}..{b} us)", self.tape.len()),
            _ => "Tape(0 events)".to_owned(),
        }
    }

    /// The event kinds (see the constants in `tradewire.backtest.data`).
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u8>> {
        self.tape.kind.to_pyarray(py)
    }

    /// Event times, microseconds since the epoch.
    #[getter]
    fn time_us<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        self.tape.time_us.to_pyarray(py)
    }

    /// Prices in units of 10^-8.
    #[getter]
    fn price<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        self.tape.price.to_pyarray(py)
    }

    /// Quantities in units of 10^-8.
    #[getter]
    fn qty<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        self.tape.qty.to_pyarray(py)
    }
}

/// What `SimEngine.advance` hands back: `(code, time_us, order_id, price, qty, flag)`.
type StepTuple = (u8, i64, u64, i64, i64, bool);

/// The simulation engine (see `rust/src/sim/engine.rs`): the tape in, the strategy's orders
/// matched against it, and only what the strategy asked for handed back.
#[pyclass(name = "SimEngine", module = "tradewire._core", skip_from_py_object)]
pub struct PySimEngine {
    engine: Engine,
}

fn fill_model(name: &str) -> PyResult<FillModel> {
    match name {
        "touch" => Ok(FillModel::Touch),
        "trade-through" => Ok(FillModel::TradeThrough),
        "queue" => Ok(FillModel::Queue),
        _ => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "unknown fill model {name:?}: touch, trade-through or queue"
        ))),
    }
}

#[pymethods]
impl PySimEngine {
    #[new]
    #[pyo3(signature = (fill_model_name, *, order_latency_us=0, books=true, book_every_us=0, trades=false, timer_us=0))]
    fn new(
        fill_model_name: &str,
        order_latency_us: i64,
        books: bool,
        book_every_us: i64,
        trades: bool,
        timer_us: i64,
    ) -> PyResult<Self> {
        if order_latency_us < 0 || timer_us < 0 || book_every_us < 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "latency, timer and book cadence must not be negative",
            ));
        }
        Ok(PySimEngine {
            engine: Engine::new(EngineConfig {
                fill_model: fill_model(fill_model_name)?,
                order_latency_us,
                book_every_us: books.then_some(book_every_us),
                trades,
                timer_us,
            }),
        })
    }

    /// The next chunk of the tape (call when `advance` returned code 0).
    fn feed(&mut self, tape: &Bound<'_, PyTape>) -> PyResult<()> {
        let tape = &tape.get().tape;
        if let (Some(first), Some(last)) = (tape.time_us.first(), self.engine.last_fed_us()) {
            if *first < last {
                return Err(CoreError::Submit(SubmitError::TimeBackwards).into());
            }
        }
        self.engine.feed(tape.clone());
        Ok(())
    }

    /// Orders whose latency has passed reach the book now; returns the fills and expiries
    /// that made (as `advance` returns them), leaving steps queued before in place.
    fn settle(&mut self) -> Vec<StepTuple> {
        let now = self.engine.now_us();
        self.engine
            .settle()
            .into_iter()
            .map(|s| step_tuple(s, now))
            .collect()
    }

    /// Run until something is due: `(code, time_us, order_id, price, qty, flag)`. Codes: 0 the
    /// tape is used up, 1 a fill (flag: maker), 2 an order ended unfilled: a MARKET order
    /// expired (flag false), or an order was refused on arrival (flag true, qty the reason as
    /// `submit` returns it), 3 a public trade (flag: the buyer took), 4 the best prices
    /// changed, 5 the timer.
    fn advance(&mut self) -> StepTuple {
        let step = self.engine.advance();
        step_tuple(step, self.engine.now_us())
    }

    /// As `advance`, but process no tape row at or after `until_us`: when nothing is due
    /// before it, returns code 6 with the next row's time in `time_us` (that row is left for
    /// the next call). A driver of several symbols, one engine each, moves each engine only
    /// as far as the others' next rows, so every symbol's market stands at the same time
    /// when the strategy is called.
    fn advance_until(&mut self, until_us: i64) -> StepTuple {
        match self.engine.advance_until(Some(until_us)) {
            Ok(step) => step_tuple(step, self.engine.now_us()),
            Err(next_us) => (6, next_us, 0, 0, 0, false),
        }
    }

    /// Submit an order now (market time); it reaches the exchange after the order latency.
    ///
    /// `order_type`: `LIMIT` (the default with a price), `MARKET` (the default without),
    /// `LIMIT_MAKER`, `STOP_LOSS_LIMIT` or `TAKE_PROFIT_LIMIT` (with `stop_price` and a
    /// price), `STOP_LOSS` or `TAKE_PROFIT` (with `stop_price` and no price: a MARKET order
    /// once triggered). Returns 0 when submitted, 1 when refused because a post-only order
    /// would take, 2 when refused because the last trade price already reached the stop
    /// (Binance's -2010 cases).
    #[pyo3(signature = (order_id, buy, price, qty, *, order_type=None, stop_price=None))]
    fn submit(
        &mut self,
        order_id: u64,
        buy: bool,
        price: Option<i64>,
        qty: i64,
        order_type: Option<&str>,
        stop_price: Option<i64>,
    ) -> PyResult<u8> {
        let side = if buy { Side::Buy } else { Side::Sell };
        let options = order_options(side, order_type, price, stop_price)?;
        let refused = self
            .engine
            .submit_with(order_id, side, price, qty, options)
            .map_err(CoreError::Submit)?;
        Ok(refusal_code(refused))
    }

    /// The last trade price seen (10^-8 units), if any: what stop orders trigger on.
    #[getter]
    fn last_trade(&self) -> Option<i64> {
        self.engine.last_trade()
    }

    /// Book callbacks on, at most one per `every_us` of market time (0: on every change of
    /// the best prices), or off (None).
    #[pyo3(signature = (every_us))]
    fn set_books(&mut self, every_us: Option<i64>) -> PyResult<()> {
        if every_us.is_some_and(|e| e < 0) {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "the book cadence must not be negative",
            ));
        }
        self.engine.set_books(every_us);
        Ok(())
    }

    /// Cancel an order; its unfilled quantity, or None if it was not open.
    fn cancel(&mut self, order_id: u64) -> Option<i64> {
        self.engine.cancel(order_id)
    }

    /// Market time, in microseconds.
    #[getter]
    fn now_us(&self) -> i64 {
        self.engine.now_us()
    }

    /// Tape rows processed.
    #[getter]
    fn events(&self) -> u64 {
        self.engine.events()
    }

    /// `(bid_price, bid_qty, ask_price, ask_qty)` as the strategy sees them (None: no side).
    fn best(&self) -> (Option<i64>, Option<i64>, Option<i64>, Option<i64>) {
        let (b, a) = self.engine.best();
        (
            b.map(|x| x.0),
            b.map(|x| x.1),
            a.map(|x| x.0),
            a.map(|x| x.1),
        )
    }

    /// The top `n` levels of each side, best first.
    #[pyo3(signature = (n=20))]
    fn levels(&self, n: usize) -> (Vec<Level>, Vec<Level>) {
        self.engine.levels(n)
    }
}

/// The engine's options for a Binance order type.
fn order_options(
    side: Side,
    order_type: Option<&str>,
    price: Option<i64>,
    stop_price: Option<i64>,
) -> PyResult<OrderOptions> {
    let stop = match (order_type, stop_price) {
        (Some("STOP_LOSS" | "STOP_LOSS_LIMIT"), Some(p)) => Some(Trigger::stop_loss(side, p)),
        (Some("TAKE_PROFIT" | "TAKE_PROFIT_LIMIT"), Some(p)) => Some(Trigger::take_profit(side, p)),
        (
            Some(t @ ("STOP_LOSS" | "STOP_LOSS_LIMIT" | "TAKE_PROFIT" | "TAKE_PROFIT_LIMIT")),
            None,
        ) => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "a {t} order needs a stop price"
            )))
        }
        (None | Some("LIMIT" | "MARKET" | "LIMIT_MAKER"), None) => None,
        (None | Some("LIMIT" | "MARKET" | "LIMIT_MAKER"), Some(_)) => {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "only STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT and TAKE_PROFIT_LIMIT orders take \
                 a stop price",
            ))
        }
        (Some(t), _) => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "unknown order type {t:?}: LIMIT, MARKET, LIMIT_MAKER, STOP_LOSS, \
                 STOP_LOSS_LIMIT, TAKE_PROFIT or TAKE_PROFIT_LIMIT"
            )))
        }
    };
    let market_stop = matches!(order_type, Some("STOP_LOSS" | "TAKE_PROFIT"));
    if market_stop && price.is_some() {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "a {} order takes no price (it becomes a MARKET order when triggered)",
            order_type.unwrap_or_default()
        )));
    }
    if !market_stop && stop.is_some() && price.is_none() {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "a {} order needs a price",
            order_type.unwrap_or_default()
        )));
    }
    Ok(OrderOptions {
        post_only: order_type == Some("LIMIT_MAKER"),
        stop,
    })
}

/// A refusal as the number `submit` returns and a rejected step carries (0: none).
fn refusal_code(refusal: Option<Refusal>) -> u8 {
    match refusal {
        None => 0,
        Some(Refusal::WouldTake) => 1,
        Some(Refusal::WouldTrigger) => 2,
    }
}

fn step_tuple(step: Step, now_us: i64) -> StepTuple {
    match step {
        Step::NeedData => (0, now_us, 0, 0, 0, false),
        Step::Fill {
            id,
            time_us,
            price,
            qty,
            maker,
        } => (1, time_us, id, price, qty, maker),
        Step::Expired { id, time_us } => (2, time_us, id, 0, 0, false),
        Step::Rejected {
            id,
            time_us,
            reason,
        } => (
            2,
            time_us,
            id,
            0,
            i64::from(refusal_code(Some(reason))),
            true,
        ),
        Step::Trade {
            time_us,
            price,
            qty,
            buyer_taker,
        } => (3, time_us, 0, price, qty, buyer_taker),
        Step::Book { time_us } => (4, time_us, 0, 0, 0, false),
        Step::Timer { time_us } => (5, time_us, 0, 0, 0, false),
    }
}
