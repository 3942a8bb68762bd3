//! `tradewire._core.SynthMarket` and `RecordingWriter`: the synthetic market (see
//! `rust/src/sim/synth.rs`) as tapes, and any tape as recording lines.

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::bindings::errors::CoreError;
use crate::bindings::sim::PyTape;
use crate::sim::synth::wire::RecordingWriter;
use crate::sim::synth::{SynthConfig, SynthMarket};
use crate::sim::tape::Tape;

/// A seeded synthetic market calibrated to Binance spot BTCUSDT (docs/market.md).
///
/// Prices and quantities are in units of 10^-8, times in microseconds since the epoch, rates
/// per second, volatility and drift annualised. The defaults are BTCUSDT's; other symbols
/// scale `tick`, `step`, `start_price` and `size_scale` (`tradewire.backtest.synth` does).
/// A setting out of range raises `tradewire.errors.BacktestError`.
#[pyclass(
    frozen,
    name = "SynthMarket",
    module = "tradewire._core",
    skip_from_py_object
)]
pub struct PySynthMarket {
    inner: Mutex<SynthMarket>,
}

#[pymethods]
impl PySynthMarket {
    #[new]
    #[pyo3(signature = (
        *, seed, start_us = 1_704_067_200_000_000, tick = 1_000_000, step = 1_000,
        start_price = 6_500_000_000_000, size_scale = 1.0, vol = 0.5, drift = 0.0,
        vol_of_vol = 0.7, vol_reversion_s = 7_200.0, tail_dof = 4.0, jumps_per_day = 4.0,
        jump_size = 0.004, range_half_life_s = 0.0, taker_rate = 8.0, branching_fast = 0.4,
        branching_slow = 0.3, informed = 0.65
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        seed: u64,
        start_us: i64,
        tick: i64,
        step: i64,
        start_price: i64,
        size_scale: f64,
        vol: f64,
        drift: f64,
        vol_of_vol: f64,
        vol_reversion_s: f64,
        tail_dof: f64,
        jumps_per_day: f64,
        jump_size: f64,
        range_half_life_s: f64,
        taker_rate: f64,
        branching_fast: f64,
        branching_slow: f64,
        informed: f64,
    ) -> PyResult<Self> {
        let cfg = SynthConfig {
            seed,
            start_us,
            tick,
            step,
            start_price,
            size_scale,
            vol,
            drift,
            vol_of_vol,
            vol_reversion_s,
            tail_dof,
            jumps_per_day,
            jump_size,
            range_half_life_s,
            taker_rate,
            branching_fast,
            branching_slow,
            informed,
        };
        let market = SynthMarket::new(cfg).map_err(CoreError::from)?;
        Ok(PySynthMarket {
            inner: Mutex::new(market),
        })
    }

    /// The market up to `until_us` (whole 100 ms windows, at least one) as a tape.
    fn generate(&self, py: Python<'_>, until_us: i64) -> PyTape {
        let tape = py.detach(|| {
            let mut m = self.inner.lock();
            let windows = ((until_us - m.now_us()) / 100_000).clamp(1, 1 << 20) as usize;
            let mut tape = Tape::with_capacity(windows * 48);
            m.generate(until_us, &mut tape);
            tape
        });
        PyTape::new(tape)
    }

    /// The end of the market generated so far (the start before the first call), µs.
    #[getter]
    fn now_us(&self) -> i64 {
        self.inner.lock().now_us()
    }

    /// The seed the market was made from.
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.lock().config().seed
    }

    fn __repr__(&self) -> String {
        let m = self.inner.lock();
        let c = m.config();
        format!(
            "SynthMarket(seed={}, vol={}, now_us={})",
            c.seed,
            c.vol,
            m.now_us()
        )
    }
}

/// Writes tapes as a recording of Binance streams for one symbol (`<receive_ns> <json>`
/// lines: a depth snapshot, `depthUpdate` frames with continuous `U`/`u`, `trade` frames), the
/// format `tradewire.backtest.data.read_tape` reads back into the same tape.
#[pyclass(
    frozen,
    name = "RecordingWriter",
    module = "tradewire._core",
    skip_from_py_object
)]
pub struct PyRecordingWriter {
    inner: Mutex<RecordingWriter>,
}

#[pymethods]
impl PyRecordingWriter {
    #[new]
    fn new(symbol: &str) -> PyResult<Self> {
        if symbol.is_empty() || !symbol.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "symbol must be letters and digits, like 'BTCUSDT', got {symbol:?}"
            )));
        }
        Ok(PyRecordingWriter {
            inner: Mutex::new(RecordingWriter::new(symbol)),
        })
    }

    /// The lines of the next chunk of the tape, as bytes.
    fn write<'py>(&self, py: Python<'py>, tape: &Bound<'py, PyTape>) -> Bound<'py, PyBytes> {
        let tape = &tape.get().tape;
        let text = py.detach(|| {
            let mut out = String::with_capacity(tape.len() * 48);
            self.inner.lock().write(tape, &mut out);
            out
        });
        PyBytes::new(py, text.as_bytes())
    }

    /// Lines written so far.
    #[getter]
    fn lines(&self) -> u64 {
        self.inner.lock().lines()
    }
}
