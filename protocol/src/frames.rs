//! Frame specs as an artist types them: `1-48`, `1,5,9-12`, `1-100x5`.
//!
//! Frames are numbered from 1; frame N shows the scene's animation at time
//! (N-1)/fps. A spec names each frame at most once, in ascending order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The most frames one job may ask for. A typo like `1-1000000` should be an
/// error, not a week of work.
pub const MAX_FRAMES_PER_JOB: usize = 100_000;

/// The highest frame number accepted.
pub const MAX_FRAME_NUMBER: u32 = 1_000_000;

/// A parsed, non-empty, ascending set of frame numbers.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FrameSpec {
    text: String,
    frames: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameSpecError {
    #[error("frame spec is empty: give frames like 1-48, 1,5,9-12 or 1-100x5")]
    Empty,
    #[error("{part:?} in frame spec is not a frame, a range (1-48) or a stepped range (1-100x5)")]
    Malformed { part: String },
    #[error("range {part:?} runs backwards: write it as {end}-{start}")]
    Backwards { part: String, start: u32, end: u32 },
    #[error("frame 0 in {part:?}: frames are numbered from 1")]
    Zero { part: String },
    #[error("frame {frame} in {part:?} is past the last allowed frame {MAX_FRAME_NUMBER}")]
    TooLarge { part: String, frame: u32 },
    #[error("step 0 in {part:?}: a step must be 1 or more")]
    ZeroStep { part: String },
    #[error("the spec names {count} frames; one job may render at most {MAX_FRAMES_PER_JOB}")]
    TooMany { count: usize },
}

impl FrameSpec {
    pub fn parse(text: &str) -> Result<Self, FrameSpecError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(FrameSpecError::Empty);
        }
        let mut frames = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            let malformed = || FrameSpecError::Malformed { part: part.to_owned() };
            let (range, step) = match part.split_once('x') {
                Some((range, step)) => (range, Some(parse_number(step, part)?)),
                None => (part, None),
            };
            let (start, end) = match range.split_once('-') {
                Some((a, b)) => (parse_number(a, part)?, parse_number(b, part)?),
                None if step.is_none() => {
                    let n = parse_number(range, part)?;
                    (n, n)
                }
                None => return Err(malformed()),
            };
            for frame in [start, end] {
                if frame == 0 {
                    return Err(FrameSpecError::Zero { part: part.to_owned() });
                }
                if frame > MAX_FRAME_NUMBER {
                    return Err(FrameSpecError::TooLarge { part: part.to_owned(), frame });
                }
            }
            if start > end {
                return Err(FrameSpecError::Backwards { part: part.to_owned(), start, end });
            }
            let step = step.unwrap_or(1);
            if step == 0 {
                return Err(FrameSpecError::ZeroStep { part: part.to_owned() });
            }
            let count = ((end - start) / step + 1) as usize;
            if frames.len() + count > MAX_FRAMES_PER_JOB {
                return Err(FrameSpecError::TooMany { count: frames.len() + count });
            }
            frames.extend((start..=end).step_by(step as usize));
        }
        frames.sort_unstable();
        frames.dedup();
        Ok(Self { text: text.to_owned(), frames })
    }

    /// The frames, ascending, each once.
    pub fn frames(&self) -> &[u32] {
        &self.frames
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

fn parse_number(s: &str, part: &str) -> Result<u32, FrameSpecError> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FrameSpecError::Malformed { part: part.to_owned() });
    }
    s.parse::<u32>()
        .map_err(|_| FrameSpecError::TooLarge { part: part.to_owned(), frame: u32::MAX })
}

impl FromStr for FrameSpec {
    type Err = FrameSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for FrameSpec {
    type Error = FrameSpecError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<FrameSpec> for String {
    fn from(spec: FrameSpec) -> String {
        spec.text
    }
}

impl fmt::Display for FrameSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(s: &str) -> Vec<u32> {
        FrameSpec::parse(s).unwrap().frames().to_vec()
    }

    #[test]
    fn parses_ranges_lists_and_steps() {
        assert_eq!(frames("1-4"), [1, 2, 3, 4]);
        assert_eq!(frames("1,5,9-12"), [1, 5, 9, 10, 11, 12]);
        assert_eq!(frames("1-20x5"), [1, 6, 11, 16]);
        assert_eq!(frames(" 7 "), [7]);
        assert_eq!(frames("3,1-3"), [1, 2, 3]);
    }

    #[test]
    fn rejects_backwards_garbage_zero_and_huge() {
        assert!(matches!(FrameSpec::parse("5-1"), Err(FrameSpecError::Backwards { .. })));
        assert!(matches!(FrameSpec::parse("abc"), Err(FrameSpecError::Malformed { .. })));
        assert!(matches!(FrameSpec::parse(""), Err(FrameSpecError::Empty)));
        assert!(matches!(FrameSpec::parse("1,,2"), Err(FrameSpecError::Malformed { .. })));
        assert!(matches!(FrameSpec::parse("0-3"), Err(FrameSpecError::Zero { .. })));
        assert!(matches!(FrameSpec::parse("1-10x0"), Err(FrameSpecError::ZeroStep { .. })));
        assert!(matches!(FrameSpec::parse("-3"), Err(FrameSpecError::Malformed { .. })));
        assert!(matches!(FrameSpec::parse("1-999999"), Err(FrameSpecError::TooMany { .. })));
        assert!(matches!(FrameSpec::parse("99999999999"), Err(FrameSpecError::TooLarge { .. })));
    }

    #[test]
    fn error_names_the_bad_part() {
        let err = FrameSpec::parse("1-3,5-1").unwrap_err().to_string();
        assert!(err.contains("5-1"), "{err}");
    }
}
