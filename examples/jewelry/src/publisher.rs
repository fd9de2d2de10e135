//! Publishing that survives a lost connection without losing or silently doubling a
//! message: confirm every publish, publish again (numbered, with otel-amqp's
//! [`republish_with_context`](otel_amqp::TracedChannel::republish_with_context))
//! when the confirm is lost, and remember what the broker confirmed so a handler
//! that runs twice (its input was redelivered) does not send the same message
//! twice.
//!
//! The outbox is in memory here, as the services' order books are; a real service
//! keeps it in its database, next to the state change that produced the message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::BasicProperties;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::Context;
use otel_amqp::{AmqpTelemetry, PublishError, TracedChannel, TracedDelivery};
use otel_order::{FailureReason, OrderContext};
use serde::Serialize;

use crate::broker::SendError;
use crate::reconnect::{Backoff, Broker};
use crate::telemetry::Recorder;

/// How long a publish keeps trying through a broker outage before it gives up and
/// the caller records the message as lost.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(30);

/// Shortest wait for a confirm, even right at the give-up time.
const CONFIRM_WAIT_MIN: Duration = Duration::from_secs(1);

/// The error of a publish that ran out of time: its outcome is unknown.
fn gave_up() -> PublishError {
    PublishError::Channel(
        lapin::ErrorKind::IOError(Arc::new(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "broker unavailable for longer than the publisher's give-up time",
        )))
        .into(),
    )
}

/// What a publish did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Confirmed by the broker after this many attempts (1 when nothing failed).
    Confirmed {
        /// Publish attempts, the confirmed one included.
        attempts: u32,
    },
    /// The broker had already confirmed this message id: nothing was sent.
    AlreadyConfirmed,
}

#[derive(Debug, Default)]
struct Entry {
    attempts: u32,
    confirmed: bool,
}

/// A service's confirmed, republishing publisher over a [`Broker`].
#[derive(Clone, Debug)]
pub struct Publisher {
    broker: Broker,
    telemetry: AmqpTelemetry,
    channel: Arc<tokio::sync::Mutex<Option<TracedChannel>>>,
    outbox: Arc<Mutex<HashMap<String, Entry>>>,
    give_up_after: Duration,
}

impl Publisher {
    /// A publisher on `broker`'s connection, tracing with `telemetry`.
    pub fn new(broker: Broker, telemetry: AmqpTelemetry) -> Self {
        Publisher {
            broker,
            telemetry,
            channel: Arc::default(),
            outbox: Arc::default(),
            give_up_after: GIVE_UP_AFTER,
        }
    }

    /// Give up after `after` instead of [`GIVE_UP_AFTER`].
    pub fn give_up_after(mut self, after: Duration) -> Self {
        self.give_up_after = after;
        self
    }

    /// The broker connection this publisher uses.
    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// A confirming channel on a live connection (the last one while it lives).
    async fn channel(&self) -> Result<TracedChannel, lapin::Error> {
        let mut slot = self.channel.lock().await;
        if let Some(channel) = slot.as_ref() {
            if channel.status().connected() {
                return Ok(channel.clone());
            }
        }
        let channel = self.broker.connection().await.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        let channel = TracedChannel::new(channel, self.telemetry.clone());
        *slot = Some(channel.clone());
        Ok(channel)
    }

    /// Publish `body` as message `message_id` under `cx` until the broker confirms
    /// it: after a lost confirm, on a new channel, as the next publish attempt.
    /// A message id the broker already confirmed is not sent again. Fails when the
    /// broker refuses the message (nack, return) or stays away longer than the
    /// give-up time; the last attempt's span says which.
    pub async fn publish_bytes(
        &self,
        cx: &Context,
        exchange: &str,
        routing_key: &str,
        message_id: &str,
        body: &[u8],
    ) -> Result<Sent, PublishError> {
        let deadline = Instant::now() + self.give_up_after;
        let mut backoff = Backoff::default();
        loop {
            if self.confirmed(message_id) {
                return Ok(Sent::AlreadyConfirmed);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let channel = match tokio::time::timeout(left, self.channel()).await {
                Ok(Ok(channel)) => channel,
                Ok(Err(e)) if !left.is_zero() => {
                    tracing::debug!(message_id, error = %e, "no channel yet");
                    backoff.wait().await;
                    continue;
                }
                Ok(Err(e)) => return Err(PublishError::Channel(e)),
                Err(_) => return Err(gave_up()),
            };
            // Counted once the message is handed to a live channel: from here on
            // the broker may have it, so the next try is a republish.
            let attempt = self.next_attempt(message_id);
            let left = deadline.saturating_duration_since(Instant::now());
            let publish = publish_once(
                &channel,
                cx,
                attempt,
                exchange,
                routing_key,
                message_id,
                body,
            );
            let outcome = match tokio::time::timeout(left.max(CONFIRM_WAIT_MIN), publish).await {
                Ok(outcome) => outcome,
                Err(_) => Err(gave_up()),
            };
            match outcome {
                Ok(()) => {
                    self.lock()
                        .entry(message_id.to_owned())
                        .or_default()
                        .confirmed = true;
                    return Ok(Sent::Confirmed { attempts: attempt });
                }
                // The connection went away: the broker may or may not have it.
                Err(PublishError::Channel(e)) if Instant::now() < deadline => {
                    tracing::debug!(message_id, attempt, error = %e, "publish outcome lost; publishing again");
                    backoff.wait().await;
                }
                Err(refused) => return Err(refused),
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.outbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn confirmed(&self, message_id: &str) -> bool {
        self.lock().get(message_id).is_some_and(|e| e.confirmed)
    }

    fn next_attempt(&self, message_id: &str) -> u32 {
        let mut outbox = self.lock();
        let entry = outbox.entry(message_id.to_owned()).or_default();
        entry.attempts += 1;
        entry.attempts
    }

    /// Publish `message` as JSON (see [`publish_bytes`](Self::publish_bytes)).
    pub async fn publish_json<T: Serialize>(
        &self,
        cx: &Context,
        exchange: &str,
        routing_key: &str,
        message_id: &str,
        message: &T,
    ) -> Result<Sent, SendError> {
        let body = serde_json::to_vec(message)?;
        Ok(self
            .publish_bytes(cx, exchange, routing_key, message_id, &body)
            .await?)
    }

    /// Publish once, bypassing the outbox and the retries: what a careless
    /// publisher does (the duplicate-approval fault).
    pub async fn publish_unguarded<T: Serialize>(
        &self,
        cx: &Context,
        exchange: &str,
        routing_key: &str,
        message_id: &str,
        message: &T,
    ) -> Result<(), SendError> {
        let body = serde_json::to_vec(message)?;
        let channel = self.channel().await.map_err(PublishError::Channel)?;
        publish_once(&channel, cx, 1, exchange, routing_key, message_id, &body).await?;
        Ok(())
    }
}

/// Record on a consumer's process span (`delivery`) what its handler's publish
/// did: a copy not sent again as an event (idempotent by message id), a failure
/// as the order's `message_lost` failure and a span error (the broker refused the
/// message, or stayed away past the give-up time: the next system will never hear
/// of the order).
pub fn record_sent(
    sent: Result<Sent, SendError>,
    recorder: &Recorder,
    order: &OrderContext,
    delivery: &mut TracedDelivery,
) {
    let cx = delivery.context().clone();
    match sent {
        Ok(Sent::AlreadyConfirmed) => cx
            .span()
            .add_event("message already confirmed; not sent again", Vec::new()),
        Ok(Sent::Confirmed { .. }) => {}
        Err(e) => {
            recorder.failure_with_context(&cx, order, FailureReason::MessageLost);
            delivery.record_error(&e);
        }
    }
}

async fn publish_once(
    channel: &TracedChannel,
    cx: &Context,
    attempt: u32,
    exchange: &str,
    routing_key: &str,
    message_id: &str,
    body: &[u8],
) -> Result<(), PublishError> {
    let properties = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2) // persistent: survives a broker restart in a durable queue
        .with_message_id(message_id.into());
    channel
        .republish_with_context(
            cx,
            attempt,
            exchange.into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            body,
            properties,
        )
        .await?
        .await?;
    Ok(())
}
