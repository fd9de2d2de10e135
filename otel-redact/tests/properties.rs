//! Property tests: generated PII placed at random positions in random text, and in
//! every span surface, never survives; clean generated text comes back unchanged and
//! uncopied; arbitrary input never panics and stays within the output bound (the
//! stable-Rust counterpart of the workspace's `redact` fuzz target).

use std::borrow::Cow;
use std::sync::LazyLock;
use std::time::SystemTime;

use otel_redact::opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use otel_redact::opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use otel_redact::opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use otel_redact::Redactor;
use proptest::prelude::*;

/// Compiled once: building a redactor per case would dominate the run time.
static DEFAULT: LazyLock<Redactor> = LazyLock::new(Redactor::default);
static SMALL_CAP: LazyLock<Redactor> =
    LazyLock::new(|| Redactor::builder().max_scan_len(64).build().unwrap());
static HASHING: LazyLock<Redactor> = LazyLock::new(|| {
    Redactor::builder()
        .action(otel_redact::Action::hash("k1", b"s").unwrap())
        .build()
        .unwrap()
});

fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, n)
        .prop_map(|v| v.into_iter().map(|d| char::from(b'0' + d)).collect())
}

fn luhn_complete(body: &str) -> String {
    (0..10)
        .map(|d| format!("{body}{d}"))
        .find(|s| {
            let sum: u32 = s
                .bytes()
                .rev()
                .enumerate()
                .map(|(i, b)| {
                    let v = u32::from(b - b'0');
                    if i % 2 == 1 {
                        if v * 2 > 9 {
                            v * 2 - 9
                        } else {
                            v * 2
                        }
                    } else {
                        v
                    }
                })
                .sum();
            sum.is_multiple_of(10)
        })
        .unwrap_or_default()
}

fn group(s: &str, sep: &str) -> String {
    s.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(sep)
}

fn phone() -> impl Strategy<Value = String> {
    (digits(9), 0usize..7).prop_map(|(d, fmt)| {
        let (a, b, c, e) = (&d[0..2], &d[2..5], &d[5..7], &d[7..9]);
        match fmt {
            0 => format!("+7 (9{a}) {b}-{c}-{e}"),
            1 => format!("8-9{a}-{b}-{c}-{e}"),
            2 => format!("89{a}{b}{c}{e}"),
            3 => format!("+79{a}{b}{c}{e}"),
            4 => format!("8 (9{a}) {b} {c} {e}"),
            5 => format!("+44 20 {}{} {}", &d[0..2], &d[2..4], &d[4..8]),
            _ => format!("(9{a}) {b}-{c}-{e}"),
        }
    })
}

fn email() -> impl Strategy<Value = String> {
    (
        "[a-z][a-z0-9]{0,9}(\\.[a-z]{1,6})?",
        "[a-z]{2,10}",
        prop::sample::select(vec!["ru", "com", "org", "рф"]),
    )
        .prop_map(|(l, d, t)| format!("{l}@{d}.{t}"))
}

fn card() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["2200", "2204", "4276", "5536", "4111"]),
        digits(11),
        prop::sample::select(vec![" ", "-", ""]),
    )
        .prop_map(|(p, d, sep)| group(&luhn_complete(&format!("{p}{d}")), sep))
}

fn snils() -> impl Strategy<Value = String> {
    digits(9).prop_map(|d| {
        let sum: u32 = d
            .bytes()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * (9 - i as u32))
            .sum();
        let c = sum % 101 % 100;
        format!("{}-{}-{} {c:02}", &d[0..3], &d[3..6], &d[6..9])
    })
}

fn inn12() -> impl Strategy<Value = String> {
    digits(10).prop_map(|d| {
        let w = |s: &str, ws: &[u32]| {
            s.bytes()
                .zip(ws)
                .map(|(b, w)| u32::from(b - b'0') * w)
                .sum::<u32>()
                % 11
                % 10
        };
        let s = format!("{d}{}", w(&d, &[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]));
        format!("{s}{}", w(&s, &[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]))
    })
}

fn passport() -> impl Strategy<Value = String> {
    (1u8..100, digits(2), digits(6), any::<bool>()).prop_map(|(r, y, n, spaced)| {
        if spaced {
            format!("{r:02} {y} {n}")
        } else {
            format!("{r:02}{y} {n}")
        }
    })
}

fn name() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["Иванов", "Петрова", "Смирнов", "Кузнецова", "Соколов"]),
        prop::sample::select(vec!["Иван", "Анна", "Ольга", "Дмитрий", "Сергей"]),
        prop::sample::select(vec![
            "Иванович",
            "Сергеевна",
            "Петровна",
            "Ильич",
            "Андреевич",
            "Никитична",
        ]),
    )
        .prop_map(|(s, g, p)| format!("{s} {g} {p}"))
}

/// (text to embed, the part that must not survive).
fn secret() -> impl Strategy<Value = (String, String)> {
    ("[0-9][A-Za-z0-9]{8,24}", 0usize..4).prop_map(|(tok, kind)| match kind {
        0 => (format!("Bearer {tok}"), tok),
        1 => (format!("password={tok}"), tok),
        2 => (format!("amqp://svc:{tok}@rabbit/"), tok),
        _ => {
            let jwt = format!("eyJhbGciOi{tok}.eyJzdWIiOi{tok}.{tok}");
            (jwt.clone(), jwt)
        }
    })
}

/// Any PII: (embedded form, the bytes that must not survive).
fn pii() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        phone().prop_map(|p| (p.clone(), p)),
        email().prop_map(|p| (p.clone(), p)),
        card().prop_map(|p| (p.clone(), p)),
        snils().prop_map(|p| (p.clone(), p)),
        inn12().prop_map(|p| (p.clone(), p)),
        passport().prop_map(|p| (p.clone(), p)),
        name().prop_map(|p| (p.clone(), p)),
        secret(),
    ]
}

/// Random text without digits, `@`, `=` or capitals that could join the PII.
fn filler() -> impl Strategy<Value = String> {
    "[a-z а-я,.!?()]{0,40}"
}

fn span_with(surface: usize, text: &str) -> SpanData {
    let ctx = SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128),
        SpanId::from(0x00f0_67aa_0ba9_02b7_u64),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    let at = |i: usize| {
        if i == surface {
            text.to_owned()
        } else {
            "clean".to_owned()
        }
    };
    let mut events = SpanEvents::default();
    events.events.push(Event::new(
        at(2),
        SystemTime::UNIX_EPOCH,
        vec![KeyValue::new("exception.message", at(3))],
        0,
    ));
    let mut links = SpanLinks::default();
    links.links.push(Link::new(
        ctx.clone(),
        vec![KeyValue::new("note", at(4))],
        0,
    ));
    SpanData {
        span_context: ctx,
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: at(0).into(),
        start_time: SystemTime::UNIX_EPOCH,
        end_time: SystemTime::UNIX_EPOCH,
        attributes: vec![
            KeyValue::new("note", at(1)),
            KeyValue::new(
                "list",
                Value::Array(Array::String(vec!["a".into(), at(6).into()])),
            ),
        ],
        dropped_attributes_count: 0,
        events,
        links,
        status: Status::error(at(5)),
        instrumentation_scope: InstrumentationScope::builder("test").build(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_pii_at_random_positions_never_survives(
        pre in filler(), post in filler(), (embedded, core) in pii()
    ) {
        let text = format!("{pre} {embedded} {post}");
        let out = DEFAULT.redact_str(&text);
        prop_assert!(!out.contains(&core), "{core:?} survived in {out:?}");
    }

    #[test]
    fn generated_pii_in_any_span_surface_never_survives(
        surface in 0usize..7, pre in filler(), (embedded, core) in pii()
    ) {
        let mut span = span_with(surface, &format!("{pre} {embedded}"));
        let n = DEFAULT.redact_span(&mut span);
        prop_assert!(n >= 1);
        let exported = format!("{span:?}");
        prop_assert!(!exported.contains(&core), "{core:?} survived in {exported}");
    }

    #[test]
    fn clean_generated_text_is_returned_unchanged_and_uncopied(
        parts in proptest::collection::vec(
            ("[a-z]{1,8}|[а-я]{1,8}|[A-Z][a-z]{1,6}", "[0-9]{1,6}|v[0-9]\\.[0-9]{1,2}\\.[0-9]|[0-9a-f]{32}|[0-9]{1,5}\\.[0-9]{2}|"),
            0..12,
        )
    ) {
        let text = parts
            .iter()
            .filter(|(w, _)| !["bearer", "basic", "token"].contains(&w.to_lowercase().as_str()))
            .map(|(w, n)| format!("{w} {n}"))
            .collect::<Vec<_>>()
            .join(" ");
        let out = DEFAULT.redact_str(&text);
        prop_assert!(matches!(out, Cow::Borrowed(s) if std::ptr::eq(s, text.as_str())), "{text:?} -> {out:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Same properties as the workspace's `fuzz/checks/redact.rs`, on stable Rust.
    #[test]
    fn arbitrary_input_never_panics_and_output_is_bounded(
        text in prop_oneof![
            any::<String>(),
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            "[0-9 +()\\-@a-zA-Zа-яА-ЯёЁ.:=/_\"'№]{0,300}",
        ]
    ) {
        for r in [&*DEFAULT, &*SMALL_CAP, &*HASHING] {
            let out = r.redact_str(&text);
            prop_assert!(out.len() <= r.output_len_bound(text.len()));
        }
    }
}
