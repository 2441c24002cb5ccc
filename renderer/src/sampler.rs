//! Random numbers for the path tracer, derived from explicit seeds.
//!
//! Every camera sample gets its own generator, seeded by hashing the tuple
//! (render seed, frame, pixel, sample index). Nothing depends on which thread
//! renders a pixel or in which order, so a frame is reproducible bit for bit.
//! This module must never read a clock, a thread id or a global counter.

/// Finalizer of SplitMix64 (Stafford's "Mix13"): a bijective 64-bit mix with
/// full avalanche, so neighbouring tuples give unrelated streams.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A PCG32 generator (O'Neill, XSH-RR output) for one camera sample.
#[derive(Clone, Debug)]
pub struct Sampler {
    state: u64,
    increment: u64,
}

const PCG_MULTIPLIER: u64 = 6_364_136_223_846_793_005;

impl Sampler {
    /// The generator of sample `sample` of pixel `pixel` (row-major index) of
    /// `frame` under the render seed `seed`.
    pub fn new(seed: u64, frame: u32, pixel: u64, sample: u32) -> Self {
        let mut h = mix64(seed ^ 0x9e37_79b9_7f4a_7c15);
        h = mix64(h ^ u64::from(frame));
        h = mix64(h ^ pixel);
        let state_seed = mix64(h ^ u64::from(sample));
        // A distinct odd increment selects one of 2^63 streams.
        let increment = (mix64(state_seed ^ 0xda94_2042_e4dd_58b5) << 1) | 1;
        let mut sampler = Self { state: 0, increment };
        sampler.step();
        sampler.state = sampler.state.wrapping_add(state_seed);
        sampler.step();
        sampler
    }

    #[inline]
    fn step(&mut self) {
        self.state = self.state.wrapping_mul(PCG_MULTIPLIER).wrapping_add(self.increment);
    }

    /// The next uniformly distributed 32-bit integer.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.step();
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// A float uniformly distributed in [0, 1): 24 random mantissa bits, so
    /// 1.0 is never returned.
    #[inline]
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Two floats in [0, 1).
    #[inline]
    pub fn next_2d(&mut self) -> glam::Vec2 {
        let x = self.next_f32();
        let y = self.next_f32();
        glam::Vec2::new(x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_tuple_gives_same_stream() {
        let mut a = Sampler::new(7, 3, 1234, 9);
        let mut b = Sampler::new(7, 3, 1234, 9);
        for _ in 0..100 {
            assert_eq!(a.next_u32(), b.next_u32());
        }
    }

    #[test]
    fn neighbouring_tuples_give_different_streams() {
        let first = |s: Sampler| {
            let mut s = s;
            (0..4).map(|_| s.next_u32()).collect::<Vec<_>>()
        };
        let base = first(Sampler::new(1, 0, 0, 0));
        assert_ne!(base, first(Sampler::new(2, 0, 0, 0)));
        assert_ne!(base, first(Sampler::new(1, 1, 0, 0)));
        assert_ne!(base, first(Sampler::new(1, 0, 1, 0)));
        assert_ne!(base, first(Sampler::new(1, 0, 0, 1)));
    }

    #[test]
    fn floats_are_in_unit_interval_with_mean_one_half() {
        let mut s = Sampler::new(42, 0, 0, 0);
        let n = 100_000;
        let mut sum = 0.0f64;
        for _ in 0..n {
            let x = s.next_f32();
            assert!((0.0..1.0).contains(&x));
            sum += f64::from(x);
        }
        let mean = sum / f64::from(n);
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }
}
