//! What cheating earns a node against what it risks, simulated under the farm's rules.
//!
//! A cheating node hands in a tampered result (a blank frame, a low-resolution upscale, another
//! segment...) instead of doing a share `f` of its tasks, which saves it the cost of doing them.
//! The farm answers with spot checks ([`crate::spot_check`]), stake, slashing, and rewards that
//! stay pending for a settlement window, forfeited on proven fraud. [`simulate`] plays many
//! such nodes (Monte Carlo, seeded, so a run is reproducible) and compares what they end with
//! against an honest node; [`detection_table`] measures how fast spot checks catch a cheater
//! against the closed form `1-(1-p*f)^n`.
//!
//! The model, every number a field of [`EconomicsParams`]:
//! - each task pays `price`; doing it honestly costs `honest_cost_share` of the price, a
//!   tampered one `tampered_cost_share` (about nothing);
//! - the node puts up `stake`; it gets work only while its stake is at least `min_stake`;
//! - each result is checked with the policy's probability (always during the warmup); a checked
//!   tampered result is detected with probability `detection`; an honest result always matches
//!   (false alarms go to a third node in the farm and are not modelled);
//! - a checked result that matches is paid at once; an unchecked result's reward stays pending
//!   until `settlement_window` more tasks of the node are done, then is paid;
//! - a proven fraud slashes `slash_share` of the stake and forfeits every pending reward; with
//!   the stake under the minimum the node gets no more work;
//! - a node that reaches `tasks` tasks without being stopped has its pending rewards settled
//!   (nothing can catch them any more), so the model is generous to the cheater;
//! - by default the cheater is honest during the warmup (it knows every result is checked then)
//!   and cheats on each later task with probability `f`, independently.
//!
//! Holdings are stake left + rewards paid - costs. This module never prints.

use std::collections::VecDeque;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::spot_check::SpotCheckPolicy;

/// The rules of the farm a simulated node plays under.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EconomicsParams {
    /// Credits paid for one task.
    pub price: f64,
    /// What doing a task honestly costs (electricity, hardware), as a share of its price.
    pub honest_cost_share: f64,
    /// What handing in a tampered result costs, as a share of the price.
    pub tampered_cost_share: f64,
    /// The stake the node puts up, in credits.
    pub stake: f64,
    /// The least stake a node must hold to get work, in credits.
    pub min_stake: f64,
    /// Share of the stake slashed on proven fraud.
    pub slash_share: f64,
    /// An unchecked task's reward is paid once this many more tasks of the node are done.
    pub settlement_window: u64,
    /// Which results are duplicated on another node.
    pub policy: SpotCheckPolicy,
    /// Probability that a checked tampered result is detected (the calibration: every attack
    /// of the corpus is).
    pub detection: f64,
    /// Tasks a node runs unless it is stopped first.
    pub tasks: u64,
    /// Whether the cheater also cheats during the warmup, when every result is checked.
    pub cheats_in_warmup: bool,
}

impl Default for EconomicsParams {
    fn default() -> Self {
        EconomicsParams {
            price: 1.0,
            honest_cost_share: 0.6,
            tampered_cost_share: 0.0,
            stake: 100.0,
            min_stake: 100.0,
            slash_share: 0.5,
            settlement_window: 200,
            policy: SpotCheckPolicy::default(),
            detection: 1.0,
            tasks: 2000,
            cheats_in_warmup: false,
        }
    }
}

impl EconomicsParams {
    /// Holdings of an honest node after `tasks` tasks, every reward settled.
    pub fn honest_holdings(&self, tasks: u64) -> f64 {
        // The same sums as a simulated node's, so an honest run compares equal, not within
        // rounding.
        let tasks = tasks as f64;
        self.stake + tasks * self.price - tasks * self.honest_cost_share * self.price
    }

    /// Probability that a node cheating on a share `f` of its tasks is caught at least once in
    /// `self.tasks` tasks: `1-(1-p*f*d)^(N-warmup)` when it is honest during the warmup, times
    /// `(1-f*d)^warmup` for the survival of the warmup when it cheats then too.
    pub fn caught_theory(&self, f: f64) -> f64 {
        let warmup = self.policy.warmup_tasks.min(self.tasks);
        let after = self.tasks - warmup;
        let fd = (f * self.detection).clamp(0.0, 1.0);
        let survive_after = 1.0 - self.policy.detection_theory(fd, after);
        let survive_warmup =
            if self.cheats_in_warmup { (1.0 - fd).powf(warmup as f64) } else { 1.0 };
        1.0 - survive_warmup * survive_after
    }

    fn check(&self, f: f64) {
        let shares = [
            ("cheat share", f),
            ("honest cost share", self.honest_cost_share),
            ("tampered cost share", self.tampered_cost_share),
            ("slash share", self.slash_share),
            ("detection probability", self.detection),
            ("spot-check rate", self.policy.rate),
        ];
        for (name, value) in shares {
            assert!((0.0..=1.0).contains(&value), "the {name} must be in [0, 1], not {value}");
        }
        assert!(self.price.is_finite() && self.price >= 0.0, "bad price {}", self.price);
        assert!(self.stake.is_finite() && self.stake >= 0.0, "bad stake {}", self.stake);
    }
}

/// What nodes cheating on a share of their tasks ended with, over many simulated runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheatOutcome {
    /// Share `f` of its tasks (after the warmup, by default) the node cheats on.
    pub cheat_share: f64,
    /// Simulated nodes.
    pub runs: u32,
    /// Tasks a node runs unless stopped (N).
    pub tasks: u64,
    /// Share of runs in which a fraud was proven.
    pub caught: f64,
    /// Standard error of `caught`.
    pub caught_se: f64,
    /// `caught` in closed form ([`EconomicsParams::caught_theory`]).
    pub caught_theory: f64,
    /// Mean tasks handed in up to and including the one that got the node caught, over the
    /// caught runs; `None` if none was caught.
    pub mean_tasks_when_caught: Option<f64>,
    /// Mean tasks handed in, over all runs.
    pub mean_tasks_done: f64,
    /// Mean tampered results handed in, over all runs.
    pub mean_tampered: f64,
    /// Mean holdings (stake left + rewards paid - costs) at the end.
    pub mean_holdings: f64,
    /// Mean holdings of the caught runs.
    pub mean_holdings_caught: Option<f64>,
    /// Mean holdings of the runs never caught.
    pub mean_holdings_not_caught: Option<f64>,
    /// Mean holdings of an honest node doing as many tasks as each cheater got to do.
    pub mean_honest_same_tasks: f64,
    /// Mean of (cheater - honest node over the same tasks), per run.
    pub gain_vs_same_tasks: f64,
    /// Standard error of `gain_vs_same_tasks`.
    pub gain_vs_same_tasks_se: f64,
    /// Holdings of an honest node over all N tasks.
    pub honest_all_tasks: f64,
    /// `mean_holdings - honest_all_tasks`.
    pub gain_vs_all_tasks: f64,
    /// Whether cheating is a losing bet: the gain against an honest node over the same tasks
    /// is below zero by more than three standard errors (and so is the gain against N tasks),
    /// and by more than float rounding.
    pub loses: bool,
}

/// How often spot checks caught a cheater within `tasks` tasks after the warmup.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DetectionRow {
    /// Spot-check rate p.
    pub rate: f64,
    /// Cheat share f.
    pub cheat_share: f64,
    /// Tasks after the warmup, n.
    pub tasks: u64,
    /// Simulated nodes.
    pub runs: u32,
    /// Share of them caught within n tasks.
    pub measured: f64,
    /// Standard error of `measured`.
    pub measured_se: f64,
    /// `1-(1-p*f)^n`.
    pub theory: f64,
    /// (measured - theory) / standard error of the theory's binomial; 0 when both are certain.
    pub z: f64,
}

/// The spot-check rates, cheat shares and post-warmup task counts of the detection table.
pub const DETECTION_RATES: [f64; 3] = [0.05, 0.1, 0.2];
pub const DETECTION_SHARES: [f64; 3] = [0.01, 0.1, 0.5];
pub const DETECTION_TASKS: [u64; 3] = [10, 50, 200];

/// Credits below which a difference of holdings is float rounding of sums over thousands of
/// tasks, not a loss.
const ROUNDING: f64 = 1e-6;

/// The cheat shares the economics table shows, the honest node first.
pub const CHEAT_SHARES: [f64; 4] = [0.0, 0.01, 0.1, 0.5];

/// What the farm drew for one task of the node.
#[derive(Clone, Copy, Debug)]
struct TaskDraw {
    tampered: bool,
    checked: bool,
    /// A checked tampered result was found out.
    detected: bool,
}

/// One simulated node's end.
#[derive(Clone, Copy, Debug, PartialEq)]
struct NodeRun {
    caught: bool,
    tasks_done: u64,
    tampered: u64,
    holdings: f64,
}

/// Plays one node under `params`, asking `draw` what happens to its task of each index.
fn run_node(params: &EconomicsParams, mut draw: impl FnMut(u64) -> TaskDraw) -> NodeRun {
    // Every task has the same price, so rewards and costs are counted in tasks and turned into
    // credits once at the end: an honest node's holdings come out exact, not summed roundings.
    let mut stake = params.stake;
    let mut paid_tasks: u64 = 0;
    let mut caught = false;
    let mut tampered = 0;
    let mut tasks_done = 0;
    // For each unchecked result, oldest first: the count of tasks done at which it is paid.
    let mut pending: VecDeque<u64> = VecDeque::new();

    while tasks_done < params.tasks && stake >= params.min_stake {
        let task = draw(tasks_done);
        tasks_done += 1;
        tampered += u64::from(task.tampered);
        if task.tampered && task.checked && task.detected {
            caught = true;
            stake -= params.slash_share * stake;
            pending.clear();
        } else if task.checked {
            paid_tasks += 1;
        } else {
            pending.push_back(tasks_done + params.settlement_window);
        }
        while pending.front().is_some_and(|&due| due <= tasks_done) {
            pending.pop_front();
            paid_tasks += 1;
        }
    }
    // Rewards still pending when the node stops without a proven fraud against them settle: no
    // check can reach them any more.
    paid_tasks += pending.len() as u64;
    let honest = tasks_done - tampered;
    let paid = paid_tasks as f64 * params.price;
    let costs = (honest as f64 * params.honest_cost_share
        + tampered as f64 * params.tampered_cost_share)
        * params.price;
    NodeRun { caught, tasks_done, tampered, holdings: stake + paid - costs }
}

/// Simulates `runs` nodes cheating on a share `f` of their tasks under `params`, from `seed`.
///
/// # Panics
/// If `f`, a share or a probability of `params` is not in [0, 1], or `runs` is 0.
pub fn simulate(params: &EconomicsParams, f: f64, runs: u32, seed: u64) -> CheatOutcome {
    params.check(f);
    assert!(runs > 0, "simulate at least one run");
    let mut rng = StdRng::seed_from_u64(seed);
    let policy = params.policy;
    let nodes: Vec<NodeRun> = (0..runs)
        .map(|_| {
            run_node(params, |index| {
                let may_cheat = params.cheats_in_warmup || index >= policy.warmup_tasks;
                let tampered = may_cheat && rng.gen_bool(f);
                let checked = policy.decide(index, &mut rng);
                let detected = tampered && checked && rng.gen_bool(params.detection);
                TaskDraw { tampered, checked, detected }
            })
        })
        .collect();

    let n = f64::from(runs);
    let mean = |values: &mut dyn Iterator<Item = f64>| -> Option<f64> {
        let (sum, count) = values.fold((0.0, 0u32), |(s, c), v| (s + v, c + 1));
        (count > 0).then(|| sum / f64::from(count))
    };
    let caught_runs = nodes.iter().filter(|r| r.caught).count() as f64;
    let caught = caught_runs / n;
    let gains: Vec<f64> =
        nodes.iter().map(|r| r.holdings - params.honest_holdings(r.tasks_done)).collect();
    let gain = gains.iter().sum::<f64>() / n;
    let gain_var = gains.iter().map(|g| (g - gain).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let gain_se = (gain_var / n).sqrt();
    let mean_holdings = nodes.iter().map(|r| r.holdings).sum::<f64>() / n;
    let honest_all_tasks = params.honest_holdings(params.tasks);
    let gain_vs_all_tasks = mean_holdings - honest_all_tasks;

    CheatOutcome {
        cheat_share: f,
        runs,
        tasks: params.tasks,
        caught,
        caught_se: (caught * (1.0 - caught) / n).sqrt(),
        caught_theory: params.caught_theory(f),
        mean_tasks_when_caught: mean(
            &mut nodes.iter().filter(|r| r.caught).map(|r| r.tasks_done as f64),
        ),
        mean_tasks_done: nodes.iter().map(|r| r.tasks_done as f64).sum::<f64>() / n,
        mean_tampered: nodes.iter().map(|r| r.tampered as f64).sum::<f64>() / n,
        mean_holdings,
        mean_holdings_caught: mean(&mut nodes.iter().filter(|r| r.caught).map(|r| r.holdings)),
        mean_holdings_not_caught: mean(&mut nodes.iter().filter(|r| !r.caught).map(|r| r.holdings)),
        mean_honest_same_tasks: nodes
            .iter()
            .map(|r| params.honest_holdings(r.tasks_done))
            .sum::<f64>()
            / n,
        gain_vs_same_tasks: gain,
        gain_vs_same_tasks_se: gain_se,
        honest_all_tasks,
        gain_vs_all_tasks,
        loses: gain + 3.0 * gain_se < -ROUNDING && gain_vs_all_tasks < -ROUNDING,
    }
}

/// Measures, for each spot-check rate, cheat share and count `n` of tasks after the warmup,
/// the share of `runs` cheating nodes caught within those `n` tasks (every checked tampered
/// result detected), against `1-(1-p*f)^n`.
///
/// Each task is decided by [`SpotCheckPolicy::decide`] with the node's real result count
/// (`warmup_tasks` + the index after the warmup). The counts of one rate and share come from
/// the same runs, each followed to the largest count.
///
/// # Panics
/// If a rate or share is not in [0, 1], or `runs` is 0.
pub fn detection_table(
    rates: &[f64],
    shares: &[f64],
    tasks: &[u64],
    warmup_tasks: u64,
    runs: u32,
    seed: u64,
) -> Vec<DetectionRow> {
    assert!(runs > 0, "simulate at least one run");
    let longest = tasks.iter().copied().max().unwrap_or(0);
    let mut rows = Vec::with_capacity(rates.len() * shares.len() * tasks.len());
    let mut stream = 0u64;
    for &rate in rates {
        let policy = SpotCheckPolicy::new(rate, warmup_tasks)
            .unwrap_or_else(|err| panic!("detection table: {err}"));
        for &f in shares {
            assert!((0.0..=1.0).contains(&f), "a cheat share must be in [0, 1], not {f}");
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add(stream));
            stream += 1;
            // For each run, the post-warmup index of the task that got it caught, if any.
            let first_catch: Vec<Option<u64>> = (0..runs)
                .map(|_| {
                    (0..longest).find(|&i| {
                        let tampered = rng.gen_bool(f);
                        let checked = policy.decide(warmup_tasks + i, &mut rng);
                        tampered && checked
                    })
                })
                .collect();
            for &n in tasks {
                let caught = first_catch.iter().filter(|c| c.is_some_and(|i| i < n)).count();
                let measured = caught as f64 / f64::from(runs);
                let theory = policy.detection_theory(f, n);
                let theory_se = (theory * (1.0 - theory) / f64::from(runs)).sqrt();
                let z = if theory_se > 0.0 { (measured - theory) / theory_se } else { 0.0 };
                rows.push(DetectionRow {
                    rate,
                    cheat_share: f,
                    tasks: n,
                    runs,
                    measured,
                    measured_se: (measured * (1.0 - measured) / f64::from(runs)).sqrt(),
                    theory,
                    z,
                });
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    const HONEST_UNCHECKED: TaskDraw =
        TaskDraw { tampered: false, checked: false, detected: false };

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn honest_node_ends_with_stake_plus_margin_on_every_task() {
        let params = EconomicsParams::default();
        let outcome = simulate(&params, 0.0, 200, 1);
        assert_eq!(outcome.caught, 0.0);
        assert_eq!(outcome.mean_tasks_done, 2000.0);
        assert_eq!(outcome.mean_tampered, 0.0);
        assert_eq!(outcome.mean_holdings, 100.0 + 2000.0 - 2000.0 * 0.6);
        assert_eq!(outcome.gain_vs_same_tasks, 0.0);
        assert_eq!(outcome.gain_vs_all_tasks, 0.0);
        assert!(!outcome.loses);
    }

    #[test]
    fn fraud_forfeits_pending_rewards_and_half_the_stake() {
        // Ten honest unchecked tasks, then a detected tampered one: ten rewards were pending.
        let params = EconomicsParams::default();
        let run = run_node(&params, |i| {
            if i < 10 {
                HONEST_UNCHECKED
            } else {
                TaskDraw { tampered: true, checked: true, detected: true }
            }
        });
        assert!(run.caught);
        assert_eq!(run.tasks_done, 11, "a slashed node gets no more work");
        assert!(close(run.holdings, 50.0 - 10.0 * 0.6));
    }

    #[test]
    fn rewards_older_than_the_window_are_paid_and_kept() {
        // 300 honest unchecked tasks: the first 100 settle (window 200) before the fraud.
        let params = EconomicsParams::default();
        let run = run_node(&params, |i| {
            if i < 300 {
                HONEST_UNCHECKED
            } else {
                TaskDraw { tampered: true, checked: true, detected: true }
            }
        });
        assert_eq!(run.tasks_done, 301);
        assert!(close(run.holdings, 50.0 + 100.0 - 300.0 * 0.6));
    }

    #[test]
    fn cheater_never_checked_keeps_everything() {
        let params = EconomicsParams {
            policy: SpotCheckPolicy::new(0.0, 20).unwrap(),
            ..EconomicsParams::default()
        };
        let outcome = simulate(&params, 1.0, 10, 2);
        assert_eq!(outcome.caught, 0.0);
        assert!(close(outcome.mean_holdings, 100.0 + 20.0 * 0.4 + 1980.0));
        assert!(!outcome.loses);
    }

    #[test]
    fn simulated_catch_rate_matches_theory() {
        let params = EconomicsParams { tasks: 300, ..EconomicsParams::default() };
        for f in [0.01, 0.1] {
            let outcome = simulate(&params, f, 4000, 3);
            let se = (outcome.caught_theory * (1.0 - outcome.caught_theory) / 4000.0).sqrt();
            assert!((outcome.caught - outcome.caught_theory).abs() < 4.0 * se, "{outcome:?}");
        }
    }

    #[test]
    fn measured_detection_is_within_standard_errors_of_theory() {
        let rows =
            detection_table(&DETECTION_RATES, &DETECTION_SHARES, &DETECTION_TASKS, 20, 4000, 4);
        assert_eq!(rows.len(), 27);
        for row in rows {
            assert!(row.z.abs() < 4.0, "{row:?}");
        }
    }

    #[test]
    fn cheaters_lose_at_the_defaults() {
        let params = EconomicsParams::default();
        for f in [0.01, 0.1, 0.5] {
            let outcome = simulate(&params, f, 1000, 5);
            assert!(outcome.loses, "{outcome:?}");
            assert!(outcome.gain_vs_all_tasks < 0.0, "{outcome:?}");
        }
    }

    #[test]
    fn same_seed_gives_the_same_outcome() {
        let params = EconomicsParams { tasks: 200, ..EconomicsParams::default() };
        assert_eq!(simulate(&params, 0.1, 100, 6), simulate(&params, 0.1, 100, 6));
    }
}
