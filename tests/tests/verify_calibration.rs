//! The fingerprint calibration as a user runs it: `mosaic bench verify --quick --json`, a real
//! process that builds its corpus with the ffmpeg CLI, our transcoder and our path tracer. No
//! honest pair may be called a mismatch, and every attack must be caught in every check.

use std::process::Command;

use mosaic_e2e::binaries;
use serde_json::Value;

/// Words that name each attack of the corpus, video then renders.
const ATTACKS: [&str; 20] = [
    "video: watermark",
    "video: h-flip",
    "video: v-flip",
    "video: one black frame",
    "video: 10 frozen frames",
    "video: lower rung upscaled",
    "video: one dropped frame (last doubled)",
    "video: one duplicated frame",
    "video: two frames swapped",
    "video: one dropped frame (one fewer)",
    "video: another segment",
    "video: heavy blur",
    "video: colour shift",
    "video: brightness",
    "render: another frame",
    "render: 1/16 of the samples",
    "render: h-flip",
    "render: watermark",
    "render: heavy blur",
    "render: colour shift",
];

fn name(row: &Value) -> String {
    format!("{}: {}", row["media"].as_str().unwrap(), row["kind"].as_str().unwrap())
}

#[test]
fn calibration_has_no_false_mismatch_and_catches_every_attack_in_every_check() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(&binaries().cli)
        .args(["bench", "verify", "--quick", "--json", "--out"])
        .arg(dir.path())
        .output()
        .expect("run mosaic bench verify");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "mosaic bench verify failed:\n{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));

    let honest = report["honest"].as_array().expect("honest rows");
    assert!(honest.iter().any(|r| r["media"] == "video"), "{report}");
    assert!(honest.iter().any(|r| r["media"] == "render"), "{report}");
    for row in honest {
        assert!(row["pairs"].as_u64().unwrap() > 0, "{row}");
        assert_eq!(row["mismatch"], 0, "false mismatch: {row}");
    }

    let tampered = report["tampered"].as_array().expect("attack rows");
    for attack in ATTACKS {
        let row = tampered
            .iter()
            .find(|r| name(r).starts_with(attack))
            .unwrap_or_else(|| panic!("no row for {attack}: {report}"));
        let pairs = row["pairs"].as_u64().unwrap();
        assert!(pairs > 0, "{row}");
        assert_eq!(row["mismatch"].as_u64(), Some(pairs), "not caught every time: {row}");
    }
    assert_eq!(report["false_mismatches"], 0);
    assert_eq!(report["missed"], 0);
}
