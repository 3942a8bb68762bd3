//! A forward-only JSON reader over bytes, for Binance's wire formats.
//!
//! Parsers walk each message once, matching keys as they come and skipping what they do not
//! need, with no intermediate tree. Every error carries the byte offset and the field being read.
//! Nesting is bounded and every loop consumes input, so hostile bytes cannot hang or overflow
//! the stack.

use std::borrow::Cow;

use crate::decimal::{Dec, DecError, Num};

/// How deep `skip_value` follows nested arrays and objects before refusing.
const MAX_DEPTH: usize = 64;

/// A parse failure: what was wrong, in which field, at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: Cow<'static, str>,
    pub field: Cow<'static, str>,
    pub offset: usize,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{} at byte {}", self.message, self.offset)
        } else {
            write!(
                f,
                "{} in field '{}' at byte {}",
                self.message, self.field, self.offset
            )
        }
    }
}

impl std::error::Error for ParseError {}

pub type Result<T> = std::result::Result<T, ParseError>;

#[cold]
#[inline(never)]
pub fn error(message: impl Into<Cow<'static, str>>, field: &str, offset: usize) -> ParseError {
    ParseError {
        message: message.into(),
        field: Cow::Owned(field.to_owned()),
        offset,
    }
}

/// A cursor over one JSON document.
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    #[must_use]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Move to byte `pos` (clamped to the end).
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.buf.len());
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(&b) = self.buf.get(self.pos) {
            if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// The next non-space byte, not consumed.
    #[inline]
    pub fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.buf.get(self.pos).copied()
    }

    #[inline]
    fn expect(&mut self, c: u8, field: &str) -> Result<()> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(c, field))
        }
    }

    #[cold]
    fn unexpected(&mut self, want: u8, field: &str) -> ParseError {
        match self.buf.get(self.pos) {
            None => error(
                format!("truncated input: expected '{}'", want as char),
                field,
                self.pos,
            ),
            Some(&got) => error(
                format!(
                    "expected '{}', found '{}'",
                    want as char,
                    (got as char).escape_default()
                ),
                field,
                self.pos,
            ),
        }
    }

    #[cold]
    fn unexpected_in_object(&mut self) -> ParseError {
        match self.buf.get(self.pos) {
            None => error("truncated input: expected ',' or '}'", "", self.pos),
            Some(&got) => error(
                format!(
                    "expected ',' or '}}', found '{}'",
                    (got as char).escape_default()
                ),
                "",
                self.pos,
            ),
        }
    }

    /// Check that only whitespace is left.
    pub fn end(&mut self) -> Result<()> {
        if self.peek().is_some() {
            return Err(error("trailing data after the JSON value", "", self.pos));
        }
        Ok(())
    }

    /// Enter an object: consumes `{`.
    pub fn begin_object(&mut self, field: &str) -> Result<()> {
        self.expect(b'{', field)
    }

    /// Enter an array: consumes `[`.
    pub fn begin_array(&mut self, field: &str) -> Result<()> {
        self.expect(b'[', field)
    }

    /// The next key of an object (after `begin_object`), or `None` at its end.
    /// `first` is true for the first call on the object.
    #[inline]
    pub fn next_key(&mut self, first: bool) -> Result<Option<Cow<'a, [u8]>>> {
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                return Ok(None);
            }
            Some(b',') if !first => self.pos += 1,
            _ if first => {}
            _ => return Err(self.unexpected_in_object()),
        }
        // Binance's keys are mostly one letter: `"e":` takes four bytes and no scan.
        if let Some(&[b'"', k, b'"', b':']) = self.buf.get(self.pos..self.pos + 4) {
            if k != b'\\' && k != b'"' && (0x20..0x80).contains(&k) {
                let key = &self.buf[self.pos + 1..self.pos + 2];
                self.pos += 4;
                return Ok(Some(Cow::Borrowed(key)));
            }
        }
        let key = self.string_bytes("<key>")?;
        self.expect(b':', "<key>")?;
        Ok(Some(key))
    }

    /// Whether the array has another element (after `begin_array`); consumes `,` / `]`.
    #[inline]
    pub fn next_element(&mut self, first: bool, field: &str) -> Result<bool> {
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b',') if !first => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) if first => Ok(true),
            _ => Err(self.unexpected(b',', field)),
        }
    }

    /// A string's content; borrowed unless it has escapes. Validated as UTF-8.
    #[inline]
    pub fn string_bytes(&mut self, field: &str) -> Result<Cow<'a, [u8]>> {
        self.expect(b'"', field)?;
        let start = self.pos;
        let rest = &self.buf[start..];
        // Fast path: find the closing quote with no backslash and no control byte before it.
        for (i, &b) in rest.iter().enumerate() {
            match b {
                b'"' => {
                    self.pos = start + i + 1;
                    let s = &rest[..i];
                    if !s.is_ascii() && std::str::from_utf8(s).is_err() {
                        return Err(error("invalid UTF-8 in string", field, start));
                    }
                    return Ok(Cow::Borrowed(s));
                }
                b'\\' => return self.string_escaped(start, field).map(Cow::Owned),
                0..=0x1f => return Err(error("control character in string", field, start + i)),
                _ => {}
            }
        }
        Err(error("truncated input: unterminated string", field, start))
    }

    #[cold]
    fn string_escaped(&mut self, start: usize, field: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut i = start;
        loop {
            let Some(&b) = self.buf.get(i) else {
                return Err(error("truncated input: unterminated string", field, start));
            };
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.buf.get(i + 1) else {
                        return Err(error("truncated escape", field, i));
                    };
                    i += 2;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let hi = self.hex4(i, field)?;
                            i += 4;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if self.buf.get(i..i + 2) != Some(b"\\u") {
                                    return Err(error("lone surrogate in \\u escape", field, i));
                                }
                                let lo = self.hex4(i + 2, field)?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(error("bad surrogate pair", field, i));
                                }
                                i += 6;
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            let ch = char::from_u32(c)
                                .ok_or_else(|| error("invalid \\u escape", field, i))?;
                            let mut tmp = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        }
                        _ => return Err(error("invalid escape", field, i - 1)),
                    }
                }
                0..=0x1f => return Err(error("control character in string", field, i)),
                _ => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        if std::str::from_utf8(&out).is_err() {
            return Err(error("invalid UTF-8 in string", field, start));
        }
        self.pos = i + 1;
        Ok(out)
    }

    fn hex4(&self, at: usize, field: &str) -> Result<u32> {
        let h = self
            .buf
            .get(at..at + 4)
            .ok_or_else(|| error("truncated \\u escape", field, at))?;
        let mut v = 0u32;
        for &c in h {
            let d = (c as char)
                .to_digit(16)
                .ok_or_else(|| error("invalid \\u escape", field, at))?;
            v = v * 16 + d;
        }
        Ok(v)
    }

    /// A string, as `String`.
    pub fn string(&mut self, field: &str) -> Result<String> {
        let b = self.string_bytes(field)?;
        // string_bytes validated UTF-8.
        String::from_utf8(b.into_owned()).map_err(|_| error("invalid UTF-8", field, self.pos))
    }

    /// A string holding a plain decimal, parsed exactly.
    #[inline]
    pub fn decimal(&mut self, field: &str) -> Result<Dec> {
        if self.peek() == Some(b'"') {
            if let Some((v, end)) = Dec::parse_quoted_prefix(&self.buf[self.pos + 1..]) {
                self.pos += 1 + end + 1;
                return Ok(v);
            }
        }
        let at = self.pos;
        let s = self.string_bytes(field)?;
        Dec::parse(&s).map_err(|e| dec_error(e, field, at))
    }

    /// A string holding a plain decimal, kept with its written digits.
    #[inline]
    pub fn num(&mut self, field: &str) -> Result<Num> {
        let at = self.pos;
        let s = self.string_bytes(field)?;
        Num::parse(&s).map_err(|e| dec_error(e, field, at))
    }

    /// A JSON integer (no fraction, no exponent) that fits in `i64`.
    #[inline]
    pub fn int(&mut self, field: &str) -> Result<i64> {
        self.ws();
        let start = self.pos;
        let neg = self.buf.get(self.pos) == Some(&b'-');
        if neg {
            self.pos += 1;
        }
        let mut v: i64 = 0;
        let digits_start = self.pos;
        while let Some(&b) = self.buf.get(self.pos) {
            if !b.is_ascii_digit() {
                break;
            }
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_sub(i64::from(b - b'0')))
                .ok_or_else(|| error("integer out of range", field, start))?;
            self.pos += 1;
        }
        if self.pos == digits_start {
            return Err(match self.buf.get(self.pos) {
                None => error("truncated input: expected an integer", field, start),
                Some(_) => error("expected an integer", field, start),
            });
        }
        if matches!(self.buf.get(self.pos), Some(b'.' | b'e' | b'E')) {
            return Err(error("expected an integer, found a fraction", field, start));
        }
        if neg {
            Ok(v)
        } else {
            v.checked_neg()
                .ok_or_else(|| error("integer out of range", field, start))
        }
    }

    /// `true` or `false`.
    pub fn boolean(&mut self, field: &str) -> Result<bool> {
        self.ws();
        let rest = &self.buf[self.pos..];
        if rest.starts_with(b"true") {
            self.pos += 4;
            Ok(true)
        } else if rest.starts_with(b"false") {
            self.pos += 5;
            Ok(false)
        } else {
            Err(error("expected true or false", field, self.pos))
        }
    }

    /// Whether the next value is `null` (consumed if so).
    pub fn null(&mut self) -> bool {
        self.ws();
        if self.buf[self.pos..].starts_with(b"null") {
            self.pos += 4;
            true
        } else {
            false
        }
    }

    /// Skip one value of any type, validating its structure; returns its byte span.
    pub fn skip_value(&mut self, field: &str) -> Result<(usize, usize)> {
        self.ws();
        let start = self.pos;
        // Expected closers of the open containers; bounded by MAX_DEPTH.
        let mut stack: [u8; MAX_DEPTH] = [0; MAX_DEPTH];
        let mut depth = 0usize;
        loop {
            // One scalar or container opener.
            match self.peek() {
                None => return Err(error("truncated input: expected a value", field, self.pos)),
                Some(b'{') => {
                    if depth == MAX_DEPTH {
                        return Err(error("nesting too deep", field, self.pos));
                    }
                    self.pos += 1;
                    stack[depth] = b'}';
                    depth += 1;
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        depth -= 1;
                    } else {
                        self.string_bytes(field)?;
                        self.expect(b':', field)?;
                        continue;
                    }
                }
                Some(b'[') => {
                    if depth == MAX_DEPTH {
                        return Err(error("nesting too deep", field, self.pos));
                    }
                    self.pos += 1;
                    stack[depth] = b']';
                    depth += 1;
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        depth -= 1;
                    } else {
                        continue;
                    }
                }
                Some(b'"') => {
                    self.string_bytes(field)?;
                }
                Some(b't' | b'f') => {
                    self.boolean(field)?;
                }
                Some(b'n') => {
                    if !self.null() {
                        return Err(error("invalid literal", field, self.pos));
                    }
                }
                Some(b'-' | b'0'..=b'9') => self.skip_number(field)?,
                Some(_) => return Err(error("unexpected character", field, self.pos)),
            }
            // After a value: close containers or move to the next element.
            loop {
                if depth == 0 {
                    return Ok((start, self.pos));
                }
                let closer = stack[depth - 1];
                match self.peek() {
                    Some(c) if c == closer => {
                        self.pos += 1;
                        depth -= 1;
                    }
                    Some(b',') => {
                        self.pos += 1;
                        if closer == b'}' {
                            self.string_bytes(field)?;
                            self.expect(b':', field)?;
                        }
                        break;
                    }
                    _ => return Err(self.unexpected(closer, field)),
                }
            }
        }
    }

    fn skip_number(&mut self, field: &str) -> Result<()> {
        let start = self.pos;
        if self.buf.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let digits = |c: &mut Self| {
            let s = c.pos;
            while c.buf.get(c.pos).is_some_and(u8::is_ascii_digit) {
                c.pos += 1;
            }
            c.pos > s
        };
        if !digits(self) {
            return Err(error("invalid number", field, start));
        }
        if self.buf.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(error("invalid number", field, start));
            }
        }
        if matches!(self.buf.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.buf.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(error("invalid number", field, start));
            }
        }
        Ok(())
    }

    /// A `[[price, qty], ...]` array, each level parsed exactly and appended to `out`.
    ///
    /// Compact arrays of plain unsigned decimals (what Binance sends) take a tight loop; anything
    /// else (spaces, escapes, bad data) is re-read from the start by the general path, which
    /// accepts it or says what is wrong.
    #[inline]
    pub fn levels_into(&mut self, field: &str, out: &mut Vec<(Dec, Dec)>) -> Result<()> {
        self.ws();
        let mark = out.len();
        if let Some(end) = levels_fast(self.buf, self.pos, out) {
            self.pos = end;
            return Ok(());
        }
        out.truncate(mark);
        self.levels(field, |p, q| out.push((p, q)))
    }

    /// A `[[price, qty], ...]` array, each level parsed exactly and handed to `f`.
    pub fn levels(&mut self, field: &str, mut f: impl FnMut(Dec, Dec)) -> Result<()> {
        self.begin_array(field)?;
        let mut first = true;
        while self.next_element(first, field)? {
            first = false;
            self.begin_array(field)?;
            let p = self.decimal(field)?;
            self.expect(b',', field)?;
            let q = self.decimal(field)?;
            if q.is_negative() || p.is_negative() {
                return Err(error("negative price or quantity", field, self.pos));
            }
            // Binance levels are [price, qty]; tolerate extra trailing fields (older APIs had [] there).
            if self.peek() == Some(b',') {
                self.pos += 1;
                let _ = self.skip_value(field)?;
                while self.peek() == Some(b',') {
                    self.pos += 1;
                    let _ = self.skip_value(field)?;
                }
            }
            self.expect(b']', field)?;
            f(p, q);
        }
        Ok(())
    }

    /// A `[[price, qty], ...]` array, kept as written.
    pub fn num_levels(&mut self, field: &str) -> Result<Vec<(Num, Num)>> {
        self.begin_array(field)?;
        let mut out = Vec::new();
        let mut first = true;
        while self.next_element(first, field)? {
            first = false;
            self.begin_array(field)?;
            let p = self.num(field)?;
            self.expect(b',', field)?;
            let q = self.num(field)?;
            if q.value.is_negative() || p.value.is_negative() {
                return Err(error("negative price or quantity", field, self.pos));
            }
            while self.peek() == Some(b',') {
                self.pos += 1;
                let _ = self.skip_value(field)?;
            }
            self.expect(b']', field)?;
            out.push((p, q));
        }
        Ok(out)
    }
}

/// The compact-form fast path of [`Cursor::levels_into`]: `[["1.5","2"],...]` with no spaces.
/// Returns the offset past the closing `]`, or `None` to defer to the general path.
#[inline]
fn levels_fast(buf: &[u8], mut i: usize, out: &mut Vec<(Dec, Dec)>) -> Option<usize> {
    #[inline]
    fn eat(buf: &[u8], i: &mut usize, c: u8) -> Option<()> {
        if buf.get(*i) == Some(&c) {
            *i += 1;
            Some(())
        } else {
            None
        }
    }
    #[inline]
    fn number(buf: &[u8], i: &mut usize) -> Option<Dec> {
        eat(buf, i, b'"')?;
        let (v, len) = Dec::parse_quoted_prefix(buf.get(*i..)?)?;
        *i += len + 1;
        Some(v)
    }
    eat(buf, &mut i, b'[')?;
    if eat(buf, &mut i, b']').is_some() {
        return Some(i);
    }
    loop {
        eat(buf, &mut i, b'[')?;
        let p = number(buf, &mut i)?;
        eat(buf, &mut i, b',')?;
        let q = number(buf, &mut i)?;
        eat(buf, &mut i, b']')?;
        out.push((p, q));
        match buf.get(i) {
            Some(b',') => i += 1,
            Some(b']') => return Some(i + 1),
            _ => return None,
        }
    }
}

#[cold]
fn dec_error(e: DecError, field: &str, at: usize) -> ParseError {
    error(format!("bad decimal: {e}"), field, at)
}

/// Field names as `&'static str` for error messages.
#[must_use]
pub fn field_name(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_nested_values_and_reports_truncation() {
        let mut c = Cursor::new(br#"{"a":[1,{"b":"x\"y"},[],{}],"c":-1.5e3} "#);
        let (s, e) = c.skip_value("").unwrap();
        assert_eq!((s, e), (0, 39));
        c.end().unwrap();
        for bad in [
            &b"{"[..],
            b"[1,",
            b"{\"a\"",
            b"{\"a\":}",
            b"[1 2]",
            b"\"abc",
            b"tru",
            b"-",
        ] {
            assert!(Cursor::new(bad).skip_value("").is_err(), "{bad:?}");
        }
        let deep = "[".repeat(100_000);
        assert!(Cursor::new(deep.as_bytes()).skip_value("").is_err());
    }

    #[test]
    fn strings_unescape() {
        let mut c = Cursor::new(br#""a\u00e9\ud83d\ude00\n""#);
        assert_eq!(c.string("").unwrap(), "a\u{e9}\u{1F600}\n");
        assert!(Cursor::new(br#""\ud83d""#).string("").is_err());
        assert!(Cursor::new(b"\"\xff\"").string("").is_err());
    }

    #[test]
    fn ints_are_checked() {
        assert_eq!(Cursor::new(b"-42").int("x").unwrap(), -42);
        assert_eq!(
            Cursor::new(b"9223372036854775807").int("x").unwrap(),
            i64::MAX
        );
        assert!(Cursor::new(b"9223372036854775808").int("x").is_err());
        assert!(Cursor::new(b"1.5").int("x").is_err());
        assert!(Cursor::new(b"\"1\"").int("x").is_err());
    }
}
