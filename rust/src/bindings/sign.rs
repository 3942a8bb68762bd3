//! `tradewire.Signer`, `tradewire.Verifier` and the Binance query builders.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};

use crate::bindings::decimal::dec_from_py;
use crate::bindings::errors::{type_error, CoreError};
use crate::bindings::input::with_bytes;
use crate::sign::{append_signature, percent_encode_into, ws_api_payload, Signer, Verifier};

/// Signs request payloads with one API secret: HMAC-SHA256 (hex) for a plain secret,
/// Ed25519 or RSA PKCS#1 v1.5 SHA-256 (base64) for a PEM private key.
///
/// The secret cannot be read back, is not shown by `repr`, cannot be pickled, and is wiped
/// from memory when the signer is dropped.
#[pyclass(
    frozen,
    name = "Signer",
    module = "tradewire._core",
    skip_from_py_object
)]
pub struct PySigner(pub Signer);

#[pymethods]
impl PySigner {
    /// A signer for `secret`: an HMAC secret, or a PKCS#8 PEM private key (Ed25519 or RSA).
    #[staticmethod]
    fn from_secret(secret: &str) -> PyResult<Self> {
        Ok(PySigner(
            Signer::from_secret(secret).map_err(CoreError::from)?,
        ))
    }

    /// The signature of `payload`: hex for HMAC, base64 for Ed25519 and RSA.
    fn sign(&self, payload: &Bound<'_, PyAny>) -> PyResult<String> {
        with_bytes(payload, |b| self.0.sign(b))
    }

    /// Whether `signature` is this key's signature of `payload` (constant-time for HMAC).
    fn verify(&self, payload: &Bound<'_, PyAny>, signature: &str) -> PyResult<bool> {
        with_bytes(payload, |b| self.0.verify(b, signature))
    }

    /// "hmac-sha256", "ed25519" or "rsa-pkcs1v15-sha256".
    #[getter]
    fn key_type(&self) -> &'static str {
        self.0.key_type().name()
    }

    fn __repr__(&self) -> String {
        format!("Signer(key_type='{}')", self.0.key_type().name())
    }

    #[allow(clippy::unused_self)] // the signature pickle calls
    fn __reduce__(&self) -> PyResult<()> {
        Err(type_error("a Signer holds a secret and cannot be pickled"))
    }
}

/// Checks signatures with an HMAC secret, or an Ed25519 or RSA public key (PEM, SPKI).
#[pyclass(
    frozen,
    name = "Verifier",
    module = "tradewire._core",
    skip_from_py_object
)]
pub struct PyVerifier(pub Verifier);

#[pymethods]
impl PyVerifier {
    /// A verifier for an HMAC secret or a PEM public key.
    #[staticmethod]
    fn from_key(key: &str) -> PyResult<Self> {
        Ok(PyVerifier(
            Verifier::from_key(key).map_err(CoreError::from)?,
        ))
    }

    /// Whether `signature` signs `payload` under this key.
    fn verify(&self, payload: &Bound<'_, PyAny>, signature: &str) -> PyResult<bool> {
        with_bytes(payload, |b| self.0.verify(b, signature))
    }

    /// "hmac-sha256", "ed25519" or "rsa-pkcs1v15-sha256".
    #[getter]
    fn key_type(&self) -> &'static str {
        self.0.key_type().name()
    }

    fn __repr__(&self) -> String {
        format!("Verifier(key_type='{}')", self.0.key_type().name())
    }

    #[allow(clippy::unused_self)] // the signature pickle calls
    fn __reduce__(&self) -> PyResult<()> {
        Err(type_error(
            "a Verifier holds a secret and cannot be pickled",
        ))
    }
}

/// Append the wire text of one parameter value. `None` values are skipped by the caller.
fn push_value(v: &Bound<'_, PyAny>, out: &mut String, raw: bool) -> PyResult<()> {
    let push = |s: &str, out: &mut String| {
        if raw {
            out.push_str(s);
        } else {
            percent_encode_into(s.as_bytes(), out);
        }
    };
    if let Ok(s) = v.cast::<PyString>() {
        push(s.to_str()?, out);
    } else if let Ok(b) = v.cast::<PyBool>() {
        push(if b.is_true() { "true" } else { "false" }, out);
    } else if let Ok(i) = v.cast::<PyInt>() {
        match i.extract::<i64>() {
            Ok(n) => push(&n.to_string(), out),
            Err(_) => push(i.str()?.to_str()?, out),
        }
    } else if v.is_instance_of::<PyFloat>() {
        return Err(type_error(
            "float parameter values are refused: pass prices and quantities as str or \
             decimal.Decimal so the exact value is sent",
        ));
    } else {
        // ExactDecimal or decimal.Decimal, written without exponent; else a TypeError there.
        push(&dec_from_py(v, false)?.to_string(), out);
    }
    Ok(())
}

/// Visit `(key, value)` pairs of a mapping or a sequence of pairs, in order, skipping `None`s.
fn for_each_param(
    params: &Bound<'_, PyAny>,
    mut f: impl FnMut(&str, &Bound<'_, PyAny>) -> PyResult<()>,
) -> PyResult<()> {
    if let Ok(d) = params.cast::<PyDict>() {
        for (k, v) in d.iter() {
            if !v.is_none() {
                f(k.cast::<PyString>()?.to_str()?, &v)?;
            }
        }
        return Ok(());
    }
    let items = if params.hasattr(pyo3::intern!(params.py(), "items"))? {
        params.call_method0(pyo3::intern!(params.py(), "items"))?
    } else {
        params.clone()
    };
    for item in items.try_iter()? {
        let item = item?;
        let (k, v): (Bound<'_, PyString>, Bound<'_, PyAny>) = item.extract().map_err(|_| {
            type_error("params must be a mapping or a sequence of (name, value) pairs")
        })?;
        if !v.is_none() {
            f(k.to_str()?, &v)?;
        }
    }
    Ok(())
}

/// The signed REST query string: params percent-encoded in order, `&signature=` last.
#[pyfunction]
pub fn signed_query(signer: &Bound<'_, PySigner>, params: &Bound<'_, PyAny>) -> PyResult<String> {
    let mut out = String::with_capacity(256);
    for_each_param(params, |k, v| {
        if !out.is_empty() {
            out.push('&');
        }
        percent_encode_into(k.as_bytes(), &mut out);
        out.push('=');
        push_value(v, &mut out, false)
    })?;
    append_signature(&signer.get().0, &mut out);
    Ok(out)
}

/// The WebSocket API signing payload: params (minus `signature`) sorted by name, joined raw.
#[pyfunction]
pub fn ws_api_signature_payload(params: &Bound<'_, PyAny>) -> PyResult<String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for_each_param(params, |k, v| {
        if k != "signature" {
            let mut s = String::new();
            push_value(v, &mut s, true)?;
            pairs.push((k.to_owned(), s));
        }
        Ok(())
    })?;
    let mut refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Ok(ws_api_payload(&mut refs))
}
