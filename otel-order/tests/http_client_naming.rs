//! Client spans: named after the URL template when the caller gives one, never after
//! the raw path; an empty trace state sends no `tracestate` header.

mod http_support;

use std::time::Duration;

use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use http_support::{serve, Pipeline};
use otel_order::http::{OrderTraceMiddleware, UrlTemplate};

/// The propagation headers that arrived.
async fn propagation_headers(headers: HeaderMap) -> String {
    ["traceparent", "tracestate"]
        .into_iter()
        .filter(|h| headers.contains_key(*h))
        .collect::<Vec<_>>()
        .join(",")
}

#[tokio::test(flavor = "multi_thread")]
async fn url_template_names_the_span_and_empty_tracestate_is_not_sent() {
    let p = Pipeline::start("sidecar").await;
    let addr = serve(Router::new().route("/orders/{id}/start", post(propagation_headers))).await;
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(
            OrderTraceMiddleware::builder()
                .tracer_provider(&p.tracer_provider)
                .build(),
        )
        .build();
    let url = format!("http://{addr}/orders/ORD-42/start");
    let send = |template: Option<UrlTemplate>| {
        let mut request = client.post(&url);
        if let Some(template) = template {
            request = request.with_extension(template);
        }
        async { request.send().await.unwrap().text().await.unwrap() }
    };
    let with_template = send(Some(UrlTemplate::from_static("/orders/{id}/start"))).await;
    let without = send(None).await;
    assert_eq!(with_template, "traceparent");
    assert_eq!(without, "traceparent");

    p.flush();
    let spans = p.receiver.wait_for_spans(2, Duration::from_secs(10)).await;
    let mut names: Vec<&str> = spans.iter().map(|s| s.span.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["POST", "POST /orders/{id}/start"]);
    let templated = spans.iter().find(|s| s.span.name != "POST").unwrap();
    assert_eq!(
        templated.attr_str("url.template"),
        Some("/orders/{id}/start")
    );
    assert!(spans.iter().all(|s| !s.span.name.contains("ORD-42")));
}
