//! A broken telemetry backend must not break the service it observes.
//!
//! An axum service instrumented through `ordertrace::init` serves requests while the
//! OTLP endpoint is healthy, answers `UNAVAILABLE`, hangs, and refuses connections.
//! Request latency stays within a small bound of the healthy case, the span queue stays
//! bounded (memory flat over a million spans), dropped spans are counted as metrics,
//! and export resumes when the endpoint comes back.

use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use opentelemetry::global;
use opentelemetry::trace::{Span, Tracer};
use otel_order::http::OrderTraceLayer;
use otlp_receiver::proto::metrics::v1::{metric::Data, number_data_point::Value};
use otlp_receiver::{Mode, OtlpReceiver, ReceivedMetric};

async fn handler() -> &'static str {
    "ok"
}

/// Median and 99th percentile of `n` sequential requests.
async fn latency(client: &reqwest::Client, url: &str, n: usize) -> (Duration, Duration) {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let response = client.get(url).send().await.expect("request served");
        assert_eq!(response.status(), 200);
        samples.push(start.elapsed());
    }
    samples.sort();
    (samples[n / 2], samples[n * 99 / 100])
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Sum of our bounded queue's data points with `error.type` (the SDK's batch
/// processor reports series of the same name; ours are told by `otel.component.name`).
fn sum_with_error(metric: &ReceivedMetric, error_type: &str) -> i64 {
    let Some(Data::Sum(sum)) = &metric.metric.data else {
        return 0;
    };
    sum.data_points
        .iter()
        .filter(|p| {
            otlp_receiver::attr_str(&p.attributes, "otel.component.name")
                == Some(ordertrace::COMPONENT_NAME)
        })
        .filter(|p| otlp_receiver::attr_str(&p.attributes, "error.type") == Some(error_type))
        .map(|p| match p.value {
            Some(Value::AsInt(i)) => i,
            _ => 0,
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_backend_costs_the_service_nothing_but_counted_spans() {
    let receiver = OtlpReceiver::start().await;
    // SAFETY of set_var: this test binary runs only this test, before any thread reads env.
    for (k, v) in [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpc_endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "300".into()),
        ("OTEL_BSP_SCHEDULE_DELAY", "50".into()),
        ("OTEL_BSP_EXPORT_TIMEOUT", "500".into()),
        ("OTEL_METRIC_EXPORT_INTERVAL", "200".into()),
        // The metric reader's export to a hanging backend must give up quickly too.
        ("OTEL_METRIC_EXPORT_TIMEOUT", "500".into()),
    ] {
        std::env::set_var(k, v);
    }
    let telemetry = ordertrace::init("mes-api").expect("telemetry");

    let app = Router::new()
        .route("/orders/{id}", get(handler))
        .layer(OrderTraceLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/orders/ORD-1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();

    latency(&client, &url, 50).await; // warm-up: connections, lazy statics
    let (healthy_p50, healthy_p99) = latency(&client, &url, 300).await;
    eprintln!("healthy: p50 {healthy_p50:?} p99 {healthy_p99:?}");
    // A blocking exporter would add its whole timeout (300-500 ms) to requests; these
    // bounds leave room for a loaded 2-core machine and nothing more.
    let p50_bound = healthy_p50 * 3 + Duration::from_millis(2);
    let p99_bound = healthy_p99 * 3 + Duration::from_millis(20);

    let tracer = global::tracer("load");
    for fault in ["unavailable", "hang", "refused"] {
        match fault {
            "unavailable" => receiver.set_mode(Mode::Unavailable),
            "hang" => receiver.set_mode(Mode::Hang),
            _ => {
                receiver.set_mode(Mode::Healthy);
                receiver.refuse_connections().await;
            }
        }
        // Overfill the queue while the backend is broken.
        for _ in 0..20_000 {
            tracer.start("filler").end();
        }
        let (p50, p99) = latency(&client, &url, 300).await;
        eprintln!("{fault}: p50 {p50:?} p99 {p99:?}");
        assert!(
            p50 <= p50_bound,
            "{fault}: median latency {p50:?} > {p50_bound:?}"
        );
        assert!(
            p99 <= p99_bound,
            "{fault}: p99 latency {p99:?} > {p99_bound:?}"
        );
    }

    // A million spans into a dead backend: the queue is bounded, so memory is flat.
    receiver.set_mode(Mode::Hang);
    receiver.accept_connections().await;
    for _ in 0..100_000 {
        tracer.start("warm").end();
    }
    let before = rss_bytes();
    for i in 0..1_000_000u32 {
        let mut span = tracer.start("flood");
        span.set_attribute(opentelemetry::KeyValue::new("i", i64::from(i)));
        span.end();
    }
    let grown = rss_bytes().saturating_sub(before);
    eprintln!(
        "RSS growth over 1M spans with a hanging backend: {} KiB",
        grown / 1024
    );
    assert!(
        grown < 64 << 20,
        "memory grew by {} MiB over 1M spans",
        grown >> 20
    );

    // The backend comes back: export resumes, and the drops are visible as metrics.
    receiver.set_mode(Mode::Healthy);
    tokio::time::sleep(Duration::from_millis(800)).await; // hanging exports time out
    let mut marker = tracer.start("after recovery");
    marker.end();
    telemetry.flush();
    let mut resumed = false;
    for _ in 0..50 {
        if receiver
            .spans()
            .iter()
            .any(|s| s.span.name == "after recovery")
        {
            resumed = true;
            break;
        }
        telemetry.flush();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(resumed, "export did not resume after the backend came back");

    let dropped = receiver
        .wait_for_metric(
            "otel.sdk.processor.span.processed",
            Duration::from_secs(20),
            |m| sum_with_error(m, "queue_full") > 0,
        )
        .await
        .expect("processed-span counter exported");
    let queue_full = sum_with_error(&dropped, "queue_full");
    let failed = receiver
        .wait_for_metric(
            "otel.sdk.exporter.span.exported",
            Duration::from_secs(10),
            |m| sum_with_error(m, "export_failed") > 0,
        )
        .await
        .map(|m| sum_with_error(&m, "export_failed"))
        .unwrap_or(0);
    eprintln!("spans dropped at the full queue: {queue_full}; lost to failed exports: {failed}");
    assert!(
        queue_full > 1_000_000,
        "a million spans into a hanging backend must mostly be dropped and counted"
    );
    assert!(failed > 0, "failed exports must be counted");
    telemetry.shutdown();
}
