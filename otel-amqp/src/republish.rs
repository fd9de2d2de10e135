//! Publishing a message again after its confirm was lost, so the copy is visible.
//!
//! When the connection dies between a publish and its confirm, the producer cannot
//! know whether the broker took the message. The safe move is to publish it again;
//! but if the broker did take the first one, the consumer now gets the message
//! twice, and the broker does **not** mark the second copy `redelivered` (to the
//! broker it is a new message). Without a mark, that duplicate is invisible.
//!
//! [`TracedChannel::republish_with_context`] numbers the attempt in the
//! [`HEADER_PUBLISH_ATTEMPT`] header (2 for the first republish). The publish span
//! carries [`ATTR_PUBLISH_ATTEMPT`] and counts in [`METRIC_REPUBLISHES`]; every
//! process span of the copy carries [`ATTR_PUBLISH_ATTEMPT`] too and counts in
//! [`METRIC_REPUBLISHED_DELIVERIES`]. So a message processed twice is always
//! flagged: `rabbitmq.message.redelivered` when the broker sent it again,
//! `rabbitmq.message.publish_attempt` when the producer did.
//!
//! A first publish writes no header and costs nothing extra; the consumer looks
//! the header up once per delivery. Nothing is kept per message on either side:
//! the attempt number travels with the message, and the caller (which must keep
//! the message to publish it again anyway) keeps the count.
//!
//! ```no_run
//! use std::future::Future;
//!
//! use lapin::options::BasicPublishOptions;
//! use lapin::BasicProperties;
//! use opentelemetry::Context;
//! use otel_amqp::{PublishError, TracedChannel};
//!
//! /// Publish until the broker confirms, on a fresh channel after each failure
//! /// (`reopen` waits for the application's reconnect and opens a channel).
//! async fn publish_confirmed<F, Fut>(
//!     mut reopen: F,
//!     cx: &Context,
//!     body: &[u8],
//! ) -> Result<(), PublishError>
//! where
//!     F: FnMut() -> Fut,
//!     Fut: Future<Output = TracedChannel>,
//! {
//!     let properties = BasicProperties::default().with_message_id("ORD-1:price".into());
//!     let mut attempt = 1;
//!     loop {
//!         let channel = reopen().await;
//!         let outcome = match channel
//!             .republish_with_context(cx, attempt, "orders".into(), "price".into(),
//!                 BasicPublishOptions::default(), body, properties.clone())
//!             .await
//!         {
//!             Ok(confirm) => confirm.await.map(drop),
//!             Err(error) => Err(error),
//!         };
//!         match outcome {
//!             // Confirm lost with the channel: the broker may or may not have it.
//!             Err(PublishError::Channel(_)) => attempt += 1,
//!             // Confirmed, or refused by the broker (nack, returned): done.
//!             other => return other,
//!         }
//!     }
//! }
//! ```
//!
//! [`METRIC_REPUBLISHES`]: crate::names::METRIC_REPUBLISHES
//! [`METRIC_REPUBLISHED_DELIVERIES`]: crate::names::METRIC_REPUBLISHED_DELIVERIES

use lapin::options::BasicPublishOptions;
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::BasicProperties;
use opentelemetry::trace::{Span, TraceContextExt};
use opentelemetry::{Context, KeyValue};

use crate::carrier::value_as_str;
use crate::dead_letter::int_value;
use crate::error::PublishError;
use crate::names::{ATTR_PUBLISH_ATTEMPT, HEADER_PUBLISH_ATTEMPT, MESSAGING_DESTINATION_NAME};
use crate::publish::{exchange_destination, TracedChannel, TracedConfirm};
use crate::telemetry::AmqpTelemetry;

/// Attempts above this are recorded as this: the number only has to say "again",
/// and a hostile header must not become an unbounded attribute.
const MAX_ATTEMPT: i64 = 1_000_000;

impl TracedChannel {
    /// Publish a message as its `attempt`-th publish: 1 is an ordinary
    /// [`basic_publish_with_context`](Self::basic_publish_with_context); 2 or
    /// more (a republish after a lost confirm) also writes the attempt into the
    /// [`HEADER_PUBLISH_ATTEMPT`] header, records [`ATTR_PUBLISH_ATTEMPT`] on the
    /// publish span and counts in [`METRIC_REPUBLISHES`], so consumers can flag the
    /// copy (see the [module docs](crate::republish)).
    ///
    /// [`METRIC_REPUBLISHES`]: crate::names::METRIC_REPUBLISHES
    ///
    /// Use the same message id for every attempt: consumers that deduplicate by
    /// message id then see the copies as one message.
    #[allow(clippy::too_many_arguments)] // basic_publish's arguments, plus the attempt
    pub async fn republish_with_context(
        &self,
        cx: &Context,
        attempt: u32,
        exchange: ShortString,
        routing_key: ShortString,
        options: BasicPublishOptions,
        payload: &[u8],
        properties: BasicProperties,
    ) -> Result<TracedConfirm, PublishError> {
        if attempt <= 1 {
            return self
                .basic_publish_with_context(cx, exchange, routing_key, options, payload, properties)
                .await;
        }
        let mut headers = properties.headers().clone().unwrap_or_default();
        headers.insert(
            ShortString::from(HEADER_PUBLISH_ATTEMPT),
            AMQPValue::LongLongInt(i64::from(attempt)),
        );
        let destination = exchange_destination(exchange.as_str()).to_owned();
        let mut confirm = self
            .basic_publish_with_context(
                cx,
                exchange,
                routing_key,
                options,
                payload,
                properties.with_headers(headers),
            )
            .await?;
        confirm
            .span_mut()
            .set_attribute(KeyValue::new(ATTR_PUBLISH_ATTEMPT, i64::from(attempt)));
        confirm
            .telemetry()
            .inner
            .metrics
            .republishes
            .add(1, &[KeyValue::new(MESSAGING_DESTINATION_NAME, destination)]);
        Ok(confirm)
    }
}

/// The publish attempt a message's headers declare: 1 when the header is absent
/// or unreadable (a first publish writes none), otherwise the attempt, at least 1.
pub fn publish_attempt(headers: &FieldTable) -> u32 {
    republished_attempt(headers).map_or(1, |a| a as u32)
}

/// The attempt of a republished message (2 or more), `None` for a first publish.
/// Accepts integers and decimal strings (other clients may republish too).
fn republished_attempt(headers: &FieldTable) -> Option<i64> {
    republished_attempt_in(headers.inner().get(HEADER_PUBLISH_ATTEMPT)?)
}

/// [`republished_attempt`] from the header's value.
fn republished_attempt_in(value: &AMQPValue) -> Option<i64> {
    let attempt = int_value(value).or_else(|| value_as_str(value, 20)?.trim().parse().ok())?;
    (attempt > 1).then_some(attempt.min(MAX_ATTEMPT))
}

/// Flag a delivery of a republished message on its process span (in `cx`) and count
/// it for `queue`; nothing for a first publish. `attempt` is the delivery's
/// [`HEADER_PUBLISH_ATTEMPT`] value, if it has one.
pub(crate) fn mark_delivery(
    telemetry: &AmqpTelemetry,
    cx: &Context,
    attempt: Option<&AMQPValue>,
    queue: &KeyValue,
) {
    let Some(attempt) = attempt.and_then(republished_attempt_in) else {
        return;
    };
    cx.span()
        .set_attribute(KeyValue::new(ATTR_PUBLISH_ATTEMPT, attempt));
    telemetry
        .inner
        .metrics
        .republished_deliveries
        .add(1, std::slice::from_ref(queue));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: AMQPValue) -> FieldTable {
        let mut t = FieldTable::default();
        t.insert(HEADER_PUBLISH_ATTEMPT.into(), value);
        t
    }

    #[test]
    fn a_message_without_the_header_is_a_first_attempt() {
        assert_eq!(publish_attempt(&FieldTable::default()), 1);
        assert_eq!(republished_attempt(&FieldTable::default()), None);
    }

    #[test]
    fn attempts_read_from_integers_and_strings() {
        assert_eq!(publish_attempt(&headers(AMQPValue::LongLongInt(3))), 3);
        assert_eq!(publish_attempt(&headers(AMQPValue::ShortInt(2))), 2);
        assert_eq!(
            publish_attempt(&headers(AMQPValue::LongString("4".into()))),
            4
        );
    }

    #[test]
    fn garbage_and_out_of_range_attempts_never_flag_or_overflow() {
        for value in [
            AMQPValue::LongLongInt(-5),
            AMQPValue::LongLongInt(0),
            AMQPValue::LongLongInt(1),
            AMQPValue::LongString("two".into()),
            AMQPValue::Boolean(true),
        ] {
            assert_eq!(republished_attempt(&headers(value)), None);
        }
        assert_eq!(
            republished_attempt(&headers(AMQPValue::LongLongInt(i64::MAX))),
            Some(MAX_ATTEMPT)
        );
    }
}
