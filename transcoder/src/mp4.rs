//! PNG frames in, an H.264 MP4 out: libx264, yuv420p, `+faststart`, so any player (and
//! ffprobe) reads it and a browser can start playing before the whole file has arrived.
//!
//! Frames stream through one at a time: memory stays at a frame or two whatever the length.
//! yuv420p halves the chroma resolution, so odd widths and heights are padded up to even by
//! repeating the last column and row; [`Mp4Info`] reports the encoded (even) size.

use std::path::Path;

use ffmpeg::format::Pixel;
use ffmpeg::software::scaling;
use ffmpeg::{codec, encoder, format, frame, Dictionary, Packet, Rational};
use ffmpeg_next as ffmpeg;

use crate::init_ffmpeg;

/// x264's speed/size trade-off; "medium" is x264's own default.
const PRESET: &str = "medium";
/// Constant rate factor: 18 is visually lossless for rendered frames.
const CRF: &str = "18";
/// A keyframe at least every this many seconds, so players can seek.
const GOP_SECONDS: f64 = 2.0;
const MAX_FPS: f64 = 1000.0;

/// What was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mp4Info {
    pub frames: u32,
    /// The encoded size: the frames' size rounded up to even.
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error("no frames to encode")]
    NoFrames,
    #[error("frame rate {0} is not a number between 0 and {MAX_FPS}")]
    FrameRate(f64),
    #[error("frame {index} is not a readable PNG: {source}")]
    FrameDecode {
        index: u32,
        #[source]
        source: png::DecodingError,
    },
    #[error("frame {index} is a {bits}-bit {colour:?} PNG; frames must be 8-bit RGB or RGBA")]
    FramePixelFormat { index: u32, colour: png::ColorType, bits: u8 },
    #[error(
        "frame {index} is {width}x{height} but frame 0 is {first_width}x{first_height}; \
         every frame of a video must have the same size"
    )]
    FrameSize { index: u32, width: u32, height: u32, first_width: u32, first_height: u32 },
    #[error("this FFmpeg has no libx264 encoder (install libavcodec with x264 support)")]
    NoX264,
    #[error("{step} failed: {source}")]
    Ffmpeg {
        step: &'static str,
        #[source]
        source: ffmpeg::Error,
    },
}

/// Labels an FFmpeg error with the step that failed.
fn at(step: &'static str) -> impl FnOnce(ffmpeg::Error) -> TranscodeError {
    move |source| TranscodeError::Ffmpeg { step, source }
}

/// Encodes `frames` (PNG files, in order, all the same size, 8-bit RGB or RGBA) at `fps` into an
/// H.264 MP4 at `out`. Frame N is shown at time N/fps. On error no partial file is left behind.
pub fn encode_mp4_from_pngs(
    frames: impl IntoIterator<Item = Vec<u8>>,
    fps: f64,
    out: &Path,
) -> Result<Mp4Info, TranscodeError> {
    if !(fps.is_finite() && fps > 0.0 && fps <= MAX_FPS) {
        return Err(TranscodeError::FrameRate(fps));
    }
    init_ffmpeg()?;
    let mut video: Option<Mp4Writer> = None;
    let result = (|| {
        for (index, png) in frames.into_iter().enumerate() {
            let index = index as u32;
            let picture = Picture::decode(index, &png)?;
            let writer = match &mut video {
                Some(writer) => writer,
                None => video.insert(Mp4Writer::create(out, fps, picture.width, picture.height)?),
            };
            writer.push(index, &picture)?;
        }
        video.take().ok_or(TranscodeError::NoFrames)?.finish()
    })();
    if result.is_err() {
        drop(video);
        // Best effort: the file may never have been created.
        let _ = std::fs::remove_file(out);
    }
    result
}

/// One decoded frame, 8-bit RGB or RGBA, rows packed.
struct Picture {
    width: u32,
    height: u32,
    pixel: Pixel,
    data: Vec<u8>,
}

impl Picture {
    fn decode(index: u32, png: &[u8]) -> Result<Picture, TranscodeError> {
        let decode_error = |source| TranscodeError::FrameDecode { index, source };
        let mut reader = png::Decoder::new(png).read_info().map_err(decode_error)?;
        let (colour, depth) = reader.output_color_type();
        let pixel = match (colour, depth) {
            (png::ColorType::Rgb, png::BitDepth::Eight) => Pixel::RGB24,
            (png::ColorType::Rgba, png::BitDepth::Eight) => Pixel::RGBA,
            _ => return Err(TranscodeError::FramePixelFormat { index, colour, bits: depth as u8 }),
        };
        let mut data = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut data).map_err(decode_error)?;
        data.truncate(info.buffer_size());
        Ok(Picture { width: info.width, height: info.height, pixel, data })
    }

    fn bytes_per_pixel(&self) -> usize {
        if self.pixel == Pixel::RGBA {
            4
        } else {
            3
        }
    }

    /// Copies the picture into an FFmpeg frame of `width`x`height` (its size rounded up to
    /// even), repeating the last column and row into the padding.
    fn to_frame(&self, width: u32, height: u32) -> frame::Video {
        let mut frame = frame::Video::new(self.pixel, width, height);
        let stride = frame.stride(0);
        let bpp = self.bytes_per_pixel();
        let row_bytes = self.width as usize * bpp;
        let plane = frame.data_mut(0);
        for y in 0..height as usize {
            let src_y = y.min(self.height as usize - 1);
            let src = &self.data[src_y * row_bytes..][..row_bytes];
            let dst = &mut plane[y * stride..][..width as usize * bpp];
            dst[..row_bytes].copy_from_slice(src);
            for x in self.width as usize..width as usize {
                dst.copy_within(row_bytes - bpp..row_bytes, x * bpp);
            }
        }
        frame
    }
}

/// An open MP4 file with its H.264 encoder.
struct Mp4Writer {
    output: format::context::Output,
    encoder: encoder::Video,
    scaler: scaling::Context,
    source_pixel: Pixel,
    first_size: (u32, u32),
    width: u32,
    height: u32,
    encoder_time_base: Rational,
    frames: u32,
}

impl Mp4Writer {
    fn create(out: &Path, fps: f64, width: u32, height: u32) -> Result<Mp4Writer, TranscodeError> {
        let (even_width, even_height) = (width.next_multiple_of(2), height.next_multiple_of(2));
        let frame_rate = Rational::from(fps);
        let time_base = frame_rate.invert();

        let mut output = format::output_as(out, "mp4").map_err(at("creating the MP4 file"))?;
        let x264 = encoder::find_by_name("libx264").ok_or(TranscodeError::NoX264)?;
        let global_header = output.format().flags().contains(format::Flags::GLOBAL_HEADER);
        let mut stream = output.add_stream(x264).map_err(at("adding the video stream"))?;
        let mut encoder = codec::context::Context::new_with_codec(x264)
            .encoder()
            .video()
            .map_err(at("creating the H.264 encoder"))?;
        encoder.set_width(even_width);
        encoder.set_height(even_height);
        encoder.set_format(Pixel::YUV420P);
        encoder.set_time_base(time_base);
        encoder.set_frame_rate(Some(frame_rate));
        encoder.set_gop(((fps * GOP_SECONDS).round() as u32).max(1));
        if global_header {
            encoder.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut options = Dictionary::new();
        options.set("preset", PRESET);
        options.set("crf", CRF);
        let encoder = encoder.open_with(options).map_err(at("opening libx264"))?;
        stream.set_parameters(&encoder);
        stream.set_time_base(time_base);
        stream.set_avg_frame_rate(frame_rate);
        stream.set_rate(frame_rate);

        let mut muxer_options = Dictionary::new();
        muxer_options.set("movflags", "+faststart");
        output.write_header_with(muxer_options).map_err(at("writing the MP4 header"))?;

        let source_pixel = Pixel::RGB24;
        let scaler = Self::scaler(source_pixel, even_width, even_height)?;
        Ok(Mp4Writer {
            output,
            encoder,
            scaler,
            source_pixel,
            first_size: (width, height),
            width: even_width,
            height: even_height,
            encoder_time_base: time_base,
            frames: 0,
        })
    }

    fn scaler(from: Pixel, width: u32, height: u32) -> Result<scaling::Context, TranscodeError> {
        scaling::Context::get(
            from,
            width,
            height,
            Pixel::YUV420P,
            width,
            height,
            scaling::Flags::BILINEAR,
        )
        .map_err(at("setting up RGB to YUV conversion"))
    }

    fn push(&mut self, index: u32, picture: &Picture) -> Result<(), TranscodeError> {
        let (first_width, first_height) = self.first_size;
        if (picture.width, picture.height) != self.first_size {
            return Err(TranscodeError::FrameSize {
                index,
                width: picture.width,
                height: picture.height,
                first_width,
                first_height,
            });
        }
        // Frames may mix RGB and RGBA; alpha is dropped by the conversion.
        if picture.pixel != self.source_pixel {
            self.scaler = Self::scaler(picture.pixel, self.width, self.height)?;
            self.source_pixel = picture.pixel;
        }
        let rgb = picture.to_frame(self.width, self.height);
        // A fresh frame each time: the encoder may still hold a reference to the last one.
        let mut yuv = frame::Video::new(Pixel::YUV420P, self.width, self.height);
        self.scaler.run(&rgb, &mut yuv).map_err(at("converting RGB to YUV"))?;
        yuv.set_pts(Some(i64::from(index)));
        self.encoder.send_frame(&yuv).map_err(at("sending a frame to libx264"))?;
        self.frames += 1;
        self.write_packets()
    }

    /// Moves every packet the encoder has ready into the file, in the stream's time base.
    fn write_packets(&mut self) -> Result<(), TranscodeError> {
        let stream_time_base = self.output.stream(0).expect("the stream we added").time_base();
        let mut packet = Packet::empty();
        loop {
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => {
                    packet.set_stream(0);
                    packet.rescale_ts(self.encoder_time_base, stream_time_base);
                    packet
                        .write_interleaved(&mut self.output)
                        .map_err(at("writing a packet to the MP4"))?;
                }
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                    return Ok(())
                }
                Err(e) => return Err(at("receiving a packet from libx264")(e)),
            }
        }
    }

    fn finish(mut self) -> Result<Mp4Info, TranscodeError> {
        self.encoder.send_eof().map_err(at("flushing libx264"))?;
        self.write_packets()?;
        // The trailer writes the index (moov) and, with +faststart, moves it to the front.
        self.output.write_trailer().map_err(at("writing the MP4 trailer"))?;
        tracing::debug!(
            frames = self.frames,
            width = self.width,
            height = self.height,
            "MP4 written"
        );
        Ok(Mp4Info { frames: self.frames, width: self.width, height: self.height })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn png(
        width: u32,
        height: u32,
        colour: png::ColorType,
        pixel: impl Fn(u32, u32) -> [u8; 4],
    ) -> Vec<u8> {
        let channels = colour.samples();
        let data: Vec<u8> = (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .flat_map(|(x, y)| pixel(x, y)[..channels].to_vec())
            .collect();
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(colour);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&data).unwrap();
        writer.finish().unwrap();
        out
    }

    const COLOURS: [[u8; 4]; 6] = [
        [220, 30, 30, 255],
        [30, 200, 40, 255],
        [30, 40, 220, 255],
        [230, 220, 40, 255],
        [200, 40, 200, 255],
        [40, 210, 210, 255],
    ];

    /// Six frames: a different background each, with a white square moving across.
    fn six_frames(width: u32, height: u32) -> Vec<Vec<u8>> {
        (0..6u32)
            .map(|i| {
                let colour = if i % 2 == 0 { png::ColorType::Rgb } else { png::ColorType::Rgba };
                png(width, height, colour, |x, y| {
                    let in_square = (x / 8 == i) && y < 8;
                    if in_square {
                        [255; 4]
                    } else {
                        COLOURS[i as usize]
                    }
                })
            })
            .collect()
    }

    fn ffprobe(path: &Path) -> serde_json::Value {
        let out = Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
            .args([
                "-show_entries",
                "stream=codec_name,pix_fmt,width,height,nb_frames,nb_read_frames",
            ])
            .args(["-of", "json"])
            .arg(path)
            .output()
            .expect("ffprobe runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["streams"][0].clone()
    }

    /// The MP4's top-level box types, in file order.
    fn top_level_boxes(bytes: &[u8]) -> Vec<String> {
        let mut boxes = Vec::new();
        let mut at = 0usize;
        while at + 8 <= bytes.len() {
            let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as u64;
            let kind = String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned();
            let size = match size {
                0 => (bytes.len() - at) as u64,
                1 => u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap()),
                n => n,
            };
            assert!(size >= 8, "box {kind} at {at} has size {size}");
            boxes.push(kind);
            at += size as usize;
        }
        assert_eq!(at, bytes.len(), "boxes do not tile the file");
        boxes
    }

    /// The first decoded frame's pixel at (x, y), as RGB, through the ffmpeg CLI.
    fn first_frame_pixel(path: &Path, width: u32, x: u32, y: u32) -> [u8; 3] {
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(path)
            .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
            .output()
            .expect("ffmpeg runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let at = ((y * width + x) * 3) as usize;
        out.stdout[at..at + 3].try_into().unwrap()
    }

    fn assert_close(actual: [u8; 3], expected: [u8; 4]) {
        for i in 0..3 {
            let d = (i32::from(actual[i]) - i32::from(expected[i])).abs();
            assert!(d <= 12, "pixel {actual:?}, expected about {:?}", &expected[..3]);
        }
    }

    #[test]
    fn six_frames_make_a_faststart_h264_mp4() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("video.mp4");
        let info = encode_mp4_from_pngs(six_frames(64, 48), 24.0, &path).unwrap();
        assert_eq!(info, Mp4Info { frames: 6, width: 64, height: 48 });

        let stream = ffprobe(&path);
        assert_eq!(stream["codec_name"], "h264");
        assert_eq!(stream["pix_fmt"], "yuv420p");
        assert_eq!(stream["nb_read_frames"], "6");
        assert_eq!(stream["nb_frames"], "6");
        assert_eq!((stream["width"].as_u64(), stream["height"].as_u64()), (Some(64), Some(48)));

        let boxes = top_level_boxes(&std::fs::read(&path).unwrap());
        let position = |kind: &str| boxes.iter().position(|b| b == kind);
        let (moov, mdat) = (position("moov").unwrap(), position("mdat").unwrap());
        assert!(moov < mdat, "moov must precede mdat (faststart): {boxes:?}");

        // Colours survive the RGB -> YUV -> RGB round trip (no channel swap).
        assert_close(first_frame_pixel(&path, 64, 40, 30), COLOURS[0]);
    }

    #[test]
    fn odd_sizes_are_padded_to_even() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("odd.mp4");
        let frames = (0..3)
            .map(|i| png(33, 17, png::ColorType::Rgb, |x, _| COLOURS[((x / 11 + i) % 6) as usize]));
        let info = encode_mp4_from_pngs(frames, 30.0, &path).unwrap();
        assert_eq!(info, Mp4Info { frames: 3, width: 34, height: 18 });
        let stream = ffprobe(&path);
        assert_eq!((stream["width"].as_u64(), stream["height"].as_u64()), (Some(34), Some(18)));
        assert_eq!(stream["nb_read_frames"], "3");
        // The padding column repeats the last one.
        assert_close(first_frame_pixel(&path, 34, 33, 8), COLOURS[2]);
    }

    #[test]
    fn frames_of_another_size_are_refused_by_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.mp4");
        let mut frames = six_frames(32, 32);
        frames[2] = png(32, 30, png::ColorType::Rgb, |_, _| COLOURS[0]);
        let err = encode_mp4_from_pngs(frames, 24.0, &path).unwrap_err();
        assert!(
            matches!(err, TranscodeError::FrameSize { index: 2, width: 32, height: 30, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("frame 2 is 32x30"), "{err}");
        assert!(!path.exists(), "a failed encode left {path:?} behind");
    }

    #[test]
    fn no_frames_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.mp4");
        let err = encode_mp4_from_pngs(Vec::<Vec<u8>>::new(), 24.0, &path).unwrap_err();
        assert!(matches!(err, TranscodeError::NoFrames), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn unreadable_and_unsupported_frames_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.mp4");
        let mut frames = six_frames(16, 16);
        frames[1] = b"not a png".to_vec();
        let err = encode_mp4_from_pngs(frames, 24.0, &path).unwrap_err();
        assert!(matches!(err, TranscodeError::FrameDecode { index: 1, .. }), "{err}");

        let grey = png(16, 16, png::ColorType::Grayscale, |x, _| [x as u8; 4]);
        let err = encode_mp4_from_pngs([grey], 24.0, &path).unwrap_err();
        assert!(matches!(err, TranscodeError::FramePixelFormat { index: 0, bits: 8, .. }), "{err}");
        assert!(err.to_string().contains("8-bit RGB or RGBA"), "{err}");
    }

    #[test]
    fn nonsense_frame_rates_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for fps in [0.0, -24.0, f64::NAN, f64::INFINITY] {
            let err = encode_mp4_from_pngs(six_frames(16, 16), fps, &dir.path().join("x.mp4"))
                .unwrap_err();
            assert!(matches!(err, TranscodeError::FrameRate(_)), "{err}");
        }
    }
}
