//! What the broker-fault tests share: the services on the dedicated fault node,
//! exporting over OTLP to an in-process receiver, and the ledger that accounts for
//! every order and every message from the exported spans alone.

#![allow(dead_code)] // each test binary uses a subset

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jewelry::demo::{DemoConfig, OrderOutcome, Services, SpanSink};
use jewelry::fault_node::FaultNode;
use otlp_receiver::proto::common::v1::any_value::Value as AnyValue;
use otlp_receiver::{OtlpReceiver, ReceivedSpan};

/// The fault node, or a failure that says how to start it (never a skip: a test
/// that silently does not run proves nothing).
pub fn fault_node() -> FaultNode {
    FaultNode::from_env().unwrap_or_else(|e| panic!("{e}"))
}

/// An OTLP receiver with every service of this process exporting to it. Each test
/// binary holds one test, so setting the environment here is safe.
pub async fn receiver() -> OtlpReceiver {
    let receiver = OtlpReceiver::start().await;
    for (k, v) in [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpc_endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
        ("OTEL_METRIC_EXPORT_INTERVAL", "500".into()),
    ] {
        std::env::set_var(k, v);
    }
    receiver
}

/// The services on the fault node. Steps may wait out a broker outage.
pub async fn services(node: &FaultNode) -> Arc<Services> {
    let config = DemoConfig {
        amqp_addr: node.addr.clone(),
        pricing_delay: Duration::from_millis(150),
        step_timeout: Duration::from_secs(25),
        ..DemoConfig::default()
    };
    Arc::new(
        Services::start(&config, SpanSink::Collect)
            .await
            .expect("the services start on the fault node"),
    )
}

/// Orders in flight when the broker breaks.
pub const IN_FLIGHT: usize = 20;
/// Orders after it recovered.
pub const AFTER: usize = 3;

/// The scenario of every broker-fault test: start the services on the fault node,
/// drive [`IN_FLIGHT`] orders, `break_broker` while they are in flight, then
/// [`AFTER`] more orders on the recovered connections; account for all of them
/// from the exported spans (printed under `name`), clean up, and return the ledger.
pub async fn orders_through<F, Fut>(name: &str, break_broker: F) -> Ledger
where
    F: FnOnce(FaultNode) -> Fut,
    Fut: Future<Output = ()>,
{
    let node = fault_node();
    let receiver = receiver().await;
    let services = services(&node).await;
    let started = Instant::now();
    let in_flight = tokio::spawn({
        let services = Arc::clone(&services);
        async move { services.run_orders(vec![None; IN_FLIGHT]).await }
    });
    // Pricing takes turns, so requests queue up: break the broker while messages
    // sit in queues, in consumers' hands and in publishers' confirms
    // (rabbitmqctl itself takes a second or two to act).
    tokio::time::sleep(Duration::from_millis(300)).await;
    break_broker(node).await;
    let mut outcomes = in_flight.await.expect("orders driven");
    // Recovered: new orders go through on the new connections.
    outcomes.extend(services.run_orders(vec![None; AFTER]).await);
    let reconnects = services.reconnects();

    let spans = exported_spans(&services, &receiver).await;
    let ledger = Ledger::new(&spans, &outcomes);
    println!(
        "{name}: {ledger}\nreconnects {reconnects}, {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let services = Arc::into_inner(services).expect("no order still running");
    services
        .cleanup()
        .await
        .expect("the run's queues are deleted");
    assert!(reconnects >= 3, "every service reconnected: {reconnects}");
    ledger
}

/// Flush and wait until the receiver has every span the services finished.
pub async fn exported_spans(services: &Services, receiver: &OtlpReceiver) -> Vec<ReceivedSpan> {
    services.flush();
    let collected = services.spans().len();
    let spans = receiver
        .wait_for_spans(collected, Duration::from_secs(20))
        .await;
    assert!(
        spans.len() >= collected,
        "exported {} of {collected} spans",
        spans.len()
    );
    spans
}

fn attr_bool(span: &ReceivedSpan, key: &str) -> Option<bool> {
    match otlp_receiver::attr(&span.span.attributes, key)?
        .value
        .as_ref()?
    {
        AnyValue::BoolValue(b) => Some(*b),
        _ => None,
    }
}

/// Deliveries of one message id.
#[derive(Debug, Default)]
struct Deliveries {
    processed: usize,
    /// Redelivered by the broker, or republished by the producer.
    flagged: usize,
}

/// Every order and every message, accounted for from the exported spans.
#[derive(Debug, Default)]
pub struct Ledger {
    pub orders: usize,
    pub completed: Vec<String>,
    pub failed: Vec<String>,
    pub stuck: Vec<String>,
    /// Message ids the broker confirmed at least once.
    pub published: usize,
    /// Publishes whose outcome was lost with the connection (span error).
    pub publish_failures: usize,
    /// Publishes of attempt 2 or more.
    pub republishes: usize,
    /// Process spans on the work queues.
    pub processed: usize,
    pub redelivered: usize,
    pub republished_deliveries: usize,
    /// Confirmed message ids never processed.
    pub lost: Vec<String>,
    /// Message ids processed more often than flagged copies explain.
    pub unflagged_duplicates: Vec<String>,
}

impl Ledger {
    /// Account for `outcomes` and the messages of the work queues in `spans`.
    pub fn new(spans: &[ReceivedSpan], outcomes: &[OrderOutcome]) -> Ledger {
        let mut ledger = Ledger {
            orders: outcomes.len(),
            ..Ledger::default()
        };
        for outcome in outcomes {
            let id = outcome.order_id.as_str();
            let of_order = || spans.iter().filter(|s| s.attr_str("order.id") == Some(id));
            if of_order().any(|s| s.attr_str("order.status.next") == Some("CLOSED")) {
                ledger.completed.push(id.to_owned());
            } else if of_order().any(|s| s.span.name == "order.failure") {
                ledger.failed.push(id.to_owned());
            } else {
                ledger.stuck.push(format!(
                    "{id} ({:?}: {:?})",
                    outcome.reached, outcome.stopped
                ));
            }
        }
        let amqp = || spans.iter().filter(|s| s.scope == "otel-amqp");
        let mut confirmed: HashMap<&str, usize> = HashMap::new();
        for span in amqp().filter(|s| s.span.name.starts_with("publish ")) {
            let Some(id) = span.attr_str("messaging.message.id") else {
                continue;
            };
            if span.attr_i64("rabbitmq.message.publish_attempt").is_some() {
                ledger.republishes += 1;
            }
            match span.attr_str("rabbitmq.confirm") {
                Some("ack") => *confirmed.entry(id).or_default() += 1,
                Some("channel_error") => ledger.publish_failures += 1,
                _ => {}
            }
        }
        let mut deliveries: HashMap<&str, Deliveries> = HashMap::new();
        for span in amqp().filter(|s| {
            s.span.name.starts_with("process ") && !s.span.name.starts_with("process jewelry.dlq")
        }) {
            let Some(id) = span.attr_str("messaging.message.id") else {
                continue;
            };
            let redelivered = attr_bool(span, "rabbitmq.message.redelivered") == Some(true);
            let republished = span.attr_i64("rabbitmq.message.publish_attempt").is_some();
            ledger.processed += 1;
            ledger.redelivered += usize::from(redelivered);
            ledger.republished_deliveries += usize::from(republished);
            let entry = deliveries.entry(id).or_default();
            entry.processed += 1;
            entry.flagged += usize::from(redelivered || republished);
        }
        ledger.published = confirmed.len();
        for id in confirmed.keys() {
            if !deliveries.contains_key(id) {
                ledger.lost.push((*id).to_owned());
            }
        }
        for (id, d) in &deliveries {
            if d.processed > d.flagged + 1 {
                ledger.unflagged_duplicates.push((*id).to_owned());
            }
        }
        ledger
    }

    /// Nothing lost, nothing processed twice without a flag, every order closed.
    pub fn assert_all_closed_nothing_lost(&self) {
        assert!(
            self.lost.is_empty(),
            "confirmed, never processed: {:?}\n{self}",
            self.lost
        );
        assert!(
            self.unflagged_duplicates.is_empty(),
            "processed twice without a redelivered/republished flag: {:?}\n{self}",
            self.unflagged_duplicates
        );
        assert_eq!(
            self.completed.len(),
            self.orders,
            "orders not closed: failed {:?}, stuck {:?}\n{self}",
            self.failed,
            self.stuck
        );
    }
}

impl fmt::Display for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "orders {}: completed {}, failed {}, stuck {}",
            self.orders,
            self.completed.len(),
            self.failed.len(),
            self.stuck.len()
        )?;
        writeln!(
            f,
            "messages confirmed {} (ids), publish outcomes lost {}, republishes {}",
            self.published, self.publish_failures, self.republishes
        )?;
        write!(
            f,
            "processed {} (redelivered {}, republished copies {}), lost {}, unflagged duplicates {}",
            self.processed,
            self.redelivered,
            self.republished_deliveries,
            self.lost.len(),
            self.unflagged_duplicates.len()
        )
    }
}
