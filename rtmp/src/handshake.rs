//! The RTMP handshake, server side: C0+C1 in, S0+S1+S2 out, C2 in.
//!
//! The plain (version 3) handshake: S2 echoes C1 byte for byte and C2 is
//! read and not checked, which is what ffmpeg, OBS (librtmp) and
//! GStreamer's rtmp2 accept. Encrypted RTMPE is refused by name.

/// C1, S1, C2 and S2 are this long.
pub const PACKET: usize = 1536;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("the client asked for encrypted RTMP (RTMPE, version {0}); use plain rtmp://")]
    Encrypted(u8),
    #[error("not an RTMP client: the first byte is {}, RTMP's is 0x03", describe_byte(*.0))]
    NotRtmp(u8),
}

/// `0x47 ('G')`: a byte, and the character when it is one (an HTTP
/// client hitting the RTMP port shows up as 'G' or 'P').
fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("0x{b:02x} ({:?})", b as char)
    } else {
        format!("0x{b:02x}")
    }
}

/// Where the handshake stands, and what is left over once it is done.
#[derive(Debug)]
pub enum Progress {
    /// More bytes are needed.
    Waiting,
    /// Done: these bytes followed C2 and belong to the chunk stream.
    Done(Vec<u8>),
}

pub struct Handshake {
    received: Vec<u8>,
    answered: bool,
    started: std::time::Instant,
}

impl Default for Handshake {
    fn default() -> Self {
        Self::new()
    }
}

impl Handshake {
    pub fn new() -> Self {
        Self { received: Vec::new(), answered: false, started: std::time::Instant::now() }
    }

    /// Takes received bytes; writes S0+S1+S2 to `out` once C0+C1 are in.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Result<Progress, HandshakeError> {
        // Never hold more than the handshake itself: the rest is chunks.
        self.received.extend_from_slice(bytes);
        if let Some(&version) = self.received.first() {
            match version {
                3 => {}
                6 | 8 | 9 => return Err(HandshakeError::Encrypted(version)),
                other => return Err(HandshakeError::NotRtmp(other)),
            }
        }
        if !self.answered && self.received.len() > PACKET {
            let c1 = &self.received[1..1 + PACKET];
            out.push(3);
            // S1: our time, four zero bytes (the plain handshake), random.
            let time = self.started.elapsed().as_millis() as u32;
            out.extend_from_slice(&time.to_be_bytes());
            out.extend_from_slice(&[0; 4]);
            let mut random = vec![0u8; PACKET - 8];
            rand::Rng::fill(&mut rand::thread_rng(), &mut random[..]);
            out.extend_from_slice(&random);
            // S2: C1 echoed.
            out.extend_from_slice(c1);
            self.answered = true;
        }
        if self.answered && self.received.len() > 2 * PACKET {
            return Ok(Progress::Done(self.received.split_off(1 + 2 * PACKET)));
        }
        Ok(Progress::Waiting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_c1_and_hands_on_what_follows_c2() {
        let mut hs = Handshake::new();
        let mut out = Vec::new();
        let c1: Vec<u8> = (0..PACKET).map(|i| i as u8).collect();
        assert!(matches!(hs.feed(&[3], &mut out), Ok(Progress::Waiting)));
        assert!(matches!(hs.feed(&c1[..100], &mut out), Ok(Progress::Waiting)));
        assert!(out.is_empty());
        assert!(matches!(hs.feed(&c1[100..], &mut out), Ok(Progress::Waiting)));
        assert_eq!(out.len(), 1 + 2 * PACKET);
        assert_eq!(out[0], 3);
        assert_eq!(&out[1 + PACKET..], &c1[..]);
        let mut c2_and_more = vec![0u8; PACKET];
        c2_and_more.extend_from_slice(b"chunks");
        match hs.feed(&c2_and_more, &mut out).unwrap() {
            Progress::Done(rest) => assert_eq!(rest, b"chunks"),
            Progress::Waiting => panic!("C2 was complete"),
        }
    }

    #[test]
    fn refuses_http_and_rtmpe() {
        let mut out = Vec::new();
        let err = Handshake::new().feed(b"GET / HTTP/1.1\r\n", &mut out).unwrap_err();
        assert_eq!(err, HandshakeError::NotRtmp(b'G'));
        assert!(err.to_string().contains("'G'"), "{err}");
        assert_eq!(
            Handshake::new().feed(&[6], &mut out).unwrap_err(),
            HandshakeError::Encrypted(6)
        );
    }
}
