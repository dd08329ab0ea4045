//! A walk over a GGUF header that checks every length, count and dimension against the bytes
//! that are really there, before candle's reader allocates anything.
//!
//! candle's reader trusts some fields: `general.alignment = 0` divides by zero, and dimensions
//! whose product overflows wrap around (or, on wasm32, are cut to 32 bits). Any of those would be
//! a trap that kills the worker without a word. This walk reads nothing into memory: it only
//! moves a cursor. Where it finds a problem it names the field and the numbers.

use std::collections::HashSet;

use crate::error::{Error, Result};

/// ggml's limit on a tensor's dimensions.
const MAX_DIMS: u32 = 4;
/// Arrays inside arrays are legal GGUF; nothing real nests deeper than this.
const MAX_ARRAY_DEPTH: usize = 2;

/// Checks the header of `bytes`; Ok means candle's reader can parse it without trusting a field.
pub fn check_header(bytes: &[u8]) -> Result<()> {
    let mut r = Reader { bytes, at: 0, wide: true };
    if r.take(4, "the magic")? != b"GGUF" {
        return Err(bad("missing the 'GGUF' magic at the start".into()));
    }
    let version = r.u32("the version")?;
    if !(1..=3).contains(&version) {
        return Err(bad(format!("GGUF version {version} is not supported (1, 2 or 3)")));
    }
    r.wide = version >= 2; // version 1 wrote lengths and counts as u32
    let tensors = r.length("the tensor count")?;
    let entries = r.length("the metadata count")?;
    // every entry takes at least a length, one byte of key, a type and a byte of value; every
    // tensor a length, one byte of name, a dimension count, one dimension, a type and an offset
    r.fits(entries, r.len_size() + 1 + 4 + 1, "metadata entries")?;
    r.fits(tensors, r.len_size() + 1 + 4 + r.len_size() + 4 + 8, "tensors")?;

    let mut keys = HashSet::new();
    for _ in 0..entries {
        let key = r.string("a metadata key")?;
        if !keys.insert(key) {
            return Err(bad(format!("metadata key '{key}' appears twice")));
        }
        let kind = r.u32("a metadata type")?;
        if key == "general.alignment" {
            let alignment = match kind {
                0 => r.take(1, key)?[0] as u64,
                2 => u16::from_le_bytes(r.take(2, key)?.try_into().expect("2 bytes")) as u64,
                4 => r.u32(key)? as u64,
                _ => return Err(meta(key, format!("expected an unsigned integer, found type {kind}"))),
            };
            if alignment == 0 || !alignment.is_power_of_two() {
                return Err(meta(key, format!("{alignment} is not a power of two")));
            }
            continue;
        }
        r.skip_value(kind, key, 0)?;
    }

    let mut names = HashSet::new();
    for _ in 0..tensors {
        let name = r.string("a tensor name")?;
        if !names.insert(name) {
            return Err(bad(format!("tensor '{name}' appears twice")));
        }
        let dims = r.u32(name)?;
        if dims == 0 || dims > MAX_DIMS {
            return Err(bad(format!("tensor '{name}' has {dims} dimensions (1 to {MAX_DIMS})")));
        }
        let mut elements: u64 = 1;
        for _ in 0..dims {
            let dim = r.length(name)?;
            elements = elements
                .checked_mul(dim)
                .filter(|&n| usize::try_from(n).is_ok())
                .ok_or_else(|| bad(format!("tensor '{name}': its dimensions multiply past what memory can hold")))?;
        }
        r.u32(name)?; // ggml type: candle names an unknown one
        r.u64(name)?; // offset: gguf.rs checks it against the file once the types' sizes are known
    }
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    wide: bool,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> u64 {
        (self.bytes.len() - self.at) as u64
    }

    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(bad(format!(
                "truncated: {what} needs {n} bytes at offset {} but the file has {} left",
                self.at,
                self.remaining()
            )));
        }
        let start = self.at;
        self.at += n as usize;
        Ok(&self.bytes[start..self.at])
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().expect("8 bytes")))
    }

    fn len_size(&self) -> u64 {
        if self.wide {
            8
        } else {
            4
        }
    }

    fn length(&mut self, what: &str) -> Result<u64> {
        if self.wide {
            self.u64(what)
        } else {
            self.u32(what).map(u64::from)
        }
    }

    /// `count` items of at least `each` bytes must fit in what is left.
    fn fits(&self, count: u64, each: u64, what: &str) -> Result<()> {
        match count.checked_mul(each) {
            Some(n) if n <= self.remaining() => Ok(()),
            _ => Err(bad(format!(
                "the header declares {count} {what}, more than the {} bytes left could hold",
                self.remaining()
            ))),
        }
    }

    fn string(&mut self, what: &str) -> Result<&'a str> {
        let len = self.length(what)?;
        let raw = self.take(len, what)?;
        std::str::from_utf8(raw).map_err(|_| bad(format!("{what} at offset {} is not UTF-8", self.at - raw.len())))
    }

    /// Moves past one metadata value of GGUF type `kind`.
    fn skip_value(&mut self, kind: u32, key: &str, depth: usize) -> Result<()> {
        let fixed = match kind {
            0 | 1 | 7 => 1,
            2 | 3 => 2,
            4..=6 => 4,
            10..=12 => 8,
            8 => return self.string(key).map(drop),
            9 => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(meta(key, "arrays nested too deep".into()));
                }
                let item = self.u32(key)?;
                let count = self.length(key)?;
                let each = match item {
                    0 | 1 | 7 => 1,
                    2 | 3 => 2,
                    4..=6 => 4,
                    10..=12 => 8,
                    8 => self.len_size(),
                    9 => 4 + self.len_size(),
                    other => return Err(meta(key, format!("unknown array item type {other}"))),
                };
                self.fits(count, each, &format!("items in '{key}'"))?;
                if item == 8 || item == 9 {
                    for _ in 0..count {
                        self.skip_value(item, key, depth + 1)?;
                    }
                } else {
                    self.take(count * each, key)?;
                }
                return Ok(());
            }
            other => return Err(meta(key, format!("unknown value type {other}"))),
        };
        self.take(fixed, key).map(drop)
    }
}

fn bad(message: String) -> Error {
    Error::BadGguf(message)
}

fn meta(key: &str, problem: String) -> Error {
    Error::Metadata { key: key.to_string(), problem }
}
