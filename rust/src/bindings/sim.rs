//! `tradewire._core.Tape`: a chunk of market events in columns, handed between the readers and
//! the simulation engine without a Python object per row.

use numpy::{PyArray1, ToPyArray as _};
use pyo3::prelude::*;

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
