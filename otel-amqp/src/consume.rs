//! Traced consuming: a CONSUMER `process {queue}` span per delivery, living inside
//! the delivery wrapper.
//!
//! [`TracedConsumer`] wraps lapin's [`Consumer`] stream and yields
//! [`TracedDelivery`] values. Each one owns its span and its share of the
//! in-flight gauge: settling it ([`ack`](TracedDelivery::ack),
//! [`nack`](TracedDelivery::nack), [`reject`](TracedDelivery::reject)) records the
//! outcome on the span and ends it; dropping it unsettled ends it too, marked
//! `dropped`. Nothing is kept anywhere else, so a delivery that is dropped, never
//! acked, or lost with its channel leaks nothing.
//!
//! ## Relation to the producer
//!
//! The producer's context arrives in the headers. Per consumer, the process span
//! can be its child ([`ProducerRelation::Parent`]), link to it
//! ([`ProducerRelation::Link`], the process span starts a new trace that keeps
//! the order context but nothing else from the headers), or both
//! ([`ProducerRelation::Both`], the default). The messaging conventions say the
//! process span SHOULD link to the message's creation context and MAY use it as
//! parent when a single message is processed; `Both` does both, so trace views that
//! only follow parents still show one trace from Shop to MES, and link-aware
//! backends see the creation context explicitly.
//!
//! ## What the span carries
//!
//! `messaging.system`, `messaging.operation.{type,name}` = `process`,
//! `messaging.destination.name` (the queue), `messaging.consumer.group.name` when
//! configured, routing key, delivery tag, message id, body size, the exchange, the
//! redelivered flag, the time spent in the queue (from the publish-time header,
//! else the AMQP `timestamp` property), the last `x-death` (count, reason, queue),
//! and the order id and status from the order header.
//!
//! ## Handler spans
//!
//! [`TracedDelivery::in_span`] runs a future with the delivery's context as the
//! current one, so spans the handler starts (also through `tracing` with
//! `tracing-opentelemetry`) nest under the process span, and
//! `OrderContext::current()` returns the message's order.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Instant, SystemTime};

use futures_util::Stream;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions, BasicRejectOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::Consumer;
use opentelemetry::context::{FutureExt, WithContext};
use opentelemetry::trace::{Link, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, ContextGuard, KeyValue, Value};
use otel_order::{OrderContext, OrderContextExt};

use crate::carrier::{value_as_str, DeliveryHeaders, FieldTableExtractor};
use crate::dead_letter::{int_value, XDeath};
use crate::metrics::{LazyCounter, LazyHistogram, RepeatedStr};
use crate::names::*;
use crate::publish::{shared_str, span_name, unix_millis};
use crate::telemetry::AmqpTelemetry;

/// How a consumer's process span relates to the producer's span.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProducerRelation {
    /// Link only: the process span roots a new trace that links to the producer.
    Link,
    /// Parent only: the process span is the producer span's child.
    Parent,
    /// Child of the producer span and linked to it. The default.
    #[default]
    Both,
}

/// Per-consumer settings: which queue, how to relate to producers, and the
/// consumer group.
#[derive(Clone, Debug)]
pub struct ConsumerConfig {
    queue: String,
    relation: ProducerRelation,
    consumer_group: Option<String>,
}

impl ConsumerConfig {
    /// Settings for a consumer of `queue`, with the default relation
    /// ([`ProducerRelation::Both`]) and no consumer group.
    pub fn new(queue: impl Into<String>) -> Self {
        ConsumerConfig {
            queue: queue.into(),
            relation: ProducerRelation::default(),
            consumer_group: None,
        }
    }

    /// How process spans relate to the producer span.
    pub fn relation(mut self, relation: ProducerRelation) -> Self {
        self.relation = relation;
        self
    }

    /// `messaging.consumer.group.name` for this consumer (e.g. the service name
    /// when several instances compete on one queue).
    pub fn consumer_group(mut self, group: impl Into<String>) -> Self {
        self.consumer_group = Some(group.into());
        self
    }
}

/// Turns lapin deliveries into [`TracedDelivery`] values for one queue; used by
/// [`TracedConsumer`], and directly for `basic_get` or custom consume loops.
#[derive(Clone)]
pub struct DeliveryTracer {
    shared: Arc<Shared>,
}

struct Shared {
    telemetry: AmqpTelemetry,
    config: ConsumerConfig,
    /// `process {queue}`
    span_name: Cow<'static, str>,
    /// The consumer group, shared by every span's attribute.
    group: Option<Value>,
    /// system, operation name, destination (queue)[, consumer group]
    consumed_attributes: Vec<KeyValue>,
    /// destination (queue)
    queue_attributes: [KeyValue; 1],
    /// This queue's in-flight count (shared with other consumers of the queue).
    in_flight: Arc<AtomicI64>,
    /// `consumed` with `consumed_attributes`, bound on first use.
    consumed: LazyCounter,
    /// `process_duration` with `consumed_attributes` (no error), bound on first use.
    process_duration: LazyHistogram,
    /// `queue_wait` with `queue_attributes`, bound on first use.
    queue_wait: LazyHistogram,
    /// `redeliveries` with `queue_attributes`, bound on first use.
    redeliveries: LazyCounter,
    /// Exchanges deliveries were published to (usually one per consumer).
    exchange: RepeatedStr,
    /// Routing keys of deliveries not routed by queue name.
    routing_key: RepeatedStr,
}

impl fmt::Debug for DeliveryTracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryTracer")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl DeliveryTracer {
    /// A tracer for deliveries from `config`'s queue.
    pub fn new(telemetry: AmqpTelemetry, config: ConsumerConfig) -> Self {
        let mut consumed_attributes = vec![
            KeyValue::new(MESSAGING_SYSTEM, SYSTEM_RABBITMQ),
            KeyValue::new(MESSAGING_OPERATION_NAME, OPERATION_NAME_PROCESS),
            KeyValue::new(MESSAGING_DESTINATION_NAME, config.queue.clone()),
        ];
        if let Some(group) = &config.consumer_group {
            consumed_attributes.push(KeyValue::new(MESSAGING_CONSUMER_GROUP_NAME, group.clone()));
        }
        let queue_value = Value::from(Arc::<str>::from(config.queue.as_str()));
        let queue_attributes = [KeyValue::new(MESSAGING_DESTINATION_NAME, queue_value)];
        let group = config
            .consumer_group
            .as_deref()
            .map(|g| Value::from(Arc::<str>::from(g)));
        DeliveryTracer {
            shared: Arc::new(Shared {
                span_name: span_name(OPERATION_NAME_PROCESS, &config.queue),
                in_flight: telemetry.inner.metrics.in_flight.counter(&config.queue),
                group,
                telemetry,
                config,
                consumed_attributes,
                queue_attributes,
                consumed: LazyCounter::default(),
                process_duration: LazyHistogram::default(),
                queue_wait: LazyHistogram::default(),
                redeliveries: LazyCounter::default(),
                exchange: RepeatedStr::default(),
                routing_key: RepeatedStr::default(),
            }),
        }
    }

    /// Open the process span for `delivery` and wrap it.
    pub fn trace(&self, delivery: Delivery) -> TracedDelivery {
        let shared = &self.shared;
        let inner = &shared.telemetry.inner;
        let metrics = &inner.metrics;
        let started = Instant::now();
        let now = SystemTime::now();

        let empty = FieldTable::default();
        let table = delivery.properties.headers().as_ref().unwrap_or(&empty);
        let headers = DeliveryHeaders::scan(table);
        // A root context as the base: the consume loop's ambient context is not
        // this message's parent.
        let extracted = match &inner.default_propagation {
            Some(default) => default.extract(&headers),
            None => inner
                .propagator
                .extract_with_context(&Context::new(), &FieldTableExtractor::new(table)),
        };
        let remote = extracted.span().span_context().clone();
        let relation = shared.config.relation;
        let parent = match relation {
            ProducerRelation::Parent | ProducerRelation::Both => extracted,
            // A fresh root that keeps the order: an invalid "remote parent" would
            // make parent-based samplers drop the span.
            ProducerRelation::Link => match extracted.order() {
                Some(order) => Context::new().with_order(order.clone()),
                None => Context::new(),
            },
        };

        let death = headers.x_death.and_then(XDeath::from_value);
        let order = parent.order();
        let message_id = delivery.properties.message_id();
        let correlation_id = delivery.properties.correlation_id();
        let routing_key = delivery.routing_key.as_str();
        // Room for what is pushed below, for `order.id` (stamped by the order span
        // processor when the message carries an order) and for the three settle
        // attributes, so the span's vector is never reallocated (growing it costs a
        // copy of every attribute).
        let capacity = 8
            + usize::from(order.is_some())
            + SETTLE_ATTRIBUTES
            + usize::from(shared.group.is_some())
            + usize::from(!routing_key.is_empty())
            + usize::from(message_id.is_some())
            + usize::from(correlation_id.is_some())
            + order.map_or(0, |o| usize::from(o.status().is_some()))
            + 2
            + death.as_ref().map_or(0, |d| {
                1 + usize::from(d.reason.is_some())
                    + usize::from(d.queue.is_some())
                    + usize::from(d.exchange.is_some())
            })
            + inner.server.len();
        let mut attributes = Vec::with_capacity(capacity);
        attributes.extend([
            KeyValue::new(MESSAGING_SYSTEM, SYSTEM_RABBITMQ),
            KeyValue::new(MESSAGING_OPERATION_TYPE, OPERATION_TYPE_PROCESS),
            KeyValue::new(MESSAGING_OPERATION_NAME, OPERATION_NAME_PROCESS),
            shared.queue_attributes[0].clone(),
            KeyValue::new(
                MESSAGING_RABBITMQ_MESSAGE_DELIVERY_TAG,
                delivery.delivery_tag as i64,
            ),
            KeyValue::new(ATTR_REDELIVERED, delivery.redelivered),
            KeyValue::new(MESSAGING_MESSAGE_BODY_SIZE, delivery.data.len() as i64),
            KeyValue::new(
                ATTR_EXCHANGE,
                exchange_value(&shared.exchange, delivery.exchange.as_str()),
            ),
        ]);
        if let Some(group) = &shared.group {
            attributes.push(KeyValue::new(MESSAGING_CONSUMER_GROUP_NAME, group.clone()));
        }
        if !routing_key.is_empty() {
            // Routed by queue name (default exchange): share the queue's value.
            let value = if routing_key == shared.config.queue {
                shared.queue_attributes[0].value.clone()
            } else {
                shared.routing_key.value(routing_key)
            };
            attributes.push(KeyValue::new(
                MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY,
                value,
            ));
        }
        if let Some(id) = message_id {
            attributes.push(KeyValue::new(MESSAGING_MESSAGE_ID, shared_str(id.as_str())));
        }
        if let Some(id) = correlation_id {
            attributes.push(KeyValue::new(
                MESSAGING_MESSAGE_CONVERSATION_ID,
                shared_str(id.as_str()),
            ));
        }
        if let Some(order) = order {
            // `order.id` comes from OrderSpanProcessor: `parent` carries the order.
            if let Some(status) = order.status() {
                attributes.push(KeyValue::new(
                    otel_order::names::ORDER_STATUS,
                    status.as_str(),
                ));
            }
        }
        if let Some((wait, source)) = queue_wait(headers.published_at, &delivery, now) {
            attributes.push(KeyValue::new(ATTR_QUEUE_WAIT, wait));
            attributes.push(KeyValue::new(ATTR_QUEUE_WAIT_SOURCE, source));
            shared
                .queue_wait
                .record(&metrics.queue_wait, &shared.queue_attributes, wait);
        }
        if let Some(death) = death {
            attributes.push(KeyValue::new(ATTR_X_DEATH_COUNT, death.count));
            let mut labels = vec![shared.queue_attributes[0].clone()];
            if let Some(reason) = death.reason {
                attributes.push(KeyValue::new(ATTR_X_DEATH_REASON, reason.clone()));
                labels.push(KeyValue::new(ATTR_X_DEATH_REASON, reason));
            }
            if let Some(queue) = death.queue {
                attributes.push(KeyValue::new(ATTR_X_DEATH_QUEUE, queue.clone()));
                labels.push(KeyValue::new(ATTR_X_DEATH_QUEUE, queue));
            }
            if let Some(exchange) = death.exchange {
                attributes.push(KeyValue::new(ATTR_X_DEATH_EXCHANGE, exchange));
            }
            metrics.dead_lettered.add(1, &labels);
        }
        attributes.extend(inner.server.iter().cloned());

        let mut builder = inner
            .tracer
            .span_builder(shared.span_name.clone())
            .with_kind(SpanKind::Consumer)
            .with_start_time(now)
            .with_attributes(attributes);
        if matches!(relation, ProducerRelation::Link | ProducerRelation::Both) && remote.is_valid()
        {
            builder = builder.with_links(vec![Link::new(
                remote,
                vec![KeyValue::new(ATTR_LINK_KIND, "creation")],
                0,
            )]);
        }
        let cx = inner.tracer.start_in(builder, parent);
        // A copy the producer published again is not `redelivered`: flag it too.
        crate::republish::mark_delivery(
            &shared.telemetry,
            &cx,
            headers.publish_attempt,
            &shared.queue_attributes[0],
        );

        shared
            .consumed
            .add(&metrics.consumed, &shared.consumed_attributes, 1);
        shared.in_flight.fetch_add(1, Ordering::Relaxed);
        if delivery.redelivered {
            shared
                .redeliveries
                .add(&metrics.redeliveries, &shared.queue_attributes, 1);
        }

        TracedDelivery {
            delivery,
            cx,
            shared: self.shared.clone(),
            started,
            settled: false,
            failed: false,
        }
    }
}

fn exchange_value(exchanges: &RepeatedStr, exchange: &str) -> Value {
    if exchange.is_empty() {
        Value::from(DEFAULT_EXCHANGE)
    } else {
        exchanges.value(exchange)
    }
}

/// How many attributes settling adds to the process span.
const SETTLE_ATTRIBUTES: usize = 3;

/// Seconds between publish and `now`, and where the publish time came from
/// (`published_at`: the delivery's [`HEADER_PUBLISHED_AT`] value, if any).
fn queue_wait(
    published_at: Option<&AMQPValue>,
    delivery: &Delivery,
    now: SystemTime,
) -> Option<(f64, &'static str)> {
    let from_header = published_at.and_then(|v| {
        int_value(v)
            .and_then(|ms| u64::try_from(ms).ok())
            .or_else(|| value_as_str(v, 20)?.trim().parse::<u64>().ok())
    });
    let (published_ms, source) = match from_header {
        Some(ms) if ms > 0 => (ms, "header"),
        _ => {
            let seconds = (*delivery.properties.timestamp())?;
            (seconds.checked_mul(1000)?, "timestamp")
        }
    };
    if published_ms == 0 {
        return None;
    }
    // Clock skew between hosts can put the publish "after" now: that is 0 s, not
    // a negative wait.
    let waited_ms = unix_millis(now).saturating_sub(published_ms);
    Some((waited_ms as f64 / 1000.0, source))
}

/// A stream of [`TracedDelivery`] over a lapin [`Consumer`].
///
/// ```no_run
/// use futures_util::StreamExt;
/// use lapin::options::{BasicAckOptions, BasicConsumeOptions};
/// use lapin::types::FieldTable;
/// use otel_amqp::{AmqpTelemetry, ConsumerConfig, TracedConsumer};
///
/// # async fn run(channel: lapin::Channel, telemetry: AmqpTelemetry) -> Result<(), lapin::Error> {
/// let consumer = channel
///     .basic_consume("pricing".into(), "mes".into(), BasicConsumeOptions::default(), FieldTable::default())
///     .await?;
/// let mut deliveries = TracedConsumer::new(consumer, telemetry, ConsumerConfig::new("pricing"));
/// while let Some(delivery) = deliveries.next().await {
///     let delivery = delivery?;
///     delivery.in_span(async { /* handler: its spans nest under the process span */ }).await;
///     delivery.ack(BasicAckOptions::default()).await?;
/// }
/// # Ok(()) }
/// ```
pub struct TracedConsumer {
    consumer: Consumer,
    tracer: DeliveryTracer,
}

impl fmt::Debug for TracedConsumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedConsumer")
            .field("consumer", &self.consumer)
            .field("tracer", &self.tracer)
            .finish()
    }
}

impl TracedConsumer {
    /// Trace every delivery `consumer` yields.
    pub fn new(consumer: Consumer, telemetry: AmqpTelemetry, config: ConsumerConfig) -> Self {
        TracedConsumer {
            consumer,
            tracer: DeliveryTracer::new(telemetry, config),
        }
    }

    /// The wrapped lapin consumer (its tag, queue, delegate).
    pub fn consumer(&self) -> &Consumer {
        &self.consumer
    }

    /// The delivery tracer this consumer uses.
    pub fn delivery_tracer(&self) -> &DeliveryTracer {
        &self.tracer
    }
}

impl Stream for TracedConsumer {
    type Item = Result<TracedDelivery, lapin::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        Pin::new(&mut this.consumer)
            .poll_next(cx)
            .map(|next| next.map(|delivery| delivery.map(|d| this.tracer.trace(d))))
    }
}

/// One delivery with its process span. Settle it with [`ack`](Self::ack),
/// [`nack`](Self::nack) or [`reject`](Self::reject); dropping it unsettled ends the
/// span as `dropped` (the broker redelivers the message once the channel closes).
pub struct TracedDelivery {
    delivery: Delivery,
    cx: Context,
    shared: Arc<Shared>,
    started: Instant,
    settled: bool,
    failed: bool,
}

impl fmt::Debug for TracedDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedDelivery")
            .field("delivery_tag", &self.delivery.delivery_tag)
            .field("span", self.cx.span().span_context())
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for TracedDelivery {
    type Target = Delivery;

    fn deref(&self) -> &Delivery {
        &self.delivery
    }
}

impl TracedDelivery {
    /// The lapin delivery (payload, properties, routing data).
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// The message body.
    pub fn data(&self) -> &[u8] {
        &self.delivery.data
    }

    /// The context handlers run in: the process span as the active span, and the
    /// message's order context.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// The order context that came with the message, if any (validated).
    pub fn order(&self) -> Option<&OrderContext> {
        self.cx.order()
    }

    /// The last dead-lettering of the message, if it has been dead-lettered.
    pub fn x_death(&self) -> Option<XDeath> {
        XDeath::from_headers(self.delivery.properties.headers().as_ref()?)
    }

    /// Run `future` with [`context`](Self::context) as the current context, so the
    /// handler's spans nest under the process span.
    pub fn in_span<F: Future>(&self, future: F) -> WithContext<F> {
        future.with_context(self.cx.clone())
    }

    /// Make [`context`](Self::context) current until the guard drops (for
    /// synchronous handlers).
    pub fn attach(&self) -> ContextGuard {
        self.cx.clone().attach()
    }

    /// Record that handling failed: an exception event and an error status on the
    /// process span, and `error.type` on its duration. Settle afterwards as usual.
    pub fn record_error(&mut self, error: &dyn StdError) {
        let span = self.cx.span();
        span.record_error(error);
        span.set_status(Status::error(error.to_string()));
        self.failed = true;
    }

    /// Acknowledge the delivery (`multiple` acks every earlier one on the channel
    /// too); records the settle and ends the span. Returns lapin's result: `false`
    /// when the delivery had already been settled or its channel is gone.
    ///
    /// With `multiple`, drop the wrappers of the earlier deliveries instead of
    /// settling them again: nothing per message is kept to tell them they were
    /// covered, so their spans end as `dropped` and this span says `multiple`.
    pub async fn ack(mut self, options: BasicAckOptions) -> Result<bool, lapin::Error> {
        let result = self.delivery.acker.ack(options).await;
        self.settle("ack", false, options.multiple, &result);
        result
    }

    /// Negatively acknowledge the delivery, with or without requeue; records the
    /// settle and ends the span. Without requeue the broker dead-letters it when
    /// the queue has a dead-letter exchange.
    pub async fn nack(mut self, options: BasicNackOptions) -> Result<bool, lapin::Error> {
        let result = self.delivery.acker.nack(options).await;
        self.settle("nack", options.requeue, options.multiple, &result);
        result
    }

    /// Reject the delivery, with or without requeue; records the settle and ends
    /// the span.
    pub async fn reject(mut self, options: BasicRejectOptions) -> Result<bool, lapin::Error> {
        let result = self.delivery.acker.reject(options).await;
        self.settle("reject", options.requeue, false, &result);
        result
    }

    /// Take the lapin delivery out, ending the span as `dropped` (the caller
    /// settles the delivery on its own, untraced).
    pub fn into_inner(mut self) -> Delivery {
        self.finish("dropped", false, false, None);
        // `Drop` forbids moving the field out; leave an inert delivery behind (its
        // acker has no channel, so nothing can be settled through it).
        let empty = Delivery::mock(0, "".into(), "".into(), false, Vec::new());
        std::mem::replace(&mut self.delivery, empty)
    }

    fn settle(
        &mut self,
        how: &'static str,
        requeue: bool,
        multiple: bool,
        result: &Result<bool, lapin::Error>,
    ) {
        let error = match result {
            Ok(true) => None,
            Ok(false) => Some("delivery already settled or channel closed".to_owned()),
            Err(e) => Some(format!("settle failed: {e}")),
        };
        self.finish(how, requeue, multiple, error);
    }

    fn finish(&mut self, how: &'static str, requeue: bool, multiple: bool, error: Option<String>) {
        if self.settled {
            return;
        }
        self.settled = true;
        let span = self.cx.span();
        let settle: [KeyValue; SETTLE_ATTRIBUTES] = [
            KeyValue::new(ATTR_SETTLE, how),
            KeyValue::new(ATTR_SETTLE_REQUEUE, requeue),
            KeyValue::new(ATTR_SETTLE_MULTIPLE, multiple),
        ];
        span.set_attributes(settle);
        // The span ends at the settle, so its end time is the settle time: no event
        // for an ordinary settle (an event per message is an allocation, plus its
        // copy and drop at export). A delivery dropped unsettled is an anomaly worth
        // a mark of its own on the timeline.
        if how == "dropped" {
            span.add_event(EVENT_DROPPED_UNSETTLED, Vec::new());
        }
        if let Some(error) = error {
            span.set_attribute(KeyValue::new(ERROR_TYPE, "settle_failed"));
            span.set_status(Status::error(error));
            self.failed = true;
        }
        span.end();

        let metrics = &self.shared.telemetry.inner.metrics;
        self.shared.in_flight.fetch_sub(1, Ordering::Relaxed);
        let elapsed = self.started.elapsed().as_secs_f64();
        if self.failed {
            let mut attributes = self.shared.consumed_attributes.clone();
            attributes.push(KeyValue::new(ERROR_TYPE, "_OTHER"));
            metrics.process_duration.record(elapsed, &attributes);
        } else {
            self.shared.process_duration.record(
                &metrics.process_duration,
                &self.shared.consumed_attributes,
                elapsed,
            );
        }
    }
}

impl Drop for TracedDelivery {
    fn drop(&mut self) {
        self.finish("dropped", false, false, None);
    }
}
