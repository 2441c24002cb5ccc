//! `mosaic bench verify --economics`: (being written).

use anyhow::Result;

pub fn run(_json: bool) -> Result<()> {
    anyhow::bail!("not written yet")
}
