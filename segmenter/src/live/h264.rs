//! H.264 as FLV carries it (AVCC: an AVCDecoderConfigurationRecord, then
//! length-prefixed NAL units) into what MPEG-TS carries (Annex B: start
//! codes, an access unit delimiter per picture, parameter sets before
//! every IDR so each segment decodes on its own).

use super::bits::{unescape_rbsp, BitReader, OutOfBits};

const NAL_SPS: u8 = 7;
const NAL_AUD: u8 = 9;
const NAL_IDR: u8 = 5;
const START_CODE: [u8; 4] = [0, 0, 0, 1];
/// An access unit delimiter saying "any slice type".
const AUD: [u8; 6] = [0, 0, 0, 1, NAL_AUD, 0xf0];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum H264Error {
    #[error("the AVC sequence header is malformed: {0}")]
    BadConfig(&'static str),
    #[error("the SPS is malformed: {0}")]
    BadSps(OutOfBits),
    #[error("a video frame's NAL unit length runs past the frame ({at} + {len} > {size})")]
    BadNalLength { at: usize, len: usize, size: usize },
    #[error("picture size {0}x{1} from the SPS is out of range")]
    BadSize(u32, u32),
}

/// What the SPS says about the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpsInfo {
    pub profile: u8,
    pub constraints: u8,
    pub level: u8,
    pub width: u32,
    pub height: u32,
}

impl SpsInfo {
    /// The RFC 6381 codec string, e.g. `avc1.64001f`.
    pub fn codec(&self) -> String {
        format!("avc1.{:02x}{:02x}{:02x}", self.profile, self.constraints, self.level)
    }
}

/// An AVCDecoderConfigurationRecord.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfig {
    /// Bytes in each NAL unit's length prefix (1, 2 or 4).
    pub length_size: usize,
    pub sps: Vec<Vec<u8>>,
    pub pps: Vec<Vec<u8>>,
    pub info: SpsInfo,
}

impl AvcConfig {
    pub fn parse(bytes: &[u8]) -> Result<AvcConfig, H264Error> {
        let bad = H264Error::BadConfig;
        if bytes.len() < 7 || bytes[0] != 1 {
            return Err(bad("not version 1, or shorter than its header"));
        }
        let length_size = usize::from(bytes[4] & 3) + 1;
        if length_size == 3 {
            return Err(bad("NAL length size 3 is not allowed"));
        }
        let read_sets = |count: usize, at: &mut usize| -> Result<Vec<Vec<u8>>, H264Error> {
            let mut sets = Vec::with_capacity(count);
            for _ in 0..count {
                let len = bytes.get(*at..*at + 2).ok_or(bad("parameter set length missing"))?;
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                let set =
                    bytes.get(*at + 2..*at + 2 + len).ok_or(bad("parameter set cut short"))?;
                sets.push(set.to_vec());
                *at += 2 + len;
            }
            Ok(sets)
        };
        let mut at = 6;
        let sps = read_sets(usize::from(bytes[5] & 0x1f), &mut at)?;
        let pps_count = usize::from(*bytes.get(at).ok_or(bad("PPS count missing"))?);
        at += 1;
        let pps = read_sets(pps_count, &mut at)?;
        let first = sps.first().ok_or(bad("no SPS"))?;
        if pps.is_empty() {
            return Err(bad("no PPS"));
        }
        let info = parse_sps(first)?;
        Ok(AvcConfig { length_size, sps, pps, info })
    }

    /// One access unit (an FLV video frame's NAL units) in Annex B, with
    /// an AUD first and, before an IDR, the SPS and PPS unless it has them.
    pub fn to_annex_b(&self, avcc: &[u8], out: &mut Vec<u8>) -> Result<(), H264Error> {
        let mut nals = Vec::new();
        let mut at = 0;
        while at < avcc.len() {
            let n = self.length_size;
            let len = avcc.get(at..at + n).ok_or(H264Error::BadNalLength {
                at,
                len: n,
                size: avcc.len(),
            })?;
            let len = len.iter().fold(0usize, |acc, &b| acc << 8 | usize::from(b));
            let start = at + n;
            let nal = avcc.get(start..start + len).ok_or(H264Error::BadNalLength {
                at: start,
                len,
                size: avcc.len(),
            })?;
            if !nal.is_empty() {
                nals.push(nal);
            }
            at = start + len;
        }
        out.extend_from_slice(&AUD);
        let kind = |nal: &[u8]| nal[0] & 0x1f;
        let has_sps = nals.iter().any(|n| kind(n) == NAL_SPS);
        let mut inserted = has_sps;
        for nal in nals {
            match kind(nal) {
                NAL_AUD => continue,
                NAL_IDR if !inserted => {
                    for set in self.sps.iter().chain(&self.pps) {
                        out.extend_from_slice(&START_CODE);
                        out.extend_from_slice(set);
                    }
                    inserted = true;
                }
                _ => {}
            }
            out.extend_from_slice(&START_CODE);
            out.extend_from_slice(nal);
        }
        Ok(())
    }
}

/// Reads the profile, level and cropped picture size from an SPS NAL unit.
pub fn parse_sps(nal: &[u8]) -> Result<SpsInfo, H264Error> {
    let rbsp = unescape_rbsp(nal.get(1..).unwrap_or(&[]));
    let mut r = BitReader::new(&rbsp);
    (|| -> Result<SpsInfo, OutOfBits> {
        let profile = r.bits(8)? as u8;
        let constraints = r.bits(8)? as u8;
        let level = r.bits(8)? as u8;
        r.ue()?; // seq_parameter_set_id
        let mut chroma_format = 1;
        if matches!(
            profile,
            100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
        ) {
            chroma_format = r.ue()?;
            if chroma_format == 3 {
                r.flag()?; // separate_colour_plane_flag
            }
            r.ue()?; // bit_depth_luma_minus8
            r.ue()?; // bit_depth_chroma_minus8
            r.flag()?; // qpprime_y_zero_transform_bypass_flag
            if r.flag()? {
                let lists = if chroma_format == 3 { 12 } else { 8 };
                for i in 0..lists {
                    if r.flag()? {
                        skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                    }
                }
            }
        }
        r.ue()?; // log2_max_frame_num_minus4
        match r.ue()? {
            0 => {
                r.ue()?;
            }
            1 => {
                r.flag()?;
                r.se()?;
                r.se()?;
                let cycle = r.ue()?;
                for _ in 0..cycle.min(255) {
                    r.se()?;
                }
            }
            _ => {}
        }
        r.ue()?; // max_num_ref_frames
        r.flag()?; // gaps_in_frame_num_value_allowed_flag
        let width_mbs = u64::from(r.ue()?) + 1;
        let height_units = u64::from(r.ue()?) + 1;
        let frame_mbs_only = r.flag()?;
        if !frame_mbs_only {
            r.flag()?; // mb_adaptive_frame_field_flag
        }
        r.flag()?; // direct_8x8_inference_flag
        let (mut left, mut right, mut top, mut bottom) = (0, 0, 0, 0);
        if r.flag()? {
            left = u64::from(r.ue()?);
            right = u64::from(r.ue()?);
            top = u64::from(r.ue()?);
            bottom = u64::from(r.ue()?);
        }
        let field = if frame_mbs_only { 1 } else { 2 };
        let (crop_x, crop_y) = match chroma_format {
            0 => (1, field),
            1 => (2, 2 * field),
            2 => (2, field),
            _ => (1, field),
        };
        let width = (width_mbs * 16).saturating_sub(crop_x * (left + right));
        let height = (height_units * 16 * field).saturating_sub(crop_y * (top + bottom));
        Ok(SpsInfo {
            profile,
            constraints,
            level,
            width: width.min(u64::from(u32::MAX)) as u32,
            height: height.min(u64::from(u32::MAX)) as u32,
        })
    })()
    .map_err(H264Error::BadSps)
    .and_then(|info| {
        if info.width == 0 || info.height == 0 || info.width > 16384 || info.height > 16384 {
            Err(H264Error::BadSize(info.width, info.height))
        } else {
            Ok(info)
        }
    })
}

fn skip_scaling_list(r: &mut BitReader, size: usize) -> Result<(), OutOfBits> {
    let (mut last, mut next) = (8i32, 8i32);
    for _ in 0..size {
        if next != 0 {
            next = (last + r.se()? + 256) % 256;
        }
        if next != 0 {
            last = next;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The SPS and PPS libx264 (veryfast) writes for 1280x720 at 30 fps:
    /// High profile, level 3.1.
    pub const SPS_720P: [u8; 26] = [
        0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03,
        0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x19, 0x60,
    ];
    pub const PPS: [u8; 4] = [0x68, 0xef, 0x8f, 0xcb];

    pub fn avcc_record(sps: &[u8], pps: &[u8]) -> Vec<u8> {
        let mut b = vec![1, sps[1], sps[2], sps[3], 0xff, 0xe1];
        b.extend_from_slice(&(sps.len() as u16).to_be_bytes());
        b.extend_from_slice(sps);
        b.push(1);
        b.extend_from_slice(&(pps.len() as u16).to_be_bytes());
        b.extend_from_slice(pps);
        b
    }

    #[test]
    fn reads_size_profile_and_level_from_an_x264_sps() {
        let info = parse_sps(&SPS_720P).unwrap();
        assert_eq!((info.width, info.height), (1280, 720));
        assert_eq!(info.codec(), "avc1.64001f");
    }

    #[test]
    fn parses_a_config_record_and_rejects_truncation() {
        let record = avcc_record(&SPS_720P, &PPS);
        let config = AvcConfig::parse(&record).unwrap();
        assert_eq!(config.length_size, 4);
        assert_eq!(config.sps, [SPS_720P.to_vec()]);
        assert_eq!(config.pps, [PPS.to_vec()]);
        for cut in [3, 8, record.len() - 3] {
            assert!(AvcConfig::parse(&record[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn idr_gets_an_aud_and_parameter_sets_in_annex_b() {
        let config = AvcConfig::parse(&avcc_record(&SPS_720P, &PPS)).unwrap();
        let avcc = [0, 0, 0, 3, 0x65, 0x88, 0x80, 0, 0, 0, 2, 0x09, 0x10];
        let mut out = Vec::new();
        config.to_annex_b(&avcc, &mut out).unwrap();
        let mut expected = AUD.to_vec();
        for nal in [&SPS_720P[..], &PPS[..], &[0x65, 0x88, 0x80][..]] {
            expected.extend_from_slice(&START_CODE);
            expected.extend_from_slice(nal);
        }
        assert_eq!(out, expected, "the AUD the encoder sent is replaced, not doubled");
        let bad = [0, 0, 0, 9, 0x41];
        assert!(matches!(config.to_annex_b(&bad, &mut out), Err(H264Error::BadNalLength { .. })));
    }
}
