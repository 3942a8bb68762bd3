//! Binance Spot market-stream events and REST bodies, parsed from bytes into plain structs.
//!
//! Numbers that are money stay exact ([`Num`] keeps the digits as written). Field names follow
//! Binance's docs (web-socket-streams.md, rest-api.md); a missing or mistyped field is a
//! [`ParseError`] that names it.

use crate::binance::fields::Fields;
use crate::binance::json::{error, Cursor, Result};
use crate::book::DepthDiff;
use crate::decimal::Num;

pub type Levels = Vec<(Num, Num)>;

/// `<symbol>@depth` / `@depth@100ms`: a diff of the book between two update ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthUpdate {
    pub event_time: i64,
    pub symbol: String,
    pub first_update_id: u64,
    pub final_update_id: u64,
    pub bids: Levels,
    pub asks: Levels,
}

/// `<symbol>@depth<N>` (and a REST `/api/v3/depth` body): the top N levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialDepth {
    pub last_update_id: u64,
    pub bids: Levels,
    pub asks: Levels,
}

/// `<symbol>@bookTicker`: best bid and ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookTicker {
    pub update_id: u64,
    pub symbol: String,
    pub bid_price: Num,
    pub bid_qty: Num,
    pub ask_price: Num,
    pub ask_qty: Num,
}

/// `<symbol>@trade`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    pub event_time: i64,
    pub symbol: String,
    pub trade_id: u64,
    pub price: Num,
    pub quantity: Num,
    pub trade_time: i64,
    pub is_buyer_maker: bool,
}

/// `<symbol>@aggTrade`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggTrade {
    pub event_time: i64,
    pub symbol: String,
    pub agg_trade_id: u64,
    pub price: Num,
    pub quantity: Num,
    pub first_trade_id: u64,
    pub last_trade_id: u64,
    pub trade_time: i64,
    pub is_buyer_maker: bool,
}

/// `<symbol>@kline_<interval>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kline {
    pub event_time: i64,
    pub symbol: String,
    pub interval: String,
    pub start_time: i64,
    pub close_time: i64,
    pub first_trade_id: i64,
    pub last_trade_id: i64,
    pub open: Num,
    pub high: Num,
    pub low: Num,
    pub close: Num,
    pub volume: Num,
    pub trade_count: u64,
    pub is_closed: bool,
    pub quote_volume: Num,
    pub taker_buy_base_volume: Num,
    pub taker_buy_quote_volume: Num,
}

/// A reply to `SUBSCRIBE` / `UNSUBSCRIBE` / `LIST_SUBSCRIPTIONS` (or its error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamResponse {
    /// The request id as raw JSON (an int or a string), if any.
    pub id: Option<String>,
    /// The `result` as raw JSON (e.g. `null`, or a list of streams).
    pub result: Option<String>,
    pub error_code: Option<i64>,
    pub error_msg: Option<String>,
}

/// Everything a market stream can deliver.
// Each event is moved once, into its Python object: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    DepthUpdate(DepthUpdate),
    PartialDepth(PartialDepth),
    BookTicker(BookTicker),
    Trade(Trade),
    AggTrade(AggTrade),
    Kline(Kline),
    /// The server is about to close the connection: reconnect now.
    ServerShutdown {
        event_time: i64,
    },
    Response(StreamResponse),
    /// A well-formed event of a type this version does not know.
    Unknown {
        event_type: String,
    },
}

/// A stream message: the event and, for combined streams, the stream name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub stream: Option<String>,
    pub event: Event,
}

fn depth_update(f: &Fields<'_>) -> Result<DepthUpdate> {
    Ok(DepthUpdate {
        event_time: f.int("E")?,
        symbol: f.string("s")?,
        first_update_id: f.uint("U")?,
        final_update_id: f.uint("u")?,
        bids: f.levels("b")?,
        asks: f.levels("a")?,
    })
}

fn partial_depth(f: &Fields<'_>) -> Result<PartialDepth> {
    Ok(PartialDepth {
        last_update_id: f.uint("lastUpdateId")?,
        bids: f.levels("bids")?,
        asks: f.levels("asks")?,
    })
}

fn book_ticker(f: &Fields<'_>) -> Result<BookTicker> {
    Ok(BookTicker {
        update_id: f.uint("u")?,
        symbol: f.string("s")?,
        bid_price: f.num("b")?,
        bid_qty: f.num("B")?,
        ask_price: f.num("a")?,
        ask_qty: f.num("A")?,
    })
}

fn trade(f: &Fields<'_>) -> Result<Trade> {
    Ok(Trade {
        event_time: f.int("E")?,
        symbol: f.string("s")?,
        trade_id: f.uint("t")?,
        price: f.num("p")?,
        quantity: f.num("q")?,
        trade_time: f.int("T")?,
        is_buyer_maker: f.boolean("m")?,
    })
}

fn agg_trade(f: &Fields<'_>) -> Result<AggTrade> {
    Ok(AggTrade {
        event_time: f.int("E")?,
        symbol: f.string("s")?,
        agg_trade_id: f.uint("a")?,
        price: f.num("p")?,
        quantity: f.num("q")?,
        first_trade_id: f.uint("f")?,
        last_trade_id: f.uint("l")?,
        trade_time: f.int("T")?,
        is_buyer_maker: f.boolean("m")?,
    })
}

fn kline(f: &Fields<'_>) -> Result<Kline> {
    let k = f.object("k")?;
    Ok(Kline {
        event_time: f.int("E")?,
        symbol: f.string("s")?,
        interval: k.string("i")?,
        start_time: k.int("t")?,
        close_time: k.int("T")?,
        first_trade_id: k.int("f")?,
        last_trade_id: k.int("L")?,
        open: k.num("o")?,
        high: k.num("h")?,
        low: k.num("l")?,
        close: k.num("c")?,
        volume: k.num("v")?,
        trade_count: k.uint("n")?,
        is_closed: k.boolean("x")?,
        quote_volume: k.num("q")?,
        taker_buy_base_volume: k.num("V")?,
        taker_buy_quote_volume: k.num("Q")?,
    })
}

fn response(f: &Fields<'_>) -> Result<StreamResponse> {
    let raw_str = |key: &str| -> Result<Option<String>> {
        if !f.has(key) {
            return Ok(None);
        }
        Ok(Some(String::from_utf8_lossy(f.raw(key)?).into_owned()))
    };
    let (error_code, error_msg) = if f.has("error") {
        let e = f.object("error")?;
        (Some(e.int("code")?), Some(e.string("msg")?))
    } else {
        (None, None)
    };
    Ok(StreamResponse {
        id: raw_str("id")?,
        result: raw_str("result")?,
        error_code,
        error_msg,
    })
}

/// Classify and parse one event object.
fn event(f: &Fields<'_>) -> Result<Event> {
    if let Some(mut c) = f.get("e") {
        let kind = c.string_bytes("e")?;
        return Ok(match kind.as_ref() {
            b"depthUpdate" => Event::DepthUpdate(depth_update(f)?),
            b"trade" => Event::Trade(trade(f)?),
            b"aggTrade" => Event::AggTrade(agg_trade(f)?),
            b"kline" => Event::Kline(kline(f)?),
            b"bookTicker" => Event::BookTicker(book_ticker(f)?),
            b"serverShutdown" => Event::ServerShutdown {
                event_time: f.int("E")?,
            },
            other => Event::Unknown {
                event_type: String::from_utf8_lossy(other).into_owned(),
            },
        });
    }
    if f.has("lastUpdateId") {
        return Ok(Event::PartialDepth(partial_depth(f)?));
    }
    if f.has("u") && f.has("s") && f.has("b") && f.has("A") {
        return Ok(Event::BookTicker(book_ticker(f)?));
    }
    if f.has("result") || f.has("error") {
        return Ok(Event::Response(response(f)?));
    }
    Err(error(
        "not a Binance stream message: no 'e' field and no known shape",
        "e",
        0,
    ))
}

/// Parse a stream message, raw (`/ws/...`) or wrapped in a combined-stream envelope.
pub fn parse_message(raw: &[u8]) -> Result<Message> {
    let top = Fields::document(raw)?;
    if top.has("stream") && top.has("data") {
        let stream = top.string("stream")?;
        let data = top.object("data")?;
        return Ok(Message {
            stream: Some(stream),
            event: event(&data)?,
        });
    }
    Ok(Message {
        stream: None,
        event: event(&top)?,
    })
}

/// Parse a REST `/api/v3/depth` body (or a `@depth<N>` event).
pub fn parse_depth_snapshot(raw: &[u8]) -> Result<PartialDepth> {
    partial_depth(&Fields::document(raw)?)
}

/// Parse a `depthUpdate` (raw or in a combined envelope) straight into `out`, for the book's
/// hot path: one forward pass, levels parsed exactly, no allocation once `out` is warm.
/// Returns the event's symbol span within `raw`.
pub fn parse_depth_diff(raw: &[u8], out: &mut DepthDiff) -> Result<(usize, usize)> {
    out.clear();
    let mut c = Cursor::new(raw);
    c.begin_object("")?;
    let mut first = true;
    let mut symbol = None;
    let mut seen = 0u8;
    let mut data = None;
    while let Some(key) = c.next_key(first)? {
        first = false;
        match key.as_ref() {
            b"e" => {
                let at = c.pos();
                if c.string_bytes("e")?.as_ref() != b"depthUpdate" {
                    return Err(error("not a depthUpdate event", "e", at));
                }
                seen |= 1;
            }
            b"E" => out.event_time = c.int("E")?,
            b"s" => {
                c.peek();
                let start = c.pos() + 1;
                let s = c.string_bytes("s")?;
                symbol = Some((start, start + s.len()));
            }
            b"U" => {
                out.first_update_id = uint(&mut c, "U")?;
                seen |= 2;
            }
            b"u" => {
                out.final_update_id = uint(&mut c, "u")?;
                seen |= 4;
            }
            b"b" => {
                c.levels_into("b", &mut out.bids)?;
                seen |= 8;
            }
            b"a" => {
                c.levels_into("a", &mut out.asks)?;
                seen |= 16;
            }
            b"data" => {
                // Combined envelope: the event is the `data` object, parsed once we are done.
                data = Some(c.skip_value("data")?);
            }
            _ => {
                let name = String::from_utf8_lossy(&key).into_owned();
                c.skip_value(&name)?;
            }
        }
    }
    c.end()?;
    if let Some((s, e)) = data {
        let (a, b) = parse_depth_diff(&raw[s..e], out)?;
        return Ok((a + s, b + s));
    }
    for (bit, name) in [(1, "e"), (2, "U"), (4, "u"), (8, "b"), (16, "a")] {
        if seen & bit == 0 {
            return Err(error("missing field", name, 0));
        }
    }
    if out.first_update_id > out.final_update_id {
        return Err(error(
            "first update id is after the final update id",
            "U",
            0,
        ));
    }
    symbol.ok_or_else(|| error("missing field", "s", 0))
}

fn uint(c: &mut Cursor<'_>, field: &str) -> Result<u64> {
    let at = c.pos();
    let v = c.int(field)?;
    u64::try_from(v).map_err(|_| error("negative id", field, at))
}

/// A Binance error body: `{"code": -1121, "msg": "Invalid symbol."}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiErrorBody {
    pub code: i64,
    pub msg: String,
}

pub fn parse_error_body(raw: &[u8]) -> Result<ApiErrorBody> {
    let f = Fields::document(raw)?;
    Ok(ApiErrorBody {
        code: f.int("code")?,
        msg: f.string("msg")?,
    })
}

/// One fill of an order (`fills` in a FULL order response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    pub price: Num,
    pub qty: Num,
    pub commission: Num,
    pub commission_asset: String,
    pub trade_id: i64,
}

/// A `POST /api/v3/order` response (ACK, RESULT or FULL) or a `GET /api/v3/order` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderResponse {
    pub symbol: String,
    pub order_id: i64,
    pub order_list_id: i64,
    pub client_order_id: String,
    /// On a cancel: the client order id of the order that was canceled.
    pub orig_client_order_id: Option<String>,
    pub transact_time: Option<i64>,
    pub price: Option<Num>,
    pub orig_qty: Option<Num>,
    pub executed_qty: Option<Num>,
    pub cummulative_quote_qty: Option<Num>,
    pub status: Option<String>,
    pub time_in_force: Option<String>,
    pub order_type: Option<String>,
    pub side: Option<String>,
    pub stop_price: Option<Num>,
    pub working_time: Option<i64>,
    pub self_trade_prevention_mode: Option<String>,
    pub fills: Vec<Fill>,
}

fn fill(buf: &[u8], at: usize) -> Result<(Fill, usize)> {
    let mut end = 0;
    let f = Fields::read(buf, at, &mut end)?;
    Ok((
        Fill {
            price: f.num("price")?,
            qty: f.num("qty")?,
            commission: f.num("commission")?,
            commission_asset: f.string("commissionAsset")?,
            trade_id: f.int("tradeId")?,
        },
        end,
    ))
}

pub fn parse_order_response(raw: &[u8]) -> Result<OrderResponse> {
    let f = Fields::document(raw)?;
    if f.has("code") && f.has("msg") && !f.has("orderId") {
        return Err(error("this is an error body, not an order", "code", 0));
    }
    let mut fills = Vec::new();
    if let Some(mut c) = f.get("fills") {
        c.begin_array("fills")?;
        let mut first = true;
        while c.next_element(first, "fills")? {
            first = false;
            c.peek();
            let (fl, end) = fill(raw, c.pos())?;
            fills.push(fl);
            c.seek(end);
        }
    }
    Ok(OrderResponse {
        symbol: f.string("symbol")?,
        order_id: f.int("orderId")?,
        order_list_id: f.opt_int("orderListId")?.unwrap_or(-1),
        client_order_id: f.string("clientOrderId")?,
        orig_client_order_id: f.opt_string("origClientOrderId")?,
        transact_time: f.opt_int("transactTime")?,
        price: f.opt_num("price")?,
        orig_qty: f.opt_num("origQty")?,
        executed_qty: f.opt_num("executedQty")?,
        cummulative_quote_qty: f.opt_num("cummulativeQuoteQty")?,
        status: f.opt_string("status")?,
        time_in_force: f.opt_string("timeInForce")?,
        order_type: f.opt_string("type")?,
        side: f.opt_string("side")?,
        stop_price: f.opt_num("stopPrice")?,
        working_time: f.opt_int("workingTime")?,
        self_trade_prevention_mode: f.opt_string("selfTradePreventionMode")?,
        fills,
    })
}
