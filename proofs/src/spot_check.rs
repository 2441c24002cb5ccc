//! Which finished tasks are duplicated on another operator's node and compared (a spot check),
//! and which frames of a segment a check compares.
//!
//! A worker never learns in advance whether its result will be checked nor which frames of a
//! segment count: both are drawn from the orchestrator's random number generator after the
//! result is handed in. A node's first results are always checked (the warmup), so a new node
//! cannot cheat from its first task. This module never draws a decision from anything a worker
//! controls, and it holds no state: the caller counts a node's results.

use std::collections::BTreeSet;

use rand::Rng;
use serde::Serialize;

/// The default share of results checked after the warmup (DESIGN.md: p = 0.1).
pub const DEFAULT_RATE: f64 = 0.1;

/// The default number of a node's first results that are always checked.
pub const DEFAULT_WARMUP_TASKS: u64 = 20;

/// Why a spot-check policy was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PolicyError {
    #[error(
        "the spot-check rate {rate} is not a probability: it must be a finite number in [0, 1]"
    )]
    RateOutOfRange { rate: f64 },
}

/// How often a node's results are duplicated on another node.
///
/// Build it with [`SpotCheckPolicy::new`], which refuses a rate that is not a probability; the
/// fields are public so the configuration can print them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SpotCheckPolicy {
    /// Probability that a result is checked once the warmup is over, in [0, 1].
    pub rate: f64,
    /// A node's first `warmup_tasks` results are always checked.
    pub warmup_tasks: u64,
}

impl Default for SpotCheckPolicy {
    fn default() -> Self {
        SpotCheckPolicy { rate: DEFAULT_RATE, warmup_tasks: DEFAULT_WARMUP_TASKS }
    }
}

impl SpotCheckPolicy {
    /// A policy checking a share `rate` of results after a node's first `warmup_tasks`, which
    /// are all checked.
    pub fn new(rate: f64, warmup_tasks: u64) -> Result<Self, PolicyError> {
        if !rate.is_finite() || !(0.0..=1.0).contains(&rate) {
            return Err(PolicyError::RateOutOfRange { rate });
        }
        Ok(SpotCheckPolicy { rate, warmup_tasks })
    }

    /// Probability that a node's next result is checked, given how many results it handed in
    /// before this one: 1.0 during the warmup, the rate after it.
    pub fn probability(&self, results_before: u64) -> f64 {
        if results_before < self.warmup_tasks {
            1.0
        } else {
            self.rate
        }
    }

    /// Draws whether a node's next result is checked, given how many results it handed in
    /// before this one.
    pub fn decide(&self, results_before: u64, rng: &mut impl Rng) -> bool {
        let p = self.probability(results_before);
        if p >= 1.0 {
            return true;
        }
        // A rate built without `new` may be out of range: never check more than all results
        // nor fewer than none, rather than panic in the orchestrator.
        rng.gen_bool(p.clamp(0.0, 1.0))
    }

    /// Probability that a node cheating on a share `f` of its `n` tasks after the warmup is
    /// caught at least once, when every checked tampered task is detected: `1-(1-p*f)^n`.
    ///
    /// With a detection probability `d` below 1, pass `f*d`.
    ///
    /// # Panics
    /// If `f` is not in [0, 1].
    pub fn detection_theory(&self, f: f64, n: u64) -> f64 {
        assert!((0.0..=1.0).contains(&f), "a cheat share must be in [0, 1], not {f}");
        if n == 0 {
            return 0.0;
        }
        let per_task = (self.rate * f).clamp(0.0, 1.0);
        // 1 - (1-q)^n without the cancellation of 1 - (something close to 1) for small q.
        -((n as f64) * (-per_task).ln_1p()).exp_m1()
    }
}

/// Picks `count` distinct sample times in `[0, duration_ms)`, uniformly at random among all sets
/// of that size, sorted, for a segment's fingerprint: the worker cannot know which frames count.
///
/// A segment shorter than `count` milliseconds gives every millisecond, `duration_ms` times.
pub fn sample_times_ms(duration_ms: u64, count: usize, rng: &mut impl Rng) -> Vec<u64> {
    let count = (count as u64).min(duration_ms);
    // Robert Floyd's algorithm: `count` draws, each set of `count` times equally likely, no
    // allocation proportional to the duration.
    let mut times = BTreeSet::new();
    for j in duration_ms - count..duration_ms {
        let t = rng.gen_range(0..=j);
        if !times.insert(t) {
            times.insert(j);
        }
    }
    times.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn default_policy_checks_a_tenth_after_twenty_tasks() {
        let policy = SpotCheckPolicy::default();
        assert_eq!(policy, SpotCheckPolicy::new(0.1, 20).unwrap());
        assert_eq!(policy.probability(0), 1.0);
        assert_eq!(policy.probability(19), 1.0);
        assert_eq!(policy.probability(20), 0.1);
        assert_eq!(policy.probability(1_000_000), 0.1);
    }

    #[test]
    fn rate_that_is_not_a_probability_is_refused() {
        for rate in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
            let err = SpotCheckPolicy::new(rate, 20).unwrap_err();
            assert!(err.to_string().contains("[0, 1]"), "{err}");
        }
        assert!(SpotCheckPolicy::new(0.0, 0).is_ok());
        assert!(SpotCheckPolicy::new(1.0, 0).is_ok());
    }

    #[test]
    fn warmup_results_are_always_checked() {
        let policy = SpotCheckPolicy::new(0.0, 20).unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        assert!((0..20).all(|i| policy.decide(i, &mut rng)));
        assert!((20..1000).all(|i| !policy.decide(i, &mut rng)));
    }

    #[test]
    fn checked_share_after_warmup_is_the_rate() {
        let policy = SpotCheckPolicy::default();
        let mut rng = StdRng::seed_from_u64(2);
        let n = 100_000;
        let checked = (0..n).filter(|_| policy.decide(20, &mut rng)).count() as f64;
        let se = (0.1 * 0.9 / n as f64).sqrt();
        assert!((checked / n as f64 - 0.1).abs() < 4.0 * se, "{checked}");
    }

    #[test]
    fn detection_theory_matches_the_closed_form() {
        let policy = SpotCheckPolicy::default();
        assert_eq!(policy.detection_theory(0.5, 0), 0.0);
        assert_eq!(policy.detection_theory(0.0, 1000), 0.0);
        for (f, n) in [(0.01_f64, 10_u64), (0.1, 50), (0.5, 200), (1.0, 3)] {
            let closed = 1.0 - (1.0 - 0.1 * f).powi(n as i32);
            assert!((policy.detection_theory(f, n) - closed).abs() < 1e-12);
        }
        let always = SpotCheckPolicy::new(1.0, 0).unwrap();
        assert_eq!(always.detection_theory(1.0, 1), 1.0);
    }

    #[test]
    fn sample_times_are_distinct_sorted_and_in_range() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..1000 {
            let times = sample_times_ms(2000, 8, &mut rng);
            assert_eq!(times.len(), 8);
            assert!(times.windows(2).all(|w| w[0] < w[1]));
            assert!(times.iter().all(|&t| t < 2000));
        }
        assert_eq!(sample_times_ms(5, 10, &mut rng), vec![0, 1, 2, 3, 4]);
        assert!(sample_times_ms(0, 3, &mut rng).is_empty());
        assert!(sample_times_ms(1000, 0, &mut rng).is_empty());
    }

    #[test]
    fn sample_times_cover_the_segment_uniformly() {
        // Every millisecond of a 10 ms segment is picked by 3 draws with probability 3/10.
        let mut rng = StdRng::seed_from_u64(4);
        let runs = 30_000;
        let mut hits = [0u32; 10];
        for _ in 0..runs {
            for t in sample_times_ms(10, 3, &mut rng) {
                hits[t as usize] += 1;
            }
        }
        let se = (0.3 * 0.7 / f64::from(runs)).sqrt();
        for (t, &h) in hits.iter().enumerate() {
            let share = f64::from(h) / f64::from(runs);
            assert!((share - 0.3).abs() < 4.0 * se, "t={t}: {share}");
        }
    }
}
