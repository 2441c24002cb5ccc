//! Our PDQ against the hashes ThreatExchange publishes for its own test images (the images and
//! where each expected hash comes from: `tests/data/pdq/README.md`).
//!
//! The reference hashes were computed from pixels decoded by libjpeg (PIL, CImg); we decode with
//! zune-jpeg, whose pixels differ slightly, so the hashes may differ in a few bits. We allow what
//! ThreatExchange's own test allows (`pdq/python/pdqhashing/tests/pdq_test.py`:
//! `hamming_tolerance = 16`) and, for images of quality 80 or more, what `pdq/README.md` asks of
//! a correct implementation: within distance 10 of the reference.

use std::path::Path;

use mosaic_proofs::pdq::{self, PdqHash};

/// ThreatExchange's `pdq_test.py` tolerance.
const TOLERANCE: u32 = 16;
/// `pdq/README.md`: an implementation's hashes of quality >= 80 are within 10 of the reference.
const TOLERANCE_GOOD_QUALITY: u32 = 10;

/// File, the published hash, and the published quality where there is one.
const REFERENCES: &[(&str, &str, Option<u8>)] = &[
    ("q0003.jpg", "54a977c221d14c1c43ba5e6e21d4a13989a3553f1462611cbb85fda7be83b677", None),
    ("q0004.jpg", "992d44af36d69e6ca6b812585928bac11def254ef5398c6d07466c9abcc65b92", None),
    ("q0122.jpg", "cfb2009ddd21c6dab0046a7745b5984757a8a4535b3377aea2591d32b33ff940", None),
    ("q0291.jpg", "a0fe94f1e5cc1cc8dd855948498dc9243f7ca27336f036d7f212b74bc103c9a7", None),
    ("q0746.jpg", "1049d96239e24d4dca2c55512b8bdb77425f4dbcf575a0a95555aaab5554aaaa", None),
    ("q1050.jpg", "489db672e9190276d452aeab41eba20f02375fe4092d88defdf491a5c55c5f70", None),
    ("q2821.jpg", "b150231ffae4710ffcf4f18bb574b109a576f14bb8543189f8743289f174b109", None),
    ("small.jpg", "0007001f003f003f007f00ff00ff00ff01ff01ff01ff03ff03ff03ff03ff03ff", None),
    ("wee.jpg", "6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d", None),
    (
        "square-128x128.jpg",
        "d8f8f1eec0f4a84f0e37022a078f63f0b36e2ed596621e1d33e6239c4e9c9b22",
        Some(100),
    ),
    (
        "square-256x256.jpg",
        "d8f8f0cec4f4a84f0637022a078f67f0b36e2ee5b6621e1d33e6239c4e9c9b22",
        Some(100),
    ),
    (
        "square-512x512.jpg",
        "d8f8f0cec0f4a84f0637022a278f67f0b36e2ed596621e1d33e6339c4e9c9b22",
        Some(100),
    ),
];

/// Decodes a test JPEG to packed RGB: (width, height, pixels).
fn decode(name: &str) -> (usize, usize, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pdq").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut decoder = zune_jpeg::JpegDecoder::new(std::io::Cursor::new(&bytes));
    let rgb = decoder.decode().unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let (width, height) = decoder.dimensions().expect("dimensions after decoding");
    assert_eq!(rgb.len(), width * height * 3, "{name} did not decode to RGB");
    (width, height, rgb)
}

#[test]
fn pdq_hashes_match_threatexchange_reference_hashes() {
    let mut failures = Vec::new();
    for &(name, expected, expected_quality) in REFERENCES {
        let (width, height, rgb) = decode(name);
        let ours = pdq::hash_rgb(width, height, &rgb);
        let reference = PdqHash::from_hex(expected, expected_quality.unwrap_or(0)).unwrap();
        let distance = ours.distance(&reference);
        println!(
            "{name:20} {width}x{height} distance {distance:2} quality {:3} {ours}",
            ours.quality
        );

        let tolerance = if ours.quality >= 80 { TOLERANCE_GOOD_QUALITY } else { TOLERANCE };
        if distance > tolerance {
            failures
                .push(format!("{name}: distance {distance} > {tolerance} ({ours} vs {expected})"));
        }
        if let Some(quality) = expected_quality {
            if ours.quality != quality {
                failures.push(format!("{name}: quality {} instead of {quality}", ours.quality));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pdq_hashes_of_resized_copies_of_one_photo_match() {
    // The three squares are one photo at three sizes: PDQ's whole point is that they match
    // (31 is ThreatExchange's suggested match threshold).
    let hashes: Vec<PdqHash> = ["square-128x128.jpg", "square-256x256.jpg", "square-512x512.jpg"]
        .iter()
        .map(|name| {
            let (width, height, rgb) = decode(name);
            pdq::hash_rgb(width, height, &rgb)
        })
        .collect();
    for a in &hashes {
        for b in &hashes {
            assert!(a.distance(b) <= 31, "{a} vs {b}: {}", a.distance(b));
        }
    }
    // A different photo does not.
    let (width, height, rgb) = decode("q2821.jpg");
    let other = pdq::hash_rgb(width, height, &rgb);
    assert!(hashes.iter().all(|h| h.distance(&other) > 64));
}
