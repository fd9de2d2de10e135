//! Measuring a budget: variants interleaved in one process, per-pair ratios, medians,
//! retries of a failing measurement.
//!
//! A 2-core machine running other work makes absolute times meaningless and single
//! ratios noisy. Each sample times every variant back to back (in rotating order, so
//! none always runs first), the ratio is taken within the sample, and the budget is
//! judged on the median of those ratios. A failing budget is measured again (up to
//! [`ATTEMPTS`] times) before the gate fails, so one burst of noise does not fail CI
//! while a real regression, which fails every attempt, does.

use std::time::{Duration, Instant};

/// Measurements of a failing budget before the gate gives up.
pub const ATTEMPTS: usize = 3;
/// Interleaved samples per measurement.
const SAMPLES: usize = 21;
/// Target wall time of one variant's run within a sample.
const SAMPLE_TARGET: Duration = Duration::from_millis(4);

/// Something to time: runs the operation `iterations` times.
pub type Variant<'a> = Box<dyn FnMut(u64) + 'a>;

/// How a budget turns the variants' times into the figure it limits.
pub enum Rule {
    /// `subject / baseline` must be at most the limit (variants: subject, baseline).
    AtMost(f64),
    /// `(subject - bare) / (peer - bare)` — our added cost relative to the peer's —
    /// must be at most the limit (variants: subject, peer, bare).
    AddedCostVsPeer(f64),
    /// `baseline / subject` — how many times faster — must be at least the limit
    /// (variants: subject, baseline).
    SpeedupAtLeast(f64),
}

/// Where a measured figure stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The budget's target is met.
    Met,
    /// The target is not met yet (an open issue says so), but the figure is no worse
    /// than the recorded floor: no regression. Reported loudly, does not fail the run.
    TargetMissed,
    /// Worse than allowed: the target for a met budget, the floor for a missed one.
    Broken,
}

/// One line of the gate's table.
pub struct Outcome {
    pub name: String,
    pub figure: f64,
    pub rule: String,
    pub verdict: Verdict,
    pub attempts: usize,
    /// Median time per operation of each variant, in the last attempt.
    pub per_op: Vec<(String, Duration)>,
}

/// A limit as people write it: at most three decimals, no trailing zeros.
fn short(limit: f64) -> String {
    let text = format!("{limit:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Iterations so one run of `variant` takes about [`SAMPLE_TARGET`].
fn calibrate(variant: &mut Variant<'_>) -> u64 {
    let mut iterations = 1u64;
    loop {
        let start = Instant::now();
        variant(iterations);
        let elapsed = start.elapsed();
        if elapsed >= SAMPLE_TARGET / 4 || iterations >= 1 << 24 {
            let per_op = elapsed.as_secs_f64() / iterations as f64;
            return ((SAMPLE_TARGET.as_secs_f64() / per_op.max(1e-9)) as u64).max(1);
        }
        iterations *= 4;
    }
}

impl Rule {
    fn holds(&self, figure: f64) -> bool {
        match *self {
            Rule::AtMost(limit) | Rule::AddedCostVsPeer(limit) => figure <= limit,
            Rule::SpeedupAtLeast(limit) => figure >= limit,
        }
    }

    fn describe(&self) -> String {
        match *self {
            Rule::AtMost(limit) => format!("≤ {}", short(limit)),
            Rule::AddedCostVsPeer(limit) => format!("added cost ≤ {}× peer's", short(limit)),
            Rule::SpeedupAtLeast(limit) => format!("≥ {}× faster", short(limit)),
        }
    }
}

/// Measure `variants` (named) under `rule`.
pub fn measure(name: &str, rule: Rule, variants: Vec<(&str, Variant<'_>)>) -> Outcome {
    measure_with_floor(name, rule, None, variants)
}

/// Measure a budget whose target is not met yet: `floor` (same shape as `rule`) is the
/// figure it must not fall behind, set just beyond the level measured when the gap was
/// recorded, so a regression still fails the run while the open issue is worked on.
pub fn measure_with_floor(
    name: &str,
    rule: Rule,
    floor: Option<Rule>,
    mut variants: Vec<(&str, Variant<'_>)>,
) -> Outcome {
    let iterations: Vec<u64> = variants.iter_mut().map(|(_, v)| calibrate(v)).collect();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(SAMPLES); variants.len()];
        let mut figures = Vec::with_capacity(SAMPLES);
        for sample in 0..SAMPLES {
            let mut per_op = vec![0.0; variants.len()];
            for k in 0..variants.len() {
                let i = (sample + k) % variants.len();
                let start = Instant::now();
                (variants[i].1)(iterations[i]);
                per_op[i] = start.elapsed().as_secs_f64() / iterations[i] as f64;
                times[i].push(per_op[i]);
            }
            figures.push(match rule {
                Rule::AtMost(_) => per_op[0] / per_op[1],
                Rule::AddedCostVsPeer(_) => (per_op[0] - per_op[2]) / (per_op[1] - per_op[2]),
                Rule::SpeedupAtLeast(_) => per_op[1] / per_op[0],
            });
        }
        let figure = median(&mut figures);
        let verdict = if rule.holds(figure) {
            Verdict::Met
        } else if floor.as_ref().is_some_and(|f| f.holds(figure)) {
            Verdict::TargetMissed
        } else {
            Verdict::Broken
        };
        let rule_text = match &floor {
            None => rule.describe(),
            Some(f) => format!("{} (floor until met: {})", rule.describe(), f.describe()),
        };
        if verdict == Verdict::Met || attempts == ATTEMPTS {
            let per_op = variants
                .iter()
                .zip(times.iter_mut())
                .map(|((n, _), t)| (n.to_string(), Duration::from_secs_f64(median(t))))
                .collect();
            return Outcome {
                name: name.to_string(),
                figure,
                rule: rule_text,
                verdict,
                attempts,
                per_op,
            };
        }
    }
}
