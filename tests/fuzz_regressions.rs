//! Replays every fuzz seed and every input a fuzzer ever crashed on (`fuzz/seeds/`,
//! `fuzz/regressions/`) through the same checks the fuzz targets run, on stable, in
//! the test suite: a crash found once stays fixed. The seeds double as examples of
//! what each extractor must accept, asserted here.

#[path = "../fuzz/checks/amqp_delivery.rs"]
mod amqp_delivery;
#[path = "../fuzz/checks/http_request.rs"]
mod http_request;
#[path = "../fuzz/checks/invariants.rs"]
mod invariants;
#[path = "../fuzz/checks/redact.rs"]
mod redact;

use std::fs;
use std::path::{Path, PathBuf};

use opentelemetry::trace::TraceId;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const ORDER: &str =
    "id=ORD-2026-000123;status=SUBMITTED;since=1732233600000;by=00f067aa0ba902b7-01";

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut all = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("readable fuzz dir").path();
            if path.is_file() && path.file_name().is_some_and(|n| n != ".gitkeep") {
                let data = fs::read(&path).expect("readable fuzz input");
                all.push((path, data));
            }
        }
    }
    all.sort();
    all
}

#[test]
fn http_request_inputs_replay_clean() {
    let inputs = inputs("http_request");
    assert!(inputs.len() >= 4, "seeds missing");
    for (path, data) in &inputs {
        let seen = http_request::check(data);
        let name = path.file_name().unwrap().to_string_lossy();
        // The valid seeds must reach the handler with their order.
        match &*name {
            "compact-by" => {
                let order = seen.expect("compact-by: order context extracted");
                assert_eq!(order.order_id().as_str(), "ORD-2026-000123");
                assert_eq!(
                    order.status(),
                    Some(otel_order::OrderStatus::PriceCalculated)
                );
                // The compact `by` (a span id) is completed from the request's trace.
                let by = order
                    .entered_by()
                    .expect("compact by resolved in the trace");
                assert_eq!(by.trace_id(), TraceId::from_hex(TRACE).unwrap());
            }
            "full-by" => assert_eq!(seen.expect("full-by").order_id().as_str(), "ORD-7"),
            "duplicates-and-garbage" => assert!(seen.is_none(), "two order headers are refused"),
            _ => {}
        }
    }
}

/// AMQP wire encoding of header tables, for the seeds (lapin's parser reads them).
mod wire {
    pub enum V<'a> {
        Long(&'a str),
        Bytes(&'a [u8]),
        I64(i64),
        Time(u64),
        Bool(bool),
        Void,
        Table(Vec<(&'a str, V<'a>)>),
        Array(Vec<V<'a>>),
    }

    fn value(out: &mut Vec<u8>, v: &V<'_>) {
        match v {
            V::Long(s) => {
                out.push(b'S');
                out.extend((s.len() as u32).to_be_bytes());
                out.extend(s.as_bytes());
            }
            V::Bytes(b) => {
                out.push(b'x');
                out.extend((b.len() as u32).to_be_bytes());
                out.extend(*b);
            }
            V::I64(i) => {
                out.push(b'l');
                out.extend(i.to_be_bytes());
            }
            V::Time(t) => {
                out.push(b'T');
                out.extend(t.to_be_bytes());
            }
            V::Bool(b) => out.extend([b't', u8::from(*b)]),
            V::Void => out.push(b'V'),
            V::Table(entries) => {
                out.push(b'F');
                out.extend(table(entries));
            }
            V::Array(items) => {
                let mut body = Vec::new();
                items.iter().for_each(|i| value(&mut body, i));
                out.push(b'A');
                out.extend((body.len() as u32).to_be_bytes());
                out.extend(body);
            }
        }
    }

    pub fn table(entries: &[(&str, V<'_>)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (key, v) in entries {
            body.push(key.len() as u8);
            body.extend(key.as_bytes());
            value(&mut body, v);
        }
        let mut out = (body.len() as u32).to_be_bytes().to_vec();
        out.extend(body);
        out
    }
}

/// The AMQP seeds: what real publishers send (text and Java/Go byte arrays, a
/// dead-lettered message's `x-death`) and every wrong type in the trace headers.
fn amqp_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use wire::V::*;
    let flags_ts = |flags: u8, body: Vec<u8>| {
        let mut out = vec![flags | 0b10];
        out.extend(1_732_233_600u64.to_be_bytes());
        out.extend(body);
        out
    };
    let x_death = Array(vec![Table(vec![
        ("count", I64(2)),
        ("reason", Long("rejected")),
        ("queue", Long("mes.orders")),
        ("exchange", Long("mes")),
        ("time", Time(1_732_233_600)),
    ])]);
    vec![
        (
            "long-strings",
            flags_ts(
                0,
                wire::table(&[
                    ("traceparent", Long(TRACEPARENT)),
                    ("ordertrace-order", Long(ORDER)),
                    ("ordertrace-published-at", I64(1_732_233_600_000)),
                    ("x-app", Long("shop")),
                ]),
            ),
        ),
        (
            "byte-arrays",
            [
                vec![0b1],
                wire::table(&[
                    ("traceparent", Bytes(TRACEPARENT.as_bytes())),
                    ("ordertrace-order", Bytes(ORDER.as_bytes())),
                ]),
            ]
            .concat(),
        ),
        (
            "short-strings-linked",
            [
                vec![0b100 | (2 << 3)],
                wire::table(&[
                    ("traceparent", Long(TRACEPARENT)),
                    ("ordertrace-order", Long(ORDER)),
                ]),
            ]
            .concat(),
        ),
        (
            "dead-lettered",
            flags_ts(
                1,
                wire::table(&[
                    ("traceparent", Long(TRACEPARENT)),
                    ("x-death", x_death),
                    ("x-first-death-reason", Long("rejected")),
                ]),
            ),
        ),
        (
            "wrong-types",
            [
                vec![0],
                wire::table(&[
                    ("traceparent", I64(7)),
                    ("tracestate", Table(vec![("a", Bool(true))])),
                    ("ordertrace-order", Array(vec![Void])),
                    ("ordertrace-published-at", Long("yesterday")),
                    ("x-death", Long("x")),
                ]),
            ]
            .concat(),
        ),
    ]
}

#[test]
fn amqp_delivery_seeds_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/amqp_delivery");
    for (name, data) in amqp_seeds() {
        let path = dir.join(name);
        if std::env::var_os("ORDERTRACE_WRITE_FUZZ_SEEDS").is_some() {
            fs::write(&path, &data).expect("write seed");
        }
        let committed = fs::read(&path).unwrap_or_default();
        assert!(
            committed == data,
            "{name}: fuzz seed out of date; rerun with ORDERTRACE_WRITE_FUZZ_SEEDS=1"
        );
    }
}

#[test]
fn amqp_delivery_inputs_replay_clean() {
    let trace = TraceId::from_hex(TRACE).unwrap();
    let inputs = inputs("amqp_delivery");
    assert!(inputs.len() >= amqp_seeds().len(), "seeds missing");
    for (path, data) in &inputs {
        let seen = amqp_delivery::check(data);
        let name = path.file_name().unwrap().to_string_lossy();
        match &*name {
            "long-strings" | "byte-arrays" => {
                let (order, trace_id) = seen.expect("parses");
                assert_eq!(
                    trace_id, trace,
                    "{name}: consumer joins the producer's trace"
                );
                let order = order.expect("order context extracted");
                assert_eq!(order.order_id().as_str(), "ORD-2026-000123");
                assert_eq!(order.status(), Some(otel_order::OrderStatus::Submitted));
                assert_eq!(order.entered_by().map(|s| s.trace_id()), Some(trace));
            }
            "short-strings-linked" => {
                let (order, trace_id) = seen.expect("parses");
                assert_ne!(trace_id, trace, "link only: a new trace");
                assert!(order.is_some(), "short strings extract");
            }
            "dead-lettered" => assert_eq!(seen.expect("parses").1, trace),
            "wrong-types" => {
                let (order, trace_id) = seen.expect("parses");
                assert!(order.is_none());
                assert_ne!(trace_id, trace);
            }
            _ => {}
        }
    }
}

#[test]
fn redact_inputs_replay_clean() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("otel-redact/tests/corpus");
    let positive = fs::read(corpus.join("positive.txt")).expect("redaction corpus");
    let negative = fs::read(corpus.join("negative.txt")).expect("redaction corpus");
    // The fuzzer's starting points: every positive is found, no negative is.
    assert!(redact::check(&positive) >= 60, "positives found");
    assert_eq!(redact::check(&negative), 0, "negatives untouched");
    for (_, data) in inputs("redact") {
        redact::check(&data);
    }
}
