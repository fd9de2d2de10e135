//! Every surface of a span is redacted by the processor and by the exporter wrapper,
//! checked on what the exporter received.

mod common;

use common::{attr, meter_provider, sum_points, Capture};
use otel_redact::names;
use otel_redact::opentelemetry::trace::{
    Link, Span, SpanContext, SpanId, Status, TraceFlags, TraceId, TraceState, Tracer,
    TracerProvider,
};
use otel_redact::opentelemetry::{Array, InstrumentationScope, Key, KeyValue, Value};
use otel_redact::opentelemetry_sdk::trace::{SdkTracerProvider, SimpleSpanProcessor};
use otel_redact::opentelemetry_sdk::Resource;
use otel_redact::{Action, RedactingExporter, RedactingProcessor, Redactor};

const EMAIL: &str = "ivan.petrov@example.ru";
const PHONE: &str = "+7 (916) 123-45-67";
const CARD: &str = "2200 1234 5678 9019";
const PASSPORT: &str = "паспорт 45 08 123456";
const SNILS: &str = "112-233-445 95";
const INN: &str = "ИНН 7707083893";
const NAME: &str = "Иванов Иван Иванович";

fn resource() -> Resource {
    Resource::builder_empty()
        .with_service_name("checkout")
        .with_attribute(KeyValue::new(
            "deployment.contact",
            format!("on call: {PHONE}"),
        ))
        .build()
}

fn linked_context() -> SpanContext {
    SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    )
}

/// Records one span with PII in every surface.
fn record_span(provider: &SdkTracerProvider) {
    let scope = InstrumentationScope::builder("checkout")
        .with_attributes([KeyValue::new("scope.owner", EMAIL)])
        .build();
    let tracer = provider.tracer_with_scope(scope);
    let mut span = tracer
        .span_builder(format!("order for {EMAIL}"))
        .with_links(vec![Link::new(
            linked_context(),
            vec![KeyValue::new("origin", format!("СНИЛС {SNILS}"))],
            0,
        )])
        .start(&tracer);
    span.set_attribute(KeyValue::new("note", format!("call {PHONE}")));
    span.set_attribute(KeyValue::new(
        "contacts",
        Value::Array(Array::String(vec![
            EMAIL.into(),
            "no pii".into(),
            PHONE.into(),
        ])),
    ));
    span.set_attribute(KeyValue::new("customer.phone", 79161234567_i64));
    span.set_attribute(KeyValue::new("customer.name", NAME));
    span.set_attribute(KeyValue::new("password", true));
    span.set_attribute(KeyValue::new("order.id", "ORD-2026-000123"));
    span.set_attribute(KeyValue::new("http.request.duration_ms", 12.5));
    span.add_event(
        format!("receipt sent to {EMAIL}"),
        vec![
            KeyValue::new("exception.message", format!("card {CARD} declined")),
            KeyValue::new(
                "exception.stacktrace",
                format!("at check({PASSPORT})\nat main"),
            ),
        ],
    );
    span.set_status(Status::error(format!("taxpayer {INN} rejected")));
    span.end();
}

fn all_text(
    provider_spans: &[otel_redact::opentelemetry_sdk::trace::SpanData],
    resource: &Resource,
) -> String {
    let mut s = format!("{provider_spans:?}");
    for (k, v) in resource.iter() {
        s.push_str(&format!("{k}={v};"));
    }
    s
}

fn assert_no_pii(text: &str) {
    for pii in [
        EMAIL,
        PHONE,
        CARD,
        "45 08 123456",
        SNILS,
        "7707083893",
        NAME,
        "79161234567",
    ] {
        assert!(!text.contains(pii), "{pii:?} leaked in {text}");
    }
}

#[test]
fn processor_redacts_every_surface_of_a_span() {
    let capture = Capture::default();
    let provider = SdkTracerProvider::builder()
        .with_resource(resource())
        .with_span_processor(RedactingProcessor::new(
            SimpleSpanProcessor::new(capture.clone()),
            Redactor::default(),
        ))
        .build();
    record_span(&provider);
    provider.force_flush().unwrap();

    let spans = capture.spans();
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(span.name, "order for [REDACTED:email]");
    let a = &span.attributes;
    assert_eq!(attr(a, "note").unwrap().as_str(), "call [REDACTED:phone]");
    assert_eq!(
        attr(a, "contacts"),
        Some(&Value::Array(Array::String(vec![
            "[REDACTED:email]".into(),
            "no pii".into(),
            "[REDACTED:phone]".into()
        ])))
    );
    assert_eq!(
        attr(a, "customer.phone").unwrap().as_str(),
        "[REDACTED:phone]"
    );
    assert_eq!(
        attr(a, "customer.name").unwrap().as_str(),
        "[REDACTED:name]"
    );
    assert_eq!(attr(a, "password").unwrap().as_str(), "[REDACTED:password]");
    assert_eq!(attr(a, "order.id").unwrap().as_str(), "ORD-2026-000123");
    assert_eq!(attr(a, "http.request.duration_ms"), Some(&Value::F64(12.5)));

    let event = &span.events.events[0];
    assert_eq!(event.name, "receipt sent to [REDACTED:email]");
    assert_eq!(
        attr(&event.attributes, "exception.message")
            .unwrap()
            .as_str(),
        "card [REDACTED:card] declined"
    );
    assert_eq!(
        attr(&event.attributes, "exception.stacktrace")
            .unwrap()
            .as_str(),
        "at check(паспорт [REDACTED:passport])\nat main"
    );
    assert_eq!(
        attr(&span.links.links[0].attributes, "origin")
            .unwrap()
            .as_str(),
        "СНИЛС [REDACTED:snils]"
    );
    assert_eq!(
        span.status,
        Status::error("taxpayer ИНН [REDACTED:inn] rejected")
    );
    assert_eq!(
        span.instrumentation_scope
            .attributes()
            .next()
            .map(|kv| kv.value.as_str().into_owned()),
        Some("[REDACTED:email]".to_owned())
    );
    let resource = capture.resource();
    assert_eq!(
        resource
            .get(&Key::from_static_str("deployment.contact"))
            .map(|v| v.as_str().into_owned()),
        Some("on call: [REDACTED:phone]".to_owned())
    );
    assert_eq!(
        resource
            .get(&Key::from_static_str("service.name"))
            .map(|v| v.as_str().into_owned()),
        Some("checkout".to_owned())
    );
    assert_no_pii(&all_text(&spans, &resource));
}

#[test]
fn exporter_wrapper_redacts_the_same_surfaces() {
    let capture = Capture::default();
    let provider = SdkTracerProvider::builder()
        .with_resource(resource())
        .with_simple_exporter(RedactingExporter::new(capture.clone(), Redactor::default()))
        .build();
    record_span(&provider);
    provider.force_flush().unwrap();
    let spans = capture.spans();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name, "order for [REDACTED:email]");
    assert_no_pii(&all_text(&spans, &capture.resource()));
}

#[test]
fn drop_action_removes_sensitive_attributes_and_cuts_matches_from_text() {
    let capture = Capture::default();
    let redactor = Redactor::builder().action(Action::Drop).build().unwrap();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(RedactingProcessor::new(
            SimpleSpanProcessor::new(capture.clone()),
            redactor,
        ))
        .build();
    record_span(&provider);
    provider.force_flush().unwrap();
    let span = &capture.spans()[0];
    assert_eq!(span.name, "order for ");
    assert!(attr(&span.attributes, "customer.phone").is_none());
    assert!(attr(&span.attributes, "password").is_none());
    assert_eq!(attr(&span.attributes, "note").unwrap().as_str(), "call ");
    assert_eq!(
        attr(&span.attributes, "order.id").unwrap().as_str(),
        "ORD-2026-000123"
    );
    // Three in a row dropped, those after them still redacted and kept, in order.
    let keys: Vec<&str> = span.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(
        keys,
        ["note", "contacts", "order.id", "http.request.duration_ms"]
    );
    let contacts = attr(&span.attributes, "contacts")
        .unwrap()
        .as_str()
        .into_owned();
    assert!(
        !contacts.contains(EMAIL) && contacts.contains("no pii"),
        "{contacts}"
    );
}

#[test]
fn hash_action_gives_the_same_customer_the_same_pseudonym() {
    let redactor = Redactor::builder()
        .action(Action::hash("k1", b"test secret").unwrap())
        .build()
        .unwrap();
    let a = redactor.redact_str("call +7 (916) 123-45-67");
    let b = redactor.redact_str("call 89161234567");
    assert_eq!(a, b, "formats of one phone number hash alike");
    assert!(a.starts_with("call [HASH:phone:k1:"), "{a}");
    assert_eq!(a.len(), "call [HASH:phone:k1:]".len() + 16);
    let other_key = Redactor::builder()
        .action(Action::hash("k2", b"other secret").unwrap())
        .build()
        .unwrap();
    let c = other_key.redact_str("call 89161234567");
    assert_ne!(
        a[a.len() - 17..],
        c[c.len() - 17..],
        "the hash depends on the secret"
    );
}

#[test]
fn hash_of_a_value_under_a_sensitive_key_matches_the_hash_found_in_text() {
    let redactor = Redactor::builder()
        .action(Action::hash("k1", b"test secret").unwrap())
        .build()
        .unwrap();
    let in_text = redactor.redact_str("+7 (916) 123-45-67");
    let under_key = redactor.redact_value("customer.phone", &Value::I64(89161234567));
    assert_eq!(
        under_key,
        otel_redact::ValueRedaction::Replaced(Value::from(in_text.into_owned()))
    );
}

#[test]
fn detect_only_counts_but_exports_values_unchanged() {
    let capture = Capture::default();
    let (meters, reader) = meter_provider();
    let redactor = Redactor::builder()
        .detect_only(true)
        .record_span_count(true)
        .meter(otel_redact::opentelemetry::metrics::MeterProvider::meter(
            &meters, "test",
        ))
        .build()
        .unwrap();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(RedactingProcessor::new(
            SimpleSpanProcessor::new(capture.clone()),
            redactor,
        ))
        .build();
    record_span(&provider);
    provider.force_flush().unwrap();
    let span = &capture.spans()[0];
    assert_eq!(span.name, format!("order for {EMAIL}"));
    assert_eq!(
        attr(&span.attributes, "customer.phone"),
        Some(&Value::I64(79161234567))
    );
    let count = attr(&span.attributes, names::SPAN_ATTR_REDACTION_COUNT);
    assert!(
        matches!(count, Some(Value::I64(n)) if *n >= 11),
        "{count:?}"
    );
    let points = sum_points(&meters, &reader, names::METRIC_REDACTION_APPLIED);
    assert!(points.iter().all(
        |(a, _)| attr(a, names::ATTR_MODE).map(|v| v.as_str().into_owned())
            == Some(names::MODE_DETECT_ONLY.to_owned())
    ));
    assert!(!points.is_empty());
}

#[test]
fn redaction_counts_are_recorded_by_rule_and_surface_without_values() {
    let capture = Capture::default();
    let (meters, reader) = meter_provider();
    let redactor = Redactor::builder()
        .meter(otel_redact::opentelemetry::metrics::MeterProvider::meter(
            &meters, "test",
        ))
        .build()
        .unwrap();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(RedactingProcessor::new(
            SimpleSpanProcessor::new(capture.clone()),
            redactor,
        ))
        .build();
    record_span(&provider);
    provider.force_flush().unwrap();
    let points = sum_points(&meters, &reader, names::METRIC_REDACTION_APPLIED);
    let find = |detector: &str, surface: &str| {
        points
            .iter()
            .find(|(a, _)| {
                attr(a, names::ATTR_DETECTOR).map(|v| v.as_str().into_owned())
                    == Some(detector.to_owned())
                    && attr(a, names::ATTR_SURFACE).map(|v| v.as_str().into_owned())
                        == Some(surface.to_owned())
            })
            .map(|(_, v)| *v)
    };
    assert_eq!(find("email", names::SURFACE_SPAN_NAME), Some(1));
    assert_eq!(find("phone", names::SURFACE_SPAN_ATTRIBUTE), Some(2));
    assert_eq!(find("key:phone", names::SURFACE_SPAN_ATTRIBUTE), Some(1));
    assert_eq!(find("card", names::SURFACE_EVENT_ATTRIBUTE), Some(1));
    assert_eq!(find("snils", names::SURFACE_LINK_ATTRIBUTE), Some(1));
    assert_eq!(find("inn", names::SURFACE_STATUS_DESCRIPTION), Some(1));
    let everything = format!("{points:?}");
    assert_no_pii(&everything);
    // No span attribute unless asked for.
    assert!(attr(
        &capture.spans()[0].attributes,
        names::SPAN_ATTR_REDACTION_COUNT
    )
    .is_none());
}
