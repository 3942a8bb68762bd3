//! `tradewire._core.OAuthRequestSigner` and `hmac_sha256_base64`: IB's OAuth 1.0a request signing.

use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::bindings::errors::{type_error, CoreError};
use crate::bindings::input::with_bytes;
use crate::oauth::{hmac_sha256_base64 as hmac_b64, OAuthRequestSigner};

/// base64(HMAC-SHA256(key, payload)) with a raw-bytes key.
#[pyfunction]
pub fn hmac_sha256_base64(key: &Bound<'_, PyAny>, payload: &Bound<'_, PyAny>) -> PyResult<String> {
    let key = with_bytes(key, <[u8]>::to_vec)?;
    let key = zeroize::Zeroizing::new(key);
    with_bytes(payload, |p| hmac_b64(&key, p))
}

/// Signs Interactive Brokers Web API requests with a live session token: the OAuth 1.0a
/// `Authorization` header with an HMAC-SHA256 signature.
///
/// The token cannot be read back, is not shown by `repr`, and cannot be pickled.
#[pyclass(
    frozen,
    name = "OAuthRequestSigner",
    module = "tradewire._core",
    skip_from_py_object
)]
pub struct PyOAuthRequestSigner(OAuthRequestSigner);

/// Read `(name, value)` string pairs from a sequence or mapping.
fn pairs(params: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    let Some(params) = params else {
        return Ok(out);
    };
    let items = if params.hasattr(pyo3::intern!(params.py(), "items"))? {
        params.call_method0(pyo3::intern!(params.py(), "items"))?
    } else {
        params.clone()
    };
    for item in items.try_iter()? {
        let (k, v): (Bound<'_, PyString>, Bound<'_, PyString>) = item?.extract().map_err(|_| {
            type_error("params must be (str, str) pairs or a mapping of str to str")
        })?;
        out.push((k.to_str()?.to_owned(), v.to_str()?.to_owned()));
    }
    Ok(out)
}

#[pymethods]
impl PyOAuthRequestSigner {
    /// A signer for the base64 live session token and the consumer's key, token and realm.
    #[new]
    #[pyo3(signature = (live_session_token, *, consumer_key, access_token, realm))]
    fn new(
        live_session_token: &str,
        consumer_key: &str,
        access_token: &str,
        realm: &str,
    ) -> PyResult<Self> {
        Ok(PyOAuthRequestSigner(
            OAuthRequestSigner::new(live_session_token, consumer_key, access_token, realm)
                .map_err(CoreError::from)?,
        ))
    }

    /// The OAuth base string of one request.
    #[pyo3(signature = (method, url, params=None, *, nonce, timestamp))]
    fn base_string(
        &self,
        method: &str,
        url: &str,
        params: Option<&Bound<'_, PyAny>>,
        nonce: &str,
        timestamp: &str,
    ) -> PyResult<String> {
        let owned = pairs(params)?;
        let refs: Vec<(&str, &str)> = owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Ok(self
            .0
            .base_string(method, url, &refs, nonce, timestamp)
            .map_err(CoreError::from)?)
    }

    /// The `Authorization` header value of one request.
    #[pyo3(signature = (method, url, params=None, *, nonce, timestamp))]
    fn authorization(
        &self,
        method: &str,
        url: &str,
        params: Option<&Bound<'_, PyAny>>,
        nonce: &str,
        timestamp: &str,
    ) -> PyResult<String> {
        if params.is_none() {
            return Ok(self
                .0
                .authorization(method, url, &[], nonce, timestamp)
                .map_err(CoreError::from)?);
        }
        let owned = pairs(params)?;
        let refs: Vec<(&str, &str)> = owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Ok(self
            .0
            .authorization(method, url, &refs, nonce, timestamp)
            .map_err(CoreError::from)?)
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.0)
    }

    #[allow(clippy::unused_self)] // the signature pickle calls
    fn __reduce__(&self) -> PyResult<()> {
        Err(type_error(
            "an OAuthRequestSigner holds a live session token and cannot be pickled",
        ))
    }
}
