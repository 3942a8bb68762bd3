//! Python classes for Binance messages: frozen, small, exact strings kept, floats on request.

use pyo3::prelude::*;

use crate::binance::events::{self as ev, Event, Levels};
use crate::bindings::errors::{CoreError, CoreResult};
use crate::bindings::input::{maybe_detached, with_bytes};
use crate::decimal::Num;

fn levels_to_py<'py>(py: Python<'py>, levels: &Levels) -> PyResult<Bound<'py, PyAny>> {
    let v: Vec<(String, String)> = levels
        .iter()
        .map(|(p, q)| (p.to_string(), q.to_string()))
        .collect();
    Ok(v.into_pyobject(py)?.into_any())
}

fn levels_to_floats(levels: &Levels) -> Vec<(f64, f64)> {
    levels
        .iter()
        .map(|(p, q)| (p.value.to_f64(), q.value.to_f64()))
        .collect()
}

/// Declares a frozen event class over a pure struct, with getters for each field:
/// `int` fields as they are, `str` fields cloned, `num` fields as the exact string plus a float
/// getter, `levels` as lists of exact (price, quantity) strings plus a float version.
macro_rules! event_class {
    (
        $(#[$doc:meta])*
        $py:ident($inner:ty) as $name:literal, repr $repr:literal ($($rf:ident),*) {
            $(int $iname:ident;)*
            $(str $sname:ident;)*
            $(optstr $oname:ident;)*
            $(num $nname:ident / $nfloat:ident;)*
            $(optnum $onname:ident / $onfloat:ident;)*
            $(levels $lname:ident / $lfloat:ident;)*
            $(optint $oiname:ident;)*
            $(bool $bname:ident;)*
            $(fills $fname:ident;)*
        }
    ) => {
        $(#[$doc])*
        #[pyclass(frozen, name = $name, module = "tradewire._core", freelist = 64, skip_from_py_object)]
        pub struct $py {
            pub inner: $inner,
            pub stream: Option<String>,
        }

        #[pymethods]
        impl $py {
            /// The combined-stream name this event came on, if any.
            #[getter]
            fn stream(&self) -> Option<&str> {
                self.stream.as_deref()
            }
            $(
                #[getter]
                fn $iname(&self) -> i64 {
                    #[allow(clippy::cast_possible_wrap, clippy::unnecessary_cast)]
                    { self.inner.$iname as i64 }
                }
            )*
            $(
                #[getter]
                fn $sname(&self) -> &str {
                    &self.inner.$sname
                }
            )*
            $(
                #[getter]
                fn $oname(&self) -> Option<&str> {
                    self.inner.$oname.as_deref()
                }
            )*
            $(
                /// The exact decimal string, as the exchange sent it.
                #[getter]
                fn $nname(&self) -> String {
                    self.inner.$nname.to_string()
                }
                /// The nearest float (analytics only).
                #[getter]
                fn $nfloat(&self) -> f64 {
                    self.inner.$nname.value.to_f64()
                }
            )*
            $(
                /// The exact decimal string, or None.
                #[getter]
                fn $onname(&self) -> Option<String> {
                    self.inner.$onname.map(|n: Num| n.to_string())
                }
                /// The nearest float, or None (analytics only).
                #[getter]
                fn $onfloat(&self) -> Option<f64> {
                    self.inner.$onname.map(|n: Num| n.value.to_f64())
                }
            )*
            $(
                /// Levels as (price, quantity) exact strings, in the order sent.
                #[getter]
                fn $lname<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    levels_to_py(py, &self.inner.$lname)
                }
                /// Levels as (price, quantity) floats (analytics only).
                #[getter]
                fn $lfloat(&self) -> Vec<(f64, f64)> {
                    levels_to_floats(&self.inner.$lname)
                }
            )*

            $(
                #[getter]
                fn $oiname(&self) -> Option<i64> {
                    self.inner.$oiname
                }
            )*
            $(
                #[getter]
                fn $bname(&self) -> bool {
                    self.inner.$bname
                }
            )*
            $(
                /// The fills (FULL responses only).
                #[getter]
                fn $fname(&self) -> Vec<PyFill> {
                    self.inner
                        .$fname
                        .iter()
                        .map(|f| PyFill { inner: f.clone(), stream: None })
                        .collect()
                }
            )*

            fn __repr__(&self) -> String {
                format!(concat!($name, "(", $repr, ")"), $(self.inner.$rf),*)
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
                other
                    .cast::<$py>()
                    .is_ok_and(|o| o.get().inner == self.inner && o.get().stream == self.stream)
            }
        }
    };
}

event_class! {
    /// A `depthUpdate` diff: levels whose quantity changed between two update ids.
    PyDepthUpdate(ev::DepthUpdate) as "DepthUpdate",
    repr "symbol={:?}, U={}, u={}" (symbol, first_update_id, final_update_id) {
        int event_time; int first_update_id; int final_update_id;
        str symbol;
        levels bids / bids_float; levels asks / asks_float;
    }
}

event_class! {
    /// The top levels of a book: a `@depth<N>` event or a REST depth snapshot.
    PyPartialDepth(ev::PartialDepth) as "PartialDepth",
    repr "last_update_id={}" (last_update_id) {
        int last_update_id;
        levels bids / bids_float; levels asks / asks_float;
    }
}

event_class! {
    /// Best bid and ask (`@bookTicker`).
    PyBookTicker(ev::BookTicker) as "BookTicker",
    repr "symbol={:?}, update_id={}, bid={}, ask={}" (symbol, update_id, bid_price, ask_price) {
        int update_id;
        str symbol;
        num bid_price / bid_price_float; num bid_qty / bid_qty_float;
        num ask_price / ask_price_float; num ask_qty / ask_qty_float;
    }
}

event_class! {
    /// One trade (`@trade`).
    PyTrade(ev::Trade) as "Trade",
    repr "symbol={:?}, trade_id={}, price={}, quantity={}" (symbol, trade_id, price, quantity) {
        int event_time; int trade_id; int trade_time;
        str symbol;
        num price / price_float; num quantity / quantity_float;
        bool is_buyer_maker;
    }
}

event_class! {
    /// An aggregated trade (`@aggTrade`).
    PyAggTrade(ev::AggTrade) as "AggTrade",
    repr "symbol={:?}, agg_trade_id={}, price={}, quantity={}" (symbol, agg_trade_id, price, quantity) {
        int event_time; int agg_trade_id; int first_trade_id; int last_trade_id; int trade_time;
        str symbol;
        num price / price_float; num quantity / quantity_float;
        bool is_buyer_maker;
    }
}

event_class! {
    /// A candlestick update (`@kline_<interval>`).
    PyKline(ev::Kline) as "Kline",
    repr "symbol={:?}, interval={:?}, start_time={}, close={}, is_closed={}" (symbol, interval, start_time, close, is_closed) {
        int event_time; int start_time; int close_time; int first_trade_id; int last_trade_id;
        int trade_count;
        str symbol; str interval;
        num open / open_float; num high / high_float; num low / low_float;
        num close / close_float; num volume / volume_float; num quote_volume / quote_volume_float;
        num taker_buy_base_volume / taker_buy_base_volume_float;
        num taker_buy_quote_volume / taker_buy_quote_volume_float;
        bool is_closed;
    }
}

event_class! {
    /// A reply to `SUBSCRIBE` / `UNSUBSCRIBE` / `LIST_SUBSCRIPTIONS`; `id` and `result` are raw JSON.
    PyStreamResponse(ev::StreamResponse) as "StreamResponse",
    repr "id={:?}, result={:?}, error_code={:?}" (id, result, error_code) {
        optstr id; optstr result; optstr error_msg;
        optint error_code;
    }
}

event_class! {
    /// A Binance error body: `{"code": -1121, "msg": "Invalid symbol."}`.
    PyApiErrorBody(ev::ApiErrorBody) as "ApiErrorBody",
    repr "code={}, msg={:?}" (code, msg) {
        int code;
        str msg;
    }
}

event_class! {
    /// One fill of an order.
    PyFill(ev::Fill) as "OrderFill",
    repr "price={}, qty={}, commission={}, commission_asset={:?}" (price, qty, commission, commission_asset) {
        int trade_id;
        str commission_asset;
        num price / price_float; num qty / qty_float; num commission / commission_float;
    }
}

event_class! {
    /// An order as the REST API returns it (ACK, RESULT or FULL response; or a queried order).
    PyOrderResponse(ev::OrderResponse) as "OrderResponse",
    repr "symbol={:?}, order_id={}, client_order_id={:?}, status={:?}" (symbol, order_id, client_order_id, status) {
        int order_id; int order_list_id;
        str symbol; str client_order_id;
        optstr status; optstr time_in_force; optstr order_type; optstr side;
        optstr self_trade_prevention_mode; optstr orig_client_order_id;
        optnum price / price_float; optnum orig_qty / orig_qty_float;
        optnum executed_qty / executed_qty_float;
        optnum cummulative_quote_qty / cummulative_quote_qty_float;
        optnum stop_price / stop_price_float;
        optint transact_time; optint working_time;
        fills fills;
    }
}

/// The server is about to close the connection (`serverShutdown`): reconnect now.
#[pyclass(
    frozen,
    name = "ServerShutdown",
    module = "tradewire._core",
    skip_from_py_object
)]
pub struct PyServerShutdown {
    #[pyo3(get)]
    event_time: i64,
    #[pyo3(get)]
    stream: Option<String>,
}

#[pymethods]
impl PyServerShutdown {
    fn __repr__(&self) -> String {
        format!("ServerShutdown(event_time={})", self.event_time)
    }
}

/// A well-formed event of a type this version does not parse; `raw` holds its bytes.
#[pyclass(
    frozen,
    name = "UnknownEvent",
    module = "tradewire._core",
    skip_from_py_object
)]
pub struct PyUnknownEvent {
    #[pyo3(get)]
    event_type: String,
    #[pyo3(get)]
    stream: Option<String>,
    raw: Vec<u8>,
}

#[pymethods]
impl PyUnknownEvent {
    /// The message bytes as received.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
        pyo3::types::PyBytes::new(py, &self.raw)
    }

    fn __repr__(&self) -> String {
        format!("UnknownEvent(event_type={:?})", self.event_type)
    }
}

fn event_to_py(py: Python<'_>, m: ev::Message, raw: &[u8]) -> PyResult<Py<PyAny>> {
    let stream = m.stream;
    Ok(match m.event {
        Event::DepthUpdate(inner) => Py::new(py, PyDepthUpdate { inner, stream })?.into_any(),
        Event::PartialDepth(inner) => Py::new(py, PyPartialDepth { inner, stream })?.into_any(),
        Event::BookTicker(inner) => Py::new(py, PyBookTicker { inner, stream })?.into_any(),
        Event::Trade(inner) => Py::new(py, PyTrade { inner, stream })?.into_any(),
        Event::AggTrade(inner) => Py::new(py, PyAggTrade { inner, stream })?.into_any(),
        Event::Kline(inner) => Py::new(py, PyKline { inner, stream })?.into_any(),
        Event::Response(inner) => Py::new(py, PyStreamResponse { inner, stream })?.into_any(),
        Event::ServerShutdown { event_time } => {
            Py::new(py, PyServerShutdown { event_time, stream })?.into_any()
        }
        Event::Unknown { event_type } => Py::new(
            py,
            PyUnknownEvent {
                event_type,
                stream,
                raw: raw.to_vec(),
            },
        )?
        .into_any(),
    })
}

/// Parse one market-stream message (raw, or a combined-stream envelope) into a typed event.
#[pyfunction]
pub fn parse_message(py: Python<'_>, raw: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    with_bytes(raw, |b| -> PyResult<Py<PyAny>> {
        let m = ev::parse_message(b).map_err(CoreError::from)?;
        event_to_py(py, m, b)
    })?
}

/// Parse a REST `/api/v3/depth` body into a `PartialDepth`.
#[pyfunction]
pub fn parse_depth_snapshot(py: Python<'_>, raw: &Bound<'_, PyAny>) -> PyResult<PyPartialDepth> {
    let inner = with_bytes(raw, |b| -> CoreResult<ev::PartialDepth> {
        Ok(maybe_detached(py, b.len(), || ev::parse_depth_snapshot(b))?)
    })??;
    Ok(PyPartialDepth {
        inner,
        stream: None,
    })
}

/// Parse a Binance error body (`{"code": ..., "msg": ...}`).
#[pyfunction]
pub fn parse_error_body(raw: &Bound<'_, PyAny>) -> PyResult<PyApiErrorBody> {
    let inner = with_bytes(raw, |b| ev::parse_error_body(b).map_err(CoreError::from))??;
    Ok(PyApiErrorBody {
        inner,
        stream: None,
    })
}

/// Parse an order response (`POST /api/v3/order` ACK/RESULT/FULL, or `GET /api/v3/order`).
#[pyfunction]
pub fn parse_order_response(raw: &Bound<'_, PyAny>) -> PyResult<PyOrderResponse> {
    let inner = with_bytes(raw, |b| {
        ev::parse_order_response(b).map_err(CoreError::from)
    })??;
    Ok(PyOrderResponse {
        inner,
        stream: None,
    })
}
