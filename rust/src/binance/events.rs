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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binance::json::ParseError;

    fn num(s: &str) -> Num {
        Num::parse(s.as_bytes()).unwrap()
    }

    fn levels(pairs: &[(&str, &str)]) -> Levels {
        pairs.iter().map(|&(p, q)| (num(p), num(q))).collect()
    }

    fn event_of(raw: &str) -> Event {
        let m = parse_message(raw.as_bytes()).unwrap();
        assert_eq!(m.stream, None, "a raw stream message has no stream name");
        m.event
    }

    fn parse_err(raw: &str) -> ParseError {
        parse_message(raw.as_bytes()).unwrap_err()
    }

    /// The byte offset of `needle` in `raw`, so expected offsets read as "where that value is".
    fn at(raw: &str, needle: &str) -> usize {
        raw.find(needle).unwrap()
    }

    const DEPTH_UPDATE: &str = r#"{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"],["0.0027","0"]]}"#;

    #[test]
    fn depth_update() {
        let Event::DepthUpdate(d) = event_of(DEPTH_UPDATE) else {
            panic!("not a depth update");
        };
        assert_eq!(
            d,
            DepthUpdate {
                event_time: 1_672_515_782_136,
                symbol: "BNBBTC".into(),
                first_update_id: 157,
                final_update_id: 160,
                bids: levels(&[("0.0024", "10")]),
                asks: levels(&[("0.0026", "100"), ("0.0027", "0")]),
            }
        );
        // Money keeps the digits it was written with.
        assert_eq!(d.bids[0].0.to_string(), "0.0024");
    }

    #[test]
    fn partial_depth_event_and_rest_depth_body() {
        let raw = r#"{"lastUpdateId":160,"bids":[["65000.01000000","0.50000000"]],"asks":[["65000.02000000","1.25000000"],["65001.00000000","3.00000000"]]}"#;
        let want = PartialDepth {
            last_update_id: 160,
            bids: levels(&[("65000.01000000", "0.50000000")]),
            asks: levels(&[
                ("65000.02000000", "1.25000000"),
                ("65001.00000000", "3.00000000"),
            ]),
        };
        assert_eq!(event_of(raw), Event::PartialDepth(want.clone()));
        let rest = parse_depth_snapshot(raw.as_bytes()).unwrap();
        assert_eq!(rest, want);
        assert_eq!(rest.bids[0].0.to_string(), "65000.01000000");
        // Older REST answers carried a third, empty element per level.
        let legacy = r#"{"lastUpdateId":7,"bids":[["1.5","2",[]]],"asks":[]}"#;
        let d = parse_depth_snapshot(legacy.as_bytes()).unwrap();
        assert_eq!(d.bids, levels(&[("1.5", "2")]));
        assert!(d.asks.is_empty());
    }

    #[test]
    fn book_ticker_raw_and_event_forms() {
        let want = BookTicker {
            update_id: 400_900_217,
            symbol: "BNBUSDT".into(),
            bid_price: num("25.35190000"),
            bid_qty: num("31.21000000"),
            ask_price: num("25.36520000"),
            ask_qty: num("40.66000000"),
        };
        let raw = r#"{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#;
        assert_eq!(event_of(raw), Event::BookTicker(want.clone()));
        let with_type = r#"{"e":"bookTicker","u":400900217,"E":1568014460893,"T":1568014460891,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#;
        assert_eq!(event_of(with_type), Event::BookTicker(want));
    }

    #[test]
    fn trade() {
        let raw = r#"{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782134,"m":true,"M":true}"#;
        assert_eq!(
            event_of(raw),
            Event::Trade(Trade {
                event_time: 1_672_515_782_136,
                symbol: "BNBBTC".into(),
                trade_id: 12345,
                price: num("0.001"),
                quantity: num("100"),
                trade_time: 1_672_515_782_134,
                is_buyer_maker: true,
            })
        );
    }

    #[test]
    fn agg_trade() {
        let raw = r#"{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782134,"m":false,"M":true}"#;
        assert_eq!(
            event_of(raw),
            Event::AggTrade(AggTrade {
                event_time: 1_672_515_782_136,
                symbol: "BNBBTC".into(),
                agg_trade_id: 12345,
                price: num("0.001"),
                quantity: num("100"),
                first_trade_id: 100,
                last_trade_id: 105,
                trade_time: 1_672_515_782_134,
                is_buyer_maker: false,
            })
        );
    }

    const KLINE: &str = r#"{"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}"#;

    #[test]
    fn kline() {
        assert_eq!(
            event_of(KLINE),
            Event::Kline(Kline {
                event_time: 1_672_515_782_136,
                symbol: "BNBBTC".into(),
                interval: "1m".into(),
                start_time: 1_672_515_780_000,
                close_time: 1_672_515_839_999,
                first_trade_id: 100,
                last_trade_id: 200,
                open: num("0.0010"),
                high: num("0.0025"),
                low: num("0.0015"),
                close: num("0.0020"),
                volume: num("1000"),
                trade_count: 100,
                is_closed: false,
                quote_volume: num("1.0000"),
                taker_buy_base_volume: num("500"),
                taker_buy_quote_volume: num("0.500"),
            })
        );
        // A kline with no trades says -1 for both trade ids.
        let empty = KLINE.replace(r#""f":100,"L":200"#, r#""f":-1,"L":-1"#);
        let Event::Kline(k) = event_of(&empty) else {
            panic!("not a kline");
        };
        assert_eq!((k.first_trade_id, k.last_trade_id), (-1, -1));
    }

    #[test]
    fn subscribe_replies_and_errors() {
        assert_eq!(
            event_of(r#"{"result":null,"id":1}"#),
            Event::Response(StreamResponse {
                id: Some("1".into()),
                result: Some("null".into()),
                error_code: None,
                error_msg: None,
            })
        );
        assert_eq!(
            event_of(r#"{"result":["btcusdt@aggTrade","btcusdt@depth"],"id":"list-1"}"#),
            Event::Response(StreamResponse {
                id: Some(r#""list-1""#.into()),
                result: Some(r#"["btcusdt@aggTrade","btcusdt@depth"]"#.into()),
                error_code: None,
                error_msg: None,
            })
        );
        assert_eq!(
            event_of(r#"{"error":{"code":2,"msg":"Invalid request: unknown variant"},"id":null}"#),
            Event::Response(StreamResponse {
                id: Some("null".into()),
                result: None,
                error_code: Some(2),
                error_msg: Some("Invalid request: unknown variant".into()),
            })
        );
        // An error object without its code is malformed, and says so.
        let raw = r#"{"error":{"msg":"x"},"id":3}"#;
        let e = parse_err(raw);
        assert_eq!((e.field.as_ref(), e.offset), ("code", at(raw, r#"{"msg""#)));
    }

    #[test]
    fn server_shutdown() {
        assert_eq!(
            event_of(r#"{"e":"serverShutdown","E":1700000000000}"#),
            Event::ServerShutdown {
                event_time: 1_700_000_000_000
            }
        );
    }

    #[test]
    fn unknown_event_type_is_not_an_error() {
        let raw = r#"{"e":"24hrMiniTicker","E":1672515782136,"s":"BNBBTC","c":"0.0025"}"#;
        assert_eq!(
            event_of(raw),
            Event::Unknown {
                event_type: "24hrMiniTicker".into()
            }
        );
    }

    #[test]
    fn combined_stream_envelope() {
        let raw = format!(r#"{{"stream":"bnbbtc@depth@100ms","data":{DEPTH_UPDATE}}}"#);
        let m = parse_message(raw.as_bytes()).unwrap();
        assert_eq!(m.stream.as_deref(), Some("bnbbtc@depth@100ms"));
        assert_eq!(m.event, event_of(DEPTH_UPDATE));
        // Key order does not matter.
        let swapped = format!(r#"{{"data":{KLINE},"stream":"bnbbtc@kline_1m"}}"#);
        let m = parse_message(swapped.as_bytes()).unwrap();
        assert_eq!(m.stream.as_deref(), Some("bnbbtc@kline_1m"));
        assert_eq!(m.event, event_of(KLINE));
        // An envelope whose data is not an object points at the data.
        let bad = r#"{"stream":"x@trade","data":[1]}"#;
        let e = parse_err(bad);
        assert_eq!(e.offset, at(bad, "[1]"));
        // A broken event inside the envelope is reported at its offset in the whole frame.
        let bad = r#"{"stream":"x@trade","data":{"e":"trade","E":1,"s":"X","t":1,"p":"1.x","q":"1","T":1,"m":true}}"#;
        let e = parse_err(bad);
        assert_eq!((e.field.as_ref(), e.offset), ("p", at(bad, r#""1.x""#)));
    }

    #[test]
    fn malformed_values_name_the_field_and_offset() {
        let raw = r#"{"e":"trade","E":1,"s":"X","t":1,"p":"12a","q":"1","T":1,"m":true}"#;
        let e = parse_err(raw);
        assert_eq!((e.field.as_ref(), e.offset), ("p", at(raw, r#""12a""#)));
        assert!(e.message.starts_with("bad decimal"), "{e}");

        let raw = r#"{"e":"trade","E":1,"s":"X","t":-5,"p":"1","q":"1","T":1,"m":true}"#;
        let e = parse_err(raw);
        assert_eq!(
            (e.message.as_ref(), e.field.as_ref(), e.offset),
            ("negative id", "t", at(raw, "-5"))
        );

        let raw = r#"{"e":"trade","E":1.5,"s":"X","t":1,"p":"1","q":"1","T":1,"m":true}"#;
        let e = parse_err(raw);
        assert_eq!((e.field.as_ref(), e.offset), ("E", at(raw, "1.5")));

        let raw = r#"{"e":"trade","E":1,"s":"X","t":1,"p":"1","q":"1","T":1,"m":"yes"}"#;
        let e = parse_err(raw);
        assert_eq!((e.field.as_ref(), e.offset), ("m", at(raw, r#""yes""#)));

        let raw = r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[["-1","2"]],"a":[]}"#;
        let e = parse_err(raw);
        assert_eq!(
            (e.message.as_ref(), e.field.as_ref()),
            ("negative price or quantity", "b")
        );
    }

    #[test]
    fn missing_fields_are_named() {
        // Top-level fields: the offset is the object's start.
        let e = parse_err(r#"{"e":"trade","E":1,"s":"X","t":1,"p":"1","T":1,"m":true}"#);
        assert_eq!(
            (e.message.as_ref(), e.field.as_ref(), e.offset),
            ("missing field", "q", 0)
        );
        // Nested fields: the offset is the nested object's start.
        let raw = KLINE.replace(r#""o":"0.0010","#, "");
        let e = parse_err(&raw);
        assert_eq!((e.field.as_ref(), e.offset), ("o", at(&raw, r#"{"t":"#)));
    }

    #[test]
    fn broken_documents_are_refused() {
        let e = parse_err(r#"{"e":"trade","E":1"#);
        assert!(e.message.starts_with("truncated input"), "{e}");
        let e = parse_err("[1,2]");
        assert_eq!(
            (e.message.as_ref(), e.offset),
            ("expected '{', found '['", 0)
        );
        let raw = r#"{"result":null,"id":1} x"#;
        let e = parse_err(raw);
        assert_eq!(
            (e.message.as_ref(), e.offset),
            ("trailing data after the JSON value", at(raw, "x"))
        );
        let e = parse_err(r#"{"x":1}"#);
        assert_eq!((e.field.as_ref(), e.offset), ("e", 0));
        assert!(e.message.starts_with("not a Binance stream message"), "{e}");
        let e = parse_err("");
        assert!(e.message.starts_with("truncated input"), "{e}");
        let raw = r#"{"e":"trade","E":1,"s":"X\u00"}"#;
        let e = parse_err(raw);
        assert_eq!(e.field.as_ref(), "s");
    }

    #[test]
    fn depth_diff_hot_path_agrees_with_the_event_parser() {
        let mut out = DepthDiff::default();
        let (s, e) = parse_depth_diff(DEPTH_UPDATE.as_bytes(), &mut out).unwrap();
        assert_eq!(&DEPTH_UPDATE[s..e], "BNBBTC");
        let Event::DepthUpdate(d) = event_of(DEPTH_UPDATE) else {
            panic!("not a depth update");
        };
        assert_eq!(
            (out.event_time, out.first_update_id, out.final_update_id),
            (d.event_time, d.first_update_id, d.final_update_id)
        );
        let values = |l: &Levels| {
            l.iter()
                .map(|(p, q)| (p.value, q.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(out.bids, values(&d.bids));
        assert_eq!(out.asks, values(&d.asks));

        // In an envelope, the symbol span is within the whole frame; the buffers are reused.
        let raw = format!(r#"{{"stream":"bnbbtc@depth","data":{DEPTH_UPDATE}}}"#);
        let (s, e) = parse_depth_diff(raw.as_bytes(), &mut out).unwrap();
        assert_eq!(&raw[s..e], "BNBBTC");
        assert_eq!(out.bids.len(), 1);
    }

    #[test]
    fn depth_diff_refuses_other_events_and_bad_ids() {
        let mut out = DepthDiff::default();
        let raw = r#"{"e":"trade","E":1}"#;
        let e = parse_depth_diff(raw.as_bytes(), &mut out).unwrap_err();
        assert_eq!((e.field.as_ref(), e.offset), ("e", at(raw, r#""trade""#)));
        let raw = DEPTH_UPDATE.replace(r#""U":157,"#, "");
        let e = parse_depth_diff(raw.as_bytes(), &mut out).unwrap_err();
        assert_eq!(
            (e.message.as_ref(), e.field.as_ref()),
            ("missing field", "U")
        );
        let raw = DEPTH_UPDATE.replace(r#""U":157"#, r#""U":161"#);
        let e = parse_depth_diff(raw.as_bytes(), &mut out).unwrap_err();
        assert_eq!(e.field.as_ref(), "U");
        let raw = DEPTH_UPDATE.replace(r#""u":160"#, r#""u":-160"#);
        let e = parse_depth_diff(raw.as_bytes(), &mut out).unwrap_err();
        assert_eq!(
            (e.message.as_ref(), e.field.as_ref(), e.offset),
            ("negative id", "u", at(&raw, "-160"))
        );
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            parse_error_body(br#"{"code":-1121,"msg":"Invalid symbol."}"#).unwrap(),
            ApiErrorBody {
                code: -1121,
                msg: "Invalid symbol.".into()
            }
        );
        let e = parse_error_body(br#"{"code":-1121}"#).unwrap_err();
        assert_eq!((e.field.as_ref(), e.offset), ("msg", 0));
        let raw = r#"{"code":"-1121","msg":"x"}"#;
        let e = parse_error_body(raw.as_bytes()).unwrap_err();
        assert_eq!(
            (e.field.as_ref(), e.offset),
            ("code", at(raw, r#""-1121""#))
        );
    }

    const ACK: &str = r#"{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"6gCrw2kRUAF9CvJDGP16IP","transactTime":1507725176595}"#;

    #[test]
    fn order_response_ack() {
        let o = parse_order_response(ACK.as_bytes()).unwrap();
        assert_eq!(
            o,
            OrderResponse {
                symbol: "BTCUSDT".into(),
                order_id: 28,
                order_list_id: -1,
                client_order_id: "6gCrw2kRUAF9CvJDGP16IP".into(),
                orig_client_order_id: None,
                transact_time: Some(1_507_725_176_595),
                price: None,
                orig_qty: None,
                executed_qty: None,
                cummulative_quote_qty: None,
                status: None,
                time_in_force: None,
                order_type: None,
                side: None,
                stop_price: None,
                working_time: None,
                self_trade_prevention_mode: None,
                fills: vec![],
            }
        );
        // orderListId may be absent; it then means "no list".
        let no_list = ACK.replace(r#""orderListId":-1,"#, "");
        assert_eq!(
            parse_order_response(no_list.as_bytes())
                .unwrap()
                .order_list_id,
            -1
        );
    }

    const RESULT: &str = r#"{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"6gCrw2kRUAF9CvJDGP16IP","transactTime":1507725176595,"price":"0.00000000","origQty":"10.00000000","executedQty":"10.00000000","origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"10.00000000","status":"FILLED","timeInForce":"GTC","type":"MARKET","side":"SELL","workingTime":1507725176595,"selfTradePreventionMode":"NONE""#;

    #[test]
    fn order_response_result() {
        let raw = format!("{RESULT}}}");
        let o = parse_order_response(raw.as_bytes()).unwrap();
        assert_eq!(o.price, Some(num("0.00000000")));
        assert_eq!(o.orig_qty, Some(num("10.00000000")));
        assert_eq!(o.executed_qty, Some(num("10.00000000")));
        assert_eq!(o.cummulative_quote_qty, Some(num("10.00000000")));
        assert_eq!(o.status.as_deref(), Some("FILLED"));
        assert_eq!(o.time_in_force.as_deref(), Some("GTC"));
        assert_eq!(o.order_type.as_deref(), Some("MARKET"));
        assert_eq!(o.side.as_deref(), Some("SELL"));
        assert_eq!(o.working_time, Some(1_507_725_176_595));
        assert_eq!(o.self_trade_prevention_mode.as_deref(), Some("NONE"));
        assert_eq!(o.stop_price, None);
        assert!(o.fills.is_empty());
        // null is the same as absent for optional fields.
        let raw = format!(r#"{RESULT},"stopPrice":null}}"#);
        assert_eq!(
            parse_order_response(raw.as_bytes()).unwrap().stop_price,
            None
        );
    }

    #[test]
    fn order_response_full_with_fills() {
        let raw = format!(
            r#"{RESULT},"fills":[{{"price":"4000.00000000","qty":"1.00000000","commission":"4.00000000","commissionAsset":"USDT","tradeId":56}},{{"price":"3999.00000000","qty":"5.00000000","commission":"19.99500000","commissionAsset":"USDT","tradeId":57}}]}}"#
        );
        let o = parse_order_response(raw.as_bytes()).unwrap();
        assert_eq!(
            o.fills,
            vec![
                Fill {
                    price: num("4000.00000000"),
                    qty: num("1.00000000"),
                    commission: num("4.00000000"),
                    commission_asset: "USDT".into(),
                    trade_id: 56,
                },
                Fill {
                    price: num("3999.00000000"),
                    qty: num("5.00000000"),
                    commission: num("19.99500000"),
                    commission_asset: "USDT".into(),
                    trade_id: 57,
                },
            ]
        );
        // A broken fill names its field at its offset.
        let bad = raw.replacen(r#""tradeId":57"#, r#""tradeId":"57""#, 1);
        let e = parse_order_response(bad.as_bytes()).unwrap_err();
        assert_eq!(
            (e.field.as_ref(), e.offset),
            ("tradeId", at(&bad, r#""57""#))
        );
        let bad = raw.replacen(r#""commissionAsset":"USDT","#, "", 1);
        let e = parse_order_response(bad.as_bytes()).unwrap_err();
        assert_eq!(
            (e.field.as_ref(), e.offset),
            ("commissionAsset", at(&bad, r#"{"price""#))
        );
    }

    #[test]
    fn order_parser_refuses_error_bodies_and_missing_ids() {
        let e =
            parse_order_response(br#"{"code":-2010,"msg":"Account has insufficient balance."}"#)
                .unwrap_err();
        assert_eq!((e.field.as_ref(), e.offset), ("code", 0));
        let raw = ACK.replace(r#""orderId":28,"#, "");
        let e = parse_order_response(raw.as_bytes()).unwrap_err();
        assert_eq!(
            (e.message.as_ref(), e.field.as_ref()),
            ("missing field", "orderId")
        );
    }
}
