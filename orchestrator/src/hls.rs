//! HLS playlists as text: media playlists (a live sliding window, or a
//! whole broadcast as an event playlist that ends like a VOD) and master
//! playlists naming each rung. Pure functions over rows the farm reads;
//! serving them is the HTTP module's business.

use std::fmt::Write;

use crate::store::live::ListedSegment;

/// Playlist protocol version: 3 for fractional EXTINF and 6 for
/// PROGRAM-DATE-TIME with discontinuity sequences in live playlists.
const VERSION: u32 = 6;

/// Which playlist of a broadcast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The last few segments, for watching live.
    Live,
    /// Every segment from the start, for watching from the beginning.
    Recording,
}

impl Kind {
    /// The file name of this kind's playlists.
    pub fn file(self) -> &'static str {
        match self {
            Kind::Live => "index.m3u8",
            Kind::Recording => "recording.m3u8",
        }
    }
}

pub struct Media<'a> {
    pub kind: Kind,
    /// The longest segment, rounded up to whole seconds.
    pub target_duration: u64,
    pub segments: &'a [ListedSegment],
    /// The broadcast ended and every segment is published.
    pub ended: bool,
    /// The broadcast's id, which prefixes segment names so that URLs are
    /// never reused across broadcasts.
    pub broadcast: i64,
}

/// The URI of a segment within its rung's directory.
pub fn segment_file(broadcast: i64, sequence: u64) -> String {
    format!("{broadcast}-{sequence}.ts")
}

pub fn media_playlist(m: &Media) -> String {
    let mut out = String::new();
    out.push_str("#EXTM3U\n");
    let _ = writeln!(out, "#EXT-X-VERSION:{VERSION}");
    let _ = writeln!(out, "#EXT-X-TARGETDURATION:{}", m.target_duration.max(1));
    if m.kind == Kind::Recording {
        out.push_str("#EXT-X-PLAYLIST-TYPE:EVENT\n");
    }
    let first = m.segments.first();
    let _ = writeln!(out, "#EXT-X-MEDIA-SEQUENCE:{}", first.map_or(0, |s| s.listed_index));
    let _ = writeln!(out, "#EXT-X-DISCONTINUITY-SEQUENCE:{}", first.map_or(0, |s| s.disc_seq));
    out.push_str("#EXT-X-INDEPENDENT-SEGMENTS\n");
    for (i, s) in m.segments.iter().enumerate() {
        // The first segment's own discontinuity is already counted in the
        // discontinuity sequence.
        if s.marker && i > 0 {
            out.push_str("#EXT-X-DISCONTINUITY\n");
        }
        if i == 0 || s.marker {
            let _ = writeln!(out, "#EXT-X-PROGRAM-DATE-TIME:{}", rfc3339_ms(s.wall_start));
        }
        let _ = writeln!(out, "#EXTINF:{:.3},", s.duration_ms as f64 / 1000.0);
        out.push_str(&segment_file(m.broadcast, s.sequence));
        out.push('\n');
    }
    if m.ended {
        out.push_str("#EXT-X-ENDLIST\n");
    }
    out
}

/// One rung, as the master playlist names it.
pub struct Variant {
    /// Peak bits per second over the listed segments.
    pub bandwidth: u64,
    pub average_bandwidth: u64,
    pub width: u32,
    pub height: u32,
    /// RFC 6381 codec strings, e.g. `avc1.64001f,mp4a.40.2`.
    pub codecs: String,
    pub uri: String,
}

pub fn master_playlist(variants: &[Variant]) -> String {
    let mut out = String::new();
    out.push_str("#EXTM3U\n");
    let _ = writeln!(out, "#EXT-X-VERSION:{VERSION}");
    out.push_str("#EXT-X-INDEPENDENT-SEGMENTS\n");
    for v in variants {
        let _ = writeln!(
            out,
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},RESOLUTION={}x{},CODECS=\"{}\"",
            v.bandwidth.max(1),
            v.average_bandwidth.max(1),
            v.width,
            v.height,
            v.codecs
        );
        out.push_str(&v.uri);
        out.push('\n');
    }
    out
}

/// `2026-11-26T06:14:26.123Z` from Unix milliseconds.
pub fn rfc3339_ms(unix_ms: i64) -> String {
    let (days, ms_of_day) = (unix_ms.div_euclid(86_400_000), unix_ms.rem_euclid(86_400_000));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, ms) =
        (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60, ms_of_day / 1000 % 60, ms_of_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(sequence: u64, listed_index: u64, disc_seq: u64, marker: bool) -> ListedSegment {
        ListedSegment {
            sequence,
            duration_ms: 2000,
            wall_start: 1_764_137_666_123 + sequence as i64 * 2000,
            listed_index,
            disc_seq,
            marker,
            bytes: 100_000,
            codec: "avc1.64001f".into(),
        }
    }

    #[test]
    fn dates_are_rfc3339_in_utc() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_795_673_666_123), "2026-11-26T06:14:26.123Z");
    }

    #[test]
    fn a_live_window_after_a_gap_counts_its_discontinuities() {
        // Segment 3 was a gap, so 4 (listed third) carries a discontinuity.
        let segments = [seg(2, 2, 0, false), seg(4, 3, 1, true), seg(5, 4, 1, false)];
        let text = media_playlist(&Media {
            kind: Kind::Live,
            target_duration: 2,
            segments: &segments,
            ended: false,
            broadcast: 7,
        });
        let expected = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n\
            #EXT-X-MEDIA-SEQUENCE:2\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n\
            #EXT-X-PROGRAM-DATE-TIME:2025-11-26T06:14:30.123Z\n#EXTINF:2.000,\n7-2.ts\n\
            #EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2025-11-26T06:14:34.123Z\n#EXTINF:2.000,\n7-4.ts\n\
            #EXTINF:2.000,\n7-5.ts\n";
        assert_eq!(text, expected);
        // Once the discontinuity is first in the window, it is counted, not tagged.
        let text = media_playlist(&Media {
            kind: Kind::Recording,
            target_duration: 2,
            segments: &segments[1..],
            ended: true,
            broadcast: 7,
        });
        assert!(text.contains("#EXT-X-PLAYLIST-TYPE:EVENT\n"));
        assert!(text.contains("#EXT-X-DISCONTINUITY-SEQUENCE:1\n"));
        assert!(!text.contains("#EXT-X-DISCONTINUITY\n"));
        assert!(text.ends_with("7-5.ts\n#EXT-X-ENDLIST\n"));
    }

    #[test]
    fn master_names_every_rung_with_its_codecs() {
        let text = master_playlist(&[Variant {
            bandwidth: 3_300_000,
            average_bandwidth: 3_000_000,
            width: 1280,
            height: 720,
            codecs: "avc1.64001f,mp4a.40.2".into(),
            uri: "720p/index.m3u8".into(),
        }]);
        assert!(text.contains(
            "#EXT-X-STREAM-INF:BANDWIDTH=3300000,AVERAGE-BANDWIDTH=3000000,RESOLUTION=1280x720,\
             CODECS=\"avc1.64001f,mp4a.40.2\"\n720p/index.m3u8\n"
        ));
    }
}
