//! One pass over a JSON object that records where each top-level value starts, so a message
//! whose type is known only from its fields (Binance's stream events) is read without a tree.

use std::borrow::Cow;

use crate::binance::json::{error, Cursor, Result};
use crate::decimal::Num;

/// The top-level fields of one JSON object: key and the offset of its value.
pub struct Fields<'a> {
    buf: &'a [u8],
    start: usize,
    entries: Vec<(Cow<'a, [u8]>, usize)>,
}

impl<'a> Fields<'a> {
    /// Read the object at `at` in `buf`, checking its whole structure; `end` is set past it.
    pub fn read(buf: &'a [u8], at: usize, end: &mut usize) -> Result<Self> {
        let mut c = Cursor::new(buf);
        c.seek(at);
        c.begin_object("")?;
        let mut entries = Vec::with_capacity(12);
        let mut first = true;
        while let Some(key) = c.next_key(first)? {
            first = false;
            let name = String::from_utf8_lossy(&key).into_owned();
            let (s, _) = c.skip_value(&name)?;
            entries.push((key, s));
        }
        *end = c.pos();
        Ok(Fields {
            buf,
            start: at,
            entries,
        })
    }

    /// A whole document that must be one object.
    pub fn document(buf: &'a [u8]) -> Result<Self> {
        let mut end = 0;
        let f = Fields::read(buf, 0, &mut end)?;
        let mut c = Cursor::new(buf);
        c.seek(end);
        c.end()?;
        Ok(f)
    }

    #[must_use]
    pub fn has(&self, key: &str) -> bool {
        self.entries
            .iter()
            .any(|(k, _)| k.as_ref() == key.as_bytes())
    }

    /// A cursor at the value of `key` (the last one, if repeated).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<Cursor<'a>> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k.as_ref() == key.as_bytes())
            .map(|&(_, pos)| {
                let mut c = Cursor::new(self.buf);
                c.seek(pos);
                c
            })
    }

    fn req(&self, key: &str) -> Result<Cursor<'a>> {
        self.get(key)
            .ok_or_else(|| error("missing field", key, self.start))
    }

    /// A field that may be absent or `null`.
    fn optional<T>(
        &self,
        key: &str,
        read: impl FnOnce(&mut Cursor<'a>) -> Result<T>,
    ) -> Result<Option<T>> {
        let Some(mut c) = self.get(key) else {
            return Ok(None);
        };
        if c.null() {
            return Ok(None);
        }
        read(&mut c).map(Some)
    }

    pub fn int(&self, key: &str) -> Result<i64> {
        self.req(key)?.int(key)
    }

    pub fn uint(&self, key: &str) -> Result<u64> {
        let mut c = self.req(key)?;
        let at = c.pos();
        let v = c.int(key)?;
        u64::try_from(v).map_err(|_| error("negative id", key, at))
    }

    pub fn opt_int(&self, key: &str) -> Result<Option<i64>> {
        self.optional(key, |c| c.int(key))
    }

    pub fn string(&self, key: &str) -> Result<String> {
        self.req(key)?.string(key)
    }

    pub fn opt_string(&self, key: &str) -> Result<Option<String>> {
        self.optional(key, |c| c.string(key))
    }

    pub fn num(&self, key: &str) -> Result<Num> {
        self.req(key)?.num(key)
    }

    pub fn opt_num(&self, key: &str) -> Result<Option<Num>> {
        self.optional(key, |c| c.num(key))
    }

    pub fn boolean(&self, key: &str) -> Result<bool> {
        self.req(key)?.boolean(key)
    }

    pub fn levels(&self, key: &str) -> Result<Vec<(Num, Num)>> {
        self.req(key)?.num_levels(key)
    }

    /// The raw JSON text of a value.
    pub fn raw(&self, key: &str) -> Result<&'a [u8]> {
        let mut c = self.req(key)?;
        let (s, e) = c.skip_value(key)?;
        Ok(&self.buf[s..e])
    }

    /// The nested object at `key`.
    pub fn object(&self, key: &str) -> Result<Fields<'a>> {
        let c = self.req(key)?;
        let mut end = 0;
        Fields::read(self.buf, c.pos(), &mut end)
    }
}
