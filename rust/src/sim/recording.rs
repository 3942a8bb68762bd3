//! Recorded Binance market streams (`<receive_ns> <json>` lines) read into a [`Tape`].
//!
//! The format is the one of the recordings in hftbacktest's examples and of `tradewire record`:
//! one message per line, the recorder's receive time in nanoseconds, a space, then either
//! - a REST depth snapshot body `{"lastUpdateId":…,"bids":…,"asks":…}` (a bare body carries no
//!   symbol: it belongs to the file's one symbol), or the same body in an envelope
//!   `{"stream":"btcusdt@depthSnapshot","data":{…}}` (what `tradewire record` writes, one per
//!   symbol);
//! - a combined-stream frame `{"stream":…,"data":{…}}` (or a bare event) of `depthUpdate`,
//!   `trade` or `bookTicker`;
//! - `{"reconnected":"<why>"}`, written by `tradewire record` when its stream connection was
//!   replaced: diffs may have been missed, so the book waits for the next snapshot.
//!
//! The book follows Binance's local-book procedure: diffs are buffered until a snapshot, those
//! with `u <= lastUpdateId` are dropped, the first one applied must straddle `lastUpdateId + 1`,
//! and each next one must start at the previous `u + 1`; a gap is a [`DataError`] naming the
//! line. A book is emitted as [`CLEAR`], the snapshot's levels and a [`BOOK_END`] (when the
//! first diff after it applies, at that diff's time: a REST body has no time of its own), then
//! each diff as its [`BID`]/[`ASK`] levels and a [`BOOK_END`]. A second snapshot (after a
//! reconnect) starts the book over the same way. Trades become [`TRADE_BUY`]/[`TRADE_SELL`] at
//! their trade time `T`.
//!
//! Market time is the exchange's (`E` of a diff, `T` of a trade), never the recorder's receive
//! time. `bookTicker` frames carry no exchange time, so they are skipped (as are other event
//! types and other symbols). Times never go backwards in a tape: an event stamped before the
//! last one emitted (a trade's `T` can precede the previous diff's `E`) is emitted at the last
//! time. Times in milliseconds or microseconds are told apart by magnitude; the tape holds µs.

use std::collections::VecDeque;

use crate::binance::events::parse_depth_diff;
use crate::binance::fields::Fields;
use crate::binance::json::ParseError;
use crate::book::DepthDiff;
use crate::decimal::Dec;
use crate::sim::data_error::{dec_units, normalise_time, DataError, DataResult};
use crate::sim::tape::{Tape, ASK, BID, BOOK_END, CLEAR, TRADE_BUY, TRADE_SELL};

/// Diffs kept while waiting for a snapshot; older ones are dropped (a later snapshot is newer
/// than them anyway). 4096 diffs are ~7 minutes of `depth@100ms`.
const MAX_BUFFERED: usize = 4096;

/// One diff, converted, waiting for a snapshot.
#[derive(Debug)]
struct Pending {
    line: u64,
    time_us: i64,
    first_id: u64,
    last_id: u64,
    levels: Vec<(u8, i64, i64)>,
}

#[derive(Debug)]
struct Snapshot {
    last_update_id: u64,
    levels: Vec<(u8, i64, i64)>,
}

#[derive(Debug)]
enum Book {
    /// No snapshot yet: diffs are buffered.
    Waiting,
    /// A snapshot is held until the first diff that straddles it.
    Loaded(Snapshot),
    /// Emitting; the last applied update id.
    Synced(u64),
}

/// What a reader has seen so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RecordingStats {
    pub lines: u64,
    pub snapshots: u64,
    pub diffs: u64,
    pub stale_diffs: u64,
    pub trades: u64,
    pub book_tickers: u64,
    pub reconnects: u64,
    /// Messages of other symbols or other event types.
    pub skipped: u64,
}

/// A reader of one recording, for one symbol, fed chunks of whole lines in order.
#[derive(Debug)]
pub struct RecordingReader {
    symbol: String,
    source: String,
    last_time: i64,
    book: Book,
    buffered: VecDeque<Pending>,
    scratch: DepthDiff,
    stats: RecordingStats,
}

impl RecordingReader {
    /// A reader keeping `symbol` (upper case, like `BTCUSDT`).
    #[must_use]
    pub fn new(symbol: &str, source: &str) -> Self {
        RecordingReader {
            symbol: symbol.to_ascii_uppercase(),
            source: source.to_owned(),
            last_time: i64::MIN,
            book: Book::Waiting,
            buffered: VecDeque::new(),
            scratch: DepthDiff::default(),
            stats: RecordingStats::default(),
        }
    }

    #[must_use]
    pub fn stats(&self) -> RecordingStats {
        self.stats
    }

    /// Read `chunk`, whole lines (the last one may lack its newline), appending to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Tape) -> DataResult<()> {
        let mut rest = chunk;
        while !rest.is_empty() {
            let (line, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = next;
            self.stats.lines += 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.line(line, out)?;
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    #[allow(clippy::unnecessary_box_returns)] // DataResult's error is boxed
    fn error(&self, column: &str, message: impl Into<String>) -> Box<DataError> {
        DataError::new(
            &self.source,
            self.stats.lines,
            column.to_owned(),
            message.into(),
        )
    }

    #[cold]
    #[inline(never)]
    #[allow(clippy::unnecessary_box_returns)] // DataResult's error is boxed
    fn json_error(&self, e: &ParseError, at: usize) -> Box<DataError> {
        let column = if e.field.is_empty() {
            "json".to_owned()
        } else {
            e.field.clone().into_owned()
        };
        self.error(&column, format!("{} at byte {}", e.message, e.offset + at))
    }

    fn line(&mut self, line: &[u8], out: &mut Tape) -> DataResult<()> {
        // `<receive_ns> <json>`; a line that is only the JSON is accepted too.
        let digits = line.iter().take_while(|b| b.is_ascii_digit()).count();
        let at = if digits > 0 {
            line[digits..]
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t'))
                .map_or(line.len(), |p| digits + p)
        } else {
            0
        };
        if line.get(at) != Some(&b'{') || (digits > 0 && at == digits) {
            return Err(self.error(
                "line",
                "expected `<receive_ns> <json object>` (a recording of Binance streams)",
            ));
        }
        let json = &line[at..];
        let top = Fields::document(json).map_err(|e| self.json_error(&e, at))?;
        if top.has("lastUpdateId") {
            return self.snapshot(&top, at, out);
        }
        if top.has("reconnected") {
            self.stats.reconnects += 1;
            self.book = Book::Waiting;
            self.buffered.clear();
            return Ok(());
        }
        let (data, data_at) = if top.has("stream") && top.has("data") {
            let stream = top.string("stream").map_err(|e| self.json_error(&e, at))?;
            let raw = top.raw("data").map_err(|e| self.json_error(&e, at))?;
            let offset = at + (raw.as_ptr() as usize - json.as_ptr() as usize);
            if let Some(name) = stream.strip_suffix("@depthSnapshot") {
                if !name.eq_ignore_ascii_case(&self.symbol) {
                    self.stats.skipped += 1;
                    return Ok(());
                }
                let body = Fields::document(raw).map_err(|e| self.json_error(&e, offset))?;
                return self.snapshot(&body, offset, out);
            }
            (raw, offset)
        } else {
            (json, at)
        };
        let fields = Fields::document(data).map_err(|e| self.json_error(&e, data_at))?;
        let Some(mut e) = fields.get("e") else {
            // bookTicker frames have no event type (and no exchange time): skipped.
            if fields.has("u") && fields.has("b") && fields.has("a") {
                self.stats.book_tickers += 1;
            } else {
                self.stats.skipped += 1;
            }
            return Ok(());
        };
        let kind = e
            .string_bytes("e")
            .map_err(|x| self.json_error(&x, data_at))?;
        match kind.as_ref() {
            b"depthUpdate" => self.diff(data, data_at, out),
            b"trade" => self.trade(&fields, data_at, out),
            _ => {
                self.stats.skipped += 1;
                Ok(())
            }
        }
    }

    fn levels_of(
        &self,
        f: &Fields<'_>,
        at: usize,
        key: &str,
        kind: u8,
        into: &mut Vec<(u8, i64, i64)>,
    ) -> DataResult<()> {
        let mut c = f.get(key).ok_or_else(|| self.error(key, "missing field"))?;
        let mut raw: Vec<(Dec, Dec)> = Vec::new();
        c.levels_into(key, &mut raw)
            .map_err(|e| self.json_error(&e, at))?;
        for (p, q) in raw {
            into.push((kind, self.units(p, key)?, self.units(q, key)?));
        }
        Ok(())
    }

    fn units(&self, d: Dec, column: &str) -> DataResult<i64> {
        dec_units(d).map_err(|m| self.error(column, m))
    }

    fn time(&self, t: i64, column: &str) -> DataResult<i64> {
        normalise_time(t).ok_or_else(|| self.error(column, format!("not an epoch time: {t}")))
    }

    /// Stamp an event: never before the last one emitted.
    fn stamp(&mut self, t: i64) -> i64 {
        self.last_time = self.last_time.max(t);
        self.last_time
    }

    fn snapshot(&mut self, f: &Fields<'_>, at: usize, out: &mut Tape) -> DataResult<()> {
        self.stats.snapshots += 1;
        let last_update_id = f
            .uint("lastUpdateId")
            .map_err(|e| self.json_error(&e, at))?;
        let mut levels = Vec::new();
        self.levels_of(f, at, "bids", BID, &mut levels)?;
        self.levels_of(f, at, "asks", ASK, &mut levels)?;
        match self.book {
            // A snapshot no newer than the book adds nothing.
            Book::Synced(last) if last_update_id <= last => return Ok(()),
            _ => {}
        }
        self.book = Book::Loaded(Snapshot {
            last_update_id,
            levels,
        });
        // Diffs that came before it, in order: drop the old ones, apply from the straddling one.
        let buffered = std::mem::take(&mut self.buffered);
        for p in buffered {
            self.apply(p, out)?;
        }
        Ok(())
    }

    fn diff(&mut self, data: &[u8], at: usize, out: &mut Tape) -> DataResult<()> {
        let (s, e) =
            parse_depth_diff(data, &mut self.scratch).map_err(|x| self.json_error(&x, at))?;
        if &data[s..e] != self.symbol.as_bytes() {
            self.stats.skipped += 1;
            return Ok(());
        }
        let d = &self.scratch;
        let mut levels = Vec::with_capacity(d.bids.len() + d.asks.len());
        for &(p, q) in &d.bids {
            levels.push((BID, self.units(p, "b")?, self.units(q, "b")?));
        }
        for &(p, q) in &d.asks {
            levels.push((ASK, self.units(p, "a")?, self.units(q, "a")?));
        }
        let pending = Pending {
            line: self.stats.lines,
            time_us: self.time(d.event_time, "E")?,
            first_id: d.first_update_id,
            last_id: d.final_update_id,
            levels,
        };
        if matches!(self.book, Book::Waiting) {
            if self.buffered.len() == MAX_BUFFERED {
                self.buffered.pop_front();
            }
            self.buffered.push_back(pending);
            return Ok(());
        }
        self.apply(pending, out)
    }

    /// Apply one diff to a loaded or synced book.
    fn apply(&mut self, p: Pending, out: &mut Tape) -> DataResult<()> {
        let expected = match &self.book {
            Book::Waiting => return Ok(()),
            Book::Loaded(s) => s.last_update_id + 1,
            Book::Synced(last) => last + 1,
        };
        if p.last_id < expected {
            self.stats.stale_diffs += 1;
            return Ok(());
        }
        if p.first_id > expected {
            return Err(DataError::new(
                &self.source,
                p.line,
                "U",
                format!(
                    "sequence gap in the depth updates: expected U <= {expected}, got U = {} \
                     (a message was lost; the recording needs a new snapshot here)",
                    p.first_id
                ),
            ));
        }
        let t = self.stamp(p.time_us);
        if let Book::Loaded(s) = std::mem::replace(&mut self.book, Book::Synced(p.last_id)) {
            out.push(CLEAR, t, 0, 0);
            for &(k, price, qty) in &s.levels {
                out.push(k, t, price, qty);
            }
            out.push(BOOK_END, t, 0, 0);
        }
        for &(k, price, qty) in &p.levels {
            out.push(k, t, price, qty);
        }
        out.push(BOOK_END, t, 0, 0);
        self.stats.diffs += 1;
        Ok(())
    }

    fn trade(&mut self, f: &Fields<'_>, at: usize, out: &mut Tape) -> DataResult<()> {
        let symbol = f.string("s").map_err(|e| self.json_error(&e, at))?;
        if symbol != self.symbol {
            self.stats.skipped += 1;
            return Ok(());
        }
        let read = || -> Result<(Dec, Dec, i64, bool), ParseError> {
            Ok((
                f.num("p")?.value,
                f.num("q")?.value,
                f.int("T")?,
                f.boolean("m")?,
            ))
        };
        let (price, qty, time, maker) = read().map_err(|e| self.json_error(&e, at))?;
        if price.is_negative() || qty.is_negative() {
            return Err(self.error("p", "negative price or quantity"));
        }
        let price = self.units(price, "p")?;
        let qty = self.units(qty, "q")?;
        let t = self.time(time, "T")?;
        let t = self.stamp(t);
        out.push(if maker { TRADE_SELL } else { TRADE_BUY }, t, price, qty);
        self.stats.trades += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::tape::UNIT;

    fn diff(e: i64, first: u64, last: u64, bids: &str, asks: &str) -> String {
        format!(
            "1 {{\"stream\":\"btcusdt@depth@100ms\",\"data\":{{\"e\":\"depthUpdate\",\"E\":{e},\
             \"s\":\"BTCUSDT\",\"U\":{first},\"u\":{last},\"b\":[{bids}],\"a\":[{asks}]}}}}\n"
        )
    }

    fn trade(symbol: &str, t: i64, maker: bool) -> String {
        format!(
            "2 {{\"stream\":\"x@trade\",\"data\":{{\"e\":\"trade\",\"E\":{t},\"s\":\"{symbol}\",\
             \"t\":1,\"p\":\"100.5\",\"q\":\"0.25\",\"T\":{t},\"m\":{maker},\"M\":true}}}}\n"
        )
    }

    const SNAPSHOT: &str =
        "3 {\"lastUpdateId\":10,\"bids\":[[\"100\",\"1\"]],\"asks\":[[\"101\",\"2\"]]}\n";
    const TICKER: &str = "4 {\"stream\":\"btcusdt@bookTicker\",\"data\":{\"u\":11,\"s\":\"BTCUSDT\",\"b\":\"100\",\"B\":\"1\",\"a\":\"101\",\"A\":\"2\"}}\n";

    fn read(text: &str) -> DataResult<(Tape, RecordingStats)> {
        let mut r = RecordingReader::new("btcusdt", "rec");
        let mut t = Tape::default();
        r.feed(text.as_bytes(), &mut t)?;
        Ok((t, r.stats()))
    }

    #[test]
    fn buffered_diffs_then_the_snapshot_then_in_order() {
        let text = [
            diff(1_000, 5, 9, "", ""),
            diff(1_100, 10, 12, "[\"100\",\"3\"]", ""),
            trade("BTCUSDT", 1_050, true),
            SNAPSHOT.to_owned(),
            TICKER.to_owned(),
            diff(1_200, 13, 13, "", "[\"101\",\"0\"]"),
            trade("ETHUSDT", 1_300, false),
            trade("BTCUSDT", 1_150, false),
        ]
        .concat();
        let (t, stats) = read(&text).unwrap();
        assert_eq!(
            t.kind,
            [TRADE_SELL, CLEAR, BID, ASK, BOOK_END, BID, BOOK_END, ASK, BOOK_END, TRADE_BUY]
        );
        // The trade at 1.05 s comes first; the book at 1.1 s; the late trade is clamped.
        assert_eq!(t.time_us[0], 1_050_000);
        assert!(t.time_us[1..7].iter().all(|&x| x == 1_100_000));
        assert_eq!(t.time_us[7..], [1_200_000, 1_200_000, 1_200_000]);
        assert_eq!(t.price[2..4], [100 * UNIT, 101 * UNIT]);
        assert_eq!(t.qty[5], 3 * UNIT);
        assert_eq!((t.price[9], t.qty[9]), (10_050_000_000, 25_000_000));
        assert_eq!(stats.stale_diffs, 1);
        assert_eq!(stats.book_tickers, 1);
        assert_eq!(stats.skipped, 1);
        assert_eq!((stats.diffs, stats.trades, stats.snapshots), (2, 2, 1));
    }

    #[test]
    fn a_gap_names_its_line() {
        let text = [
            SNAPSHOT.to_owned(),
            diff(1, 11, 12, "", ""),
            diff(2, 14, 15, "", ""),
        ]
        .concat();
        let e = read(&text).unwrap_err();
        assert_eq!((e.line, e.column.as_ref()), (3, "U"));
        assert!(
            e.to_string().contains("expected U <= 13, got U = 14"),
            "{e}"
        );
        // The first diff after a snapshot must reach it.
        let e = read(&[SNAPSHOT.to_owned(), diff(1, 12, 12, "", "")].concat()).unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn a_reconnect_waits_for_the_next_snapshot_and_starts_over() {
        let snapshot2 = "5 {\"stream\":\"btcusdt@depthSnapshot\",\"data\":{\"lastUpdateId\":30,\
                         \"bids\":[[\"99\",\"1\"]],\"asks\":[]}}\n";
        let text = [
            SNAPSHOT.to_owned(),
            diff(1, 11, 11, "", ""),
            "6 {\"reconnected\":\"connection closed (1006)\"}\n".to_owned(),
            diff(2, 25, 31, "", ""),
            snapshot2.to_owned(),
            diff(3, 32, 32, "", ""),
        ]
        .concat();
        let (t, stats) = read(&text).unwrap();
        assert_eq!(
            t.kind,
            [CLEAR, BID, ASK, BOOK_END, BOOK_END, CLEAR, BID, BOOK_END, BOOK_END, BOOK_END]
        );
        assert_eq!(t.price[6], 99 * UNIT);
        assert_eq!(stats.reconnects, 1);
    }

    #[test]
    fn bad_lines_are_errors_with_their_line() {
        for (text, column) in [
            ("x {}\n", "line"),
            ("1 {\"stream\":\"a\",\"data\":{\"e\":\"trade\"}}\n", "s"),
            ("1 {\"lastUpdateId\":1,\"bids\":[[\"1.000000001\",\"1\"]],\"asks\":[]}\n", "bids"),
            ("1 {\"e\":\"trade\",\"s\":\"BTCUSDT\",\"p\":\"1\",\"q\":\"1\",\"T\":-5,\"m\":true}\n", "T"),
            ("1 {\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":1,\"u\":2,\"b\":[[\"x\",\"1\"]],\"a\":[]}\n", "b"),
            ("1 {\"stream\":\"a\",\"data\":{\"e\":\n", "data"),
            ("1 {\"stream\":\"a\"\n", "json"),
        ] {
            let e = read(&format!("\n{text}")).unwrap_err();
            assert_eq!((e.line, e.column.as_ref()), (2, column), "{text}: {e}");
        }
    }
}
