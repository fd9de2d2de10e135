//! Untrusted `ordertrace-order` and `traceparent` values, generated: extraction never
//! panics, whatever it accepts is valid and survives a round trip unchanged, and
//! nothing rejected is propagated.

use std::collections::HashMap;

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use otel_order::{OrderContextExt, OrderContextPropagator, OrderId, OrderStatus, MAX_ORDER_ID_LEN};
use proptest::prelude::*;

fn propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(OrderContextPropagator::new()),
    ])
}

/// Header values built from the grammar's own pieces, so the generator reaches deep
/// into the parser instead of failing at the first byte.
fn adversarial_header() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        "[a-z]{0,6}".prop_map(|k| format!("{k}=")),
        Just("id=".to_string()),
        Just("status=".to_string()),
        Just("since=".to_string()),
        Just("by=".to_string()),
    ];
    let value = prop_oneof![
        "[A-Za-z0-9._:-]{0,80}",
        "\\PC{0,40}",
        Just("SUBMITTED".to_string()),
        Just("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string()),
        "[0-9]{0,25}",
    ];
    prop::collection::vec(
        (
            field,
            value,
            prop_oneof![Just(";"), Just(" ; "), Just(""), Just("=")],
        ),
        0..8,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .map(|(f, v, sep)| format!("{f}{v}{sep}"))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_header_value_extracts_to_valid_context_or_nothing(
        order in prop_oneof![adversarial_header(), "\\PC{0,600}"],
        traceparent in prop_oneof!["\\PC{0,80}", "00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-9a-f]"],
    ) {
        let p = propagator();
        let carrier = HashMap::from([
            ("ordertrace-order".to_string(), order),
            ("traceparent".to_string(), traceparent),
        ]);
        let cx = p.extract(&carrier);
        if let Some(found) = cx.order() {
            // Whatever was accepted is valid on its own terms ...
            prop_assert!(OrderId::new(found.order_id().as_str()).is_ok());
            prop_assert!(found.order_id().as_str().len() <= MAX_ORDER_ID_LEN);
            if let Some(status) = found.status() {
                prop_assert!(OrderStatus::ALL.contains(&status));
            }
            // ... and what is sent on is exactly what was accepted.
            let mut out = HashMap::new();
            p.inject_context(&cx, &mut out);
            let again = p.extract(&out);
            prop_assert_eq!(again.order(), Some(found));
        }
    }

    #[test]
    fn valid_contexts_round_trip(id in "[A-Za-z0-9._:-]{1,64}", status in 0usize..10) {
        let p = propagator();
        let order = otel_order::OrderContext::new(OrderId::new(&id).unwrap())
            .with_status_only(OrderStatus::ALL[status]);
        let cx = opentelemetry::Context::new().with_order(order.clone());
        let mut carrier = HashMap::new();
        p.inject_context(&cx, &mut carrier);
        let extracted = p.extract(&carrier);
        prop_assert_eq!(extracted.order(), Some(&order));
    }
}

#[test]
fn huge_and_numerous_values_are_refused_quickly() {
    let p = propagator();
    let start = std::time::Instant::now();
    for value in [
        format!("id={}", "A".repeat(1 << 20)),
        "id=ORD-1;".repeat(100_000),
        ";".repeat(1 << 20),
        "=".repeat(1 << 20),
    ] {
        let carrier = HashMap::from([("ordertrace-order".to_string(), value)]);
        assert!(p.extract(&carrier).order().is_none());
    }
    // The length cap is checked before any parsing: megabytes cost microseconds.
    assert!(
        start.elapsed() < std::time::Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
}
