//! Cost of redaction, both variants measured in one run:
//!
//! - `span/*`: creating and ending a typical clean span (10 attributes, 2 events)
//!   through `SdkTracerProvider` with a discarding exporter, with and without
//!   `RedactingProcessor` in front of the same `SimpleSpanProcessor`.
//! - `scan_*/*`: throughput of `Redactor::redact_str` against the naive approach
//!   (each rule's regex `replace_all` in turn, as a Collector redaction config does),
//!   on clean text and on PII-dense text.
//!
//! Run: `cargo bench -p otel-redact -- --warm-up-time 1 --measurement-time 3`

use std::borrow::Cow;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use otel_redact::opentelemetry::trace::{Span, SpanKind, Tracer, TracerProvider};
use otel_redact::opentelemetry::KeyValue;
use otel_redact::opentelemetry_sdk::error::OTelSdkResult;
use otel_redact::opentelemetry_sdk::trace::{
    SdkTracerProvider, SimpleSpanProcessor, SpanData, SpanExporter,
};
use otel_redact::{RedactingProcessor, Redactor};
use regex::Regex;

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        black_box(batch);
        std::future::ready(Ok(()))
    }
}

fn typical_span(provider: &SdkTracerProvider) {
    let tracer = provider.tracer("bench");
    let mut span = tracer
        .span_builder("GET /api/v1/orders/{id}")
        .with_kind(SpanKind::Server)
        .with_attributes(vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.route", "/api/v1/orders/{id}"),
            KeyValue::new("url.path", "/api/v1/orders/ORD-2026-000123"),
            KeyValue::new("url.scheme", "https"),
            KeyValue::new("http.response.status_code", 200),
            KeyValue::new("server.address", "orders.internal"),
            KeyValue::new("client.address", "10.0.12.7"),
            KeyValue::new(
                "user_agent.original",
                "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
            ),
            KeyValue::new("order.id", "ORD-2026-000123"),
            KeyValue::new("order.status", "PAID"),
        ])
        .start(&tracer);
    span.add_event(
        "order.loaded",
        vec![
            KeyValue::new("db.system.name", "postgresql"),
            KeyValue::new("db.rows", 1),
        ],
    );
    span.add_event(
        "order.status.changed",
        vec![
            KeyValue::new("order.status.previous", "CREATED"),
            KeyValue::new("order.status", "PAID"),
        ],
    );
    span.end();
}

fn bench_span(c: &mut Criterion) {
    let plain = SdkTracerProvider::builder()
        .with_span_processor(SimpleSpanProcessor::new(Discard))
        .build();
    let redacting = SdkTracerProvider::builder()
        .with_span_processor(RedactingProcessor::new(
            SimpleSpanProcessor::new(Discard),
            Redactor::default(),
        ))
        .build();
    let mut g = c.benchmark_group("span");
    g.bench_function("sdk_only", |b| b.iter(|| typical_span(&plain)));
    g.bench_function("with_redaction", |b| b.iter(|| typical_span(&redacting)));
    g.finish();
}

/// The naive pipeline: one regex per rule, `replace_all` in turn.
fn naive_rules() -> Vec<(Regex, &'static str)> {
    [
        (
            r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,24}",
            "[REDACTED:email]",
        ),
        (
            r"(?:\+7|8)[\s\-]?\(?\d{3}\)?[\s\-]?\d{3}[\s\-]?\d{2}[\s\-]?\d{2}",
            "[REDACTED:phone]",
        ),
        (r"\+\d[\d \-]{7,16}\d", "[REDACTED:phone]"),
        (r"\b(?:\d[ \-]?){12,18}\d\b", "[REDACTED:card]"),
        (r"\b\d{3}-\d{3}-\d{3}[ \-]\d{2}\b", "[REDACTED:snils]"),
        (r"\b(?:\d{12}|\d{10})\b", "[REDACTED:inn]"),
        (r"\b\d{2} ?\d{2} \d{6}\b", "[REDACTED:passport]"),
        (
            r"[А-ЯЁ][а-яё]+\s+[А-ЯЁ][а-яё]+\s+[А-ЯЁ][а-яё]+(?:ович|евич|ьич|овна|евна|ична)",
            "[REDACTED:name]",
        ),
        (
            r"(?i)bearer\s+[A-Za-z0-9\-._~+/]+=*",
            "Bearer [REDACTED:secret]",
        ),
        (
            r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*",
            "[REDACTED:secret]",
        ),
        (r"://[^/\s:@]+:[^/\s@]*@", "://[REDACTED:secret]@"),
        (
            r"(?i)(?:password|passwd|pwd|secret|token|api_key)=[^\s&]+",
            "[REDACTED:secret]",
        ),
    ]
    .into_iter()
    .map(|(p, m)| (Regex::new(p).expect("bench pattern"), m))
    .collect()
}

fn naive(rules: &[(Regex, &'static str)], text: &str) -> usize {
    let mut cur: Cow<'_, str> = Cow::Borrowed(text);
    for (re, mask) in rules {
        let next = match re.replace_all(&cur, *mask) {
            Cow::Borrowed(_) => None,
            Cow::Owned(s) => Some(s),
        };
        if let Some(s) = next {
            cur = Cow::Owned(s);
        }
    }
    cur.len()
}

const CLEAN_LOG: &str = "2026-11-22T10:15:30.123Z INFO GET /api/v1/orders/ORD-2026-000123 status=200 \
duration_ms=12.5 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 \
client=10.0.12.7:53412 ua=\"Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0\" order moved CREATED -> PAID \
amount=12500.50 currency=RUB ts=1732233600000 build 1.2.3 sha=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b \
request 550e8400-e29b-41d4-a716-446655440000 queue orders.created depth 15 consumers 4 ";

const CLEAN_PROSE: &str =
    "The order service accepted the request, loaded the order from the database, \
checked the payment status with the provider and published the status change to the exchange; \
the consumer acknowledged the delivery after the warehouse confirmed the reservation. ";

const PII_DENSE: &str =
    "client Иванов Иван Иванович phone +7 (916) 123-45-67 mail ivan.petrov@example.ru \
card 2200 1234 5678 9019 passport 45 08 123456 snils 112-233-445 95 inn 500100732259 \
Authorization: Bearer abcDEF123456.xyz url amqp://svc:s3cr3t@rabbit/ password=hunter2 ";

fn bench_scan(c: &mut Criterion) {
    let redactor = Redactor::default();
    let rules = naive_rules();
    for (group, unit) in [
        ("scan_clean_log", CLEAN_LOG),
        ("scan_clean_prose", CLEAN_PROSE),
        ("scan_pii_dense", PII_DENSE),
    ] {
        let text = unit.repeat(4);
        let mut g = c.benchmark_group(group);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function("redactor", |b| {
            b.iter(|| redactor.redact_str(black_box(&text)).len())
        });
        g.bench_function("naive", |b| b.iter(|| naive(&rules, black_box(&text))));
        g.finish();
    }
}

criterion_group!(benches, bench_span, bench_scan);
criterion_main!(benches);
