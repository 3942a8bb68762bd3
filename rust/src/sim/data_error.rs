//! What went wrong in a market-data file, and where: the file, the line, the column.

use std::borrow::Cow;
use std::fmt;

/// A bad row or line in a market-data file (a Binance CSV file or a recording).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    /// The file's name as the caller gave it (may be empty).
    pub source: String,
    /// The line, counted from 1 over the whole (decompressed) file.
    pub line: u64,
    /// The column or field at fault (`price`, `time`, `U`, ...), or `row` for the row's shape.
    pub column: Cow<'static, str>,
    pub message: String,
}

impl DataError {
    #[cold]
    #[inline(never)]
    #[must_use]
    pub fn new(
        source: &str,
        line: u64,
        column: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Box<Self> {
        Box::new(DataError {
            source: source.to_owned(),
            line,
            column: column.into(),
            message: message.into(),
        })
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.source.is_empty() {
            write!(f, "{}: ", self.source)?;
        }
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for DataError {}

/// The result of reading market data (the error boxed: the `Ok` path stays small).
pub type DataResult<T> = Result<T, Box<DataError>>;

/// Times at or above this are microseconds; below, milliseconds (Binance's spot archive switched
/// from milliseconds to microseconds on 2025-01-01; its streams send milliseconds).
pub const MICROS_FROM: i64 = 1_000_000_000_000_000;

/// A positive epoch time in milliseconds or microseconds (told apart by magnitude), in µs.
#[inline]
#[must_use]
pub fn normalise_time(t: i64) -> Option<i64> {
    if t <= 0 {
        None
    } else if t < MICROS_FROM {
        Some(t * 1000)
    } else {
        Some(t)
    }
}

/// 10^10: one tape unit (10^-8) in units of a [`crate::decimal::Dec`] (10^-18).
const DEC_PER_UNIT: i128 = 10_000_000_000;

/// A decimal as an integer count of 10^-8, refused (not rounded) if it has more digits.
pub fn dec_units(d: crate::decimal::Dec) -> Result<i64, &'static str> {
    let raw = d.raw();
    if raw % DEC_PER_UNIT != 0 {
        return Err("more than 8 decimal places (a tape holds units of 10^-8)");
    }
    i64::try_from(raw / DEC_PER_UNIT).map_err(|_| "out of range for a tape (|x| < 9.2e10)")
}
