//! Untrusted inbound headers: every request is still served, nothing invalid is
//! propagated to the handler or recorded on spans, and each drop is counted.

mod http_support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::routing::get;
use axum::Router;
use http_support::{rejected, serve, Pipeline};
use otel_order::http::OrderTraceLayer;
use otel_order::OrderContext;
use reqwest::header::{HeaderMap, HeaderValue};

/// What the handler saw, so the test can check nothing invalid reached it.
async fn echo(order: Option<OrderContext>) -> String {
    match order {
        None => "none".into(),
        Some(o) => format!(
            "{}|{}|{}|{}",
            o.order_id(),
            o.status().map(|s| s.as_str()).unwrap_or("-"),
            o.entered_at().is_some(),
            o.entered_by().is_some()
        ),
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

struct Case {
    name: &'static str,
    headers: Vec<(&'static str, Vec<u8>)>,
    handler_sees: &'static str,
    span_order_id: Option<&'static str>,
    counted: Option<&'static str>,
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_headers_are_dropped_counted_and_never_fail_the_request() {
    let p = Pipeline::start("mes-api").await;
    let app = Router::new().route("/orders/{id}", get(echo)).layer(
        OrderTraceLayer::builder()
            .tracer_provider(&p.tracer_provider)
            .meter_provider(&p.meter_provider)
            .build(),
    );
    let addr = serve(app).await;
    let future = now_ms() + 3_600_000;
    let valid_tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    let cases = vec![
        Case {
            name: "malformed-traceparent",
            headers: vec![
                ("traceparent", b"00-zzzz-not-hex-01".to_vec()),
                ("ordertrace-order", b"id=ORD-1".to_vec()),
            ],
            handler_sees: "ORD-1|-|false|false",
            span_order_id: Some("ORD-1"),
            counted: None,
        },
        Case {
            name: "oversized-order-id",
            headers: vec![(
                "ordertrace-order",
                [b"id=".to_vec(), vec![b'A'; 10_000]].concat(),
            )],
            handler_sees: "none",
            span_order_id: None,
            counted: Some("too_long"),
        },
        Case {
            name: "non-ascii-order-id",
            headers: vec![("ordertrace-order", "id=ЗАКАЗ-1".as_bytes().to_vec())],
            handler_sees: "none",
            span_order_id: None,
            counted: Some("invalid_charset"),
        },
        Case {
            name: "injection-chars-order-id",
            headers: vec![("ordertrace-order", b"id=ORD-1\",le=\"+Inf".to_vec())],
            handler_sees: "none",
            span_order_id: None,
            counted: Some("invalid_charset"),
        },
        Case {
            name: "unknown-status",
            headers: vec![(
                "ordertrace-order",
                format!("id=ORD-2;status=HACKED;since={}", now_ms()).into_bytes(),
            )],
            handler_sees: "ORD-2|-|false|false",
            span_order_id: Some("ORD-2"),
            counted: Some("unknown_status"),
        },
        Case {
            name: "future-timestamp",
            headers: vec![(
                "ordertrace-order",
                format!("id=ORD-3;status=SUBMITTED;since={future};by={valid_tp}").into_bytes(),
            )],
            handler_sees: "ORD-3|SUBMITTED|false|true",
            span_order_id: Some("ORD-3"),
            counted: Some("future_timestamp"),
        },
        Case {
            name: "conflicting-duplicate-order-id",
            headers: vec![
                ("ordertrace-order", b"id=ORD-4".to_vec()),
                ("ordertrace-order", b"id=ORD-5".to_vec()),
            ],
            handler_sees: "none",
            span_order_id: None,
            counted: Some("conflicting"),
        },
        Case {
            name: "repeated-field",
            headers: vec![("ordertrace-order", b"id=ORD-8;id=ORD-9".to_vec())],
            handler_sees: "none",
            span_order_id: None,
            counted: Some("conflicting"),
        },
        Case {
            name: "garbled-entered-by",
            headers: vec![(
                "ordertrace-order",
                b"id=ORD-6;status=PACKAGING;by=00-ffff-garbage".to_vec(),
            )],
            handler_sees: "ORD-6|PACKAGING|false|false",
            span_order_id: Some("ORD-6"),
            counted: Some("invalid_span_context"),
        },
    ];

    let client = reqwest::Client::new();
    for case in &cases {
        let mut headers = HeaderMap::new();
        for (name, value) in &case.headers {
            headers.append(*name, HeaderValue::from_bytes(value).unwrap());
        }
        let response = client
            .get(format!("http://{addr}/orders/{}", case.name))
            .headers(headers)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", case.name);
        assert_eq!(
            response.text().await.unwrap(),
            case.handler_sees,
            "{}",
            case.name
        );
    }
    p.flush();

    let spans = p
        .receiver
        .wait_for_spans(cases.len(), Duration::from_secs(10))
        .await;
    for case in &cases {
        let span = spans
            .iter()
            .find(|s| s.attr_str("url.path") == Some(&format!("/orders/{}", case.name)))
            .unwrap_or_else(|| panic!("no span for {}", case.name));
        assert_eq!(
            span.attr_str("order.id"),
            case.span_order_id,
            "{}",
            case.name
        );
        assert_eq!(span.span.name, "GET /orders/{id}");
        if let Some(reason) = case.counted {
            assert!(
                rejected(&p.receiver, reason) >= 1,
                "{}: {reason} not counted",
                case.name
            );
        }
    }
    // The malformed traceparent started a fresh trace instead of joining garbage.
    let fresh = spans
        .iter()
        .find(|s| s.attr_str("url.path") == Some("/orders/malformed-traceparent"))
        .unwrap();
    assert!(fresh.parent_span_id().is_empty());
    // The rejected values themselves never reach any exported byte.
    let raw = p.receiver.raw_bytes();
    for needle in [&b"HACKED"[..], "ЗАКАЗ".as_bytes(), b"ORD-5", b"le=\"+Inf"] {
        assert!(
            !raw.windows(needle.len()).any(|w| w == needle),
            "{:?} exported",
            String::from_utf8_lossy(needle)
        );
    }
}
