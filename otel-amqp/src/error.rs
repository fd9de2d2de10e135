//! The crate's typed errors.

use lapin::message::BasicReturnMessage;

/// Why a traced publish was not accepted by the broker.
///
/// Every variant is also recorded on the publish span as an error ("message not
/// accepted by broker") with an `error.type`, and counted in
/// `rabbitmq.publish.failures`.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The broker answered the publisher confirm with `basic.nack` (e.g. a queue
    /// with `x-overflow: reject-publish` is full): the message is lost unless the
    /// caller publishes it again.
    #[error("message not accepted by broker: nacked")]
    Nacked {
        /// The message, when the broker also returned it.
        returned: Option<Box<BasicReturnMessage>>,
    },
    /// A `mandatory` publish matched no queue and the broker returned it.
    #[error("message not accepted by broker: returned ({reply_code} {reply_text})")]
    Returned {
        /// AMQP reply code (312 `NO_ROUTE`).
        reply_code: u16,
        /// AMQP reply text.
        reply_text: String,
        /// The returned message.
        returned: Box<BasicReturnMessage>,
    },
    /// The channel or connection failed before the broker confirmed the message.
    #[error("message not accepted by broker: {0}")]
    Channel(#[source] lapin::Error),
}

impl PublishError {
    /// The bounded `error.type` value recorded for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            PublishError::Nacked { .. } => crate::names::ERROR_TYPE_NACK,
            PublishError::Returned { .. } => crate::names::ERROR_TYPE_RETURNED,
            PublishError::Channel(_) => crate::names::ERROR_TYPE_CHANNEL,
        }
    }
}

/// Errors of the broker operations this crate performs on its own (opening the
/// gauges' or the firehose's channel, declaring and binding its queue).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A broker operation failed.
    #[error("AMQP operation failed: {0}")]
    Amqp(#[from] lapin::Error),
    /// No Tokio runtime is running to drive the background task.
    #[error("a Tokio runtime is required to run {0}")]
    NoRuntime(&'static str),
}
