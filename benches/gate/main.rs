//! The overhead gate: every performance budget of the project, measured as ratios in
//! one process, failing the run (exit status 1) when one is broken.
//!
//! ```text
//! cargo bench -p ordertrace --bench gate            # all budgets
//! cargo bench -p ordertrace --bench gate -- http    # budgets whose name contains "http"
//! ```
//!
//! See `harness.rs` for how noise is handled (interleaving, per-sample ratios,
//! medians, retries). The test script runs it; the README's Performance table is its
//! output.

mod alloc_count;
mod amqp;
mod harness;
mod http;
mod http_workloads;
mod pipeline;
mod redaction;
mod transition;

use harness::{Outcome, Verdict};
use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::layer::SubscriberExt;

#[global_allocator]
static ALLOCATOR: alloc_count::Counting = alloc_count::Counting;

/// What the gate prints besides pass/fail.
#[derive(Default)]
pub struct Report {
    pub allocations: Vec<(String, f64)>,
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters budgets by name.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));

    let pipeline = pipeline::Pipeline::new();
    opentelemetry::global::set_tracer_provider(pipeline.tracer_provider.clone());
    opentelemetry::global::set_meter_provider(pipeline.meter_provider.clone());
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    // The peer instruments through `tracing`: give it the same SDK pipeline.
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(pipeline.tracer_provider.tracer("peer")));
    tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");

    let mut report = Report::default();
    let mut outcomes: Vec<Outcome> = Vec::new();
    type Budget = fn(&pipeline::Pipeline, &mut Report) -> Outcome;
    let budgets: Vec<(&str, Budget)> = vec![
        ("http server", http::server),
        ("http client", http::client),
        ("http propagation", |_, r| http::propagation(r)),
        ("status transition", transition::transition),
        ("redaction processor", redaction::processor),
        ("redaction scan", redaction::scan),
        ("amqp publish consume", amqp::publish_consume),
    ];
    for (name, budget) in budgets {
        if wanted(name) {
            eprintln!("measuring {name} ...");
            outcomes.push(budget(&pipeline, &mut report));
        }
    }

    println!("\n| budget | rule | measured | attempts | median time per operation |");
    println!("|---|---|---|---|---|");
    for o in &outcomes {
        let times: Vec<String> = o
            .per_op
            .iter()
            .map(|(n, d)| format!("{n} {d:.2?}"))
            .collect();
        println!(
            "| {} | {} | {:.2} {} | {} | {} |",
            o.name,
            o.rule,
            o.figure,
            match o.verdict {
                Verdict::Met => "PASS",
                Verdict::TargetMissed => "**TARGET MISSED** (no regression)",
                Verdict::Broken => "**FAIL**",
            },
            o.attempts,
            times.join(", ")
        );
    }
    if !report.allocations.is_empty() {
        println!("\n| operation | allocations per operation |\n|---|---|");
        for (op, n) in &report.allocations {
            println!("| {op} | {n:.1} |");
        }
    }
    for o in outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::TargetMissed)
    {
        eprintln!(
            "overhead gate: target still missed (open issue, no regression): {}: measured {:.2}, target {}",
            o.name, o.figure, o.rule
        );
    }
    let broken: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Broken)
        .collect();
    if !broken.is_empty() {
        for o in broken {
            eprintln!(
                "overhead gate: budget broken: {}: measured {:.2}, allowed {} (after {} attempts)",
                o.name, o.figure, o.rule, o.attempts
            );
        }
        std::process::exit(1);
    }
    let met = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Met)
        .count();
    println!(
        "\noverhead gate: {met} of {} budgets met, none regressed",
        outcomes.len()
    );
}
