//! An MPEG-TS writer for one program with an H.264 and an AAC (ADTS)
//! stream: PAT and PMT, PES packets with PTS/DTS, PCR on the video PID.
//! Enough for HLS segments, which is all it is for.

pub const PACKET: usize = 188;
const PMT_PID: u16 = 0x1000;
pub const VIDEO_PID: u16 = 0x100;
pub const AUDIO_PID: u16 = 0x101;
const STREAM_TYPE_H264: u8 = 0x1b;
const STREAM_TYPE_AAC: u8 = 0x0f;
/// PTS and DTS are 33-bit counters of a 90 kHz clock.
pub const TIMESTAMP_MASK: u64 = (1 << 33) - 1;

/// Continuity counters per PID; one per output stream of segments.
#[derive(Default)]
pub struct TsWriter {
    cc_pat: u8,
    cc_pmt: u8,
    cc_video: u8,
    cc_audio: u8,
}

/// One PES to write.
pub struct Pes<'a> {
    pub pid: u16,
    pub pts: u64,
    pub dts: u64,
    /// A keyframe (and a place to start decoding).
    pub random_access: bool,
    /// The program clock, on the video PID.
    pub pcr: Option<u64>,
    pub payload: &'a [u8],
}

impl TsWriter {
    /// PAT and PMT, which every segment starts with so it stands alone.
    pub fn write_tables(&mut self, has_audio: bool, out: &mut Vec<u8>) {
        // PAT: program 1 at PMT_PID.
        let mut pat = vec![0x00, 0xb0, 0, 0x00, 0x01, 0xc1, 0x00, 0x00];
        pat.extend_from_slice(&[0x00, 0x01, 0xe0 | (PMT_PID >> 8) as u8, PMT_PID as u8]);
        self.write_section(0, &mut pat, out);
        // PMT: PCR on the video PID, then each stream.
        let mut pmt = vec![0x02, 0xb0, 0, 0x00, 0x01, 0xc1, 0x00, 0x00];
        pmt.extend_from_slice(&[0xe0 | (VIDEO_PID >> 8) as u8, VIDEO_PID as u8, 0xf0, 0x00]);
        let mut streams = vec![(STREAM_TYPE_H264, VIDEO_PID)];
        if has_audio {
            streams.push((STREAM_TYPE_AAC, AUDIO_PID));
        }
        for (kind, pid) in streams {
            pmt.extend_from_slice(&[kind, 0xe0 | (pid >> 8) as u8, pid as u8, 0xf0, 0x00]);
        }
        self.write_section(PMT_PID, &mut pmt, out);
    }

    fn write_section(&mut self, pid: u16, section: &mut Vec<u8>, out: &mut Vec<u8>) {
        // section_length counts from after its own field, CRC included.
        let len = section.len() - 3 + 4;
        section[1] = 0xb0 | (len >> 8) as u8;
        section[2] = len as u8;
        let crc = crc32_mpeg2(section);
        section.extend_from_slice(&crc.to_be_bytes());
        let cc = if pid == 0 { &mut self.cc_pat } else { &mut self.cc_pmt };
        let start = out.len();
        out.extend_from_slice(&[0x47, 0x40 | (pid >> 8) as u8, pid as u8, 0x10 | *cc]);
        *cc = (*cc + 1) & 0x0f;
        out.push(0); // pointer field
        out.extend_from_slice(section);
        out.resize(start + PACKET, 0xff);
    }

    pub fn write_pes(&mut self, pes: &Pes, out: &mut Vec<u8>) {
        let video = pes.pid == VIDEO_PID;
        let with_dts = pes.dts != pes.pts;
        let mut header = vec![0, 0, 1, if video { 0xe0 } else { 0xc0 }, 0, 0];
        let header_data = if with_dts { 10 } else { 5 };
        let packet_len = 3 + header_data + pes.payload.len();
        // Video may leave the length 0 (unbounded); audio PES stay short.
        if !video || packet_len <= 0xffff {
            let len = if packet_len <= 0xffff { packet_len } else { 0 };
            header[4..6].copy_from_slice(&(len as u16).to_be_bytes());
        }
        header.extend_from_slice(&[0x80, if with_dts { 0xc0 } else { 0x80 }, header_data as u8]);
        write_timestamp(if with_dts { 0x3 } else { 0x2 }, pes.pts, &mut header);
        if with_dts {
            write_timestamp(0x1, pes.dts, &mut header);
        }

        let mut first = true;
        let mut data = header.iter().chain(pes.payload).copied();
        let mut remaining = header.len() + pes.payload.len();
        while remaining > 0 {
            let cc = if video { &mut self.cc_video } else { &mut self.cc_audio };
            let this_cc = *cc;
            *cc = (*cc + 1) & 0x0f;

            // The adaptation field's body: flags (and PCR) on the first
            // packet, stuffing on the last.
            let mut adaptation = Vec::new();
            if first && (pes.random_access || pes.pcr.is_some()) {
                adaptation.push(if pes.random_access { 0x40 } else { 0 });
                if let Some(pcr) = pes.pcr {
                    adaptation[0] |= 0x10;
                    let base = pcr & TIMESTAMP_MASK;
                    adaptation.extend_from_slice(&[
                        (base >> 25) as u8,
                        (base >> 17) as u8,
                        (base >> 9) as u8,
                        (base >> 1) as u8,
                        ((base & 1) as u8) << 7 | 0x7e,
                        0,
                    ]);
                }
            }
            let mut field_len = if adaptation.is_empty() { 0 } else { 1 + adaptation.len() };
            if remaining < PACKET - 4 - field_len {
                // Fill the packet: the length byte plus flags and 0xff.
                field_len = PACKET - 4 - remaining;
                if field_len >= 2 && adaptation.is_empty() {
                    adaptation.push(0);
                }
                adaptation.resize(field_len - 1, 0xff);
            }
            let control = if field_len > 0 { 0x30 } else { 0x10 };
            let pusi = if first { 0x40 } else { 0 };
            out.extend_from_slice(&[
                0x47,
                pusi | (pes.pid >> 8) as u8,
                pes.pid as u8,
                control | this_cc,
            ]);
            if field_len > 0 {
                out.push((field_len - 1) as u8);
                out.extend_from_slice(&adaptation);
            }
            let take = PACKET - 4 - field_len;
            out.extend(data.by_ref().take(take));
            remaining -= take;
            first = false;
        }
    }
}

fn write_timestamp(prefix: u8, ts: u64, out: &mut Vec<u8>) {
    let ts = ts & TIMESTAMP_MASK;
    out.extend_from_slice(&[
        prefix << 4 | ((ts >> 29) as u8 & 0x0e) | 1,
        (ts >> 22) as u8,
        ((ts >> 14) as u8 & 0xfe) | 1,
        (ts >> 7) as u8,
        ((ts << 1) as u8 & 0xfe) | 1,
    ]);
}

/// CRC-32/MPEG-2: polynomial 0x04C11DB7, no reflection, no final XOR.
pub fn crc32_mpeg2(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 { (crc << 1) ^ 0x04c1_1db7 } else { crc << 1 };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_standard_check_value() {
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_e6e7);
    }

    #[test]
    fn every_payload_length_fills_whole_packets_with_the_bytes_in_order() {
        let mut writer = TsWriter::default();
        for len in [0usize, 1, 150, 160, 168, 169, 170, 171, 182, 183, 184, 185, 366, 1000] {
            for (pid, pcr) in [(VIDEO_PID, Some(9000)), (AUDIO_PID, None)] {
                let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut out = Vec::new();
                let pes = Pes {
                    pid,
                    pts: 90_000,
                    dts: 87_000,
                    random_access: pcr.is_some(),
                    pcr,
                    payload: &payload,
                };
                writer.write_pes(&pes, &mut out);
                assert_eq!(out.len() % PACKET, 0, "length {len}");
                // Reassemble the PES from the packets' payloads.
                let mut pes_bytes = Vec::new();
                for p in out.chunks(PACKET) {
                    assert_eq!(p[0], 0x47);
                    let mut at = 4;
                    if p[3] & 0x20 != 0 {
                        at += 1 + usize::from(p[4]);
                    }
                    assert!(at <= PACKET, "length {len}: adaptation field overflows");
                    pes_bytes.extend_from_slice(&p[at..]);
                }
                let header_len = 9 + usize::from(pes_bytes[8]);
                assert_eq!(&pes_bytes[header_len..], &payload[..], "length {len}");
            }
        }
    }

    #[test]
    fn timestamps_are_written_as_33_bits_with_markers() {
        let mut out = Vec::new();
        write_timestamp(2, (1 << 33) + 0x1_2345_6789, &mut out);
        let ts = (u64::from(out[0] >> 1) & 7) << 30
            | u64::from(out[1]) << 22
            | u64::from(out[2] >> 1) << 15
            | u64::from(out[3]) << 7
            | u64::from(out[4] >> 1);
        assert_eq!(ts, 0x1_2345_6789);
        assert_eq!(out[0] & 0xf1, 0x21);
    }
}
