//! AMF0, the value encoding of RTMP commands and metadata: just enough to
//! read what publishers send (connect, createStream, publish, onMetaData)
//! and to write our answers.
//!
//! Decoding is bounded: nesting deeper than [`MAX_DEPTH`] is an error, and
//! every length is checked against the bytes actually present, so hostile
//! input costs at most the message it came in.

use std::fmt;

/// Deepest nesting of objects and arrays accepted.
pub const MAX_DEPTH: usize = 16;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    Boolean(bool),
    String(String),
    /// Objects, ECMA arrays and typed objects: ordered key/value pairs.
    Object(Vec<(String, Value)>),
    Null,
    Undefined,
    Array(Vec<Value>),
    /// Milliseconds since the Unix epoch.
    Date(f64),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// A property of an object, if this is one and has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn object(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(n) => write!(f, "{n}"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Object(pairs) => {
                f.write_str("{")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Value::Null => f.write_str("null"),
            Value::Undefined => f.write_str("undefined"),
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Date(ms) => write!(f, "date({ms})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Amf0Error {
    #[error("AMF0 value cut short at byte {0}")]
    Truncated(usize),
    #[error("unknown AMF0 type marker 0x{marker:02x} at byte {at}")]
    UnknownMarker { marker: u8, at: usize },
    #[error("AMF0 values nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("AMF0 string at byte {0} is not UTF-8")]
    NotUtf8(usize),
}

/// Decodes every value in `bytes`, in order.
pub fn decode_all(bytes: &[u8]) -> Result<Vec<Value>, Amf0Error> {
    let mut reader = Reader { bytes, pos: 0 };
    let mut values = Vec::new();
    while reader.pos < bytes.len() {
        values.push(reader.value(0)?);
    }
    Ok(values)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Amf0Error> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(Amf0Error::Truncated(self.pos))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, Amf0Error> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, Amf0Error> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, Amf0Error> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f64(&mut self) -> Result<f64, Amf0Error> {
        let b = self.take(8)?;
        Ok(f64::from_be_bytes(b.try_into().expect("8 bytes")))
    }

    fn string_of(&mut self, len: usize) -> Result<String, Amf0Error> {
        let at = self.pos;
        let b = self.take(len)?;
        String::from_utf8(b.to_vec()).map_err(|_| Amf0Error::NotUtf8(at))
    }

    fn short_string(&mut self) -> Result<String, Amf0Error> {
        let len = self.u16()? as usize;
        self.string_of(len)
    }

    /// Key/value pairs up to the empty key and object-end marker.
    fn pairs(&mut self, depth: usize) -> Result<Vec<(String, Value)>, Amf0Error> {
        let mut pairs = Vec::new();
        loop {
            let key = self.short_string()?;
            if key.is_empty() && self.bytes.get(self.pos) == Some(&0x09) {
                self.pos += 1;
                return Ok(pairs);
            }
            let value = self.value(depth + 1)?;
            pairs.push((key, value));
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, Amf0Error> {
        if depth > MAX_DEPTH {
            return Err(Amf0Error::TooDeep);
        }
        let at = self.pos;
        Ok(match self.u8()? {
            0x00 => Value::Number(self.f64()?),
            0x01 => Value::Boolean(self.u8()? != 0),
            0x02 => Value::String(self.short_string()?),
            0x03 => Value::Object(self.pairs(depth)?),
            0x05 => Value::Null,
            0x06 => Value::Undefined,
            0x08 => {
                // ECMA array: a count hint (often wrong), then pairs.
                self.u32()?;
                Value::Object(self.pairs(depth)?)
            }
            0x0a => {
                let count = self.u32()? as usize;
                // Each element is at least one byte: a count past the end is
                // a lie, caught before allocating for it.
                if count > self.bytes.len() - self.pos {
                    return Err(Amf0Error::Truncated(self.pos));
                }
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    items.push(self.value(depth + 1)?);
                }
                Value::Array(items)
            }
            0x0b => {
                let ms = self.f64()?;
                self.u16()?; // time zone, unused by everyone
                Value::Date(ms)
            }
            0x0c => {
                let len = self.u32()? as usize;
                Value::String(self.string_of(len)?)
            }
            0x10 => {
                self.short_string()?; // class name
                Value::Object(self.pairs(depth)?)
            }
            marker => return Err(Amf0Error::UnknownMarker { marker, at }),
        })
    }
}

/// Appends the encoding of `value` to `out`.
pub fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Number(n) => {
            out.push(0x00);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Value::Boolean(b) => out.extend_from_slice(&[0x01, u8::from(*b)]),
        Value::String(s) if s.len() > usize::from(u16::MAX) => {
            out.push(0x0c);
            out.extend_from_slice(&(s.len() as u32).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Value::String(s) => {
            out.push(0x02);
            encode_short_string(s, out);
        }
        Value::Object(pairs) => {
            out.push(0x03);
            for (k, v) in pairs {
                encode_short_string(k, out);
                encode(v, out);
            }
            out.extend_from_slice(&[0, 0, 0x09]);
        }
        Value::Null => out.push(0x05),
        Value::Undefined => out.push(0x06),
        Value::Array(items) => {
            out.push(0x0a);
            out.extend_from_slice(&(items.len() as u32).to_be_bytes());
            for v in items {
                encode(v, out);
            }
        }
        Value::Date(ms) => {
            out.push(0x0b);
            out.extend_from_slice(&ms.to_be_bytes());
            out.extend_from_slice(&[0, 0]);
        }
    }
}

fn encode_short_string(s: &str, out: &mut Vec<u8>) {
    // Keys and short strings are at most 64 KiB by format; ours are short.
    let bytes = &s.as_bytes()[..s.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind() {
        let values = vec![
            Value::String("connect".into()),
            Value::Number(1.0),
            Value::object(&[
                ("app", Value::String("live".into())),
                ("flashVer", Value::String("FMLE/3.0".into())),
                ("videoCodecs", Value::Number(128.0)),
                ("nested", Value::object(&[("ok", Value::Boolean(true))])),
            ]),
            Value::Null,
            Value::Undefined,
            Value::Array(vec![Value::Number(2.0), Value::String("x".into())]),
            Value::Date(1.5e12),
        ];
        let mut bytes = Vec::new();
        for v in &values {
            encode(v, &mut bytes);
        }
        assert_eq!(decode_all(&bytes).unwrap(), values);
    }

    #[test]
    fn reads_ecma_arrays_as_objects() {
        // onMetaData as ffmpeg writes it: an ECMA array with a count hint.
        let mut bytes = vec![0x08, 0, 0, 0, 1];
        encode_short_string("width", &mut bytes);
        encode(&Value::Number(1280.0), &mut bytes);
        bytes.extend_from_slice(&[0, 0, 9]);
        let v = decode_all(&bytes).unwrap();
        assert_eq!(v[0].get("width"), Some(&Value::Number(1280.0)));
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic_or_an_allocation() {
        assert_eq!(decode_all(&[0x02, 0xff, 0xff, b'a']), Err(Amf0Error::Truncated(3)));
        assert!(matches!(
            decode_all(&[0x0a, 0xff, 0xff, 0xff, 0xff]),
            Err(Amf0Error::Truncated(_))
        ));
        assert!(matches!(decode_all(&[0x42]), Err(Amf0Error::UnknownMarker { marker: 0x42, .. })));
        let deep: Vec<u8> = std::iter::repeat_n([0x03, 0x00, 0x01, b'k'], 100).flatten().collect();
        assert_eq!(decode_all(&deep), Err(Amf0Error::TooDeep));
        assert!(decode_all(&[0x00, 1, 2]).is_err());
    }
}
