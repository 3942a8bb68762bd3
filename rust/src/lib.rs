//! tradewire's Rust core: exact decimals, request signing, Binance wire parsing, order books.
//!
//! The domain modules (`decimal`, `sign`, `book`, `binance`) are plain Rust with no Python in
//! them; `bindings` is the thin `PyO3` layer, and the module below only registers it.
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod binance;
mod bindings;
pub mod book;
pub mod decimal;
pub mod oauth;
pub mod sign;
pub mod sim;

#[pyo3::pymodule]
mod _core {
    #[pymodule_export]
    use crate::bindings::book::PyOrderBook;
    #[pymodule_export]
    use crate::bindings::decimal::PyExactDecimal;
    #[pymodule_export]
    use crate::bindings::events::{
        parse_depth_snapshot, parse_error_body, parse_message, parse_order_response, PyAggTrade,
        PyApiErrorBody, PyBookTicker, PyDepthUpdate, PyFill, PyKline, PyOrderResponse,
        PyPartialDepth, PyServerShutdown, PyStreamResponse, PyTrade, PyUnknownEvent,
    };
    #[pymodule_export]
    use crate::bindings::oauth::{hmac_sha256_base64, PyOAuthRequestSigner};
    #[pymodule_export]
    use crate::bindings::readers::{PyBinanceCsvReader, PyRecordingReader};
    #[pymodule_export]
    use crate::bindings::sign::{signed_query, ws_api_signature_payload, PySigner, PyVerifier};
    #[pymodule_export]
    use crate::bindings::sim::{PySimEngine, PyTape};
    #[pymodule_export]
    use crate::bindings::synth::{PyRecordingWriter, PySynthMarket};

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
