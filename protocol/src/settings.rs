//! What a frame is rendered with. The same settings, scene, frame and backend
//! give the same bytes: rendering is deterministic, which is what makes an
//! exact duplicate check possible.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The widest or tallest frame accepted, in pixels (8K).
pub const MAX_DIMENSION: u32 = 8192;
/// The most samples per pixel accepted.
pub const MAX_SPP: u32 = 65_536;
/// The most bounces a path may take.
pub const MAX_BOUNCES: u32 = 64;
/// The highest frame rate accepted.
pub const MAX_FPS: f64 = 240.0;
/// The render backends a job may ask for, fastest first. Mirrors
/// `renderer::backend::NAMES` (protocol depends on no renderer; the
/// worker's tests check that the two agree).
pub const RENDER_BACKENDS: &[&str] = &["vulkan-rt", "vulkan-compute", "cpu"];

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// Tonemapped 8-bit sRGB.
    #[default]
    Png,
    /// Linear half-float RGBA: keeps HDR for compositing.
    Exr,
}

impl ImageFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Exr => "exr",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Exr => "image/x-exr",
        }
    }
}

impl FromStr for ImageFormat {
    type Err = SettingsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "png" => Ok(ImageFormat::Png),
            "exr" => Ok(ImageFormat::Exr),
            _ => Err(SettingsError::Format(s.to_owned())),
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// A frame size, parsed from `WIDTHxHEIGHT`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl FromStr for Size {
    type Err = SettingsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SettingsError::SizeSyntax(s.to_owned());
        let (w, h) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
        let width = w.trim().parse().map_err(|_| bad())?;
        let height = h.trim().parse().map_err(|_| bad())?;
        let size = Size { width, height };
        size.validate()?;
        Ok(size)
    }
}

impl Size {
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.width == 0 || self.height == 0 {
            return Err(SettingsError::SizeZero(self.width, self.height));
        }
        if self.width > MAX_DIMENSION || self.height > MAX_DIMENSION {
            return Err(SettingsError::SizeTooLarge(self.width, self.height));
        }
        Ok(())
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// Everything that decides a frame's pixels besides the scene and the frame
/// number.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct RenderSettings {
    pub width: u32,
    pub height: u32,
    pub spp: u32,
    pub max_bounces: u32,
    pub seed: u64,
    pub fps: f64,
    /// A camera by name; `None` takes the scene's first camera.
    pub camera: Option<String>,
    pub format: ImageFormat,
    /// The render backend every frame must be rendered with (one of
    /// [`RENDER_BACKENDS`]); `None` lets the farm choose: a worker uses the
    /// fastest it has.
    #[serde(default)]
    pub backend: Option<String>,
}

impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            width: 640,
            height: 360,
            spp: 64,
            max_bounces: 8,
            seed: 0,
            fps: 24.0,
            camera: None,
            format: ImageFormat::Png,
            backend: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    #[error("size {0:?} is not WIDTHxHEIGHT (for example 1920x1080)")]
    SizeSyntax(String),
    #[error("size {0}x{1} has no pixels: width and height must be at least 1")]
    SizeZero(u32, u32),
    #[error("size {0}x{1} is too large: width and height may be at most {MAX_DIMENSION}")]
    SizeTooLarge(u32, u32),
    #[error("spp {0} is out of range: samples per pixel must be 1 to {MAX_SPP}")]
    Spp(u32),
    #[error("bounces {0} is out of range: 1 to {MAX_BOUNCES}")]
    Bounces(u32),
    #[error("fps {0} is out of range: more than 0 and at most {MAX_FPS}")]
    Fps(f64),
    #[error("format {0:?} is not png or exr")]
    Format(String),
    #[error("render backend {0:?} is unknown: choose {choices}", choices = backend_choices())]
    Backend(String),
}

/// "vulkan-rt, vulkan-compute or cpu".
fn backend_choices() -> String {
    match RENDER_BACKENDS.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => "none".to_owned(),
    }
}

impl RenderSettings {
    /// The time in seconds at which frame `frame` (numbered from 1) samples
    /// the scene's animations.
    pub fn time_of_frame(&self, frame: u32) -> f32 {
        (f64::from(frame.saturating_sub(1)) / self.fps) as f32
    }

    pub fn size(&self) -> Size {
        Size { width: self.width, height: self.height }
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        self.size().validate()?;
        if self.spp == 0 || self.spp > MAX_SPP {
            return Err(SettingsError::Spp(self.spp));
        }
        if self.max_bounces == 0 || self.max_bounces > MAX_BOUNCES {
            return Err(SettingsError::Bounces(self.max_bounces));
        }
        if !(self.fps > 0.0 && self.fps <= MAX_FPS) {
            return Err(SettingsError::Fps(self.fps));
        }
        if let Some(backend) = &self.backend {
            if !RENDER_BACKENDS.contains(&backend.as_str()) {
                return Err(SettingsError::Backend(backend.clone()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_reject_empty_or_huge() {
        assert_eq!("640x360".parse::<Size>().unwrap(), Size { width: 640, height: 360 });
        assert_eq!("0x0".parse::<Size>(), Err(SettingsError::SizeZero(0, 0)));
        assert_eq!(
            "100000x100000".parse::<Size>(),
            Err(SettingsError::SizeTooLarge(100000, 100000))
        );
        assert!(matches!("640".parse::<Size>(), Err(SettingsError::SizeSyntax(_))));
        assert!(matches!("axb".parse::<Size>(), Err(SettingsError::SizeSyntax(_))));
    }

    #[test]
    fn spp_zero_is_rejected() {
        let s = RenderSettings { spp: 0, ..Default::default() };
        assert_eq!(s.validate(), Err(SettingsError::Spp(0)));
        assert!(RenderSettings::default().validate().is_ok());
    }

    #[test]
    fn backends_are_checked_by_name() {
        for name in RENDER_BACKENDS {
            let s = RenderSettings { backend: Some((*name).to_owned()), ..Default::default() };
            assert!(s.validate().is_ok(), "{name}");
        }
        let s = RenderSettings { backend: Some("optix".into()), ..Default::default() };
        let err = s.validate().unwrap_err();
        assert_eq!(err, SettingsError::Backend("optix".into()));
        assert_eq!(
            err.to_string(),
            "render backend \"optix\" is unknown: choose vulkan-rt, vulkan-compute or cpu"
        );
    }

    #[test]
    fn settings_without_a_backend_still_parse() {
        let mut json = serde_json::to_value(RenderSettings::default()).unwrap();
        json.as_object_mut().unwrap().remove("backend");
        let s: RenderSettings = serde_json::from_value(json).unwrap();
        assert_eq!(s.backend, None);
    }

    #[test]
    fn frame_one_is_time_zero() {
        let s = RenderSettings { fps: 24.0, ..Default::default() };
        assert_eq!(s.time_of_frame(1), 0.0);
        assert!((s.time_of_frame(25) - 1.0).abs() < 1e-6);
    }
}
