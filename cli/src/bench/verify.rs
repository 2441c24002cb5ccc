//! `mosaic bench verify`: (being written) the calibration table of fingerprint matching.

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct BenchVerifyArgs {
    /// Simulate the economics of cheating instead (see `economics.rs`).
    #[arg(long)]
    pub economics: bool,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn verify(args: &BenchVerifyArgs) -> Result<()> {
    if args.economics {
        return super::economics::run(args.json);
    }
    anyhow::bail!("not written yet")
}
