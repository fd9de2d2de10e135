//! Why an order failed: a bounded set of reasons, usable as a metric attribute.

use std::fmt;

/// Why an order failed or a step of it did not happen.
///
/// Bounded on purpose: it becomes the `order.failure.reason` metric attribute, so
/// free text (error messages, ids) never reaches a label. Put details on your own
/// spans or logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureReason {
    /// A call or a step took longer than allowed (e.g. MES pricing).
    Timeout,
    /// A remote API answered with an error.
    ApiError,
    /// A message was lost: publisher nack, unroutable, or never arrived.
    MessageLost,
    /// An uploaded file is missing from storage or corrupt.
    FileCorrupt,
    /// The order was rejected by a business rule.
    Rejected,
    /// A message about the order ended in a dead-letter queue.
    DeadLettered,
    /// Anything else.
    Other,
}

impl FailureReason {
    /// All reasons, for bounded metric attributes and dashboards.
    pub const ALL: [FailureReason; 7] = [
        FailureReason::Timeout,
        FailureReason::ApiError,
        FailureReason::MessageLost,
        FailureReason::FileCorrupt,
        FailureReason::Rejected,
        FailureReason::DeadLettered,
        FailureReason::Other,
    ];

    /// Snake-case name used as the attribute value (`timeout`, `api_error`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            FailureReason::Timeout => "timeout",
            FailureReason::ApiError => "api_error",
            FailureReason::MessageLost => "message_lost",
            FailureReason::FileCorrupt => "file_corrupt",
            FailureReason::Rejected => "rejected",
            FailureReason::DeadLettered => "dead_lettered",
            FailureReason::Other => "other",
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
