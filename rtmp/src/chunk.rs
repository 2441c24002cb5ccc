//! The RTMP chunk stream: messages cut into chunks of at most the sender's
//! chunk size, interleaved across chunk stream ids, with headers that
//! compress against the previous header of the same chunk stream.
//!
//! [`ChunkReader`] keeps a partial message per chunk stream (publishers may
//! interleave audio and video chunks) and bounds what it holds: messages up
//! to the format's 16 MiB, at most [`MAX_CHUNK_STREAMS`] streams, and
//! [`MAX_PENDING_BYTES`] of partial messages in all.

use std::collections::HashMap;

/// The chunk size both sides start with.
pub const DEFAULT_CHUNK_SIZE: usize = 128;
/// The largest chunk size a peer may announce (the spec's 31 bits).
pub const MAX_CHUNK_SIZE: usize = 0x7fff_ffff;
/// Chunk streams a peer may keep open at once. Publishers use a handful.
pub const MAX_CHUNK_STREAMS: usize = 64;
/// Bytes of partial messages held across all chunk streams.
pub const MAX_PENDING_BYTES: usize = 32 << 20;

/// One whole RTMP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub chunk_stream: u32,
    /// Milliseconds, as the sender counts them (wrapping at 2^32).
    pub timestamp: u32,
    pub type_id: u8,
    pub stream_id: u32,
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("chunk stream {0} continues a message it never started (header type {1} first)")]
    NoPreviousHeader(u32, u8),
    #[error("the peer uses more than {MAX_CHUNK_STREAMS} chunk streams at once")]
    TooManyStreams,
    #[error("the peer holds more than {MAX_PENDING_BYTES} bytes of unfinished messages")]
    TooMuchPending,
    #[error("chunk size {0} is out of range (1 to {MAX_CHUNK_SIZE})")]
    BadChunkSize(u32),
}

#[derive(Clone, Copy, Default)]
struct Header {
    timestamp: u32,
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// The header's timestamp field was 0xFFFFFF: continuation chunks carry
    /// the 4-byte extended timestamp too.
    extended: bool,
}

#[derive(Default)]
struct ChunkStream {
    header: Header,
    partial: Vec<u8>,
    /// A message is under way on this stream.
    open: bool,
}

/// Turns received bytes into messages.
pub struct ChunkReader {
    chunk_size: usize,
    buf: Vec<u8>,
    pos: usize,
    streams: HashMap<u32, ChunkStream>,
    pending: usize,
}

impl Default for ChunkReader {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkReader {
    pub fn new() -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE,
            buf: Vec::new(),
            pos: 0,
            streams: HashMap::new(),
            pending: 0,
        }
    }

    /// Applies the peer's Set Chunk Size.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ChunkError> {
        if size == 0 || size as usize > MAX_CHUNK_SIZE {
            return Err(ChunkError::BadChunkSize(size));
        }
        self.chunk_size = size as usize;
        Ok(())
    }

    /// Drops the partial message of a chunk stream (the peer's Abort).
    pub fn abort(&mut self, chunk_stream: u32) {
        if let Some(s) = self.streams.get_mut(&chunk_stream) {
            self.pending -= s.partial.len();
            s.partial = Vec::new();
            s.open = false;
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet parsed into chunks.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete message, if the bytes so far hold one. Call until
    /// `Ok(None)`; a Set Chunk Size must be applied before the next call.
    pub fn next_message(&mut self) -> Result<Option<Message>, ChunkError> {
        loop {
            let Some((consumed, message)) = self.parse_chunk()? else {
                self.compact();
                return Ok(None);
            };
            self.pos += consumed;
            if let Some(m) = message {
                return Ok(Some(m));
            }
        }
    }

    fn compact(&mut self) {
        if self.pos > 64 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    /// Parses one chunk if all of it is buffered: the bytes it took and
    /// the message it completed, if any.
    fn parse_chunk(&mut self) -> Result<Option<(usize, Option<Message>)>, ChunkError> {
        let b = &self.buf[self.pos..];
        let Some(&first) = b.first() else { return Ok(None) };
        let fmt = first >> 6;
        let (csid, mut at) = match first & 0x3f {
            0 => match b.get(1) {
                Some(&x) => (64 + u32::from(x), 2),
                None => return Ok(None),
            },
            1 => match (b.get(1), b.get(2)) {
                (Some(&x), Some(&y)) => (64 + u32::from(x) + 256 * u32::from(y), 3),
                _ => return Ok(None),
            },
            n => (u32::from(n), 1),
        };
        let header_len = [11, 7, 3, 0][fmt as usize];
        if b.len() < at + header_len {
            return Ok(None);
        }
        let h = &b[at..at + header_len];
        at += header_len;
        let u24 = |x: &[u8]| u32::from_be_bytes([0, x[0], x[1], x[2]]);

        if !self.streams.contains_key(&csid) {
            if fmt != 0 {
                return Err(ChunkError::NoPreviousHeader(csid, fmt));
            }
            if self.streams.len() >= MAX_CHUNK_STREAMS {
                return Err(ChunkError::TooManyStreams);
            }
        }
        let stream = self.streams.get(&csid);
        let prev = stream.map(|s| s.header).unwrap_or_default();
        let continuing = stream.is_some_and(|s| s.open);

        let mut header = prev;
        let ts_field = match fmt {
            0..=2 => u24(&h[0..3]),
            _ => {
                if prev.extended {
                    0xff_ffff
                } else {
                    0
                }
            }
        };
        if fmt <= 1 {
            header.length = u24(&h[3..6]);
            header.type_id = h[6];
        }
        if fmt == 0 {
            header.stream_id = u32::from_le_bytes([h[7], h[8], h[9], h[10]]);
        }
        let extended = ts_field == 0xff_ffff;
        let ts_value = if extended {
            let Some(x) = b.get(at..at + 4) else { return Ok(None) };
            at += 4;
            u32::from_be_bytes([x[0], x[1], x[2], x[3]])
        } else {
            ts_field
        };
        if fmt != 3 {
            header.extended = extended;
        }
        // A type 3 chunk that continues a message changes nothing; one that
        // starts a message repeats the previous delta.
        match fmt {
            0 => {
                header.timestamp = ts_value;
                header.delta = 0;
            }
            1 | 2 => {
                header.delta = ts_value;
                header.timestamp = prev.timestamp.wrapping_add(ts_value);
            }
            _ if !continuing => header.timestamp = prev.timestamp.wrapping_add(prev.delta),
            _ => {}
        }
        if fmt != 3 && continuing {
            // A new header in the middle of a message: the sender gave up
            // on the old one. Start over.
            self.pending -= self.streams.get(&csid).map_or(0, |s| s.partial.len());
            if let Some(s) = self.streams.get_mut(&csid) {
                s.partial.clear();
                s.open = false;
            }
        }
        let have = if fmt == 3 && continuing {
            self.streams.get(&csid).map_or(0, |s| s.partial.len())
        } else {
            0
        };
        let length = header.length as usize;
        let take = (length - have.min(length)).min(self.chunk_size);
        if b.len() < at + take {
            return Ok(None);
        }
        if self.pending + take > MAX_PENDING_BYTES {
            return Err(ChunkError::TooMuchPending);
        }
        let data = &b[at..at + take];
        let stream = self.streams.entry(csid).or_default();
        stream.header = header;
        stream.partial.extend_from_slice(data);
        stream.open = true;
        self.pending += take;
        let mut message = None;
        if stream.partial.len() >= length {
            self.pending -= stream.partial.len();
            stream.open = false;
            message = Some(Message {
                chunk_stream: csid,
                timestamp: header.timestamp,
                type_id: header.type_id,
                stream_id: header.stream_id,
                payload: std::mem::take(&mut stream.partial),
            });
        }
        Ok(Some((at + take, message)))
    }
}

/// Cuts messages into chunks. Every message starts with a full (type 0)
/// header: simple, and what it costs is a few bytes per message sent by
/// the server, which sends few.
pub struct ChunkWriter {
    chunk_size: usize,
}

impl Default for ChunkWriter {
    fn default() -> Self {
        Self { chunk_size: DEFAULT_CHUNK_SIZE }
    }
}

impl ChunkWriter {
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// Takes effect for messages written after the Set Chunk Size message
    /// that announces it.
    pub fn set_chunk_size(&mut self, size: usize) {
        self.chunk_size = size.clamp(1, MAX_CHUNK_SIZE);
    }

    pub fn write(&self, m: &Message, out: &mut Vec<u8>) {
        let basic = |fmt: u8, out: &mut Vec<u8>| match m.chunk_stream {
            id @ 2..=63 => out.push(fmt << 6 | id as u8),
            id @ 64..=319 => out.extend_from_slice(&[fmt << 6, (id - 64) as u8]),
            id => {
                let id = id.clamp(64, 65599) - 64;
                out.extend_from_slice(&[fmt << 6 | 1, (id % 256) as u8, (id / 256) as u8]);
            }
        };
        let extended = m.timestamp >= 0xff_ffff;
        basic(0, out);
        let ts = m.timestamp.min(0xff_ffff).to_be_bytes();
        out.extend_from_slice(&ts[1..]);
        out.extend_from_slice(&(m.payload.len() as u32).to_be_bytes()[1..]);
        out.push(m.type_id);
        out.extend_from_slice(&m.stream_id.to_le_bytes());
        if extended {
            out.extend_from_slice(&m.timestamp.to_be_bytes());
        }
        for (i, chunk) in m.payload.chunks(self.chunk_size).enumerate() {
            if i > 0 {
                basic(3, out);
                if extended {
                    out.extend_from_slice(&m.timestamp.to_be_bytes());
                }
            }
            out.extend_from_slice(chunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(csid: u32, ts: u32, type_id: u8, len: usize, fill: u8) -> Message {
        Message {
            chunk_stream: csid,
            timestamp: ts,
            type_id,
            stream_id: 1,
            payload: vec![fill; len],
        }
    }

    fn read_all(reader: &mut ChunkReader) -> Vec<Message> {
        let mut out = Vec::new();
        while let Some(m) = reader.next_message().unwrap() {
            out.push(m);
        }
        out
    }

    #[test]
    fn round_trips_messages_longer_than_a_chunk_fed_byte_by_byte() {
        let writer = ChunkWriter::default();
        let sent = vec![message(6, 40, 9, 1000, 7), message(4, 0xff_ffff + 5, 8, 300, 3)];
        let mut bytes = Vec::new();
        for m in &sent {
            writer.write(m, &mut bytes);
        }
        let mut reader = ChunkReader::new();
        let mut got = Vec::new();
        for b in &bytes {
            reader.push(std::slice::from_ref(b));
            got.extend(read_all(&mut reader));
        }
        assert_eq!(got, sent);
        assert_eq!(reader.buffered(), 0);
    }

    #[test]
    fn interleaved_chunk_streams_keep_their_own_partial_messages() {
        // Video (csid 6, 200 bytes) and audio (csid 4, 10 bytes) chunks
        // interleaved as the spec allows, with compressed headers.
        let mut b = vec![6, 0, 0, 100, 0, 0, 200, 9, 1, 0, 0, 0];
        b.extend_from_slice(&[1u8; 128]);
        b.extend_from_slice(&[4, 0, 0, 100, 0, 0, 10, 8, 1, 0, 0, 0]);
        b.extend_from_slice(&[2u8; 10]);
        b.push(0xc0 | 6);
        b.extend_from_slice(&[1u8; 72]);
        // Audio again with a type 2 header: delta 23 ms, same length/type.
        b.extend_from_slice(&[0x80 | 4, 0, 0, 23]);
        b.extend_from_slice(&[3u8; 10]);
        let mut reader = ChunkReader::new();
        reader.push(&b);
        let got = read_all(&mut reader);
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].chunk_stream, got[0].timestamp, got[0].payload.len()), (4, 100, 10));
        assert_eq!((got[1].chunk_stream, got[1].payload.len()), (6, 200));
        assert!(got[1].payload.iter().all(|&x| x == 1));
        assert_eq!((got[2].chunk_stream, got[2].timestamp), (4, 123));
        assert!(got[2].payload.iter().all(|&x| x == 3));
    }

    #[test]
    fn type_3_header_starting_a_message_repeats_the_delta() {
        let mut b = vec![4, 0, 0, 10, 0, 0, 2, 8, 1, 0, 0, 0, 9, 9];
        b.extend_from_slice(&[0x80 | 4, 0, 0, 20, 9, 9]); // delta 20 -> 30
        b.extend_from_slice(&[0xc0 | 4, 9, 9]); // again +20 -> 50
        let mut reader = ChunkReader::new();
        reader.push(&b);
        let ts: Vec<u32> = read_all(&mut reader).iter().map(|m| m.timestamp).collect();
        assert_eq!(ts, [10, 30, 50]);
    }

    #[test]
    fn hostile_headers_are_errors() {
        let mut reader = ChunkReader::new();
        reader.push(&[0xc0 | 5, 1, 2, 3]);
        assert_eq!(reader.next_message(), Err(ChunkError::NoPreviousHeader(5, 3)));

        let mut reader = ChunkReader::new();
        let mut b = Vec::new();
        for csid in 2..=(MAX_CHUNK_STREAMS as u8 + 2) {
            // Each opens a 200-byte message and sends only one chunk of it.
            if csid < 64 {
                b.push(csid);
            } else {
                b.extend_from_slice(&[0, csid - 64]);
            }
            b.extend_from_slice(&[0, 0, 0, 0, 0, 200, 9, 1, 0, 0, 0]);
            b.extend_from_slice(&[0u8; 128]);
        }
        reader.push(&b);
        assert_eq!(reader.next_message(), Err(ChunkError::TooManyStreams));
        assert_eq!(reader.set_chunk_size(0), Err(ChunkError::BadChunkSize(0)));
    }

    #[test]
    fn pending_bytes_are_bounded() {
        let mut reader = ChunkReader::new();
        reader.set_chunk_size(MAX_CHUNK_SIZE as u32).unwrap();
        let mut b = Vec::new();
        // Three 16 MiB - 1 messages, each started with half its bytes.
        for csid in 3..6u8 {
            b.extend_from_slice(&[csid, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0]);
            b.resize(b.len() + 0xff_ffff, 0);
        }
        reader.push(&b);
        // Whole messages pass through; only unfinished ones count.
        assert_eq!(read_all(&mut reader).len(), 3);
        let mut reader = ChunkReader::new();
        reader.set_chunk_size(12 << 20).unwrap();
        let mut b = Vec::new();
        for csid in 3..6u8 {
            b.extend_from_slice(&[csid, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0]);
            b.resize(b.len() + (12 << 20), 0);
        }
        reader.push(&b);
        assert_eq!(reader.next_message(), Err(ChunkError::TooMuchPending));
    }
}
