//! Exact fixed-point decimals for prices and quantities.
//!
//! A [`Dec`] is an `i128` count of 10^-18 units: ±1.7·10^20 with 18 decimal places, so a
//! quantity of 10^12 with 8 decimals, a price with 10 decimals, and their product (18 decimals)
//! are all exact. Values are parsed from the exchange's strings digit by digit, never through a
//! binary float. Arithmetic is checked: it returns an error rather than wrap or drop a digit.

use std::fmt;

/// Decimal places carried by every [`Dec`].
pub const SCALE: u32 = 18;
const ONE: i128 = 1_000_000_000_000_000_000;

/// 10^(18 - n) for n in 0..=18: the factor that scales n fraction digits to 18.
const FRAC_SCALE: [u64; 19] = {
    let mut t = [1u64; 19];
    let mut i = 0;
    while i < 19 {
        let mut v = 1u64;
        let mut j = 0;
        while j < 18 - i {
            v *= 10;
            j += 1;
        }
        t[i] = v;
        i += 1;
    }
    t
};

/// 10^n for n in 0..=38.
const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Why a decimal could not be parsed or computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecError {
    /// No digits at all.
    Empty,
    /// A byte that is not part of a plain decimal, at this offset in the text.
    InvalidChar(usize),
    /// More than 18 significant fraction digits: not representable exactly.
    TooPrecise,
    /// Out of range (more than ±1.7·10^20), or an operation overflowed.
    Overflow,
    /// A result would need more than 18 decimals: refused rather than rounded.
    Inexact,
    DivisionByZero,
    /// A step or tick that is zero or negative.
    NonPositiveStep,
}

impl fmt::Display for DecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecError::Empty => f.write_str("not a decimal: no digits"),
            DecError::InvalidChar(at) => {
                write!(
                    f,
                    "not a plain decimal: unexpected character at offset {at}"
                )
            }
            DecError::TooPrecise => f.write_str("more than 18 decimal places"),
            DecError::Overflow => f.write_str("decimal out of range (|x| < 1.7e20)"),
            DecError::Inexact => f.write_str("result needs more than 18 decimal places"),
            DecError::DivisionByZero => f.write_str("division by zero"),
            DecError::NonPositiveStep => f.write_str("step and tick sizes must be positive"),
        }
    }
}

impl std::error::Error for DecError {}

/// Which way a price is rounded to the tick: buys round down, sells round up, so that rounding
/// never makes an order more aggressive than asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

/// An exact decimal with 18 fixed decimal places.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dec(i128);

impl Dec {
    pub const ZERO: Dec = Dec(0);
    pub const MAX: Dec = Dec(i128::MAX);

    /// The raw count of 10^-18 units.
    #[must_use]
    pub const fn raw(self) -> i128 {
        self.0
    }

    #[must_use]
    pub const fn from_raw(raw: i128) -> Dec {
        Dec(raw)
    }

    /// An integer value.
    #[must_use]
    pub fn from_int(v: i64) -> Dec {
        Dec(i128::from(v) * ONE)
    }

    /// Parse a plain decimal (`-12.50`, `0.00100000`, `7`): no exponent, no spaces.
    ///
    /// Trailing zeros past 18 decimals are accepted; any other digit there is [`DecError::TooPrecise`].
    #[inline]
    pub fn parse(s: &[u8]) -> Result<Dec, DecError> {
        let (neg, start) = match s.first() {
            Some(b'-') => (true, 1),
            Some(b'+') => (false, 1),
            Some(_) => (false, 0),
            None => return Err(DecError::Empty),
        };
        let mut i = start;
        // Integer part: u64 is enough for 19 digits; longer falls back to checked i128.
        let mut int: i128 = 0;
        let mut acc: u64 = 0;
        let mut n_acc = 0u32;
        while i < s.len() && s[i].is_ascii_digit() {
            acc = acc * 10 + u64::from(s[i] - b'0');
            n_acc += 1;
            if n_acc == 18 {
                int = int
                    .checked_mul(POW10[18])
                    .and_then(|v| v.checked_add(i128::from(acc)))
                    .ok_or(DecError::Overflow)?;
                acc = 0;
                n_acc = 0;
            }
            i += 1;
        }
        let int_digits = i - start;
        int = int
            .checked_mul(POW10[n_acc as usize])
            .and_then(|v| v.checked_add(i128::from(acc)))
            .ok_or(DecError::Overflow)?;
        let mut frac: u64 = 0;
        let mut frac_digits = 0usize;
        if i < s.len() && s[i] == b'.' {
            i += 1;
            let fstart = i;
            while i < s.len() && s[i].is_ascii_digit() {
                let d = s[i] - b'0';
                if frac_digits < SCALE as usize {
                    frac = frac * 10 + u64::from(d);
                    frac_digits += 1;
                } else if d != 0 {
                    return Err(DecError::TooPrecise);
                }
                i += 1;
            }
            if i == fstart && int_digits == 0 {
                return Err(DecError::Empty);
            }
        }
        if i != s.len() {
            return Err(DecError::InvalidChar(i));
        }
        if int_digits == 0 && frac_digits == 0 && !s[start..].starts_with(b".") {
            return Err(DecError::Empty);
        }
        let raw = int
            .checked_mul(ONE)
            .and_then(|v| v.checked_add(i128::from(frac) * POW10[SCALE as usize - frac_digits]))
            .ok_or(DecError::Overflow)?;
        Ok(Dec(if neg { -raw } else { raw }))
    }

    /// The hot-path parser for the common shape `ddd.dddddddd"`: unsigned, at most 19 integer
    /// digits and 18 fraction digits, followed by a closing quote. Returns the value and the
    /// offset of the quote, or `None` for anything else (the caller then takes the general
    /// path, which accepts or explains it).
    #[inline]
    #[must_use]
    pub fn parse_quoted_prefix(s: &[u8]) -> Option<(Dec, usize)> {
        let mut i = 0;
        let mut int: u64 = 0;
        for &c in s.iter().take(19) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            // At most 19 digits: below 10^19 < 2^64, no overflow.
            int = int.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
        }
        if i == 0 {
            return None;
        }
        let mut frac: u64 = 0;
        let mut nf = 0usize;
        if s.get(i) == Some(&b'.') {
            i += 1;
            if let Some(chunk) = s.get(i..i + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(chunk);
                let v = u64::from_le_bytes(w);
                if all_eight_digits(v) {
                    frac = eight_digits(v);
                    nf = 8;
                    i += 8;
                }
            }
            while i < s.len() && nf < SCALE as usize && s[i].is_ascii_digit() {
                frac = frac.wrapping_mul(10).wrapping_add(u64::from(s[i] - b'0'));
                nf += 1;
                i += 1;
            }
            if nf == 0 {
                return None;
            }
        }
        if s.get(i) != Some(&b'"') {
            return None;
        }
        // int < 10^19 and frac < 10^18: the sum is below 10^37 < i128::MAX, so the
        // wrapping operations never wrap (and skip the slow checked 128-bit multiply).
        let scale = FRAC_SCALE[nf];
        let raw = i128::from(int)
            .wrapping_mul(ONE)
            .wrapping_add(i128::from(frac.wrapping_mul(scale)));
        Some((Dec(raw), i))
    }

    pub fn parse_str(s: &str) -> Result<Dec, DecError> {
        Dec::parse(s.as_bytes())
    }

    #[must_use]
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    #[must_use]
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, o: Dec) -> Result<Dec, DecError> {
        self.0.checked_add(o.0).map(Dec).ok_or(DecError::Overflow)
    }

    pub fn checked_sub(self, o: Dec) -> Result<Dec, DecError> {
        self.0.checked_sub(o.0).map(Dec).ok_or(DecError::Overflow)
    }

    #[must_use]
    pub fn negated(self) -> Dec {
        Dec(-self.0)
    }

    /// Exact product; [`DecError::Inexact`] if it needs more than 18 decimals.
    pub fn checked_mul(self, o: Dec) -> Result<Dec, DecError> {
        self.mul(o, true)
    }

    /// Product truncated toward zero at 18 decimals (for analytics, never for an order).
    pub fn mul_trunc(self, o: Dec) -> Result<Dec, DecError> {
        self.mul(o, false)
    }

    #[allow(clippy::many_single_char_names)] // the names of the formula above
    fn mul(self, o: Dec, exact: bool) -> Result<Dec, DecError> {
        // a*b/ONE with a = a1*ONE + a0 and b = b1*ONE + b0 (0 <= a0, b0 < ONE):
        // a*b/ONE = a1*b1*ONE + a1*b0 + a0*b1 + a0*b0/ONE, each term checked.
        let neg = (self.0 < 0) != (o.0 < 0);
        let (a, b) = (self.0.unsigned_abs(), o.0.unsigned_abs());
        let one = ONE as u128;
        let (a1, a0, b1, b0) = (a / one, a % one, b / one, b % one);
        let low = a0 * b0; // < 10^36, fits
        if exact && low % one != 0 {
            return Err(DecError::Inexact);
        }
        let sum = a1
            .checked_mul(b1)
            .and_then(|v| v.checked_mul(one))
            .and_then(|v| v.checked_add(a1.checked_mul(b0)?))
            .and_then(|v| v.checked_add(a0.checked_mul(b1)?))
            .and_then(|v| v.checked_add(low / one))
            .ok_or(DecError::Overflow)?;
        let v = i128::try_from(sum).map_err(|_| DecError::Overflow)?;
        Ok(Dec(if neg { -v } else { v }))
    }

    /// Quotient truncated toward zero at 18 decimals (for analytics and quote sizing; callers
    /// that need exactness floor the result to a step afterwards).
    #[allow(clippy::many_single_char_names)] // quotient, remainder, digit: long division
    pub fn checked_div_trunc(self, o: Dec) -> Result<Dec, DecError> {
        if o.0 == 0 {
            return Err(DecError::DivisionByZero);
        }
        let neg = (self.0 < 0) != (o.0 < 0);
        let (a, b) = (self.0.unsigned_abs(), o.0.unsigned_abs());
        let mut q = a / b;
        let mut r = a % b;
        // Long division, one decimal digit at a time, for the 18 fraction digits.
        for _ in 0..SCALE {
            q = q.checked_mul(10).ok_or(DecError::Overflow)?;
            // r < b <= 2^127, so r*10 may overflow u128 only when b > 2^124: split then.
            let (d, nr) = if let Some(r10) = r.checked_mul(10) {
                (r10 / b, r10 % b)
            } else {
                {
                    let mut d = 0u128;
                    let mut acc = r;
                    for _ in 0..10 {
                        // acc + r could overflow; compare against b - r instead.
                        let room = b - acc;
                        if r >= room {
                            acc = r - room;
                            d += 1;
                        } else {
                            acc += r;
                        }
                    }
                    (d, acc)
                }
            };
            q = q.checked_add(d).ok_or(DecError::Overflow)?;
            r = nr;
        }
        let v = i128::try_from(q).map_err(|_| DecError::Overflow)?;
        Ok(Dec(if neg { -v } else { v }))
    }

    /// The largest multiple of `step` not above `self`.
    pub fn floor_to(self, step: Dec) -> Result<Dec, DecError> {
        if step.0 <= 0 {
            return Err(DecError::NonPositiveStep);
        }
        Ok(Dec(self.0.div_euclid(step.0) * step.0))
    }

    /// The smallest multiple of `step` not below `self`.
    pub fn ceil_to(self, step: Dec) -> Result<Dec, DecError> {
        let f = self.floor_to(step)?;
        if f == self {
            Ok(f)
        } else {
            f.checked_add(step)
        }
    }

    /// Round a price to the tick: down for buys, up for sells.
    pub fn round_to_tick(self, tick: Dec, side: Side) -> Result<Dec, DecError> {
        match side {
            Side::Buy => self.floor_to(tick),
            Side::Sell => self.ceil_to(tick),
        }
    }

    /// Whether `self` is a whole multiple of `step`.
    pub fn is_multiple_of(self, step: Dec) -> Result<bool, DecError> {
        if step.0 <= 0 {
            return Err(DecError::NonPositiveStep);
        }
        Ok(self.0 % step.0 == 0)
    }

    /// Number of significant fraction digits (0..=18).
    #[must_use]
    pub fn fraction_digits(self) -> u32 {
        let mut frac = self.split_abs().1;
        if frac == 0 {
            return 0;
        }
        let mut n = SCALE;
        while frac % 10 == 0 {
            frac /= 10;
            n -= 1;
        }
        n
    }

    /// `|self|` as its integer part and its fraction in units of 10^-18: one 128-bit division,
    /// and the fraction (below 10^18) fits a `u64`, so formatting needs no more 128-bit work.
    #[inline]
    fn split_abs(self) -> (u128, u64) {
        let a = self.0.unsigned_abs();
        let one = ONE as u128;
        let int = a / one;
        (int, (a - int * one) as u64)
    }

    /// The nearest `f64` (correctly rounded), for analytics only.
    #[must_use]
    pub fn to_f64(self) -> f64 {
        // Clinger's fast path: an integer below 2^53 divided by an exact power of ten is
        // correctly rounded by IEEE division. Most exchange numbers have <= 8 decimals.
        const LIM: u128 = 1 << 53;
        let a = self.0.unsigned_abs();
        let sign = if self.0 < 0 { -1.0 } else { 1.0 };
        if a % 10_000_000_000 == 0 {
            let m = a / 10_000_000_000;
            if m < LIM {
                return sign * (m as f64 / 1e8);
            }
        }
        let digits = self.fraction_digits();
        let m = a / POW10[(SCALE - digits) as usize] as u128;
        if m < LIM {
            return sign * (m as f64 / 10f64.powi(digits as i32));
        }
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// From an `f64`, via its shortest round-trip decimal representation. For analytics input
    /// only (a float is never turned into an order price).
    pub fn from_f64(v: f64) -> Result<Dec, DecError> {
        if !v.is_finite() {
            return Err(DecError::Overflow);
        }
        let s = format!("{v}");
        Dec::parse(s.as_bytes())
    }

    /// Write with exactly `digits` fraction digits, if that is exact (`None` otherwise).
    #[must_use]
    pub fn to_string_fixed(self, digits: u32) -> Option<String> {
        if digits > SCALE || self.fraction_digits() > digits {
            return None;
        }
        let mut s = String::with_capacity(24);
        self.write_fixed(digits, &mut s);
        Some(s)
    }

    /// Append `self` with exactly `digits` fraction digits (truncating any beyond).
    pub fn write_fixed(self, digits: u32, out: &mut String) {
        use fmt::Write as _;
        let (int, frac) = self.split_abs();
        if self.0 < 0 {
            out.push('-');
        }
        // Integer parts below 2^64 (all but the last 10% of the range) format as a u64.
        let _ = match u64::try_from(int) {
            Ok(int) => write!(out, "{int}"),
            Err(_) => write!(out, "{int}"),
        };
        if digits > 0 {
            let digits = digits.min(SCALE) as usize;
            let mut v = frac / POW10[SCALE as usize - digits] as u64;
            let mut buf = [b'0'; SCALE as usize];
            for slot in buf[..digits].iter_mut().rev() {
                *slot = b'0' + (v % 10) as u8;
                v /= 10;
            }
            out.push('.');
            out.extend(buf[..digits].iter().map(|&b| char::from(b)));
        }
    }
}

/// Whether all eight bytes of `v` are ASCII digits.
#[inline]
fn all_eight_digits(v: u64) -> bool {
    ((v & 0xF0F0_F0F0_F0F0_F0F0)
        | ((v.wrapping_add(0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4))
        == 0x3333_3333_3333_3333
}

/// The value of eight ASCII digits loaded little-endian (first digit in the lowest byte).
#[inline]
fn eight_digits(v: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let v = v.wrapping_sub(0x3030_3030_3030_3030);
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    ((v & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2)))
        >> 32
}

impl fmt::Display for Dec {
    /// The canonical form: no exponent, no trailing zeros, `0` for zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(24);
        self.write_fixed(self.fraction_digits(), &mut s);
        f.write_str(&s)
    }
}

impl fmt::Debug for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dec({self})")
    }
}

/// A decimal as the exchange wrote it: the exact value and how many fraction digits it had,
/// so `"65000.01000000"` is written back byte for byte.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Num {
    pub value: Dec,
    pub digits: u8,
}

impl Num {
    #[inline]
    pub fn parse(s: &[u8]) -> Result<Num, DecError> {
        let value = Dec::parse(s)?;
        let digits = match s.iter().position(|&b| b == b'.') {
            Some(p) => (s.len() - p - 1).min(SCALE as usize) as u8,
            None => 0,
        };
        Ok(Num { value, digits })
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(24);
        self.value.write_fixed(u32::from(self.digits), &mut s);
        f.write_str(&s)
    }
}

impl fmt::Debug for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Num({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dec {
        Dec::parse_str(s).unwrap()
    }

    #[test]
    fn parses_and_formats_canonically() {
        for (input, canon) in [
            ("65000.01000000", "65000.01"),
            ("0.00000000", "0"),
            ("-0.5", "-0.5"),
            ("7", "7"),
            ("007.10", "7.1"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1000000000000.12345678", "1000000000000.12345678"),
            ("0.000000000000000001", "0.000000000000000001"),
            ("123456789012345678901.5", "123456789012345678901.5"),
            ("223456789012345678901.5", ""),
        ] {
            match Dec::parse_str(input) {
                Ok(v) => assert_eq!(v.to_string(), canon, "{input}"),
                Err(e) => assert!(canon.is_empty(), "{input}: {e}"),
            }
        }
    }

    #[test]
    fn rejects_what_is_not_a_plain_decimal() {
        for bad in [
            "", "-", ".", "1e5", "1.2.3", " 1", "0x10", "NaN", "1,5", "--1",
        ] {
            assert!(Dec::parse_str(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Dec::parse_str("0.0000000000000000001"),
            Err(DecError::TooPrecise)
        );
        assert_eq!(d("0.1000000000000000000000"), d("0.1"));
    }

    #[test]
    fn step_and_tick_rounding_is_exact() {
        assert_eq!(d("1.23456789").floor_to(d("0.001")).unwrap(), d("1.234"));
        assert_eq!(d("-1.2345").floor_to(d("0.01")).unwrap(), d("-1.24"));
        assert_eq!(
            d("65000.017").round_to_tick(d("0.01"), Side::Buy).unwrap(),
            d("65000.01")
        );
        assert_eq!(
            d("65000.011").round_to_tick(d("0.01"), Side::Sell).unwrap(),
            d("65000.02")
        );
        assert_eq!(
            d("65000.01").round_to_tick(d("0.01"), Side::Sell).unwrap(),
            d("65000.01")
        );
        assert_eq!(d("1").floor_to(d("0")), Err(DecError::NonPositiveStep));
    }

    #[test]
    fn mul_and_div_are_exact_or_refuse() {
        assert_eq!(
            d("65000.0123456789").checked_mul(d("0.12345678")).unwrap(),
            d("8024.692224157763907942")
        );
        assert_eq!(
            d("1000000000000").checked_mul(d("100000")).unwrap(),
            d("100000000000000000")
        );
        assert_eq!(
            d("0.000000001").checked_mul(d("0.0000000001")),
            Err(DecError::Inexact)
        );
        assert_eq!(
            d("100000000000").checked_mul(d("100000000000")),
            Err(DecError::Overflow)
        );
        assert_eq!(
            d("1").checked_div_trunc(d("3")).unwrap(),
            d("0.333333333333333333")
        );
        assert_eq!(d("100").checked_div_trunc(d("-8")).unwrap(), d("-12.5"));
        assert_eq!(
            d("1").checked_div_trunc(d("0")),
            Err(DecError::DivisionByZero)
        );
    }

    #[test]
    #[allow(clippy::float_cmp)] // exactness is the point
    fn floats_are_correctly_rounded() {
        for s in ["65000.01", "0.1", "0.00000001", "123456.78901234", "1e0"] {
            if let Ok(v) = Dec::parse_str(s) {
                assert_eq!(v.to_f64(), s.parse::<f64>().unwrap(), "{s}");
            }
        }
        assert_eq!(d("100000000000000000000").to_f64(), 1e20);
    }

    #[test]
    fn fast_path_agrees_with_the_general_parser() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let int = x % 10u64.pow((x >> 60) as u32 % 20);
            let nf = (x >> 40) as usize % 20;
            let frac: String = (0..nf)
                .map(|k| char::from(b'0' + ((x >> (k * 3)) % 10) as u8))
                .collect();
            let text = if nf == 0 && x & 1 == 0 {
                format!("{int}")
            } else {
                format!("{int}.{frac}")
            };
            let quoted = format!("{text}\"");
            let fast = Dec::parse_quoted_prefix(quoted.as_bytes());
            let slow = Dec::parse_str(&text);
            match fast {
                Some((v, end)) => {
                    assert_eq!(Ok(v), slow, "{text}");
                    assert_eq!(end, text.len());
                }
                None => assert!(
                    nf == 0 || nf > 18 || slow.is_err() || text.ends_with('.'),
                    "{text}"
                ),
            }
        }
        assert_eq!(Dec::parse_quoted_prefix(b"1.5x"), None);
        assert_eq!(Dec::parse_quoted_prefix(b"-1\""), None);
        assert_eq!(Dec::parse_quoted_prefix(b"1.\""), None);
        assert_eq!(Dec::parse_quoted_prefix(b"12.3456789a\""), None);
    }

    #[test]
    fn num_keeps_the_written_digits() {
        let n = Num::parse(b"65000.01000000").unwrap();
        assert_eq!(n.to_string(), "65000.01000000");
        assert_eq!(n.value, d("65000.01"));
        assert_eq!(Num::parse(b"12").unwrap().to_string(), "12");
    }
}
