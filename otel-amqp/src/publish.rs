//! Traced publishing: a PRODUCER span per message, context in the headers, and the
//! broker's confirm recorded.
//!
//! [`TracedChannel::basic_publish`] mirrors lapin's: it sends the message and
//! returns a [`TracedConfirm`] future, so callers can pipeline many publishes and
//! await the confirms afterwards exactly as with bare lapin. The span
//! (`publish {exchange}`, kind PRODUCER) starts before the send and ends when the
//! confirm resolves (or the `TracedConfirm` is dropped unresolved).
//!
//! What is written into the headers: the propagator's fields (W3C `traceparent` /
//! `tracestate` and the `ordertrace-order` header by default) and
//! [`HEADER_PUBLISHED_AT`] (Unix ms), from which consumers compute the time in the
//! queue. The AMQP `timestamp` property (seconds) is set too when the caller left it
//! empty. The caller's own headers are kept.
//!
//! Outcome: a `basic.nack`, a `mandatory` message returned as unroutable, or a
//! channel that fails before confirming is recorded as a span error ("message not
//! accepted by broker") with `error.type`, counted in `rabbitmq.publish.failures`,
//! and returned as a [`PublishError`]. Confirms only exist after
//! `confirm_select`; without it the span ends as soon as the message is sent.
//!
//! Span naming and destination: the semantic conventions name messaging spans
//! `{messaging.operation.name} {destination}`. For RabbitMQ the exchange is the
//! destination here (`amq.default` for the default exchange); the routing key goes
//! into `messaging.rabbitmq.destination.routing_key` and not into the span name or
//! `messaging.destination.name`, because routing keys of topic exchanges often carry
//! ids, and both the span name and the metric attribute must stay low-cardinality.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use lapin::options::BasicPublishOptions;
use lapin::types::{AMQPValue, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, PublisherConfirm};
use opentelemetry::trace::{Link, Span, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, Value};
use otel_order::OrderContextExt;

use crate::carrier::{has_traceparent, FieldTableExtractor, FieldTableInjector, RepublishPolicy};
use crate::error::PublishError;
use crate::metrics::ExchangeState;
use crate::names::*;
use crate::telemetry::AmqpTelemetry;
use crate::tracer::AmqpSpan;

/// A lapin [`Channel`] whose publishes are traced. Clone freely; it derefs to
/// the channel for everything that is not a publish.
#[derive(Clone)]
pub struct TracedChannel {
    channel: Channel,
    telemetry: AmqpTelemetry,
}

impl fmt::Debug for TracedChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedChannel")
            .field("channel", &self.channel.id())
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for TracedChannel {
    type Target = Channel;

    fn deref(&self) -> &Channel {
        &self.channel
    }
}

/// The exchange as a destination name: `amq.default` for the default exchange.
pub(crate) fn exchange_destination(exchange: &str) -> &str {
    if exchange.is_empty() {
        DEFAULT_EXCHANGE
    } else {
        exchange
    }
}

/// A per-message string (message id, routing key) as an attribute value.
///
/// Shared rather than owned: with more than one span processor the SDK copies a
/// span's data once per processor, and a shared string is copied by reference
/// count where an owned one would be allocated again.
pub(crate) fn shared_str(s: &str) -> Value {
    Value::from(Arc::<str>::from(s))
}

/// Milliseconds since the Unix epoch, 0 before it.
pub(crate) fn unix_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl TracedChannel {
    /// Trace publishes on `channel` with `telemetry`.
    pub fn new(channel: Channel, telemetry: AmqpTelemetry) -> Self {
        TracedChannel { channel, telemetry }
    }

    /// The wrapped channel.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// The wrapped channel, unwrapped.
    pub fn into_inner(self) -> Channel {
        self.channel
    }

    /// Publish with the current OpenTelemetry context as the parent (see
    /// [`basic_publish_with_context`](Self::basic_publish_with_context)).
    pub async fn basic_publish(
        &self,
        exchange: ShortString,
        routing_key: ShortString,
        options: BasicPublishOptions,
        payload: &[u8],
        properties: BasicProperties,
    ) -> Result<TracedConfirm, PublishError> {
        let cx = Context::current();
        self.basic_publish_with_context(&cx, exchange, routing_key, options, payload, properties)
            .await
    }

    /// Publish `payload` to `exchange` with `routing_key` under a PRODUCER span
    /// whose parent is `cx`; trace and order context from `cx` go into the headers.
    ///
    /// Resolves once the message is handed to the connection; await the returned
    /// [`TracedConfirm`] for the broker's confirm. An error here means the channel
    /// refused the publish (e.g. it is closed).
    pub async fn basic_publish_with_context(
        &self,
        cx: &Context,
        exchange: ShortString,
        routing_key: ShortString,
        options: BasicPublishOptions,
        payload: &[u8],
        properties: BasicProperties,
    ) -> Result<TracedConfirm, PublishError> {
        let inner = &self.telemetry.inner;
        let destination = exchange_destination(exchange.as_str());
        let state = inner.metrics.exchanges.get(destination);
        let mut headers = properties.headers().clone().unwrap_or_default();
        let already_traced = has_traceparent(&headers);

        // One clock read for the span start and the published-at header.
        let now = SystemTime::now();
        // Room for every attribute below, `server.*`, `order.id` (stamped by the
        // order span processor) and the confirm outcome: no reallocation.
        let mut attributes = Vec::with_capacity(11 + inner.server.len());
        attributes.extend([
            KeyValue::new(MESSAGING_SYSTEM, SYSTEM_RABBITMQ),
            KeyValue::new(MESSAGING_OPERATION_TYPE, OPERATION_TYPE_SEND),
            KeyValue::new(MESSAGING_OPERATION_NAME, OPERATION_NAME_PUBLISH),
            KeyValue::new(MESSAGING_DESTINATION_NAME, state.destination.clone()),
            KeyValue::new(MESSAGING_MESSAGE_BODY_SIZE, payload.len() as i64),
        ]);
        if !routing_key.as_str().is_empty() {
            attributes.push(KeyValue::new(
                MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY,
                state.routing_key.value(routing_key.as_str()),
            ));
        }
        if let Some(id) = properties.message_id() {
            attributes.push(KeyValue::new(MESSAGING_MESSAGE_ID, shared_str(id.as_str())));
        }
        if let Some(id) = properties.correlation_id() {
            attributes.push(KeyValue::new(
                MESSAGING_MESSAGE_CONVERSATION_ID,
                shared_str(id.as_str()),
            ));
        }
        let order = cx.order();
        if let Some(order) = order {
            // `order.id` comes from OrderSpanProcessor: `cx`, the parent, carries it.
            if let Some(status) = order.status() {
                attributes.push(KeyValue::new(
                    otel_order::names::ORDER_STATUS,
                    status.as_str(),
                ));
            }
        }
        attributes.extend(inner.server.iter().cloned());

        let mut builder = inner
            .tracer
            .span_builder(state.span_name.clone())
            .with_kind(SpanKind::Producer)
            .with_start_time(now)
            .with_attributes(attributes);
        if already_traced && inner.republish == RepublishPolicy::Link {
            let previous = inner
                .propagator
                .extract(&FieldTableExtractor::new(&headers));
            let previous = previous.span().span_context().clone();
            if previous.is_valid() {
                builder = builder.with_links(vec![Link::new(
                    previous,
                    vec![KeyValue::new(ATTR_LINK_KIND, "previous_publish")],
                    0,
                )]);
            }
        }
        let span = builder.start_with_context(&inner.tracer, cx);

        if !(already_traced && inner.republish == RepublishPolicy::Keep) {
            if let Some(default) = &inner.default_propagation {
                default.inject(span.span_context(), order, &mut headers);
            } else {
                // Inject from a context holding only the new span's identity (plus
                // everything else `cx` carries, such as the order): no span lock.
                let inject_cx = cx.with_remote_span_context(span.span_context().clone());
                inner
                    .propagator
                    .inject_context(&inject_cx, &mut FieldTableInjector::new(&mut headers));
            }
        }
        let now_ms = unix_millis(now);
        headers.insert(
            ShortString::from(HEADER_PUBLISHED_AT),
            AMQPValue::LongLongInt(now_ms as i64),
        );
        let mut properties = properties.with_headers(headers);
        if properties.timestamp().is_none() {
            properties = properties.with_timestamp(now_ms / 1000);
        }

        let mut confirm = TracedConfirm {
            confirm: None,
            span,
            telemetry: self.telemetry.clone(),
            exchange: state,
            finished: false,
        };
        match self
            .channel
            .basic_publish(exchange, routing_key, options, payload, properties)
            .await
        {
            Ok(publisher_confirm) => {
                confirm.confirm = Some(publisher_confirm);
                Ok(confirm)
            }
            Err(e) => {
                let error = PublishError::Channel(e);
                confirm.fail(&error);
                Err(error)
            }
        }
    }
}

/// `{operation} {destination}` as a span name that costs nothing per span: the
/// first [`MAX_STATIC_NAMES`] distinct names of the process are kept for its
/// lifetime (they are per queue or exchange, built once per consumer or
/// exchange), later ones are owned strings cloned per span.
pub(crate) fn span_name(operation: &'static str, destination: &str) -> Cow<'static, str> {
    if operation == OPERATION_NAME_PUBLISH && destination == DEFAULT_EXCHANGE {
        return Cow::Borrowed("publish amq.default");
    }
    let mut name = String::with_capacity(operation.len() + 1 + destination.len());
    name.push_str(operation);
    name.push(' ');
    name.push_str(destination);
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let names = names.get_or_insert_with(HashSet::new);
    if let Some(known) = names.get(name.as_str()) {
        return Cow::Borrowed(known);
    }
    if names.len() >= MAX_STATIC_NAMES {
        return Cow::Owned(name);
    }
    let name: &'static str = Box::leak(name.into_boxed_str());
    names.insert(name);
    Cow::Borrowed(name)
}

/// Most span names kept for the process's lifetime (a few hundred KiB at most;
/// queue and exchange names are bounded anyway, being metric attributes).
const MAX_STATIC_NAMES: usize = 4096;

/// The broker's confirm of one traced publish: await it for the outcome.
///
/// Resolves to lapin's [`Confirmation`] when the broker accepted the message
/// (`Ack(None)`, or `NotRequested` without publisher confirms), and to a
/// [`PublishError`] otherwise. The publish span ends when it resolves, or when it
/// is dropped unresolved (then lapin keeps tracking the confirm for
/// `wait_for_confirms`, and the span records that the outcome was not observed).
#[must_use = "await the confirm to learn whether the broker accepted the message"]
pub struct TracedConfirm {
    confirm: Option<PublisherConfirm>,
    span: AmqpSpan,
    telemetry: AmqpTelemetry,
    exchange: Arc<ExchangeState>,
    finished: bool,
}

impl fmt::Debug for TracedConfirm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedConfirm")
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl TracedConfirm {
    /// The publish span's context (to link to, or to log its ids).
    pub fn span_context(&self) -> &opentelemetry::trace::SpanContext {
        self.span.span_context()
    }

    /// The publish span, for attributes known only to a caller inside the crate
    /// (the publish attempt of a republish).
    pub(crate) fn span_mut(&mut self) -> &mut AmqpSpan {
        &mut self.span
    }

    /// The telemetry the publish records with.
    pub(crate) fn telemetry(&self) -> &AmqpTelemetry {
        &self.telemetry
    }

    fn succeed(&mut self, outcome: &'static str) {
        let metrics = &self.telemetry.inner.metrics;
        let exchange = &self.exchange;
        exchange
            .sent
            .add(&metrics.sent, &exchange.metric_attributes, 1);
        self.span
            .set_attribute(KeyValue::new(ATTR_CONFIRM, outcome));
        self.finish();
    }

    fn fail(&mut self, error: &PublishError) {
        let metrics = &self.telemetry.inner.metrics;
        let error_type = error.error_type();
        let [system, operation, destination] = self.exchange.metric_attributes.clone();
        let attributes = [
            system,
            operation,
            destination,
            KeyValue::new(ERROR_TYPE, error_type),
        ];
        metrics.sent.add(1, &attributes);
        metrics.publish_failures.add(1, &attributes);
        self.span
            .set_attribute(KeyValue::new(ERROR_TYPE, error_type));
        self.span.set_attribute(KeyValue::new(
            ATTR_CONFIRM,
            match error {
                PublishError::Nacked { .. } => "nack",
                PublishError::Returned { .. } => "returned",
                PublishError::Channel(_) => "channel_error",
            },
        ));
        if let PublishError::Returned {
            reply_code,
            reply_text,
            ..
        } = error
        {
            self.span
                .set_attribute(KeyValue::new(ATTR_RETURN_CODE, i64::from(*reply_code)));
            self.span
                .set_attribute(KeyValue::new(ATTR_RETURN_TEXT, reply_text.clone()));
        }
        self.span.record_error(error);
        self.span.set_status(Status::error(ERROR_NOT_ACCEPTED));
        self.finish();
    }

    fn finish(&mut self) {
        self.finished = true;
        self.span.end();
    }
}

impl Future for TracedConfirm {
    type Output = Result<Confirmation, PublishError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(confirm) = this.confirm.as_mut() else {
            // Only reachable when polled after completion.
            return Poll::Ready(Err(PublishError::Channel(
                lapin::ErrorKind::FutureCompleted.into(),
            )));
        };
        let result = match Pin::new(confirm).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        this.confirm = None;
        let outcome = match result {
            Ok(Confirmation::Ack(None)) => {
                this.succeed("ack");
                Ok(Confirmation::Ack(None))
            }
            Ok(Confirmation::NotRequested) => {
                this.succeed("not_requested");
                Ok(Confirmation::NotRequested)
            }
            Ok(Confirmation::Ack(Some(returned))) => Err(PublishError::Returned {
                reply_code: returned.reply_code,
                reply_text: returned.reply_text.as_str().to_owned(),
                returned: Box::new(returned),
            }),
            Ok(Confirmation::Nack(returned)) => Err(PublishError::Nacked {
                returned: returned.map(Box::new),
            }),
            Err(e) => Err(PublishError::Channel(e)),
        };
        if let Err(error) = &outcome {
            this.fail(error);
        }
        Poll::Ready(outcome)
    }
}

impl Drop for TracedConfirm {
    fn drop(&mut self) {
        if !self.finished {
            // Sent, outcome never observed: count it as sent, say so on the span.
            let exchange = &self.exchange;
            exchange.sent.add(
                &self.telemetry.inner.metrics.sent,
                &exchange.metric_attributes,
                1,
            );
            self.span
                .set_attribute(KeyValue::new(ATTR_CONFIRM, "not_awaited"));
            self.span.end();
        }
    }
}
