//! H.264 encoders behind one small trait, chosen at run time: libx264 on
//! every node, FFmpeg's h264_nvenc where the node has a working NVIDIA GPU.
//! NVENC needs no CUDA at build time: FFmpeg loads the driver's library
//! when the encoder opens, so [`probe`] simply tries.

use ffmpeg::format::Pixel;
use ffmpeg::{codec, encoder, frame, Dictionary, Rational};
use ffmpeg_next as ffmpeg;
use protocol::Rung;

use crate::init_ffmpeg;

/// One way to encode H.264.
pub trait H264Encoder: Sync {
    /// FFmpeg's name for it; also what workers announce.
    fn name(&self) -> &'static str;

    /// Its options for a rung: preset and rate control, and how many CPU
    /// threads it may use.
    fn options(&self, rung: &Rung, threads: usize) -> Dictionary<'static>;

    /// What the machine needs for it to work, said when it does not.
    fn needs(&self) -> &'static str {
        ""
    }
}

/// libx264, at the speed/quality trade-off of the veryfast preset.
pub struct Libx264;

impl H264Encoder for Libx264 {
    fn name(&self) -> &'static str {
        "libx264"
    }

    fn options(&self, rung: &Rung, threads: usize) -> Dictionary<'static> {
        let mut d = rate_control(rung);
        d.set("preset", "veryfast");
        d.set("threads", &threads.to_string());
        d
    }
}

/// NVIDIA's hardware encoder through FFmpeg.
pub struct Nvenc;

impl H264Encoder for Nvenc {
    fn name(&self) -> &'static str {
        "h264_nvenc"
    }

    fn options(&self, rung: &Rung, _threads: usize) -> Dictionary<'static> {
        let mut d = rate_control(rung);
        d.set("preset", "p4");
        d.set("tune", "hq");
        d.set("rc", "vbr");
        d
    }

    fn needs(&self) -> &'static str {
        "it needs an NVIDIA GPU with NVENC engines and its driver (libcuda.so.1, libnvidia-encode.so.1)"
    }
}

/// Capped variable bitrate: the rung's bitrate as the average and the
/// peak, over a two-second buffer.
fn rate_control(rung: &Rung) -> Dictionary<'static> {
    let mut d = Dictionary::new();
    d.set("maxrate", &rung.bitrate.to_string());
    d.set("bufsize", &(rung.bitrate * 2).to_string());
    d
}

/// Every encoder this build knows, fastest first.
pub static ENCODERS: [&dyn H264Encoder; 2] = [&Nvenc, &Libx264];

pub fn by_name(name: &str) -> Option<&'static dyn H264Encoder> {
    ENCODERS.iter().copied().find(|e| e.name() == name)
}

/// Whether an encoder works on this machine, and if not, why.
pub struct Probe {
    pub encoder: &'static dyn H264Encoder,
    pub result: Result<(), String>,
}

/// Tries each encoder on a few small frames.
pub fn probe() -> Vec<Probe> {
    ENCODERS
        .iter()
        .map(|&encoder| {
            let result = try_encoder(encoder).map_err(|e| match encoder.needs() {
                "" => e,
                needs => format!("{e}; {needs}"),
            });
            Probe { encoder, result }
        })
        .collect()
}

/// The encoders that work here, fastest first.
pub fn available() -> Vec<&'static dyn H264Encoder> {
    probe().into_iter().filter(|p| p.result.is_ok()).map(|p| p.encoder).collect()
}

fn try_encoder(encoder: &dyn H264Encoder) -> Result<(), String> {
    init_ffmpeg().map_err(|e| e.to_string())?;
    let rung = Rung { name: "probe".into(), width: 256, height: 144, bitrate: 300_000 };
    let mut ctx = open(encoder, &rung, Rational(1, 30), Some(Rational(30, 1)), 1)
        .map_err(|e| e.to_string())?;
    for pts in 0..3 {
        let mut f = frame::Video::new(Pixel::YUV420P, rung.width, rung.height);
        for plane in 0..3 {
            f.data_mut(plane).fill(128);
        }
        f.set_pts(Some(pts));
        ctx.send_frame(&f).map_err(|e| format!("encoding a frame: {e}"))?;
    }
    ctx.send_eof().map_err(|e| format!("flushing: {e}"))?;
    let mut packet = ffmpeg::Packet::empty();
    let mut packets = 0;
    while ctx.receive_packet(&mut packet).is_ok() {
        packets += 1;
    }
    if packets == 0 {
        return Err("it produced no output".into());
    }
    Ok(())
}

/// Opens `encoder` for a rung, in `time_base`, at `frame_rate` when known.
pub(crate) fn open(
    encoder: &dyn H264Encoder,
    rung: &Rung,
    time_base: Rational,
    frame_rate: Option<Rational>,
    threads: usize,
) -> Result<encoder::Video, crate::SegmentError> {
    let name = encoder.name();
    let codec = encoder::find_by_name(name).ok_or(crate::SegmentError::NoEncoder(name))?;
    let mut ctx = codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(|source| crate::SegmentError::OpenEncoder { name, source })?;
    ctx.set_width(rung.width);
    ctx.set_height(rung.height);
    ctx.set_format(Pixel::YUV420P);
    ctx.set_time_base(time_base);
    ctx.set_frame_rate(frame_rate);
    ctx.set_bit_rate(rung.bitrate as usize);
    ctx.set_max_bit_rate(rung.bitrate as usize);
    // One keyframe per segment (the first): segments are a few seconds.
    ctx.set_gop(600);
    ctx.open_with(encoder.options(rung, threads))
        .map_err(|source| crate::SegmentError::OpenEncoder { name, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libx264_works_everywhere_and_nvenc_says_why_not() {
        let probes = probe();
        let x264 = probes.iter().find(|p| p.encoder.name() == "libx264").unwrap();
        assert_eq!(x264.result, Ok(()));
        let nvenc = probes.iter().find(|p| p.encoder.name() == "h264_nvenc").unwrap();
        // On a machine without an NVIDIA GPU the reason is FFmpeg's.
        if let Err(reason) = &nvenc.result {
            assert!(!reason.is_empty());
        }
        assert!(by_name("libx264").is_some() && by_name("vp9").is_none());
    }
}
