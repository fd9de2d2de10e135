//! The order-flow demo: the jewelry shop's Shop, CRM and MES services and the MES
//! tracing sidecar in one process, a handful of orders driven through all ten
//! statuses over real HTTP and RabbitMQ, and per order a waterfall of its trace.
//!
//! ```text
//! cargo run --example order_flow                          # happy orders
//! cargo run --example order_flow -- --fault lost-message  # plus one broken order
//! cargo run --example order_flow -- --fault all           # one order per fault
//! ```
//!
//! Faults: `lost-message`, `slow-pricing`, `duplicate-approval`, `corrupt-upload`,
//! `crash-before-ack`, `poison-message` (repeat `--fault` for several). `--orders N`
//! sets the number of healthy orders (default 3).
//!
//! Needs RabbitMQ on 127.0.0.1:5672 (`AMQP_ADDR` overrides). With
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set, every service also exports to Jaeger or a
//! Collector (see `examples/deploy/`).

use std::process::ExitCode;

use jewelry::demo::{self, DemoConfig, DemoError};
use jewelry::report;
use jewelry::Fault;
use otel_order::OrderStatus;

fn parse_args() -> Result<DemoConfig, String> {
    let mut config = DemoConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--fault" => {
                let value = args.next().ok_or("--fault needs a value")?;
                if value == "all" {
                    config.faults.extend(Fault::ALL);
                } else {
                    config
                        .faults
                        .push(value.parse().map_err(|e| format!("{e}"))?);
                }
            }
            "--orders" => {
                let value = args.next().ok_or("--orders needs a number")?;
                config.happy_orders = value
                    .parse()
                    .map_err(|_| format!("--orders: not a number: {value}"))?;
            }
            "-h" | "--help" => {
                return Err("usage: order_flow [--fault lost-message|slow-pricing|duplicate-approval|corrupt-upload|crash-before-ack|poison-message|all]... [--orders N]".into());
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse_args() {
        Ok(c) => c,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let faults = config.faults.clone();
    let pricing_sla = config.pricing_sla;
    let run = match demo::run(config).await {
        Ok(run) => run,
        Err(DemoError::Broker(e)) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("the demo could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    run.flush();
    let spans = run.spans();

    println!(
        "ordertrace order-flow demo: Shop, CRM, MES and the MES sidecar over HTTP and RabbitMQ ({} orders, {} spans, {:.1}s)",
        run.outcomes.len(),
        spans.len(),
        run.elapsed.as_secs_f64()
    );
    if !faults.is_empty() {
        let names: Vec<_> = faults.iter().map(|f| f.as_str()).collect();
        println!("faults injected: {}", names.join(", "));
    }
    for outcome in &run.outcomes {
        println!("\n== {}", report::outcome_line(outcome));
        print!("{}", report::waterfall(&spans, &outcome.order_id));
    }
    println!(
        "\n== time in status (from the status spans; SLA of SUBMITTED: {:.1}s)",
        pricing_sla.as_secs_f64()
    );
    print!("{}", report::status_table(&spans));

    println!("\n== stuck-order gauges (order.status.count, from each service's own store)");
    let shop_statuses = [OrderStatus::Initiated, OrderStatus::FileUploaded];
    let books = [
        ("shop-api", run.shop_book.snapshot(&shop_statuses)),
        ("mes", run.mes_book.snapshot(&jewelry::mes::MES_STATUSES)),
    ];
    let mut any = false;
    for (service, snapshot) in books {
        for s in snapshot.into_iter().filter(|s| s.open > 0) {
            any = true;
            let age = s
                .oldest_entered_at
                .and_then(|at| at.elapsed().ok())
                .map(|d| format!(", oldest {:.1}s", d.as_secs_f64()))
                .unwrap_or_default();
            println!(
                "  {service:<9} {:<24} {} open{age}",
                s.status.as_str(),
                s.open
            );
        }
    }
    if !any {
        println!("  no order waiting anywhere");
    }
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_none() {
        println!("\nSet OTEL_EXPORTER_OTLP_ENDPOINT (see examples/deploy/) to see the same traces in Jaeger.");
    }
    if let Err(e) = run.cleanup().await {
        eprintln!("could not delete the demo's queues: {e}");
    }
    ExitCode::SUCCESS
}
