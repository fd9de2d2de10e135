//! Every name this crate puts on the wire or into a backend, in one place.
//!
//! Standard messaging names come from `opentelemetry-semantic-conventions` and are
//! re-exported here so one module lists everything; the rest are the project's own.
//! The README's names table mirrors this module.

pub use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, MESSAGING_CONSUMER_GROUP_NAME, MESSAGING_DESTINATION_NAME,
    MESSAGING_MESSAGE_BODY_SIZE, MESSAGING_MESSAGE_CONVERSATION_ID, MESSAGING_MESSAGE_ID,
    MESSAGING_OPERATION_NAME, MESSAGING_OPERATION_TYPE, MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY,
    MESSAGING_RABBITMQ_MESSAGE_DELIVERY_TAG, MESSAGING_SYSTEM,
};
pub use opentelemetry_semantic_conventions::metric::{
    MESSAGING_CLIENT_CONSUMED_MESSAGES, MESSAGING_CLIENT_SENT_MESSAGES, MESSAGING_PROCESS_DURATION,
};

/// Instrumentation scope name of this crate's tracer and meter.
pub const SCOPE_NAME: &str = "otel-amqp";

/// Value of `messaging.system`.
pub const SYSTEM_RABBITMQ: &str = "rabbitmq";

/// `messaging.operation.type` of a publish (semconv `send`, formerly `publish`).
pub const OPERATION_TYPE_SEND: &str = "send";
/// `messaging.operation.type` of a delivery handled by a consumer.
pub const OPERATION_TYPE_PROCESS: &str = "process";
/// `messaging.operation.name` of a publish: the AMQP method `basic.publish`.
pub const OPERATION_NAME_PUBLISH: &str = "publish";
/// `messaging.operation.name` of a delivery handled by a consumer.
pub const OPERATION_NAME_PROCESS: &str = "process";

/// Destination name used when the default exchange is addressed without a routing key.
pub const DEFAULT_EXCHANGE: &str = "amq.default";

/// Message header: when the message was published, Unix time in milliseconds
/// (AMQP long-long-int). Consumers compute the time spent in the queue from it.
pub const HEADER_PUBLISHED_AT: &str = "ordertrace-published-at";
/// Message header RabbitMQ adds when it dead-letters a message (array of tables).
pub const HEADER_X_DEATH: &str = "x-death";
/// W3C trace-context header name, looked at by the republish policy.
pub const HEADER_TRACEPARENT: &str = "traceparent";
/// Message header: which publish attempt of the message this is (2 for the first
/// republish after a lost confirm), AMQP long-long-int. Written only by
/// [`TracedChannel::republish_with_context`](crate::TracedChannel::republish_with_context);
/// absent means attempt 1.
pub const HEADER_PUBLISH_ATTEMPT: &str = "ordertrace-publish-attempt";

/// Span attribute: the delivery was redelivered by the broker (bool).
pub const ATTR_REDELIVERED: &str = "rabbitmq.message.redelivered";
/// Span attribute: the publish attempt of a republished message (int, 2 or more), on
/// the republish's PRODUCER span and on every process span of its deliveries. With
/// [`ATTR_REDELIVERED`] it flags every message that may be processed twice.
pub const ATTR_PUBLISH_ATTEMPT: &str = "rabbitmq.message.publish_attempt";
/// Span attribute: the exchange the message was published to (consumer side).
pub const ATTR_EXCHANGE: &str = "rabbitmq.exchange";
/// Span attribute: the queue the message was consumed from.
pub const ATTR_QUEUE: &str = "rabbitmq.queue";
/// Span attribute: seconds the message spent between publish and delivery (f64).
pub const ATTR_QUEUE_WAIT: &str = "rabbitmq.message.queue_wait";
/// Span attribute: where the queue-wait start came from (`header` or `timestamp`).
pub const ATTR_QUEUE_WAIT_SOURCE: &str = "rabbitmq.message.queue_wait.source";
/// Span attribute: times the message was dead-lettered from [`ATTR_X_DEATH_QUEUE`].
pub const ATTR_X_DEATH_COUNT: &str = "rabbitmq.x_death.count";
/// Span attribute: why the message was last dead-lettered (`rejected`, `expired`,
/// `maxlen`, `delivery_limit`).
pub const ATTR_X_DEATH_REASON: &str = "rabbitmq.x_death.reason";
/// Span attribute: the queue the message was last dead-lettered from.
pub const ATTR_X_DEATH_QUEUE: &str = "rabbitmq.x_death.queue";
/// Span attribute: the exchange the message had been published to before it died.
pub const ATTR_X_DEATH_EXCHANGE: &str = "rabbitmq.x_death.exchange";
/// Span attribute: how the delivery was settled (`ack`, `nack`, `reject`, `dropped`);
/// the process span ends at the settle.
pub const ATTR_SETTLE: &str = "rabbitmq.settle";
/// Span attribute: the settle asked the broker to requeue (bool).
pub const ATTR_SETTLE_REQUEUE: &str = "rabbitmq.settle.requeue";
/// Span attribute: the settle covered every earlier unsettled delivery too (bool).
pub const ATTR_SETTLE_MULTIPLE: &str = "rabbitmq.settle.multiple";
/// Span attribute: the publisher-confirm outcome (`ack`, `nack`, `returned`,
/// `not_requested`, `channel_error`).
pub const ATTR_CONFIRM: &str = "rabbitmq.confirm";
/// Span attribute: reply code of a returned (unroutable) message.
pub const ATTR_RETURN_CODE: &str = "rabbitmq.return.code";
/// Span attribute: reply text of a returned (unroutable) message.
pub const ATTR_RETURN_TEXT: &str = "rabbitmq.return.text";
/// Span attribute (firehose): the queues the broker routed a published message to.
pub const ATTR_ROUTED_QUEUES: &str = "rabbitmq.routed_queues";
/// Span attribute (firehose): the broker node that traced the message.
pub const ATTR_NODE: &str = "rabbitmq.node";
/// Link attribute: why the span links to another (`creation`, `previous_publish`).
pub const ATTR_LINK_KIND: &str = "rabbitmq.link.kind";

/// Span event: the delivery wrapper was dropped without an ack, nack or reject. An
/// ordinary settle has no event: the process span ends when the delivery is
/// settled, so its end time is the settle time, and [`ATTR_SETTLE`] says how.
pub const EVENT_DROPPED_UNSETTLED: &str = "dropped unsettled";
/// Error description on publish spans the broker did not accept.
pub const ERROR_NOT_ACCEPTED: &str = "message not accepted by broker";

/// Histogram (s): time between publish and delivery, by queue.
pub const METRIC_QUEUE_WAIT: &str = "rabbitmq.queue.wait_time";
/// Counter: deliveries marked redelivered, by queue.
pub const METRIC_REDELIVERIES: &str = "rabbitmq.redeliveries";
/// Counter: republishes (publish attempt 2 or more), by exchange.
pub const METRIC_REPUBLISHES: &str = "rabbitmq.republishes";
/// Counter: deliveries of a republished message (publish attempt 2 or more), by
/// queue: the copies the broker does not mark redelivered.
pub const METRIC_REPUBLISHED_DELIVERIES: &str = "rabbitmq.republished_deliveries";
/// Counter: consumed messages that had been dead-lettered, by dead-letter queue,
/// original queue and reason.
pub const METRIC_DEAD_LETTERED: &str = "rabbitmq.dead_lettered";
/// Counter: publishes the broker did not accept, by exchange and `error.type`.
pub const METRIC_PUBLISH_FAILURES: &str = "rabbitmq.publish.failures";
/// Observable gauge: messages ready for delivery in a configured queue.
pub const METRIC_QUEUE_MESSAGES_READY: &str = "rabbitmq.queue.messages_ready";
/// Observable gauge: consumers attached to a configured queue.
pub const METRIC_QUEUE_CONSUMERS: &str = "rabbitmq.queue.consumers";
/// Up-down counter: deliveries handed to this process and not yet settled, by queue.
pub const METRIC_IN_FLIGHT: &str = "rabbitmq.messages.in_flight";

/// `error.type` of a publish the broker nacked.
pub const ERROR_TYPE_NACK: &str = "nack";
/// `error.type` of a mandatory publish the broker returned as unroutable.
pub const ERROR_TYPE_RETURNED: &str = "returned";
/// `error.type` of a publish that failed because the channel or connection failed.
pub const ERROR_TYPE_CHANNEL: &str = "channel_error";

/// Firehose exchange RabbitMQ publishes trace copies to after `rabbitmqctl trace_on`.
pub const FIREHOSE_EXCHANGE: &str = "amq.rabbitmq.trace";
/// Span event (firehose): the broker received the message on an exchange.
pub const EVENT_BROKER_RECEIVED: &str = "received by exchange";
/// Span event (firehose): the broker routed the message to at least one queue.
pub const EVENT_BROKER_ROUTED: &str = "routed to queues";
/// Span event (firehose): no binding matched; the broker dropped the message.
pub const EVENT_BROKER_UNROUTED: &str = "routed to no queue";
/// Span event (firehose): the broker delivered the message to a consumer.
pub const EVENT_BROKER_DELIVERED: &str = "delivered to consumer";
