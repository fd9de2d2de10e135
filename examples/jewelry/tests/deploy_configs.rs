//! The deploy folder's configs stay consistent with the code: the Grafana dashboard
//! parses and queries only metrics the crates emit (in Prometheus form), and the
//! Prometheus config points at the otel-order rules. (`promtool check config` and a
//! YAML parse of every file run in scripts/test.sh.)

use std::path::{Path, PathBuf};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// Prometheus names of what the crates emit: the OpenTelemetry name with dots as
/// underscores, then the unit suffix and `_total` for counters, as the Collector's
/// Prometheus exporter writes them.
fn emitted() -> Vec<String> {
    let prom = |name: &str, suffix: &str| format!("{}{suffix}", name.replace('.', "_"));
    use otel_amqp::names as amqp;
    use otel_order::names as order;
    vec![
        prom(order::METRIC_STATUS_DURATION, "_seconds"),
        prom(order::METRIC_STATUS_TRANSITIONS, "_total"),
        prom(order::METRIC_FAILURES, "_total"),
        prom(order::METRIC_STATUS_COUNT, ""),
        prom(order::METRIC_STATUS_OLDEST_AGE, "_seconds"),
        prom(amqp::METRIC_QUEUE_WAIT, "_seconds"),
        prom(amqp::METRIC_DEAD_LETTERED, "_total"),
        prom(amqp::METRIC_REDELIVERIES, "_total"),
        prom(amqp::METRIC_QUEUE_MESSAGES_READY, ""),
        prom(amqp::METRIC_IN_FLIGHT, ""),
        "http_server_request_duration_seconds".to_owned(),
    ]
}

/// Metric names in a PromQL expression (identifiers followed by `{`, `[` or `)`).
fn metrics_in(expr: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &expr[start..i];
            let next = expr[i..].trim_start().chars().next();
            // `by (order_status, ...)` names labels, not metrics.
            let grouping = expr[..start].rfind('(').is_some_and(|open| {
                let head = expr[..open].trim_end();
                !expr[open..start].contains(')')
                    && (head.ends_with("by") || head.ends_with("without"))
            });
            let is_metric = matches!(next, Some('{' | '[' | ')'))
                && !grouping
                && (word.starts_with("order_")
                    || word.starts_with("rabbitmq_")
                    || word.starts_with("http_"));
            if is_metric {
                found.push(word.to_owned());
            }
        } else {
            i += 1;
        }
    }
    found
}

#[test]
fn dashboard_queries_only_metrics_the_crates_emit() {
    let text =
        std::fs::read_to_string(deploy().join("grafana/dashboards/order-flow.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 8);
    let emitted = emitted();
    let mut ids = Vec::new();
    for panel in panels {
        ids.push(panel["id"].as_i64().expect("panel id"));
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{} has no query", panel["title"]);
        for target in targets {
            let expr = target["expr"].as_str().expect("expr");
            let metrics = metrics_in(expr);
            assert!(!metrics.is_empty(), "no metric found in {expr}");
            for metric in metrics {
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| metric.strip_suffix(s))
                    .unwrap_or(&metric);
                assert!(
                    emitted.iter().any(|e| *e == metric || e == base),
                    "{metric} is not emitted by the crates"
                );
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    for wanted in [
        "status",
        "time in status",
        "failures",
        "queue wait",
        "dead-letter",
    ] {
        assert!(
            panels.iter().any(|p| p["title"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase()
                .contains(wanted)),
            "a panel about {wanted}"
        );
    }
}

#[test]
fn prometheus_uses_the_otel_order_rules_and_jaeger_keeps_30_days() {
    let prometheus = std::fs::read_to_string(deploy().join("prometheus.yml")).unwrap();
    assert!(prometheus.contains("rules/order-status.rules.yml"));
    assert!(
        deploy().join("rules/order-status.rules.yml").is_file(),
        "rules link resolves"
    );
    let jaeger = std::fs::read_to_string(deploy().join("jaeger.yaml")).unwrap();
    assert!(
        jaeger.contains("spans: 720h"),
        "Jaeger keeps traces 30 days"
    );
    let collector = std::fs::read_to_string(deploy().join("otel-collector.yaml")).unwrap();
    for needle in ["redaction", "tail_sampling", "status_code", "latency"] {
        assert!(collector.contains(needle), "collector config has {needle}");
    }
}
