//! Fuzz check `amqp_delivery`: a delivery with any header table, as a broker could
//! send it, through the consumer instrumentation.
//!
//! Input: one flags byte (bit 0 redelivered; bit 1 a `timestamp` property follows
//! as 8 big-endian bytes; bit 2 text headers become short strings where they fit;
//! bits 3-4 the producer relation), then the header table in AMQP wire encoding,
//! parsed by lapin's own parser (a table it refuses never reaches the consumer).
//!
//! Properties: no panic; an order context handed to the handler holds a valid order
//! id and round-trips unchanged; `x-death` fields are bounded; every span stays
//! bounded ([`invariants`]).

use std::sync::LazyLock;

use amq_protocol_types::parsing::parse_field_table;
use amq_protocol_types::{AMQPValue, FieldTable, ShortString};
use lapin::message::Delivery;
use lapin::BasicProperties;
use opentelemetry::trace::{TraceContextExt, TraceId};
use otel_amqp::{AmqpTelemetry, ConsumerConfig, DeliveryTracer, ProducerRelation};
use otel_order::OrderContext;

use super::invariants::{assert_valid_order, MAX_ATTRIBUTE_LEN, TRACER_PROVIDER};

const RELATIONS: [ProducerRelation; 3] = [
    ProducerRelation::Both,
    ProducerRelation::Parent,
    ProducerRelation::Link,
];

static TRACERS: LazyLock<Vec<DeliveryTracer>> = LazyLock::new(|| {
    let telemetry = AmqpTelemetry::builder()
        .tracer_provider(&*TRACER_PROVIDER)
        .build();
    RELATIONS
        .iter()
        .map(|&r| DeliveryTracer::new(telemetry.clone(), ConsumerConfig::new("orders").relation(r)))
        .collect()
});

/// Text values re-typed as short strings, the form in-process publishers may use.
fn shorten(table: &mut FieldTable) {
    let keys: Vec<ShortString> = table.inner().keys().cloned().collect();
    for key in keys {
        let short = match table.inner().get(&key) {
            Some(AMQPValue::LongString(s)) => std::str::from_utf8(s.as_bytes())
                .ok()
                .filter(|s| s.len() <= 255)
                .map(|s| AMQPValue::ShortString(s.into())),
            _ => None,
        };
        if let Some(value) = short {
            table.insert(key, value);
        }
    }
}

/// The delivery `data` describes; `None` when the table is not valid wire encoding.
pub fn delivery(data: &[u8]) -> Option<(Delivery, usize)> {
    let (&flags, mut rest) = data.split_first()?;
    let mut properties = BasicProperties::default().with_message_id("m-1".into());
    if flags & 0b10 != 0 {
        let (ts, tail) = rest.split_first_chunk::<8>()?;
        properties = properties.with_timestamp(u64::from_be_bytes(*ts));
        rest = tail;
    }
    let (_, mut headers) = parse_field_table(rest).ok()?;
    if flags & 0b100 != 0 {
        shorten(&mut headers);
    }
    let mut delivery = Delivery::mock(
        1,
        "shop".into(),
        "order.created".into(),
        flags & 1 != 0,
        b"{}".to_vec(),
    );
    delivery.properties = properties.with_headers(headers);
    let relation = usize::from((flags >> 3) & 0b11) % RELATIONS.len();
    Some((delivery, relation))
}

/// The property, on one input; returns the order context the handler got and the
/// trace its process span belongs to.
pub fn check(data: &[u8]) -> Option<(Option<OrderContext>, TraceId)> {
    let (delivery, relation) = delivery(data)?;
    let traced = TRACERS[relation].trace(delivery);
    let trace_id = traced.context().span().span_context().trace_id();
    let order = traced.order().cloned();
    if let Some(order) = traced.order() {
        assert_valid_order(order);
    }
    if let Some(death) = traced.x_death() {
        for field in [&death.reason, &death.queue, &death.exchange]
            .into_iter()
            .flatten()
        {
            assert!(field.len() <= MAX_ATTRIBUTE_LEN);
        }
    }
    // Dropped unsettled: the process span ends here and goes through the invariants.
    drop(traced);
    Some((order, trace_id))
}
