//! Reading payloads from Python without needless copies.

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

use crate::bindings::errors::type_error;

/// Payloads of at least this many bytes are processed with the interpreter detached
/// (a depth snapshot of ~1000 levels); smaller ones are not worth the hand-off.
pub const DETACH_THRESHOLD: usize = 64 * 1024;

/// Run `f` over the bytes of `obj`: `bytes` and `str` are read in place; `bytearray` and other
/// buffers (memoryview) are copied once, since they could change under us.
pub fn with_bytes<R>(obj: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> R) -> PyResult<R> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(f(b.as_bytes()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(f(s.to_str()?.as_bytes()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        let v = b.to_vec();
        return Ok(f(&v));
    }
    let py = obj.py();
    match py.get_type::<PyBytes>().call1((obj,)) {
        Ok(b) if !obj.is_instance_of::<pyo3::types::PyInt>() => {
            let b = b.cast_into::<PyBytes>()?;
            Ok(f(b.as_bytes()))
        }
        _ => Err(type_error(format!(
            "expected bytes, str, bytearray or memoryview, got {}",
            obj.get_type().name()?
        ))),
    }
}

/// Run `f` with the interpreter detached when the payload is large.
pub fn maybe_detached<R: Send>(py: Python<'_>, len: usize, f: impl FnOnce() -> R + Send) -> R {
    if len >= DETACH_THRESHOLD {
        py.detach(f)
    } else {
        f()
    }
}
