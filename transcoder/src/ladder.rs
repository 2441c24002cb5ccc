//! One live segment in, one rendition per rung out: decode once, scale each
//! rung from the one above it (cheaper than from the source, and no worse
//! for a downscale), encode the rungs in parallel, one thread each.
//!
//! ```text
//! demux + decode ──frames──> rung 0: scale, encode, mux ──scaled──> rung 1 ... ──> rung n
//!          └──────audio packets (copied)──────┘────────────────────────┘
//! ```
//!
//! Each rendition is an MPEG-TS segment that starts with an IDR frame (a
//! fresh encoder per segment), keeps the source's timestamps (so rungs
//! switch cleanly in a player) and carries the source's AAC unchanged.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use ffmpeg::format::Pixel;
use ffmpeg::software::scaling;
use ffmpeg::{
    codec, decoder, encoder, format, frame, media, picture, Dictionary, Packet, Rational,
};
use ffmpeg_next as ffmpeg;
use protocol::Rung;

use crate::encoders::{self, H264Encoder};
use crate::{init_ffmpeg, SegmentError};

/// Frames in flight between one stage and the next.
const QUEUE: usize = 8;

/// What one rendition came out as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenditionStats {
    pub frames: u32,
    pub bytes: u64,
}

enum Item {
    Video(Arc<frame::Video>),
    Audio(Packet),
}

/// Transcodes the MPEG-TS segment at `source` into one MPEG-TS file per
/// rung (tallest first), written to `outputs` in the same order.
pub fn transcode_segment(
    source: &Path,
    rungs: &[Rung],
    outputs: &[PathBuf],
    encoder: &'static dyn H264Encoder,
) -> Result<Vec<RenditionStats>, SegmentError> {
    assert_eq!(rungs.len(), outputs.len(), "one output per rung");
    if rungs.is_empty() {
        return Ok(Vec::new());
    }
    init_ffmpeg()?;
    let mut input = format::input(&source).map_err(SegmentError::at("opening the segment"))?;
    let video = input.streams().best(media::Type::Video).ok_or(SegmentError::NoVideo)?;
    let video_index = video.index();
    let time_base = video.time_base();
    let frame_rate = Some(video.avg_frame_rate()).filter(|r| r.numerator() > 0);
    let mut decoder = codec::context::Context::from_parameters(video.parameters())
        .map_err(SegmentError::at("reading the video parameters"))?;
    decoder.set_threading(codec::threading::Config::kind(codec::threading::Type::Frame));
    let mut decoder = decoder.decoder().video().map_err(SegmentError::at("opening the decoder"))?;
    let audio = input
        .streams()
        .best(media::Type::Audio)
        .map(|s| (s.index(), s.parameters(), s.time_base()));

    // Encoder threads by each rung's share of the pixels, with half as many
    // again as there are cores, so a rung waiting on its input leaves no
    // core idle. One thread per rung on a small machine would leave the
    // tallest rung alone on one core while the others finish early.
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let pixels: u64 = rungs.iter().map(|r| u64::from(r.width) * u64::from(r.height)).sum();
    let threads_for = |rung: &Rung| {
        let share = (u64::from(rung.width) * u64::from(rung.height)) as f64 / pixels.max(1) as f64;
        ((cores as f64 * share * 1.5).ceil() as usize).clamp(1, 2 * cores)
    };

    // The rung threads, chained: each feeds the next its scaled frames.
    let (senders, receivers): (Vec<_>, Vec<_>) =
        rungs.iter().map(|_| sync_channel::<Item>(QUEUE)).unzip();
    let mut senders = senders.into_iter();
    let first_tx = senders.next().expect("at least one rung");
    let mut handles = Vec::new();
    for ((rung, path), input_rx) in rungs.iter().zip(outputs).zip(receivers) {
        let next_tx = senders.next();
        let stage = RungStage {
            rung: rung.clone(),
            path: path.clone(),
            encoder,
            threads: threads_for(rung),
            time_base,
            frame_rate,
            audio: audio.as_ref().map(|(_, p, tb)| (p.clone(), *tb)),
        };
        handles.push(
            std::thread::Builder::new()
                .name(format!("rung-{}", rung.name))
                .spawn(move || stage.run(input_rx, next_tx))
                .map_err(|e| SegmentError::Thread(e.to_string()))?,
        );
    }

    let decoded = decode(&mut input, &mut decoder, video_index, audio.map(|a| a.0), &first_tx);
    drop(first_tx);
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(
            handle.join().map_err(|_| SegmentError::Thread("a rung thread panicked".into()))?,
        );
    }
    // A rung's own error explains more than the closed channel that the
    // decoder saw because of it.
    let stats = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let frames = decoded?;
    if frames == 0 {
        return Err(SegmentError::NoFrames);
    }
    Ok(stats)
}

/// Demuxes and decodes, sending frames and audio packets to the first rung.
/// Returns the frames decoded.
fn decode(
    input: &mut format::context::Input,
    decoder: &mut decoder::Video,
    video_index: usize,
    audio_index: Option<usize>,
    out: &SyncSender<Item>,
) -> Result<u32, SegmentError> {
    let mut frames = 0;
    let mut last_pts: Option<i64> = None;
    let mut send_frames = |decoder: &mut decoder::Video| -> Result<(), SegmentError> {
        let mut decoded = frame::Video::empty();
        while decoder.receive_frame(&mut decoded).is_ok() {
            // The encoder picks its own frame types: a source I-frame must
            // not force one.
            decoded.set_kind(picture::Type::None);
            // Encoders and muxers need strictly increasing timestamps; a
            // source that repeats one gets it nudged by a tick.
            let pts = match (decoded.timestamp(), last_pts) {
                (Some(t), Some(last)) if t <= last => Some(last + 1),
                (None, Some(last)) => Some(last + 1),
                (t, _) => t,
            };
            last_pts = pts.or(last_pts);
            decoded.set_pts(pts);
            let item =
                Item::Video(Arc::new(std::mem::replace(&mut decoded, frame::Video::empty())));
            out.send(item).map_err(|_| SegmentError::Thread("a rung stopped early".into()))?;
            frames += 1;
        }
        Ok(())
    };
    for (stream, packet) in input.packets() {
        let index = stream.index();
        if index == video_index {
            decoder.send_packet(&packet).map_err(SegmentError::at("decoding video"))?;
            send_frames(decoder)?;
        } else if Some(index) == audio_index {
            out.send(Item::Audio(packet))
                .map_err(|_| SegmentError::Thread("a rung stopped early".into()))?;
        }
    }
    decoder.send_eof().map_err(SegmentError::at("flushing the decoder"))?;
    send_frames(decoder)?;
    Ok(frames)
}

struct RungStage {
    rung: Rung,
    path: PathBuf,
    encoder: &'static dyn H264Encoder,
    threads: usize,
    time_base: Rational,
    frame_rate: Option<Rational>,
    audio: Option<(codec::Parameters, Rational)>,
}

impl RungStage {
    fn run(
        self,
        input: Receiver<Item>,
        next: Option<SyncSender<Item>>,
    ) -> Result<RenditionStats, SegmentError> {
        let result = self.encode(input, &next);
        drop(next);
        if result.is_err() {
            let _ = std::fs::remove_file(&self.path);
        }
        result
    }

    fn encode(
        &self,
        input: Receiver<Item>,
        next: &Option<SyncSender<Item>>,
    ) -> Result<RenditionStats, SegmentError> {
        let mut encoder = encoders::open(
            self.encoder,
            &self.rung,
            self.time_base,
            self.frame_rate,
            self.threads,
        )?;
        let mut output = format::output_as(&self.path, "mpegts")
            .map_err(SegmentError::at("creating the rendition"))?;
        let codec = encoder::find_by_name(self.encoder.name())
            .ok_or(SegmentError::NoEncoder(self.encoder.name()))?;
        let mut video =
            output.add_stream(codec).map_err(SegmentError::at("adding the video stream"))?;
        video.set_parameters(&encoder);
        video.set_time_base(self.time_base);
        if let Some(rate) = self.frame_rate {
            video.set_avg_frame_rate(rate);
        }
        if let Some((parameters, time_base)) = &self.audio {
            let mut audio = output
                .add_stream(encoder::find(codec::Id::None))
                .map_err(SegmentError::at("adding the audio stream"))?;
            audio.set_parameters(parameters.clone());
            audio.set_time_base(*time_base);
            // SAFETY: the stream was just added and nothing else holds it.
            unsafe { (*audio.parameters().as_mut_ptr()).codec_tag = 0 };
        }
        let mut options = Dictionary::new();
        // Keep the source's timestamps: without this the muxer adds 1.4 s.
        options.set("mpegts_copyts", "1");
        output
            .write_header_with(options)
            .map_err(SegmentError::at("writing the rendition header"))?;
        let video_tb = output.stream(0).expect("added above").time_base();
        let audio_tb = output.stream(1).map(|s| s.time_base());

        let mut scaler: Option<(scaling::Context, (Pixel, u32, u32))> = None;
        let mut frames = 0u32;
        for item in input {
            match item {
                Item::Audio(mut packet) => {
                    if let Some(next) = next {
                        let _ = next.send(Item::Audio(packet.clone()));
                    }
                    let (Some((_, in_tb)), Some(out_tb)) = (&self.audio, audio_tb) else {
                        continue;
                    };
                    packet.set_stream(1);
                    packet.rescale_ts(*in_tb, out_tb);
                    packet.set_position(-1);
                    packet
                        .write_interleaved(&mut output)
                        .map_err(SegmentError::at("writing audio"))?;
                }
                Item::Video(source) => {
                    let picture = self.scale(&source, &mut scaler)?;
                    if let Some(next) = next {
                        // A rung that failed drops its input: carry on alone.
                        let _ = next.send(Item::Video(picture.clone()));
                    }
                    encoder.send_frame(&picture).map_err(SegmentError::at("encoding"))?;
                    frames += 1;
                    write_packets(&mut encoder, &mut output, self.time_base, video_tb)?;
                }
            }
        }
        encoder.send_eof().map_err(SegmentError::at("flushing the encoder"))?;
        write_packets(&mut encoder, &mut output, self.time_base, video_tb)?;
        output.write_trailer().map_err(SegmentError::at("finishing the rendition"))?;
        let bytes = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        Ok(RenditionStats { frames, bytes })
    }

    /// The picture at this rung's size in YUV 4:2:0: the input itself when
    /// it already is, else a fresh scaled copy.
    fn scale(
        &self,
        source: &Arc<frame::Video>,
        scaler: &mut Option<(scaling::Context, (Pixel, u32, u32))>,
    ) -> Result<Arc<frame::Video>, SegmentError> {
        let (w, h) = (self.rung.width, self.rung.height);
        let from = (source.format(), source.width(), source.height());
        if from == (Pixel::YUV420P, w, h) {
            return Ok(source.clone());
        }
        if scaler.as_ref().map(|(_, f)| *f) != Some(from) {
            let ctx = scaling::Context::get(
                from.0,
                from.1,
                from.2,
                Pixel::YUV420P,
                w,
                h,
                scaling::Flags::BICUBIC,
            )
            .map_err(SegmentError::at("setting up the scaler"))?;
            *scaler = Some((ctx, from));
        }
        let (ctx, _) = scaler.as_mut().expect("set above");
        let mut out = frame::Video::new(Pixel::YUV420P, w, h);
        ctx.run(source, &mut out).map_err(SegmentError::at("scaling"))?;
        out.set_pts(source.pts());
        Ok(Arc::new(out))
    }
}

fn write_packets(
    encoder: &mut encoder::Video,
    output: &mut format::context::Output,
    encoder_tb: Rational,
    stream_tb: Rational,
) -> Result<(), SegmentError> {
    let mut packet = Packet::empty();
    loop {
        match encoder.receive_packet(&mut packet) {
            Ok(()) => {
                packet.set_stream(0);
                packet.rescale_ts(encoder_tb, stream_tb);
                packet.write_interleaved(output).map_err(SegmentError::at("writing video"))?;
            }
            Err(ffmpeg::Error::Eof) => return Ok(()),
            Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                return Ok(())
            }
            Err(e) => return Err(SegmentError::at("receiving encoded video")(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::probe_segment;
    use std::process::Command;

    fn source_segment(dir: &Path, size: &str, seconds: u32) -> PathBuf {
        let path = dir.join("source.ts");
        let status = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg(format!("testsrc2=s={size}:r=30"))
            .args(["-f", "lavfi", "-i", "sine=f=440:r=48000", "-t", &seconds.to_string()])
            .args([
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-g",
                "300",
                "-c:a",
                "aac",
                "-f",
                "mpegts",
            ])
            .arg(&path)
            .status()
            .expect("run ffmpeg (installed by scripts/install-deps.sh)");
        assert!(status.success());
        path
    }

    #[test]
    fn every_rung_starts_with_a_keyframe_and_keeps_timing_and_audio() {
        let dir = tempfile::tempdir().unwrap();
        let source = source_segment(dir.path(), "640x360", 2);
        let rungs = protocol::ladder::for_source(
            &[
                protocol::RungSpec { height: 360, bitrate: 800_000 },
                protocol::RungSpec { height: 240, bitrate: 400_000 },
                protocol::RungSpec { height: 144, bitrate: 200_000 },
            ],
            640,
            360,
        );
        let outputs: Vec<PathBuf> =
            rungs.iter().map(|r| dir.path().join(format!("{}.ts", r.name))).collect();
        let stats = transcode_segment(&source, &rungs, &outputs, &encoders::Libx264).unwrap();
        let src = probe_segment(&source).unwrap();
        let src_video = src.video.unwrap();
        for ((rung, path), stats) in rungs.iter().zip(&outputs).zip(&stats) {
            let probe = probe_segment(path).unwrap();
            let video = probe.video.unwrap();
            assert_eq!((video.width, video.height), (rung.width, rung.height));
            assert!(video.starts_with_keyframe, "{}", rung.name);
            assert_eq!(video.frames, 60);
            assert_eq!(stats.frames, 60);
            assert!(video.codec.starts_with("avc1."), "{}", video.codec);
            assert!(
                (video.start - src_video.start).abs() < 1e-6,
                "{} starts at {}",
                rung.name,
                video.start
            );
            assert!((video.duration - src_video.duration).abs() < 1e-6);
            let audio = probe.audio.expect("audio carried");
            assert_eq!(audio.codec, "mp4a.40.2");
            assert_eq!(audio.packets, src.audio.as_ref().unwrap().packets);
        }
    }

    #[test]
    fn a_segment_that_is_not_video_is_an_error_and_leaves_no_files() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.ts");
        std::fs::write(&garbage, vec![0x47; 188 * 10]).unwrap();
        let rung = Rung { name: "360p".into(), width: 640, height: 360, bitrate: 600_000 };
        let out = dir.path().join("out.ts");
        let err =
            transcode_segment(&garbage, &[rung], std::slice::from_ref(&out), &encoders::Libx264)
                .unwrap_err();
        assert!(matches!(err, SegmentError::NoVideo | SegmentError::Ffmpeg { .. }), "{err}");
        assert!(!out.exists());
    }
}
