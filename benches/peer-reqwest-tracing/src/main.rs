//! `OrderTraceMiddleware` against `reqwest-tracing`'s `TracingMiddleware` (with its
//! OpenTelemetry 0.32 integration through `tracing-opentelemetry`), and both against
//! the same `reqwest-middleware` client without middleware. Loopback requests to a
//! real axum server; variants interleaved, medians of per-sample ratios (the gate's
//! harness). Each side exports into a discarding SDK pipeline of its own version.

#[path = "../../gate/harness.rs"]
#[allow(dead_code)]
mod harness;

use axum::routing::get;
use axum::Router;
use harness::{measure, Rule, Variant};
use otel_order::http::{HostAllowList, OrderTraceMiddleware};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug)]
struct Discard33;
impl opentelemetry_sdk::trace::SpanProcessor for Discard33 {
    fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    fn on_end(&self, span: opentelemetry_sdk::trace::SpanData) {
        std::hint::black_box(span);
    }
    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
}

#[derive(Debug)]
struct Discard32;
impl opentelemetry_sdk_0_32::trace::SpanProcessor for Discard32 {
    fn on_start(&self, _: &mut opentelemetry_sdk_0_32::trace::Span, _: &opentelemetry_0_32::Context) {}
    fn on_end(&self, span: opentelemetry_sdk_0_32::trace::SpanData) {
        std::hint::black_box(span);
    }
    fn force_flush(&self) -> opentelemetry_sdk_0_32::error::OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: std::time::Duration) -> opentelemetry_sdk_0_32::error::OTelSdkResult {
        Ok(())
    }
}

fn main() {
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/orders/ORD-1", listener.local_addr().unwrap());
    server_rt.spawn(async move {
        axum::serve(listener, Router::new().route("/orders/{id}", get(|| async { "ok" }))).await
    });

    // reqwest-tracing instruments through `tracing`: bridge it to a 0.32 SDK.
    use opentelemetry_0_32::trace::TracerProvider as _;
    let peer_provider = opentelemetry_sdk_0_32::trace::SdkTracerProvider::builder()
        .with_span_processor(Discard32)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry_0_33::layer().with_tracer(peer_provider.tracer("peer")));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let ours_provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_span_processor(Discard33)
        .build();

    let bare = reqwest::Client::new();
    let plain = reqwest_middleware::ClientBuilder::new(bare.clone()).build();
    let ours = reqwest_middleware::ClientBuilder::new(bare.clone())
        .with(
            OrderTraceMiddleware::builder()
                .allow_order_headers_to(HostAllowList::new(["127.0.0.1"]))
                .tracer_provider(&ours_provider)
                .build(),
        )
        .build();
    let peer = reqwest_middleware::ClientBuilder::new(bare)
        .with(reqwest_tracing::TracingMiddleware::default())
        .build();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let run = |client: reqwest_middleware::ClientWithMiddleware| -> Variant<'_> {
        let (rt, url) = (&rt, url.clone());
        Box::new(move |n| {
            for _ in 0..n {
                rt.block_on(async { client.get(&url).send().await.unwrap().bytes().await.unwrap() });
            }
        })
    };
    let outcome = measure(
        "HTTP client middleware: ordertrace vs reqwest-tracing",
        Rule::AddedCostVsPeer(1.0),
        vec![("ordertrace", run(ours)), ("reqwest-tracing", run(peer)), ("no middleware", run(plain))],
    );
    let times: Vec<String> = outcome
        .per_op
        .iter()
        .map(|(n, d)| format!("{n} {d:.2?}"))
        .collect();
    println!(
        "{}: our added cost is {:.2}x reqwest-tracing's ({}; medians: {})",
        outcome.name,
        outcome.figure,
        if outcome.passed { "within" } else { "over" },
        times.join(", ")
    );
}
