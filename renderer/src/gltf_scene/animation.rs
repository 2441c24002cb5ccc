//! Node animation: translation, rotation and scale channels, sampled with
//! STEP, LINEAR (slerp for rotations) or CUBICSPLINE (Hermite with the
//! stored in/out tangents) interpolation. Times outside the keys clamp to the
//! first or last key. Morph-target weights are ignored (with a warning): the
//! tracer has no morph targets.

use glam::{Quat, Vec4};
use gltf::accessor::Dimensions;
use gltf::animation::{Interpolation, Property};

use super::buffers::Buffers;
use super::{Limits, SceneError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Target {
    Translation,
    Rotation,
    Scale,
}

/// One animated property of one node, keys validated (finite, sorted).
#[derive(Clone, Debug)]
pub(super) struct Channel {
    pub node: usize,
    pub target: Target,
    interpolation: Interpolation,
    times: Vec<f32>,
    /// Vec3 values padded with w = 0; for CUBICSPLINE three per key:
    /// in-tangent, value, out-tangent.
    values: Vec<Vec4>,
}

/// Reads and checks every channel of every animation.
pub(super) fn load(
    doc: &gltf::Document,
    buffers: &Buffers,
    limits: &Limits,
) -> Result<Vec<Channel>, SceneError> {
    let mut channels = Vec::new();
    for animation in doc.animations() {
        let a = animation.index();
        for (c, channel) in animation.channels().enumerate() {
            let fail =
                |problem: String| SceneError::Animation { animation: a, channel: c, problem };
            let target = match channel.target().property() {
                Property::Translation => Target::Translation,
                Property::Rotation => Target::Rotation,
                Property::Scale => Target::Scale,
                Property::MorphTargetWeights => {
                    tracing::warn!(
                        animation = a,
                        channel = c,
                        "morph target weights are not animated; ignored"
                    );
                    continue;
                }
            };
            let sampler = channel.sampler();
            let s = sampler.index();
            let input_ctx = format!("input of animation {a} sampler {s}");
            let times =
                buffers.read_floats(&sampler.input(), &input_ctx, &[Dimensions::Scalar], limits)?;
            if times.is_empty() {
                return Err(fail(format!("sampler {s} has no keyframes")));
            }
            if let Some(i) = times.iter().position(|t| !t.is_finite()) {
                return Err(fail(format!("sampler {s} key time {i} is not finite")));
            }
            if let Some(i) = times.windows(2).position(|w| w[1] < w[0]) {
                return Err(fail(format!("sampler {s} key times decrease at key {}", i + 1)));
            }
            let (dims, width) = match target {
                Target::Rotation => (Dimensions::Vec4, 4),
                _ => (Dimensions::Vec3, 3),
            };
            let output_ctx = format!("output of animation {a} sampler {s}");
            let flat = buffers.read_floats(&sampler.output(), &output_ctx, &[dims], limits)?;
            if let Some(i) = flat.iter().position(|v| !v.is_finite()) {
                return Err(fail(format!("sampler {s} output value {} is not finite", i / width)));
            }
            let values: Vec<Vec4> = flat
                .chunks_exact(width)
                .map(|v| Vec4::new(v[0], v[1], v[2], if width == 4 { v[3] } else { 0.0 }))
                .collect();
            let interpolation = sampler.interpolation();
            let per_key = if interpolation == Interpolation::CubicSpline { 3 } else { 1 };
            if values.len() != times.len() * per_key {
                return Err(fail(format!(
                    "sampler {s} has {} keys but {} output values ({per_key} per key expected for {interpolation:?})",
                    times.len(),
                    values.len()
                )));
            }
            if target == Target::Rotation {
                let key_values = values.iter().skip(per_key / 2).step_by(per_key);
                if let Some(i) = key_values.into_iter().position(|q| q.length_squared() < 1e-12) {
                    return Err(fail(format!("sampler {s} rotation key {i} is a zero quaternion")));
                }
            }
            channels.push(Channel {
                node: channel.target().node().index(),
                target,
                interpolation,
                times,
                values,
            });
        }
    }
    Ok(channels)
}

impl Channel {
    /// The time of the last key.
    pub fn end(&self) -> f32 {
        *self.times.last().expect("validated non-empty")
    }

    fn value(&self, key: usize) -> Vec4 {
        match self.interpolation {
            Interpolation::CubicSpline => self.values[key * 3 + 1],
            _ => self.values[key],
        }
    }

    /// The property's value at `t`: xyz for translation and scale, a
    /// quaternion (x, y, z, w) for rotation, possibly unnormalised for cubic
    /// splines (the caller normalises).
    pub fn sample(&self, t: f32) -> Vec4 {
        let times = &self.times;
        let last = times.len() - 1;
        if t.is_nan() || t <= times[0] {
            return self.value(0);
        }
        if t >= times[last] {
            return self.value(last);
        }
        // The key at or before t: times[k] <= t < times[k + 1].
        let k = times.partition_point(|&x| x <= t) - 1;
        let dt = times[k + 1] - times[k];
        if dt <= 0.0 {
            return self.value(k + 1);
        }
        let s = (t - times[k]) / dt;
        match self.interpolation {
            Interpolation::Step => self.value(k),
            Interpolation::Linear => {
                let (a, b) = (self.value(k), self.value(k + 1));
                if self.target == Target::Rotation {
                    let (qa, qb) = (Quat::from_vec4(a).normalize(), Quat::from_vec4(b).normalize());
                    Vec4::from(qa.slerp(qb, s))
                } else {
                    a.lerp(b, s)
                }
            }
            Interpolation::CubicSpline => {
                let p0 = self.values[k * 3 + 1];
                let b0 = self.values[k * 3 + 2]; // out-tangent of key k
                let a1 = self.values[(k + 1) * 3]; // in-tangent of key k + 1
                let p1 = self.values[(k + 1) * 3 + 1];
                let (s2, s3) = (s * s, s * s * s);
                p0 * (2.0 * s3 - 3.0 * s2 + 1.0)
                    + b0 * (dt * (s3 - 2.0 * s2 + s))
                    + p1 * (-2.0 * s3 + 3.0 * s2)
                    + a1 * (dt * (s3 - s2))
            }
        }
    }
}
