//! What the demo prints: per order, a waterfall of its trace (service, span,
//! duration, status, flags), then the mean and p95 time per status.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, Status};
use opentelemetry::{Array, Value};
use otel_order::OrderStatus;

use crate::demo::OrderOutcome;
use crate::telemetry::CollectedSpan;

const WIDTH: usize = 44;

fn attr<'a>(span: &'a CollectedSpan, key: &str) -> Option<&'a Value> {
    span.span
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn attr_string(span: &CollectedSpan, key: &str) -> Option<String> {
    attr(span, key).map(|v| match v {
        Value::Array(Array::String(a)) => a
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    })
}

/// A span name without the per-run suffix of queue and exchange names.
fn short(name: &str) -> String {
    match name.find(".demo-") {
        Some(at) => {
            let rest = &name[at + 1..];
            let end = rest.find(' ').map_or(name.len(), |e| at + 1 + e);
            format!("{}{}", &name[..at], &name[end..])
        }
        None => name.to_owned(),
    }
}

fn duration(span: &CollectedSpan) -> Duration {
    span.span
        .end_time
        .duration_since(span.span.start_time)
        .unwrap_or_default()
}

fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2}s", ms / 1000.0)
    } else {
        format!("{ms:.1}ms")
    }
}

/// What is worth flagging on a span: errors, repeats, SLA breaches, redeliveries,
/// dead-lettering, queue wait, redacted values.
fn flags(span: &CollectedSpan) -> String {
    let mut out = Vec::new();
    if let Some(next) = attr_string(span, "order.status.next") {
        out.push(format!("-> {next}"));
    }
    if let Status::Error { description } = &span.span.status {
        out.push(format!("ERROR: {description}"));
    }
    if let Some(kind) = attr_string(span, "order.transition.kind") {
        if kind == "repeat" || kind == "backward" {
            out.push(format!("FLAG transition={kind}"));
        }
    }
    if attr_string(span, "order.sla.exceeded").as_deref() == Some("true") {
        out.push("FLAG SLA exceeded".into());
    }
    if let Some(reason) = attr_string(span, "order.failure.reason") {
        out.push(format!("failure={reason}"));
    }
    if attr_string(span, "rabbitmq.message.redelivered").as_deref() == Some("true") {
        out.push("FLAG redelivered".into());
    }
    if let Some(reason) = attr_string(span, "rabbitmq.x_death.reason") {
        let queue = attr_string(span, "rabbitmq.x_death.queue").unwrap_or_default();
        out.push(format!("FLAG dead-lettered ({reason} from {queue})"));
    }
    if attr_string(span, "rabbitmq.settle").as_deref() == Some("dropped") {
        out.push("unsettled (worker died)".into());
    }
    if let Some(key) = attr_string(span, "messaging.rabbitmq.destination.routing_key") {
        if span.span.name.starts_with("publish") {
            out.push(format!("key={key}"));
        }
    }
    if let Some(wait) = attr(span, "rabbitmq.message.queue_wait").and_then(|v| match v {
        Value::F64(f) => Some(*f),
        _ => None,
    }) {
        if wait >= 0.001 {
            out.push(format!(
                "queued {}",
                fmt_duration(Duration::from_secs_f64(wait))
            ));
        }
    }
    if span
        .span
        .events
        .iter()
        .any(|e| e.name == "duplicate approval ignored")
    {
        out.push("FLAG duplicate approval ignored".into());
    }
    let redacted = span
        .span
        .attributes
        .iter()
        .filter(|kv| kv.value.as_str().contains("[REDACTED"))
        .map(|kv| kv.key.as_str().to_owned())
        .collect::<Vec<_>>();
    if !redacted.is_empty() {
        out.push(format!("redacted: {}", redacted.join(",")));
    }
    out.join("  ")
}

/// The waterfall of every trace that carries `order_id`.
pub fn waterfall(spans: &[CollectedSpan], order_id: &str) -> String {
    let traces: HashSet<_> = spans
        .iter()
        .filter(|s| attr_string(s, "order.id").as_deref() == Some(order_id))
        .map(|s| s.span.span_context.trace_id())
        .collect();
    let mut out = String::new();
    let mut traces: Vec<_> = traces.into_iter().collect();
    traces.sort_by_key(|t| {
        spans
            .iter()
            .filter(|s| s.span.span_context.trace_id() == *t)
            .map(|s| s.span.start_time)
            .min()
    });
    for trace in traces {
        let mut in_trace: Vec<&CollectedSpan> = spans
            .iter()
            .filter(|s| s.span.span_context.trace_id() == trace)
            .collect();
        in_trace.sort_by_key(|s| s.span.start_time);
        let start = in_trace
            .first()
            .map(|s| s.span.start_time)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let ids: HashMap<SpanId, SpanId> = in_trace
            .iter()
            .map(|s| (s.span.span_context.span_id(), s.span.parent_span_id))
            .collect();
        let depth = |s: &CollectedSpan| {
            let mut d = 0;
            let mut parent = s.span.parent_span_id;
            while let Some(&p) = ids.get(&parent) {
                d += 1;
                parent = p;
                if d > 30 {
                    break;
                }
            }
            d
        };
        let _ = writeln!(out, "  trace {trace}  ({} spans)", in_trace.len());
        for span in in_trace {
            let offset = span
                .span
                .start_time
                .duration_since(start)
                .unwrap_or_default();
            let name = format!("{}{}", " ".repeat(depth(span)), short(&span.span.name));
            let name: String = if name.chars().count() > WIDTH {
                name.chars().take(WIDTH - 1).chain(['…']).collect()
            } else {
                name
            };
            let status = match &span.span.status {
                Status::Error { .. } => "ERROR",
                _ => "ok",
            };
            let _ = writeln!(
                out,
                "  {:>8} {:>9}  {:<12} {:<width$} {:<5} {}",
                format!("+{}", fmt_duration(offset)),
                fmt_duration(duration(span)),
                span.service,
                name,
                status,
                flags(span),
                width = WIDTH
            );
        }
    }
    out
}

/// Mean and p95 time spent in each status, from the status spans (a status span
/// covers the time the order was in `order.status`).
pub fn status_table(spans: &[CollectedSpan]) -> String {
    let mut by_status: BTreeMap<usize, (OrderStatus, Vec<Duration>)> = BTreeMap::new();
    for span in spans {
        if !span.span.name.starts_with("order.status ") {
            continue;
        }
        let kind = attr_string(span, "order.transition.kind").unwrap_or_default();
        if kind == "repeat" || kind == "initial" {
            continue;
        }
        let Some(status) =
            attr_string(span, "order.status").and_then(|s| s.parse::<OrderStatus>().ok())
        else {
            continue;
        };
        by_status
            .entry(status.index())
            .or_insert_with(|| (status, Vec::new()))
            .1
            .push(duration(span));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<24} {:>6} {:>10} {:>10}  set by",
        "status", "orders", "mean", "p95"
    );
    for (_, (status, mut times)) in by_status {
        times.sort();
        let mean = times.iter().sum::<Duration>() / times.len().max(1) as u32;
        let p95 = times[((times.len() as f64 * 0.95).ceil() as usize).clamp(1, times.len()) - 1];
        let _ = writeln!(
            out,
            "  {:<24} {:>6} {:>10} {:>10}  {}",
            status.as_str(),
            times.len(),
            fmt_duration(mean),
            fmt_duration(p95),
            status.owner().as_str().to_ascii_uppercase()
        );
    }
    out
}

/// One line per order: where it ended, and why when it did not close.
pub fn outcome_line(outcome: &OrderOutcome) -> String {
    let reached = outcome.reached.map(|s| s.as_str()).unwrap_or("(none)");
    let fault = outcome
        .fault
        .map(|f| format!("  [fault {f}: {}]", f.description()))
        .unwrap_or_default();
    match &outcome.stopped {
        None => format!("{}  {reached}{fault}", outcome.order_id),
        Some(step) => {
            let owner = outcome
                .reached
                .map(|s| s.owner().as_str().to_ascii_uppercase())
                .unwrap_or_default();
            format!(
                "{}  STOPPED in {reached} (last set by {owner}); gave up at: {step}{fault}",
                outcome.order_id
            )
        }
    }
}
