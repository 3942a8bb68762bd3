//! `tradewire.ExactDecimal`, and reading decimals from Python values.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash as _, Hasher as _};

use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString, PyType};

use crate::bindings::errors::{type_error, CoreError};
use crate::decimal::{Dec, Side};

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The `decimal.Decimal` class, imported once.
pub(crate) fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DECIMAL.import(py, "decimal", "Decimal")
}

/// Read an exact decimal from `str`, `int`, `decimal.Decimal` or `ExactDecimal`.
/// Floats are refused unless `allow_float` (analytics only): money never passes through a float.
pub fn dec_from_py(obj: &Bound<'_, PyAny>, allow_float: bool) -> PyResult<Dec> {
    if let Ok(d) = obj.cast::<PyExactDecimal>() {
        return Ok(d.get().0);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Dec::parse_str(s.to_str()?.trim()).map_err(CoreError::from)?);
    }
    if obj.is_instance_of::<PyBool>() {
        return Err(type_error("expected a decimal, got bool"));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        if let Ok(v) = i.extract::<i64>() {
            return Ok(Dec::from_int(v));
        }
        let s = i.str()?;
        return Ok(Dec::parse_str(s.to_str()?).map_err(CoreError::from)?);
    }
    let py = obj.py();
    if obj.is_instance(decimal_type(py)?)? {
        // format(d, "f") never uses an exponent; NaN and infinities fail to parse below.
        let s = obj.call_method1(pyo3::intern!(py, "__format__"), ("f",))?;
        let s = s.cast::<PyString>()?;
        return Ok(Dec::parse_str(s.to_str()?).map_err(CoreError::from)?);
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        if allow_float {
            return Ok(Dec::from_f64(f.value()).map_err(CoreError::from)?);
        }
        return Err(type_error(
            "floats are not accepted for exact amounts: pass a str, int or decimal.Decimal \
             so the exact value is used",
        ));
    }
    Err(type_error(format!(
        "expected a decimal (str, int, decimal.Decimal or ExactDecimal), got {}",
        obj.get_type().name()?
    )))
}

/// Read "BUY" / "SELL" (any case).
pub fn side_from_str(side: &str) -> PyResult<Side> {
    if side.eq_ignore_ascii_case("buy") {
        Ok(Side::Buy)
    } else if side.eq_ignore_ascii_case("sell") {
        Ok(Side::Sell)
    } else {
        Err(pyo3::exceptions::PyValueError::new_err(format!(
            "side must be 'BUY' or 'SELL', got {side:?}"
        )))
    }
}

/// An exact decimal with 18 fixed decimal places (|x| < 1.7e20), for prices and quantities.
///
/// Parsed digit by digit from strings (never through a float); arithmetic is exact or raises
/// `DecimalError`. `str()` gives the canonical form (no exponent, no trailing zeros).
#[pyclass(
    frozen,
    name = "ExactDecimal",
    module = "tradewire._core",
    skip_from_py_object
)]
pub struct PyExactDecimal(pub Dec);

#[pymethods]
impl PyExactDecimal {
    #[new]
    fn new(value: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyExactDecimal(dec_from_py(value, false)?))
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!("ExactDecimal('{}')", self.0)
    }

    fn __float__(&self) -> f64 {
        self.0.to_f64()
    }

    fn __hash__(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.0.hash(&mut h);
        h.finish()
    }

    fn __bool__(&self) -> bool {
        !self.0.is_zero()
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(o) = dec_from_py(other, false) else {
            return Ok(py.NotImplemented());
        };
        Ok(op
            .matches(self.0.cmp(&o))
            .into_pyobject(py)?
            .to_owned()
            .into_any()
            .unbind())
    }

    fn __add__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyExactDecimal(
            self.0
                .checked_add(dec_from_py(other, false)?)
                .map_err(CoreError::from)?,
        ))
    }

    fn __radd__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.__add__(other)
    }

    fn __sub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyExactDecimal(
            self.0
                .checked_sub(dec_from_py(other, false)?)
                .map_err(CoreError::from)?,
        ))
    }

    fn __rsub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyExactDecimal(
            dec_from_py(other, false)?
                .checked_sub(self.0)
                .map_err(CoreError::from)?,
        ))
    }

    fn __mul__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyExactDecimal(
            self.0
                .checked_mul(dec_from_py(other, false)?)
                .map_err(CoreError::from)?,
        ))
    }

    fn __rmul__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.__mul__(other)
    }

    fn __neg__(&self) -> Self {
        PyExactDecimal(self.0.negated())
    }

    fn __abs__(&self) -> Self {
        PyExactDecimal(if self.0.is_negative() {
            self.0.negated()
        } else {
            self.0
        })
    }

    /// The quotient, truncated toward zero at 18 decimals.
    fn div_trunc(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyExactDecimal(
            self.0
                .checked_div_trunc(dec_from_py(other, false)?)
                .map_err(CoreError::from)?,
        ))
    }

    /// The largest multiple of `step` not above this value (quantity to stepSize).
    fn floor_to(&self, step: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyExactDecimal(
            self.0
                .floor_to(dec_from_py(step, false)?)
                .map_err(CoreError::from)?,
        ))
    }

    /// The smallest multiple of `step` not below this value.
    fn ceil_to(&self, step: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyExactDecimal(
            self.0
                .ceil_to(dec_from_py(step, false)?)
                .map_err(CoreError::from)?,
        ))
    }

    /// Round a price to `tick`: down for "BUY", up for "SELL".
    fn round_to_tick(&self, tick: &Bound<'_, PyAny>, side: &str) -> PyResult<Self> {
        Ok(PyExactDecimal(
            self.0
                .round_to_tick(dec_from_py(tick, false)?, side_from_str(side)?)
                .map_err(CoreError::from)?,
        ))
    }

    /// Whether this value is a whole multiple of `step`.
    fn is_multiple_of(&self, step: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self
            .0
            .is_multiple_of(dec_from_py(step, false)?)
            .map_err(CoreError::from)?)
    }

    /// The value written with exactly `digits` decimals (as Binance writes numbers).
    fn to_string_fixed(&self, digits: u32) -> PyResult<String> {
        self.0.to_string_fixed(digits).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "{} has more than {digits} decimals",
                self.0
            ))
        })
    }

    /// The same value as a `decimal.Decimal`.
    fn to_decimal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        decimal_type(py)?.call1((self.0.to_string(),))
    }

    /// Number of significant decimals.
    #[getter]
    fn decimals(&self) -> u32 {
        self.0.fraction_digits()
    }
}
