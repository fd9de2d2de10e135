//! Behaviour of the redactor on text and values: lookalikes, overlaps, the size cap,
//! custom and key rules.

use std::borrow::Cow;

use otel_redact::opentelemetry::{Array, Value};
use otel_redact::{Detector, Redactor, ValueRedaction};

fn r() -> Redactor {
    Redactor::default()
}

/// Redacts `clean` three times (a heap copy, so that the per-thread caches, not
/// the literal table, remember it) and checks it comes back unchanged; then
/// checks that `dirty`, a text alike but with personal data, still becomes
/// `expected`.
fn clean_then_caught(redactor: &Redactor, clean: &str, dirty: &str, expected: &str) {
    let clean = String::from(clean);
    for _ in 0..3 {
        assert!(
            matches!(redactor.redact_str(&clean), Cow::Borrowed(_)),
            "{clean}"
        );
    }
    assert_eq!(redactor.redact_str(&String::from(dirty)), expected);
}

#[test]
fn phone_inside_uuid_is_not_redacted() {
    let text = "order 89161234-5671-4d2e-8a1b-916123456700 created";
    assert!(matches!(r().redact_str(text), Cow::Borrowed(_)));
}

#[test]
fn millisecond_timestamp_that_passes_luhn_is_not_a_card() {
    assert!(matches!(
        r().redact_str("ts 1732233600003"),
        Cow::Borrowed(_)
    ));
}

#[test]
fn url_credentials_mask_only_the_userinfo_not_an_email_inside() {
    assert_eq!(
        r().redact_str("connect amqp://guest:pa55@rabbit.internal:5672/orders"),
        "connect amqp://[REDACTED:secret]@rabbit.internal:5672/orders"
    );
}

#[test]
fn bearer_token_keeps_the_scheme_word() {
    assert_eq!(
        r().redact_str("Authorization: Bearer abc.def-123456"),
        "Authorization: Bearer [REDACTED:secret]"
    );
}

#[test]
fn several_kinds_in_one_text_are_all_replaced_in_one_pass() {
    assert_eq!(
        r().redact_str(
            "Иванов Иван Иванович, +7 916 123-45-67, ivan@example.ru, 4111 1111 1111 1111"
        ),
        "[REDACTED:name], [REDACTED:phone], [REDACTED:email], [REDACTED:card]"
    );
}

#[test]
fn switched_off_detector_lets_its_values_through() {
    let r = Redactor::builder()
        .disable(Detector::Email)
        .build()
        .unwrap();
    assert_eq!(r.redact_str("ivan@example.ru"), "ivan@example.ru");
    assert_eq!(r.redact_str("89161234567"), "[REDACTED:phone]");
}

#[test]
fn custom_rule_masks_with_its_own_label() {
    let r = Redactor::builder()
        .custom_rule("contract", r"CTR-\d{6}")
        .build()
        .unwrap();
    assert_eq!(r.redact_str("see CTR-123456"), "see [REDACTED:contract]");
}

#[test]
fn custom_rule_that_matches_empty_text_changes_nothing() {
    let r = Redactor::builder()
        .custom_rule("empty", r"x*")
        .build()
        .unwrap();
    assert!(matches!(r.redact_str("abc"), Cow::Borrowed(_)));
}

#[test]
fn oversize_value_is_masked_whole_without_scanning() {
    let r = Redactor::builder().max_scan_len(16).build().unwrap();
    assert_eq!(
        r.redact_str("a perfectly clean but long value"),
        "[REDACTED:oversize]"
    );
    assert_eq!(r.redact_str("short and clean"), "short and clean");
}

#[test]
fn numbers_under_sensitive_keys_are_masked_and_elsewhere_kept() {
    let r = r();
    assert_eq!(
        r.redact_value("user.phone_number", &Value::I64(79161234567)),
        ValueRedaction::Replaced(Value::from("[REDACTED:phone]"))
    );
    assert_eq!(
        r.redact_value("http.response.body.size", &Value::I64(79161234567)),
        ValueRedaction::Unchanged
    );
    assert_eq!(
        r.redact_value("card_number", &Value::Array(Array::I64(vec![4111, 1111]))),
        ValueRedaction::Replaced(Value::from("[REDACTED:card]"))
    );
}

#[test]
fn convention_name_keys_are_scanned_not_masked() {
    let r = r();
    assert_eq!(
        r.redact_value("service.name", &Value::from("checkout")),
        ValueRedaction::Unchanged
    );
    assert_eq!(
        r.redact_value("messaging.destination.name", &Value::from("orders.created")),
        ValueRedaction::Unchanged
    );
    assert_eq!(
        r.redact_value("customer.name", &Value::from("Anna")),
        ValueRedaction::Replaced(Value::from("[REDACTED:name]"))
    );
}

#[test]
fn configured_keys_are_sensitive_or_never_touched() {
    let r = Redactor::builder()
        .sensitive_key("iban")
        .never_touch_key("debug.raw_phone")
        .build()
        .unwrap();
    assert_eq!(
        r.redact_value("payment.iban", &Value::from("DE89370400440532013000")),
        ValueRedaction::Replaced(Value::from("[REDACTED:iban]"))
    );
    assert_eq!(
        r.redact_value("debug.raw_phone", &Value::from("89161234567")),
        ValueRedaction::Unchanged
    );
}

#[test]
fn detect_only_returns_text_uncopied() {
    let r = Redactor::builder().detect_only(true).build().unwrap();
    assert!(matches!(
        r.redact_str("ivan@example.ru"),
        Cow::Borrowed("ivan@example.ru")
    ));
    assert_eq!(r.findings("ivan@example.ru").len(), 1);
}

#[test]
fn redactor_is_cheap_to_clone_and_shareable() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Redactor>();
}

/// Texts are remembered as clean (literals by address, short texts by content per
/// thread): what one redactor found clean, another with other rules still
/// redacts, and a text that changes by a byte is scanned again.
#[test]
fn texts_found_clean_before_are_judged_again_by_other_rules_and_when_changed() {
    let without_email = Redactor::builder()
        .disable(Detector::Email)
        .build()
        .unwrap();
    let default = r();
    let literal = "mail ivan@example.ru";
    let owned = String::from(literal);
    for _ in 0..3 {
        assert_eq!(without_email.redact_str(literal), literal);
        assert_eq!(without_email.redact_str(&owned), literal);
    }
    assert_eq!(default.redact_str(literal), "mail [REDACTED:email]");
    assert_eq!(default.redact_str(&owned), "mail [REDACTED:email]");

    // A key judged by one rule set is judged again by another.
    let with_note = Redactor::builder().sensitive_key("note").build().unwrap();
    let note = Value::from("see you at 5");
    for _ in 0..3 {
        assert_eq!(
            with_note.redact_value("note", &note),
            ValueRedaction::Replaced(Value::from("[REDACTED:note]"))
        );
    }
    assert_eq!(
        default.redact_value("note", &note),
        ValueRedaction::Unchanged
    );

    // The same length, one byte apart: found clean, then a phone.
    clean_then_caught(
        &default,
        "call 0 916 123 45 6x",
        "call 8 916 123 45 67",
        "call [REDACTED:phone]",
    );
}

/// Short texts the prefilter found clean are also remembered by *shape* (each digit
/// replaced by its class), so a path with a new order id on every span is known
/// clean without a pass. Only the prefilter's verdict is remembered that way: it
/// never looks at which digit is where, except for the `7`/`8` of a dotted
/// phone's trunk, which the shape keeps apart. Texts the detectors themselves
/// found clean (a card number failing Luhn) are not remembered by shape.
#[test]
fn texts_shaped_like_clean_ones_are_still_judged_by_their_digits() {
    let default = r();
    let paths: Vec<String> = (0..5)
        .map(|n| format!("/api/v1/orders/ORD-2026-00012{n}"))
        .collect();
    for path in &paths {
        assert!(matches!(default.redact_str(path), Cow::Borrowed(_)));
    }

    // A lone 5 before a dot is no trunk; a lone 8 is, whatever the shape cache
    // holds for the 5.
    clean_then_caught(
        &default,
        "x 5.916.123.45.67",
        "x 8.916.123.45.67",
        "x [REDACTED:phone]",
    );

    // The same digits' places, one failing Luhn and one passing: the first is
    // found clean by the card detector, not the prefilter.
    clean_then_caught(
        &default,
        "card 4276 1600 1234 5670",
        "card 4276 1600 1234 5675",
        "card [REDACTED:card]",
    );
}

/// The per-thread caches are built on the heap: a thread with a small stack (a
/// worker pool's, say) can redact. They once took a 100 KiB stack frame on every
/// redaction, which overflowed such a stack and aborted the process.
#[test]
fn a_thread_with_a_small_stack_can_redact() {
    let redactor = r();
    let worker = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            let once = redactor.redact_str("call 8 916 123 45 67").into_owned();
            let again = redactor
                .redact_str("/api/v1/orders/ORD-2026-000123")
                .into_owned();
            (once, again)
        })
        .expect("spawn a worker");
    let (once, again) = worker.join().expect("the worker finishes");
    assert_eq!(once, "call [REDACTED:phone]");
    assert_eq!(again, "/api/v1/orders/ORD-2026-000123");
}
