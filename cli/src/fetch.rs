//! `mosaic fetch JOB --out DIR`: a job's finished frames and video onto disk.
//!
//! Every file is checked against the content id the orchestrator lists for
//! it, written to a temporary name and renamed into place, so an interrupted
//! fetch never leaves a half file under a frame's name, and a second run
//! skips what is already there and fetches only the rest.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use protocol::api::FrameState;
use protocol::{ContentId, ImageFormat, JobId};
use serde_json::json;

use crate::client::Client;
use crate::jobs::not_done;
use crate::output::{frame_ranges, print_json};

/// A frame's file name: the number zero-padded to 4 digits (more when the
/// number needs them), so names sort in frame order.
pub fn frame_file_name(frame: u32, format: ImageFormat) -> String {
    format!("{frame:04}.{}", format.extension())
}

pub const VIDEO_FILE_NAME: &str = "video.mp4";

pub fn fetch(client: &Client, job: JobId, dir: &Path, json: bool) -> Result<ExitCode> {
    let detail = client.job(job)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;

    let done: Vec<(u32, ContentId)> = detail
        .frames
        .iter()
        .filter(|f| f.state == FrameState::Done)
        .filter_map(|f| f.cid.map(|cid| (f.frame, cid)))
        .collect();
    let mut missing: Vec<u32> = detail
        .frames
        .iter()
        .filter(|f| f.state != FrameState::Done || f.cid.is_none())
        .map(|f| f.frame)
        .collect();
    missing.sort_unstable();

    let total = done.len() as u64 + u64::from(detail.video.is_some());
    let bar = if json { ProgressBar::hidden() } else { ProgressBar::new(total) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} files  {msg}")
            .expect("a valid progress template"),
    );

    let mut frames = Vec::with_capacity(done.len());
    let mut fetched = 0usize;
    for (frame, cid) in &done {
        let path = dir.join(frame_file_name(*frame, detail.settings.format));
        bar.set_message(format!("frame {frame}"));
        if !already_there(&path, cid)? {
            download_verified(client, &format!("/api/jobs/{job}/frames/{frame}"), &path, cid)
                .with_context(|| format!("fetching frame {frame}"))?;
            fetched += 1;
        }
        frames.push(path);
        bar.inc(1);
    }
    let video = match &detail.video {
        Some(cid) => {
            let path = dir.join(VIDEO_FILE_NAME);
            bar.set_message("video");
            if !already_there(&path, cid)? {
                download_verified(client, &format!("/api/jobs/{job}/video"), &path, cid)
                    .context("fetching the video")?;
                fetched += 1;
            }
            bar.inc(1);
            Some(path)
        }
        None => None,
    };
    bar.finish_and_clear();

    if json {
        print_json(&json!({
            "job": job,
            "dir": dir,
            "frames": frames,
            "video": video,
            "missing": missing,
        }))?;
    } else {
        let present = frames.len() + usize::from(video.is_some()) - fetched;
        println!(
            "{} frame(s) in {} ({fetched} fetched, {present} already there)",
            frames.len(),
            dir.display()
        );
        if let Some(video) = &video {
            println!("video: {}", video.display());
        }
        if !missing.is_empty() {
            eprintln!(
                "job {job} is {}: frames {} are not done ({})",
                detail.summary.state.as_str(),
                frame_ranges(&missing),
                not_done(&detail).join(", ")
            );
            if let Some(error) = &detail.error {
                eprintln!("error: {error}");
            }
        }
    }
    Ok(if missing.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Whether `path` already holds exactly the blob `cid`.
fn already_there(path: &Path, cid: &ContentId) -> Result<bool> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut hasher = blake3::Hasher::new();
    std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(ContentId::from_hash(hasher.finalize()) == *cid)
}

/// The name a download is written under until it is verified.
fn partial_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

fn download_verified(client: &Client, url_path: &str, path: &Path, cid: &ContentId) -> Result<()> {
    let mut body = client.download(url_path)?;
    let partial = partial_path(path);
    let result = (|| -> Result<()> {
        let file = File::create(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        let mut out = HashingWriter { inner: BufWriter::new(file), hasher: blake3::Hasher::new() };
        std::io::copy(&mut body, &mut out)
            .with_context(|| format!("downloading to {}", partial.display()))?;
        let got = ContentId::from_hash(out.hasher.finalize());
        if got != *cid {
            anyhow::bail!("the orchestrator sent bytes with content id {got}, but lists {cid}");
        }
        let file = out.inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&partial, path)
            .with_context(|| format!("cannot move {} to {}", partial.display(), path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Writes through while hashing, so a download is read once.
struct HashingWriter<W> {
    inner: W,
    hasher: blake3::Hasher,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_files_are_zero_padded_to_four_digits_or_more() {
        assert_eq!(frame_file_name(1, ImageFormat::Png), "0001.png");
        assert_eq!(frame_file_name(48, ImageFormat::Exr), "0048.exr");
        assert_eq!(frame_file_name(9999, ImageFormat::Png), "9999.png");
        assert_eq!(frame_file_name(123_456, ImageFormat::Png), "123456.png");
    }

    #[test]
    fn only_a_file_with_the_right_content_counts_as_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0001.png");
        let cid = ContentId::of(b"frame one");
        assert!(!already_there(&path, &cid).unwrap());
        std::fs::write(&path, b"frame on").unwrap();
        assert!(!already_there(&path, &cid).unwrap());
        std::fs::write(&path, b"frame one").unwrap();
        assert!(already_there(&path, &cid).unwrap());
    }

    #[test]
    fn partial_downloads_are_hidden_next_to_their_target() {
        assert_eq!(partial_path(Path::new("out/0001.png")), Path::new("out/.0001.png.partial"));
    }
}
