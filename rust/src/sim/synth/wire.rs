//! A tape written as a recording of Binance streams (`<receive_ns> <json>` lines), the format
//! [`crate::sim::recording::RecordingReader`] reads back into the same tape.
//!
//! A [`CLEAR`] with its levels and [`BOOK_END`] becomes a depth snapshot line
//! (`{"stream":"<sym>@depthSnapshot","data":{"lastUpdateId":…}}`); each later group of
//! [`BID`]/[`ASK`] rows and its [`BOOK_END`] a `depthUpdate` frame whose `U`/`u` continue the
//! update ids; each trade row a `trade` frame. Times are written in microseconds (Binance's
//! streams send them when asked for `timeUnit=MICROSECOND`; the reader tells them apart by
//! magnitude), so the round trip is exact. The receive time of a line is its event time.
//!
//! The reader emits a snapshot at the time of the diff that follows it, so a tape reads back
//! identically only if each snapshot is followed by a book message at its own time (the
//! synthetic market emits an empty one).

use std::fmt::Write as _;

use crate::sim::tape::{Tape, ASK, BID, BOOK_END, CLEAR, TRADE_BUY, TRADE_SELL, UNIT};

/// Writes tapes, chunk after chunk, as recording lines of one symbol.
#[derive(Debug)]
pub struct RecordingWriter {
    lower: String,
    upper: String,
    update_id: u64,
    trade_id: u64,
    /// Rows of the book message being gathered (it may span two chunks).
    bids: Vec<(i64, i64)>,
    asks: Vec<(i64, i64)>,
    in_snapshot: bool,
    lines: u64,
}

/// A tape value in units of 10^-8 as a decimal with eight places, like Binance's strings.
fn push_units(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    let v = v.unsigned_abs();
    let unit = UNIT.unsigned_abs();
    let _ = write!(out, "{}.{:08}", v / unit, v % unit);
}

fn push_levels(out: &mut String, levels: &[(i64, i64)]) {
    out.push('[');
    for (i, &(p, q)) in levels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("[\"");
        push_units(out, p);
        out.push_str("\",\"");
        push_units(out, q);
        out.push_str("\"]");
    }
    out.push(']');
}

impl RecordingWriter {
    /// A writer for `symbol` (any case; the stream names are lower case, `s` upper case).
    #[must_use]
    pub fn new(symbol: &str) -> Self {
        RecordingWriter {
            lower: symbol.to_ascii_lowercase(),
            upper: symbol.to_ascii_uppercase(),
            update_id: 1_000,
            trade_id: 0,
            bids: Vec::new(),
            asks: Vec::new(),
            in_snapshot: false,
            lines: 0,
        }
    }

    /// Lines written so far.
    #[must_use]
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Append the lines of `tape` to `out`.
    pub fn write(&mut self, tape: &Tape, out: &mut String) {
        for i in 0..tape.len() {
            let (t, p, q) = (tape.time_us[i], tape.price[i], tape.qty[i]);
            match tape.kind[i] {
                TRADE_BUY | TRADE_SELL => self.trade(out, t, p, q, tape.kind[i] == TRADE_SELL),
                BID => self.bids.push((p, q)),
                ASK => self.asks.push((p, q)),
                CLEAR => {
                    self.bids.clear();
                    self.asks.clear();
                    self.in_snapshot = true;
                }
                BOOK_END => self.book(out, t),
                _ => {}
            }
        }
    }

    fn prefix(&mut self, out: &mut String, t: i64) {
        self.lines += 1;
        let _ = write!(
            out,
            "{} {{\"stream\":\"{}",
            t.saturating_mul(1000),
            self.lower
        );
    }

    fn trade(&mut self, out: &mut String, t: i64, p: i64, q: i64, maker: bool) {
        self.trade_id += 1;
        self.prefix(out, t);
        let _ = write!(
            out,
            "@trade\",\"data\":{{\"e\":\"trade\",\"E\":{t},\"s\":\"{}\",\"t\":{},\"p\":\"",
            self.upper, self.trade_id
        );
        push_units(out, p);
        out.push_str("\",\"q\":\"");
        push_units(out, q);
        let _ = writeln!(out, "\",\"T\":{t},\"m\":{maker},\"M\":true}}}}");
    }

    fn book(&mut self, out: &mut String, t: i64) {
        self.prefix(out, t);
        let snapshot = std::mem::take(&mut self.in_snapshot);
        if snapshot {
            let _ = write!(
                out,
                "@depthSnapshot\",\"data\":{{\"lastUpdateId\":{},\"bids\":",
                self.update_id
            );
        } else {
            let first = self.update_id + 1;
            self.update_id += (self.bids.len() + self.asks.len()).max(1) as u64;
            let _ = write!(
                out,
                "@depth@100ms\",\"data\":{{\"e\":\"depthUpdate\",\"E\":{t},\"s\":\"{}\",\
                 \"U\":{first},\"u\":{},\"b\":",
                self.upper, self.update_id
            );
        }
        push_levels(out, &self.bids);
        out.push_str(if snapshot { ",\"asks\":" } else { ",\"a\":" });
        push_levels(out, &self.asks);
        out.push_str("}}\n");
        self.bids.clear();
        self.asks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::recording::RecordingReader;
    use crate::sim::synth::{SynthConfig, SynthMarket};

    #[test]
    fn units_print_as_eight_decimals() {
        let mut s = String::new();
        push_units(&mut s, 6_500_001_000_000);
        s.push(' ');
        push_units(&mut s, 1_000);
        assert_eq!(s, "65000.01000000 0.00001000");
    }

    #[test]
    fn a_synthetic_tape_reads_back_identically_in_any_chunks() {
        let mut m = SynthMarket::new(SynthConfig::btcusdt(11)).unwrap();
        let mut tape = Tape::default();
        let mut w = RecordingWriter::new("BTCUSDT");
        let mut text = String::new();
        let start = m.now_us();
        for s in [5, 10, 30] {
            let mut chunk = Tape::default();
            m.generate(start + s * 1_000_000, &mut chunk);
            w.write(&chunk, &mut text);
            tape.kind.extend(&chunk.kind);
            tape.time_us.extend(&chunk.time_us);
            tape.price.extend(&chunk.price);
            tape.qty.extend(&chunk.qty);
        }
        assert!(text.starts_with(&format!(
            "{} {{\"stream\":\"btcusdt@depthSnapshot\"",
            start * 1000
        )));
        let mut r = RecordingReader::new("BTCUSDT", "synth");
        let mut back = Tape::default();
        r.feed(text.as_bytes(), &mut back).unwrap();
        assert_eq!(r.stats().snapshots, 1);
        assert_eq!(r.stats().lines, w.lines());
        assert_eq!(back, tape);
    }
}
