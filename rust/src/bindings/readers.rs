//! The market-data readers behind `tradewire.backtest.data`: bytes of whole lines in, a `Tape`
//! out, no Python object per row.

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::bindings::errors::{CoreError, CoreResult};
use crate::bindings::input::{maybe_detached, with_bytes};
use crate::bindings::sim::PyTape;
use crate::sim::binance_csv::{CsvKind, CsvReader};
use crate::sim::recording::RecordingReader;
use crate::sim::tape::Tape;

/// A reader of one of Binance's historical CSV files (`trades`, `aggTrades` or `klines`).
///
/// Feed it the file's bytes in order, in chunks of whole lines; each call returns the events
/// of its chunk as a `Tape`. A bad row raises `tradewire.errors.DataError` naming the line and
/// the column.
#[pyclass(
    frozen,
    name = "BinanceCsvReader",
    module = "tradewire._core",
    skip_from_py_object
)]
pub struct PyBinanceCsvReader {
    inner: Mutex<CsvReader>,
}

#[pymethods]
impl PyBinanceCsvReader {
    #[new]
    #[pyo3(signature = (kind, *, source = None))]
    fn new(kind: &str, source: Option<String>) -> PyResult<Self> {
        let kind = CsvKind::from_name(kind).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "kind is 'trades', 'aggTrades' or 'klines', got {kind:?}"
            ))
        })?;
        Ok(PyBinanceCsvReader {
            inner: Mutex::new(CsvReader::new(kind, source.as_deref().unwrap_or_default())),
        })
    }

    /// Read `chunk` (whole lines; the file's last line may lack its newline): its events.
    fn feed(&self, py: Python<'_>, chunk: &Bound<'_, PyAny>) -> PyResult<PyTape> {
        let tape = with_bytes(chunk, |b| {
            maybe_detached(py, b.len(), || -> CoreResult<Tape> {
                let mut r = self.inner.lock();
                let rows = if r.kind() == CsvKind::Klines {
                    b.len() / 20
                } else {
                    b.len() / 56
                };
                let mut tape = Tape::with_capacity(rows + 1);
                r.feed(b, &mut tape).map_err(CoreError::from)?;
                Ok(tape)
            })
        })??;
        Ok(PyTape::new(tape))
    }

    /// The file's kind: `trades`, `aggTrades` or `klines`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.lock().kind().name()
    }

    /// Lines read so far.
    #[getter]
    fn lines(&self) -> u64 {
        self.inner.lock().lines()
    }

    /// Data rows read so far (no header, no blank line).
    #[getter]
    fn rows(&self) -> u64 {
        self.inner.lock().rows()
    }

    fn __repr__(&self) -> String {
        let r = self.inner.lock();
        format!(
            "BinanceCsvReader({:?}, lines={})",
            r.kind().name(),
            r.lines()
        )
    }
}

/// A reader of a recording of Binance streams (`<receive_ns> <json>` lines), for one symbol.
///
/// Keeps Binance's local-book procedure over the depth diffs and emits the book (a `CLEAR`,
/// the snapshot, then each diff) and the trades, in exchange time; `bookTicker` frames carry
/// no exchange time and are skipped. A sequence gap or a bad line raises
/// `tradewire.errors.DataError` naming the line.
#[pyclass(
    frozen,
    name = "RecordingReader",
    module = "tradewire._core",
    skip_from_py_object
)]
pub struct PyRecordingReader {
    inner: Mutex<RecordingReader>,
}

#[pymethods]
impl PyRecordingReader {
    #[new]
    #[pyo3(signature = (symbol, *, source = None))]
    fn new(symbol: &str, source: Option<String>) -> PyResult<Self> {
        if symbol.is_empty() || !symbol.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "symbol must be letters and digits, like 'BTCUSDT', got {symbol:?}"
            )));
        }
        Ok(PyRecordingReader {
            inner: Mutex::new(RecordingReader::new(
                symbol,
                source.as_deref().unwrap_or_default(),
            )),
        })
    }

    /// Read `chunk` (whole lines; the file's last line may lack its newline): its events.
    fn feed(&self, py: Python<'_>, chunk: &Bound<'_, PyAny>) -> PyResult<PyTape> {
        let tape = with_bytes(chunk, |b| {
            maybe_detached(py, b.len(), || -> CoreResult<Tape> {
                let mut tape = Tape::with_capacity(b.len() / 64 + 1);
                self.inner
                    .lock()
                    .feed(b, &mut tape)
                    .map_err(CoreError::from)?;
                Ok(tape)
            })
        })??;
        Ok(PyTape::new(tape))
    }

    /// What was read so far, as counts: `lines`, `snapshots`, `diffs` (applied),
    /// `stale_diffs`, `trades`, `book_tickers`, `reconnects` and `skipped` (other symbols and
    /// event types).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.lock().stats();
        let d = PyDict::new(py);
        for (k, v) in [
            ("lines", s.lines),
            ("snapshots", s.snapshots),
            ("diffs", s.diffs),
            ("stale_diffs", s.stale_diffs),
            ("trades", s.trades),
            ("book_tickers", s.book_tickers),
            ("reconnects", s.reconnects),
            ("skipped", s.skipped),
        ] {
            d.set_item(k, v)?;
        }
        Ok(d)
    }
}
