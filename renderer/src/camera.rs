//! The perspective camera: pixel coordinates to primary rays.
//!
//! glTF cameras look down their local -Z with +Y up; the vertical field of
//! view comes from the scene and the aspect ratio from the image size (the
//! file's own aspect ratio is ignored, so pixels stay square).

use glam::{Vec2, Vec3, Vec3A};

use crate::bvh::Ray;
use crate::scene;

/// A pinhole camera prepared for one image size.
#[derive(Clone, Debug)]
pub struct PerspectiveCamera {
    origin: Vec3A,
    /// World-space offset of one pixel to the right.
    pixel_right: Vec3A,
    /// World-space offset of one pixel down.
    pixel_down: Vec3A,
    /// World-space direction through the top-left corner of the image.
    top_left: Vec3A,
}

impl PerspectiveCamera {
    pub fn new(camera: &scene::Camera, width: u32, height: u32) -> Self {
        let width = width.max(1) as f32;
        let height = height.max(1) as f32;
        let tan_half = (camera.yfov.clamp(1e-4, std::f32::consts::PI - 1e-4) * 0.5).tan();
        let half_h = tan_half;
        let half_w = tan_half * width / height;
        let m = camera.to_world;
        let right = m.transform_vector3(Vec3::X).normalize_or(Vec3::X);
        let up = m.transform_vector3(Vec3::Y).normalize_or(Vec3::Y);
        let forward = m.transform_vector3(Vec3::NEG_Z).normalize_or(Vec3::NEG_Z);
        let origin = m.transform_point3(Vec3::ZERO);
        let top_left = forward - right * half_w + up * half_h;
        Self {
            origin: origin.into(),
            pixel_right: (right * (2.0 * half_w / width)).into(),
            pixel_down: (-up * (2.0 * half_h / height)).into(),
            top_left: top_left.into(),
        }
    }

    /// Origin, one pixel right, one pixel down and the direction through the
    /// top-left corner: what the GPU backends build the same rays from.
    pub fn basis(&self) -> (glam::Vec3, glam::Vec3, glam::Vec3, glam::Vec3) {
        (self.origin.into(), self.pixel_right.into(), self.pixel_down.into(), self.top_left.into())
    }

    /// The ray through pixel (`x`, `y`) (row 0 at the top) at the offset
    /// `jitter` in [0, 1)^2 inside the pixel.
    #[inline]
    pub fn generate_ray(&self, x: u32, y: u32, jitter: Vec2) -> Ray {
        let px = x as f32 + jitter.x;
        let py = y as f32 + jitter.y;
        let dir = self.top_left + self.pixel_right * px + self.pixel_down * py;
        Ray::new(self.origin, dir.normalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::Mat4;

    fn camera_at(to_world: Mat4, yfov: f32) -> scene::Camera {
        scene::Camera { name: None, to_world, yfov }
    }

    #[test]
    fn centre_pixel_looks_down_negative_z() {
        let cam = PerspectiveCamera::new(&camera_at(Mat4::IDENTITY, 1.0), 2, 2);
        let ray = cam.generate_ray(1, 1, Vec2::ZERO);
        assert!((ray.dir - Vec3A::NEG_Z).length() < 1e-6, "{:?}", ray.dir);
    }

    #[test]
    fn top_edge_matches_vertical_fov_and_aspect_widens_horizontally() {
        let yfov = 0.8f32;
        let cam = PerspectiveCamera::new(&camera_at(Mat4::IDENTITY, yfov), 200, 100);
        let top = cam.generate_ray(100, 0, Vec2::ZERO).dir;
        let angle = top.y.atan2(-top.z);
        assert!((angle - yfov / 2.0).abs() < 1e-4, "{angle}");
        let left = cam.generate_ray(0, 50, Vec2::ZERO).dir;
        let half_w = (-left.x / -left.z).atan();
        let expect = ((yfov / 2.0).tan() * 2.0).atan();
        assert!((half_w - expect).abs() < 1e-4, "{half_w} vs {expect}");
    }

    #[test]
    fn transform_moves_origin_and_turns_view() {
        let to_world = Mat4::from_translation(Vec3::new(1.0, 2.0, 3.0))
            * Mat4::from_rotation_y(std::f32::consts::FRAC_PI_2);
        let cam = PerspectiveCamera::new(&camera_at(to_world, 1.0), 3, 3);
        let ray = cam.generate_ray(1, 1, Vec2::splat(0.5));
        assert!((ray.origin - Vec3A::new(1.0, 2.0, 3.0)).length() < 1e-6);
        // -Z rotated by +90 degrees about Y is -X.
        assert!((ray.dir - Vec3A::NEG_X).length() < 1e-5, "{:?}", ray.dir);
    }
}
