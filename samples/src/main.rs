//! `mosaic-samples`: writes a sample scene to a file, for `make demo` and benchmarks.

use std::process::ExitCode;

const USAGE: &str = "usage: mosaic-samples cornell|cornell-still OUT.glb";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [scene, out] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let glb = match scene.as_str() {
        "cornell" => mosaic_samples::cornell_box_animated(),
        "cornell-still" => mosaic_samples::cornell_box_still(),
        other => {
            eprintln!("unknown scene {other:?}; {USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::write(out, &glb) {
        eprintln!("cannot write {out}: {e}");
        return ExitCode::FAILURE;
    }
    println!("wrote {out} ({} bytes)", glb.len());
    ExitCode::SUCCESS
}
