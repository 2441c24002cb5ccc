//! AAC as FLV carries it (an AudioSpecificConfig, then raw frames) into
//! what MPEG-TS carries (ADTS: a 7-byte header on every frame).

use super::bits::BitReader;

const SAMPLE_RATES: [u32; 13] =
    [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AacError {
    #[error("the AAC AudioSpecificConfig is malformed ({0} bytes)")]
    BadConfig(usize),
    #[error("AAC object type {0} cannot be carried in ADTS; send AAC-LC or HE-AAC")]
    ObjectType(u8),
    #[error("AAC with an explicit sample rate or channel layout (PCE) cannot be carried in ADTS")]
    Explicit,
    #[error("an AAC frame of {0} bytes is too large for ADTS")]
    FrameTooLarge(usize),
}

/// The parts of an AudioSpecificConfig ADTS needs, for the AAC core (for
/// HE-AAC, the LC core at half the output rate, as ADTS signals it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AacConfig {
    /// The object type as signalled (2 = LC, 5 = HE-AAC, 29 = HE-AACv2).
    pub object_type: u8,
    core_object_type: u8,
    sample_rate_index: u8,
    pub channels: u8,
}

impl AacConfig {
    pub fn parse(bytes: &[u8]) -> Result<AacConfig, AacError> {
        let mut r = BitReader::new(bytes);
        let bad = |_| AacError::BadConfig(bytes.len());
        let object_type = |r: &mut BitReader| -> Result<u8, AacError> {
            let t = r.bits(5).map_err(bad)? as u8;
            Ok(if t == 31 { 32 + r.bits(6).map_err(bad)? as u8 } else { t })
        };
        let signalled = object_type(&mut r)?;
        let sample_rate_index = r.bits(4).map_err(bad)? as u8;
        let channels = r.bits(4).map_err(bad)? as u8;
        if sample_rate_index as usize >= SAMPLE_RATES.len() || channels == 0 || channels > 7 {
            return Err(AacError::Explicit);
        }
        let mut core = signalled;
        if signalled == 5 || signalled == 29 {
            // Explicit SBR signalling: the extension rate, then the core.
            r.bits(4).map_err(bad)?;
            core = object_type(&mut r)?;
        }
        if !(1..=4).contains(&core) {
            return Err(AacError::ObjectType(core));
        }
        Ok(AacConfig {
            object_type: signalled,
            core_object_type: core,
            sample_rate_index,
            channels,
        })
    }

    /// The core sample rate, in Hz.
    pub fn sample_rate(&self) -> u32 {
        SAMPLE_RATES[self.sample_rate_index as usize]
    }

    /// The RFC 6381 codec string, e.g. `mp4a.40.2`.
    pub fn codec(&self) -> String {
        format!("mp4a.40.{}", self.object_type)
    }

    /// Writes one raw AAC frame with its ADTS header.
    pub fn to_adts(&self, frame: &[u8], out: &mut Vec<u8>) -> Result<(), AacError> {
        let len = frame.len() + 7;
        if len >= 1 << 13 {
            return Err(AacError::FrameTooLarge(frame.len()));
        }
        let profile = self.core_object_type - 1;
        out.extend_from_slice(&[
            0xff,
            0xf1, // MPEG-4, layer 0, no CRC
            profile << 6 | self.sample_rate_index << 2 | self.channels >> 2,
            (self.channels & 3) << 6 | (len >> 11) as u8,
            (len >> 3) as u8,
            ((len & 7) as u8) << 5 | 0x1f, // buffer fullness 0x7ff: variable rate
            0xfc,
        ]);
        out.extend_from_slice(frame);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lc_stereo_44k1_becomes_the_adts_header_ffmpeg_writes() {
        let config = AacConfig::parse(&[0x12, 0x10]).unwrap();
        assert_eq!((config.sample_rate(), config.channels), (44100, 2));
        assert_eq!(config.codec(), "mp4a.40.2");
        let mut out = Vec::new();
        config.to_adts(&[0xaa; 10], &mut out).unwrap();
        assert_eq!(&out[..7], &[0xff, 0xf1, 0x50, 0x80, 0x02, 0x3f, 0xfc]);
        assert_eq!(out.len(), 17);
    }

    #[test]
    fn he_aac_signals_its_lc_core() {
        // HE-AAC (5), 24 kHz core (6), stereo, extension 48 kHz (3), core LC.
        let bits: u32 = 5 << 27 | 6 << 23 | 2 << 19 | 3 << 15 | 2 << 10;
        let config = AacConfig::parse(&bits.to_be_bytes()).unwrap();
        assert_eq!(config.codec(), "mp4a.40.5");
        let mut out = Vec::new();
        config.to_adts(&[0; 4], &mut out).unwrap();
        assert_eq!(out[2] >> 6, 1, "ADTS profile is LC");
    }

    #[test]
    fn rejects_what_adts_cannot_carry() {
        assert_eq!(AacConfig::parse(&[0x12]), Err(AacError::BadConfig(1)));
        // Object type 42 (USAC) via the escape.
        let bits: u32 = 31 << 27 | 10 << 21 | 4 << 17 | 2 << 13;
        assert_eq!(AacConfig::parse(&bits.to_be_bytes()), Err(AacError::ObjectType(42)));
        assert_eq!(AacConfig::parse(&[0x17, 0x80, 0, 0, 0]), Err(AacError::Explicit));
    }
}
