//! `mosaic bench verify --economics`: what a node cheating on a share f of its tasks ends with,
//! against an honest node doing the same tasks, under the farm's default rules (stake, slashing,
//! spot checks, pending rewards); and how fast spot checks catch a cheater, measured against
//! `1-(1-p*f)^n`.
//!
//! A Monte Carlo simulation from a fixed seed (see `proofs::economics`), so two runs print the
//! same tables. A benchmark, not a test: it says whether cheating is a losing bet and never
//! fails when it is not.

use anyhow::Result;
use proofs::economics::{
    self, CheatOutcome, DetectionRow, EconomicsParams, CHEAT_SHARES, DETECTION_RATES,
    DETECTION_SHARES, DETECTION_TASKS,
};
use serde::Serialize;

/// Simulated nodes per row of either table.
const RUNS: u32 = 10_000;

/// The seed of every simulation, so the tables are reproducible.
const SEED: u64 = 0x6d6f_7361_6963;

#[derive(Serialize)]
struct Report {
    params: EconomicsParams,
    runs: u32,
    seed: u64,
    cheating: Vec<CheatOutcome>,
    detection: Vec<DetectionRow>,
}

pub fn run(json: bool) -> Result<()> {
    let params = EconomicsParams::default();
    let cheating: Vec<CheatOutcome> = CHEAT_SHARES
        .iter()
        .enumerate()
        .map(|(i, &f)| economics::simulate(&params, f, RUNS, SEED.wrapping_add(i as u64)))
        .collect();
    let detection = economics::detection_table(
        &DETECTION_RATES,
        &DETECTION_SHARES,
        &DETECTION_TASKS,
        params.policy.warmup_tasks,
        RUNS,
        SEED,
    );
    let report = Report { params, runs: RUNS, seed: SEED, cheating, detection };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

fn print_report(report: &Report) {
    let p = &report.params;
    let warmup = p.policy.warmup_tasks;
    println!("economics of cheating: a node tampering with a share f of its tasks, against an honest node");
    println!(
        "rules: price {:.2} credit/task; doing a task costs {:.2} of its price, tampering {:.2}; \
         stake {:.0} (least stake to get work {:.0}); {:.0}% of the stake slashed on proven fraud",
        p.price,
        p.honest_cost_share,
        p.tampered_cost_share,
        p.stake,
        p.min_stake,
        p.slash_share * 100.0,
    );
    println!(
        "       unchecked rewards pending {} tasks, forfeited on fraud; checked results paid at \
         once; spot checks p={:.2} after the node's first {warmup} tasks (checked at 1.0); a \
         checked tampered task detected with d={:.2}",
        p.settlement_window, p.policy.rate, p.detection,
    );
    println!(
        "model: a node runs N={} tasks or until its stake is under the minimum; {}; pending \
         rewards of a node never caught settle at the end; {} runs a row, seed {:#x}",
        p.tasks,
        if p.cheats_in_warmup {
            "the cheater tampers with each task with probability f, warmup included".to_string()
        } else {
            format!(
                "the cheater is honest during the warmup (every task is checked) and tampers \
                 with each later task with probability f, so theory = 1-(1-p*f*d)^(N-{warmup})"
            )
        },
        report.runs,
        report.seed,
    );
    println!();

    println!(
        "{:>5}  {:>7} {:>7} {:>7} {:>6}  {:>12}  {:>10}  {:>9}",
        "f", "caught", "± se", "theory", "z", "tasks when", "tasks done", "tampered"
    );
    println!(
        "{:>5}  {:>7} {:>7} {:>7} {:>6}  {:>12}  {:>10}  {:>9}",
        "", "", "", "", "", "caught", "(mean)", "(mean)"
    );
    for o in &report.cheating {
        // Against the theory's binomial spread: 0 caught of a share the theory calls certain is
        // no evidence either way.
        let theory_se = (o.caught_theory * (1.0 - o.caught_theory) / f64::from(o.runs)).sqrt();
        let z = if theory_se > 0.0 {
            format!("{:+.2}", (o.caught - o.caught_theory) / theory_se)
        } else {
            "-".to_string()
        };
        println!(
            "{:>5.2}  {:>7.4} {:>7.4} {:>7.4} {:>6}  {:>12}  {:>10.1}  {:>9.1}",
            o.cheat_share,
            o.caught,
            o.caught_se,
            o.caught_theory,
            z,
            opt(o.mean_tasks_when_caught, 1),
            o.mean_tasks_done,
            o.mean_tampered,
        );
    }
    println!();

    println!(
        "holdings = stake left + rewards paid - costs, mean over the runs; \"honest, same tasks\" \
         did as many tasks as each cheater got to do; ratio = cheater / honest"
    );
    let all = format!("N={}", p.tasks);
    for header in [
        [
            "f", "cheater", "if", "if not", "honest,", "gain vs", "ratio", "honest,", "gain vs",
            "ratio",
        ],
        ["", "(mean)", "caught", "caught", "same", "same ± se", "", &all, &all, ""],
    ] {
        let [f, cheater, caught, not_caught, same, gain, ratio, honest_all, gain_all, ratio_all] =
            header;
        let verdict = if f.is_empty() { "" } else { "verdict" };
        let line = format!(
            "{f:>5}  {cheater:>9} {caught:>9} {not_caught:>9}  {same:>9} {gain:>17} {ratio:>6}  \
             {honest_all:>9} {gain_all:>9} {ratio_all:>6}  {verdict}"
        );
        println!("{}", line.trim_end());
    }
    for o in &report.cheating {
        let verdict = if o.cheat_share == 0.0 {
            "honest (reference)"
        } else if o.loses {
            "cheating loses"
        } else {
            "CHEATING DOES NOT LOSE"
        };
        println!(
            "{:>5.2}  {:>9.1} {:>9} {:>9}  {:>9.1} {:>17} {:>6.3}  {:>9.1} {:>+9.1} {:>6.3}  {verdict}",
            o.cheat_share,
            credits(o.mean_holdings),
            opt(o.mean_holdings_caught, 1),
            opt(o.mean_holdings_not_caught, 1),
            o.mean_honest_same_tasks,
            format!(
                "{:+.1} ± {:.1}",
                credits(o.gain_vs_same_tasks),
                credits(o.gain_vs_same_tasks_se)
            ),
            o.mean_holdings / o.mean_honest_same_tasks,
            o.honest_all_tasks,
            credits(o.gain_vs_all_tasks),
            o.mean_holdings / o.honest_all_tasks,
        );
    }
    println!();

    println!(
        "measured detection: share of {} cheating nodes caught within n tasks after the warmup \
         (every checked tampered task detected), against theory 1-(1-p*f)^n",
        report.runs
    );
    println!(
        "{:>5} {:>5} {:>4}  {:>8} {:>7} {:>8} {:>6}",
        "p", "f", "n", "measured", "± se", "theory", "z"
    );
    for row in &report.detection {
        println!(
            "{:>5.2} {:>5.2} {:>4}  {:>8.4} {:>7.4} {:>8.4} {:>+6.2}",
            row.rate, row.cheat_share, row.tasks, row.measured, row.measured_se, row.theory, row.z
        );
    }
    let worst = report.detection.iter().map(|r| r.z.abs()).fold(0.0, f64::max);
    println!("largest |z| (measured - theory in standard errors): {worst:.2}");
}

/// `x` credits, with float rounding of sums over thousands of tasks (which would print as
/// "-0.0") set to 0.
fn credits(x: f64) -> f64 {
    if x.abs() < 1e-6 {
        0.0
    } else {
        x
    }
}

/// `value` with `decimals` decimals, or "-" when there is none.
fn opt(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}"))
}
