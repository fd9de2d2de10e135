//! Workloads of the redaction budgets, shared by this crate's criterion bench and the
//! workspace's overhead gate (`benches/gate`), so both measure the same thing.

#![allow(dead_code)]

use std::borrow::Cow;
use std::hint::black_box;

use otel_redact::opentelemetry::trace::{Span, SpanKind, Tracer, TracerProvider};
use otel_redact::opentelemetry::{KeyValue, StringValue};
use otel_redact::opentelemetry_sdk::error::OTelSdkResult;
use otel_redact::opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use regex::Regex;

/// Exports nothing: the budget is the cost of creating, redacting and ending spans.
#[derive(Debug)]
pub struct Discard;

impl SpanExporter for Discard {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        black_box(batch);
        std::future::ready(Ok(()))
    }
}

/// What one request contributes to its span: the values `OrderTraceLayer` copies
/// out of the request (so they are fresh heap strings on every span).
struct Request {
    method: &'static str,
    route: &'static str,
    path: &'static str,
    host: &'static str,
    client: &'static str,
    user_agent: &'static str,
    order_id: &'static str,
}

const REQUEST: Request = Request {
    method: "GET",
    route: "/api/v1/orders/{id}",
    path: "/api/v1/orders/ORD-2026-000123",
    host: "orders.internal",
    client: "10.0.12.7",
    user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    order_id: "ORD-2026-000123",
};

/// User agents the simulated clients send.
const USER_AGENTS: [&str; 4] = [
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36",
    "jewelry-mobile/4.2.1 (Android 14; SM-S918B)",
    "okhttp/4.12.0",
];
/// Clients (address and user agent) the simulated requests come from.
const CLIENTS: u64 = 64;

thread_local! {
    static NEXT_ORDER: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Appends `n` as exactly six decimal digits (wrapping at a million).
fn push_six_digits(out: &mut String, n: u64) {
    let mut digits = [b'0'; 6];
    let mut rest = n % 1_000_000;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend(digits.iter().map(|&d| char::from(d)));
}

/// A typical clean server span: 10 attributes, 2 events, shaped as the HTTP server
/// layer makes it. Span name, path, route, host, client address, user agent and
/// order id come from the request, so they are owned strings built per span; method,
/// scheme, status, event names and event values are literals. Each span is for
/// another order (its path and order id never repeat), from one of 64 clients.
pub fn typical_span(provider: &SdkTracerProvider) {
    let r = &REQUEST;
    let n = NEXT_ORDER.with(|c| {
        let n = c.get();
        c.set(n + 1);
        n
    });
    let mut order_id = String::with_capacity(16);
    order_id.push_str("ORD-2026-");
    push_six_digits(&mut order_id, n);
    let mut path = String::with_capacity(32);
    path.push_str("/api/v1/orders/");
    path.push_str(&order_id);
    let client = n.wrapping_mul(0x9E37_79B9) % CLIENTS;
    let mut address = String::with_capacity(16);
    address.push_str("10.0.");
    address.push_str(["0", "1", "2", "3", "4", "5", "6", "7"][(client / 8) as usize % 8]);
    address.push('.');
    address.push_str(["7", "19", "23", "42", "101", "150", "201", "254"][(client % 8) as usize]);
    span_with(
        provider,
        format!("{} {}", r.method, r.route).into(),
        [
            path.into(),
            r.route.to_owned().into(),
            r.host.to_owned().into(),
            address.into(),
            USER_AGENTS[(client % 4) as usize].to_owned().into(),
            order_id.into(),
        ],
    );
}

/// The same span with every string a literal (nothing taken from a request): the
/// cheapest case for the SDK and for the redactor.
pub fn typical_span_literals(provider: &SdkTracerProvider) {
    let r = &REQUEST;
    span_with(
        provider,
        "GET /api/v1/orders/{id}".into(),
        [
            r.path.into(),
            r.route.into(),
            r.host.into(),
            r.client.into(),
            r.user_agent.into(),
            r.order_id.into(),
        ],
    );
}

fn span_with(
    provider: &SdkTracerProvider,
    name: Cow<'static, str>,
    [path, route, host, client, user_agent, order_id]: [StringValue; 6],
) {
    let tracer = provider.tracer("bench");
    let mut span = tracer
        .span_builder(name)
        .with_kind(SpanKind::Server)
        .with_attributes(vec![
            KeyValue::new("http.request.method", REQUEST.method),
            KeyValue::new("http.route", route),
            KeyValue::new("url.path", path),
            KeyValue::new("url.scheme", "https"),
            KeyValue::new("http.response.status_code", 200),
            KeyValue::new("server.address", host),
            KeyValue::new("client.address", client),
            KeyValue::new("user_agent.original", user_agent),
            KeyValue::new("order.id", order_id),
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

/// The naive pipeline: one regex per rule, `replace_all` in turn.
pub fn naive_rules() -> Vec<(Regex, &'static str)> {
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

/// The naive approach: each rule's `replace_all` in turn; returns the result's length.
pub fn naive(rules: &[(Regex, &'static str)], text: &str) -> usize {
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

/// Clean log-like text: ids, timestamps, prices, addresses, versions, hashes.
pub const CLEAN_LOG: &str = "2026-11-22T10:15:30.123Z INFO GET /api/v1/orders/ORD-2026-000123 status=200 \
duration_ms=12.5 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 \
client=10.0.12.7:53412 ua=\"Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0\" order moved CREATED -> PAID \
amount=12500.50 currency=RUB ts=1732233600000 build 1.2.3 sha=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b \
request 550e8400-e29b-41d4-a716-446655440000 queue orders.created depth 15 consumers 4 ";

/// Clean prose.
pub const CLEAN_PROSE: &str =
    "The order service accepted the request, loaded the order from the database, \
checked the payment status with the provider and published the status change to the exchange; \
the consumer acknowledged the delivery after the warehouse confirmed the reservation. ";

/// Text dense with personal data and secrets.
pub const PII_DENSE: &str =
    "client Иванов Иван Иванович phone +7 (916) 123-45-67 mail ivan.petrov@example.ru \
card 2200 1234 5678 9019 passport 45 08 123456 snils 112-233-445 95 inn 500100732259 \
Authorization: Bearer abcDEF123456.xyz url amqp://svc:s3cr3t@rabbit/ password=hunter2 ";
