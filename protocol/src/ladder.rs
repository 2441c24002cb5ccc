//! The adaptive-bitrate ladder: which renditions a live stream gets.
//!
//! The farm operator configures rungs by height and bitrate; a broadcast's
//! actual ladder is the rungs its source can fill without upscaling, with
//! widths that keep the source's aspect ratio.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A rung as configured: a height and a video bitrate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RungSpec {
    pub height: u32,
    /// Video bits per second.
    pub bitrate: u64,
}

/// 1080p 6 Mb/s, 720p 3 Mb/s, 480p 1.2 Mb/s, 360p 0.6 Mb/s.
pub fn default_ladder() -> Vec<RungSpec> {
    vec![
        RungSpec { height: 1080, bitrate: 6_000_000 },
        RungSpec { height: 720, bitrate: 3_000_000 },
        RungSpec { height: 480, bitrate: 1_200_000 },
        RungSpec { height: 360, bitrate: 600_000 },
    ]
}

/// One rendition of a broadcast.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rung {
    /// `720p`: the name in playlist URLs.
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub bitrate: u64,
}

impl fmt::Display for Rung {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}x{}, {} kb/s)", self.name, self.width, self.height, self.bitrate / 1000)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LadderError {
    #[error("the ladder has no rungs")]
    Empty,
    #[error("rung {0}: height must be an even number from 16 to 4320")]
    Height(u32),
    #[error("rung {height}p: bitrate {bitrate} b/s is out of range (50 kb/s to 100 Mb/s)")]
    Bitrate { height: u32, bitrate: u64 },
    #[error("rung {0}p appears twice")]
    Duplicate(u32),
}

/// Checks a configured ladder.
pub fn validate(spec: &[RungSpec]) -> Result<(), LadderError> {
    if spec.is_empty() {
        return Err(LadderError::Empty);
    }
    for (i, rung) in spec.iter().enumerate() {
        if rung.height < 16 || rung.height > 4320 || rung.height % 2 != 0 {
            return Err(LadderError::Height(rung.height));
        }
        if !(50_000..=100_000_000).contains(&rung.bitrate) {
            return Err(LadderError::Bitrate { height: rung.height, bitrate: rung.bitrate });
        }
        if spec[..i].iter().any(|r| r.height == rung.height) {
            return Err(LadderError::Duplicate(rung.height));
        }
    }
    Ok(())
}

/// The rungs a `width`x`height` source gets: every configured rung no
/// taller than the source, tallest first. A source shorter than every rung
/// gets one rung at its own size with the lowest configured bitrate.
pub fn for_source(spec: &[RungSpec], width: u32, height: u32) -> Vec<Rung> {
    let mut fitting: Vec<RungSpec> = spec.iter().copied().filter(|r| r.height <= height).collect();
    fitting.sort_by_key(|r| std::cmp::Reverse(r.height));
    if fitting.is_empty() {
        let lowest = spec.iter().map(|r| r.bitrate).min().unwrap_or(600_000);
        fitting.push(RungSpec { height: height & !1, bitrate: lowest });
    }
    fitting
        .into_iter()
        .map(|r| {
            // Keep the aspect ratio, rounded to the nearest even width
            // (4:2:0 chroma wants even sizes).
            let (w, h, src_h) = (u64::from(width), u64::from(r.height), u64::from(height.max(1)));
            let w = (((w * h + src_h) / (2 * src_h)).max(1) * 2) as u32;
            Rung {
                name: format!("{}p", r.height),
                width: w,
                height: r.height.max(2),
                bitrate: r.bitrate,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_upscales_and_keeps_the_aspect_ratio() {
        let names = |w, h| -> Vec<String> {
            for_source(&default_ladder(), w, h)
                .into_iter()
                .map(|r| format!("{}x{}", r.width, r.height))
                .collect()
        };
        assert_eq!(names(1280, 720), ["1280x720", "854x480", "640x360"]);
        assert_eq!(names(3840, 2160), ["1920x1080", "1280x720", "854x480", "640x360"]);
        assert_eq!(names(1920, 1080).len(), 4);
        // Portrait and odd sources.
        assert_eq!(names(720, 1280), ["608x1080", "406x720", "270x480", "202x360"]);
        assert_eq!(names(320, 240), ["320x240"]);
        assert_eq!(for_source(&default_ladder(), 320, 241)[0].bitrate, 600_000);
    }

    #[test]
    fn bad_ladders_are_refused() {
        assert_eq!(validate(&[]), Err(LadderError::Empty));
        assert_eq!(
            validate(&[RungSpec { height: 721, bitrate: 1_000_000 }]),
            Err(LadderError::Height(721))
        );
        let twice = [RungSpec { height: 720, bitrate: 1_000_000 }; 2];
        assert_eq!(validate(&twice), Err(LadderError::Duplicate(720)));
        assert!(validate(&default_ladder()).is_ok());
    }
}
