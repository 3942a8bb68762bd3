//! Binance's public historical data (data.binance.vision), spot `trades`, `aggTrades` and
//! `klines` CSV files, read into a [`Tape`].
//!
//! Columns (binance-public-data README):
//! - trades: `trade Id, price, qty, quoteQty, time, isBuyerMaker, isBestMatch` (futures files
//!   have no `isBestMatch`);
//! - aggTrades: `Aggregate tradeId, Price, Quantity, First tradeId, Last tradeId, Timestamp,
//!   Was the buyer the maker, Was the trade the best price match` (futures: no last column);
//! - klines: `Open time, Open, High, Low, Close, Volume, Close time, Quote asset volume, Number
//!   of trades, Taker buy base asset volume, Taker buy quote asset volume, Ignore`.
//!
//! Spot files have no header row; futures files do, so a first line that does not start with a
//! digit is skipped. Times are milliseconds before 2025 and microseconds from 2025-01-01: each
//! row's unit is told by its magnitude, and the tape holds microseconds. Prices and quantities
//! are read exactly into units of 10^-8; more digits are refused, never rounded. A trade whose
//! buyer was the maker is a [`TRADE_SELL`] (the taker sold).
//!
//! A bar is replayed as four prints, open, high, low, close, all stamped at the bar's close time
//! (nothing of a bar is seen before it closed), each carrying a quarter of the bar's volume (the
//! remainder on the close). A print's kind follows the price: up from the previous print is a
//! [`TRADE_BUY`], down a [`TRADE_SELL`], unchanged keeps the previous kind (the first print of a
//! file is a buy). Bars with no volume are skipped: nothing traded.
//!
//! Rows must be in time order: a row older than the one before it is an error (a file
//! concatenated in the wrong order), never silently reordered.

use crate::decimal::Dec;
use crate::sim::data_error::{dec_units, normalise_time, DataError, DataResult};
use crate::sim::tape::{Tape, TRADE_BUY, TRADE_SELL};

/// Which of Binance's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvKind {
    Trades,
    AggTrades,
    Klines,
}

impl CsvKind {
    /// The kind from its name in Binance's paths: `trades`, `aggTrades`, `klines`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<CsvKind> {
        match name {
            "trades" => Some(CsvKind::Trades),
            "aggTrades" => Some(CsvKind::AggTrades),
            "klines" => Some(CsvKind::Klines),
            _ => None,
        }
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CsvKind::Trades => "trades",
            CsvKind::AggTrades => "aggTrades",
            CsvKind::Klines => "klines",
        }
    }

    /// Column names, as Binance's README gives them.
    fn columns(self) -> &'static [&'static str] {
        match self {
            CsvKind::Trades => &[
                "trade Id",
                "price",
                "qty",
                "quoteQty",
                "time",
                "isBuyerMaker",
                "isBestMatch",
            ],
            CsvKind::AggTrades => &[
                "Aggregate tradeId",
                "Price",
                "Quantity",
                "First tradeId",
                "Last tradeId",
                "Timestamp",
                "Was the buyer the maker",
                "Was the trade the best price match",
            ],
            CsvKind::Klines => &[
                "Open time",
                "Open",
                "High",
                "Low",
                "Close",
                "Volume",
                "Close time",
                "Quote asset volume",
                "Number of trades",
                "Taker buy base asset volume",
                "Taker buy quote asset volume",
                "Ignore",
            ],
        }
    }

    /// Column counts accepted: spot's, and futures' one fewer for trades and aggTrades.
    fn accepts(self, n: usize) -> bool {
        match self {
            CsvKind::Trades => n == 7 || n == 6,
            CsvKind::AggTrades => n == 8 || n == 7,
            CsvKind::Klines => n == 12,
        }
    }

    /// What a row of a file with `n` columns is, when nothing else says: 7 trades, 8
    /// aggTrades, 12 klines.
    #[must_use]
    pub fn from_column_count(n: usize) -> Option<CsvKind> {
        match n {
            7 => Some(CsvKind::Trades),
            8 => Some(CsvKind::AggTrades),
            12 => Some(CsvKind::Klines),
            _ => None,
        }
    }
}

const MAX_COLUMNS: usize = 12;

/// A reader of one Binance CSV file, fed chunks of whole lines in order.
#[derive(Debug)]
pub struct CsvReader {
    kind: CsvKind,
    source: String,
    /// Lines read so far (the number of the last line read).
    line: u64,
    /// Rows (not header, not blank) read so far.
    rows: u64,
    last_time: i64,
    /// Price and kind of the last bar print (klines).
    last_print: Option<(i64, u8)>,
}

impl CsvReader {
    #[must_use]
    pub fn new(kind: CsvKind, source: &str) -> Self {
        CsvReader {
            kind,
            source: source.to_owned(),
            line: 0,
            rows: 0,
            last_time: i64::MIN,
            last_print: None,
        }
    }

    #[must_use]
    pub fn kind(&self) -> CsvKind {
        self.kind
    }

    /// Lines read so far.
    #[must_use]
    pub fn lines(&self) -> u64 {
        self.line
    }

    /// Data rows read so far.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Read `chunk`, whole lines (the last one may lack its newline), appending to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Tape) -> DataResult<()> {
        let mut pos = 0;
        let len = chunk.len();
        while pos < len {
            let line_start = pos;
            // One pass over the line: where each field starts and ends.
            let mut cols: [&[u8]; MAX_COLUMNS] = [&[]; MAX_COLUMNS];
            let mut n = 0;
            let mut start = pos;
            let mut i = pos;
            while i < len {
                let b = chunk[i];
                if b == b'\n' {
                    break;
                }
                if b == b',' {
                    if n < MAX_COLUMNS {
                        cols[n] = &chunk[start..i];
                    }
                    n += 1;
                    start = i + 1;
                }
                i += 1;
            }
            let mut last = &chunk[start..i];
            if let Some(stripped) = last.strip_suffix(b"\r") {
                last = stripped;
            }
            if n < MAX_COLUMNS {
                cols[n] = last;
            }
            n += 1;
            pos = i + 1;
            self.line += 1;
            if n == 1 && last.is_empty() {
                continue; // a blank line
            }
            if self.line == 1 && !chunk[line_start].is_ascii_digit() {
                continue; // a header row (futures files have them)
            }
            self.row(&cols, n, out)?;
            self.rows += 1;
        }
        Ok(())
    }

    fn row(&mut self, cols: &[&[u8]; MAX_COLUMNS], n: usize, out: &mut Tape) -> DataResult<()> {
        if !self.kind.accepts(n) {
            let want = match self.kind {
                CsvKind::Trades => "7 (or 6)",
                CsvKind::AggTrades => "8 (or 7)",
                CsvKind::Klines => "12",
            };
            let got = if n > MAX_COLUMNS {
                "more".to_owned()
            } else {
                n.to_string()
            };
            return Err(self.error(
                "row",
                format!(
                    "a {} row has {want} columns, this one has {got}",
                    self.kind.name()
                ),
            ));
        }
        match self.kind {
            CsvKind::Trades => {
                let price = self.price(cols, 1)?;
                let qty = self.quantity(cols, 2)?;
                let time = self.time(cols, 4)?;
                let maker = self.boolean(cols, 5)?;
                out.push(if maker { TRADE_SELL } else { TRADE_BUY }, time, price, qty);
            }
            CsvKind::AggTrades => {
                let price = self.price(cols, 1)?;
                let qty = self.quantity(cols, 2)?;
                let time = self.time(cols, 5)?;
                let maker = self.boolean(cols, 6)?;
                out.push(if maker { TRADE_SELL } else { TRADE_BUY }, time, price, qty);
            }
            CsvKind::Klines => self.bar(cols, out)?,
        }
        Ok(())
    }

    fn bar(&mut self, cols: &[&[u8]; MAX_COLUMNS], out: &mut Tape) -> DataResult<()> {
        let open = self.price(cols, 1)?;
        let high = self.price(cols, 2)?;
        let low = self.price(cols, 3)?;
        let close = self.price(cols, 4)?;
        let volume = self.quantity(cols, 5)?;
        if high < open.max(close).max(low) {
            return Err(self.error(2, "the high is below the open, low or close"));
        }
        if low > open.min(close) {
            return Err(self.error(3, "the low is above the open or close"));
        }
        let time = self.time(cols, 6)?;
        if volume == 0 {
            return Ok(());
        }
        let quarter = volume / 4;
        for (price, qty) in [
            (open, quarter),
            (high, quarter),
            (low, quarter),
            (close, volume - 3 * quarter),
        ] {
            let kind = match self.last_print {
                Some((p, _)) if price > p => TRADE_BUY,
                Some((p, _)) if price < p => TRADE_SELL,
                Some((_, k)) => k,
                None => TRADE_BUY,
            };
            out.push(kind, time, price, qty);
            self.last_print = Some((price, kind));
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    #[allow(clippy::unnecessary_box_returns)] // DataResult's error is boxed
    fn error(&self, column: impl ColumnRef, message: impl Into<String>) -> Box<DataError> {
        DataError::new(
            &self.source,
            self.line,
            column.name(self.kind),
            message.into(),
        )
    }

    #[inline]
    fn units(&self, cols: &[&[u8]; MAX_COLUMNS], i: usize) -> DataResult<i64> {
        let s = cols[i];
        if let Some(v) = fast_units(s) {
            return Ok(v);
        }
        self.slow_units(s, i)
    }

    #[cold]
    #[inline(never)]
    fn slow_units(&self, s: &[u8], i: usize) -> DataResult<i64> {
        let d = Dec::parse(s).map_err(|e| {
            self.error(
                i,
                format!("not a decimal ({e}): {:?}", String::from_utf8_lossy(s)),
            )
        })?;
        if d.is_negative() {
            return Err(self.error(i, format!("negative: {}", String::from_utf8_lossy(s))));
        }
        dec_units(d).map_err(|e| self.error(i, format!("{e}: {}", String::from_utf8_lossy(s))))
    }

    #[inline]
    fn price(&self, cols: &[&[u8]; MAX_COLUMNS], i: usize) -> DataResult<i64> {
        let v = self.units(cols, i)?;
        if v == 0 {
            return Err(self.error(i, "a price of zero"));
        }
        Ok(v)
    }

    #[inline]
    fn quantity(&self, cols: &[&[u8]; MAX_COLUMNS], i: usize) -> DataResult<i64> {
        self.units(cols, i)
    }

    #[inline]
    fn time(&mut self, cols: &[&[u8]; MAX_COLUMNS], i: usize) -> DataResult<i64> {
        let s = cols[i];
        let t = parse_int(s).and_then(normalise_time).ok_or_else(|| {
            self.error(
                i,
                format!(
                    "not a time in milliseconds or microseconds since the epoch: {:?}",
                    String::from_utf8_lossy(s)
                ),
            )
        })?;
        if t < self.last_time {
            return Err(self.error(
                i,
                format!(
                    "time goes backwards ({t} us after {} us): rows must be in time order",
                    self.last_time
                ),
            ));
        }
        self.last_time = t;
        Ok(t)
    }

    #[inline]
    fn boolean(&self, cols: &[&[u8]; MAX_COLUMNS], i: usize) -> DataResult<bool> {
        match cols[i] {
            b"True" | b"true" | b"TRUE" => Ok(true),
            b"False" | b"false" | b"FALSE" => Ok(false),
            s => Err(self.error(
                i,
                format!("not True or False: {:?}", String::from_utf8_lossy(s)),
            )),
        }
    }
}

/// A column given by index or by name.
trait ColumnRef {
    fn name(self, kind: CsvKind) -> &'static str;
}

impl ColumnRef for usize {
    fn name(self, kind: CsvKind) -> &'static str {
        kind.columns().get(self).copied().unwrap_or("row")
    }
}

impl ColumnRef for &'static str {
    fn name(self, _kind: CsvKind) -> &'static str {
        self
    }
}

/// A non-negative decimal of the plain shape `digits[.digits]` with at most 8 significant
/// fraction digits, in units of 10^-8; `None` for anything else (the exact parser then accepts
/// it or says what is wrong).
#[inline]
fn fast_units(s: &[u8]) -> Option<i64> {
    let mut i = 0;
    let mut int: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if i >= 18 {
            return None;
        }
        int = int * 10 + i64::from(s[i] - b'0');
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let mut frac: i64 = 0;
    let mut nf = 0u32;
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && nf < 8 && s[i].is_ascii_digit() {
            frac = frac * 10 + i64::from(s[i] - b'0');
            nf += 1;
            i += 1;
        }
        while i < s.len() && s[i] == b'0' {
            i += 1;
        }
    }
    if i != s.len() {
        return None;
    }
    int.checked_mul(crate::sim::tape::UNIT)?
        .checked_add(frac * 10i64.pow(8 - nf))
}

/// A positive decimal integer of at most 18 digits.
#[inline]
fn parse_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in s {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::tape::UNIT;

    fn read(kind: CsvKind, text: &str) -> DataResult<Tape> {
        let mut r = CsvReader::new(kind, "test.csv");
        let mut t = Tape::default();
        r.feed(text.as_bytes(), &mut t)?;
        Ok(t)
    }

    #[test]
    fn trades_in_milliseconds_and_microseconds() {
        let t = read(
            CsvKind::Trades,
            "1,61837.63000000,0.02000000,1236.75260000,1723161255342,True,True\n\
             2,17.80180000,5.69000000,101.29224200,1735689600010866,False,True\n",
        )
        .unwrap();
        assert_eq!(t.kind, vec![TRADE_SELL, TRADE_BUY]);
        assert_eq!(
            t.time_us,
            vec![1_723_161_255_342_000, 1_735_689_600_010_866]
        );
        assert_eq!(t.price, vec![6_183_763_000_000, 1_780_180_000]);
        assert_eq!(t.qty, vec![2_000_000, 569_000_000]);
    }

    #[test]
    fn agg_trades_and_a_header_row() {
        let t = read(
            CsvKind::AggTrades,
            "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\r\n\
             0,0.20000000,50.00000000,0,0,1735689600010866,false\r\n",
        )
        .unwrap();
        assert_eq!(t.kind, vec![TRADE_BUY]);
        assert_eq!(t.price, vec![20_000_000]);
        assert_eq!(t.qty, vec![50 * UNIT]);
    }

    #[test]
    fn a_bar_is_four_prints_at_its_close() {
        let t = read(
            CsvKind::Klines,
            "1735689600000000,100,110,90,105,1.00000001,1735689659999999,0,0,0,0,0\n\
             1735689660000000,105,105,105,105,0,1735689719999999,0,0,0,0,0\n\
             1735689720000000,104,106,100,100,4,1735689779999999,0,0,0,0,0\n",
        )
        .unwrap();
        assert_eq!(t.len(), 8, "the bar with no volume is skipped");
        assert!(t.time_us[..4].iter().all(|&x| x == 1_735_689_659_999_999));
        assert_eq!(
            t.price,
            [100, 110, 90, 105, 104, 106, 100, 100].map(|p| p * UNIT)
        );
        assert_eq!(t.qty[..4], [25_000_000, 25_000_000, 25_000_000, 25_000_001]);
        assert_eq!(t.qty[..4].iter().sum::<i64>(), 100_000_001);
        assert_eq!(
            t.kind,
            [
                TRADE_BUY, TRADE_BUY, TRADE_SELL, TRADE_BUY, TRADE_SELL, TRADE_BUY, TRADE_SELL,
                TRADE_SELL
            ]
        );
    }

    #[test]
    fn bad_rows_name_their_line_and_column() {
        let good = "1,1.5,2,3,1723161255342,True,True\n";
        for (bad, column, needle) in [
            ("1,2\n", "row", "has 2"),
            (
                "1,abc,2,3,1723161255342,True,True\n",
                "price",
                "not a decimal",
            ),
            (
                "1,1.123456789,2,3,1723161255342,True,True\n",
                "price",
                "8 decimal",
            ),
            ("1,1,-2,3,1723161255342,True,True\n", "qty", "negative"),
            ("1,0,2,3,1723161255342,True,True\n", "price", "zero"),
            ("1,1,2,3,17231612x5342,True,True\n", "time", "not a time"),
            ("1,1,2,3,1723161255341,True,True\n", "time", "backwards"),
            (
                "1,1,2,3,1723161255342,yes,True\n",
                "isBuyerMaker",
                "True or False",
            ),
        ] {
            let text = format!("{good}{bad}");
            let e = read(CsvKind::Trades, &text).unwrap_err();
            assert_eq!(e.line, 2, "{bad}");
            assert_eq!(e.column, column, "{bad}");
            assert!(e.to_string().contains(needle), "{e}");
            assert!(
                e.to_string().starts_with("test.csv: line 2, column "),
                "{e}"
            );
        }
        let e = read(CsvKind::Klines, "1,100,99,90,105,1,2,0,0,0,0,0\n").unwrap_err();
        assert_eq!((e.line, e.column.as_ref()), (1, "High"));
    }

    #[test]
    fn chunks_of_lines_give_the_same_tape_as_one_read() {
        let text = "1,1.5,2,3,1723161255342,True,True\n2,1.6,2,3,1723161255343,False,True\n\
                    3,1.7,2,3,1723161255344,True,True\n";
        let whole = read(CsvKind::Trades, text).unwrap();
        let mut r = CsvReader::new(CsvKind::Trades, "");
        let mut t = Tape::default();
        for line in text.split_inclusive('\n') {
            r.feed(line.as_bytes(), &mut t).unwrap();
        }
        assert_eq!(t, whole);
        assert_eq!((r.lines(), r.rows()), (3, 3));
    }

    #[test]
    fn fast_and_exact_parsers_agree() {
        for s in [
            "0",
            "1",
            "1.",
            "0.1",
            "65000.01000000",
            "12.345678900000",
            "9999999999.99999999",
        ] {
            let exact = dec_units(Dec::parse(s.as_bytes()).unwrap()).unwrap();
            assert_eq!(fast_units(s.as_bytes()), Some(exact), "{s}");
        }
        for s in ["", ".5", "-1", "1e5", "1.123456789", "1 "] {
            assert_eq!(fast_units(s.as_bytes()), None, "{s}");
        }
    }
}
