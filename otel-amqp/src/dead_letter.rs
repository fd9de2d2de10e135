//! Reading RabbitMQ's `x-death` header: how often, why and from where a message was
//! dead-lettered.
//!
//! RabbitMQ keeps one table per (queue, reason) in the `x-death` array, the most
//! recent first, each with a `count`. The first entry describes the last death.
//! Values come from the broker (or from anyone who published the header), so every
//! field is read defensively: wrong types read as absent.

use lapin::types::{AMQPValue, FieldTable};

use crate::carrier::value_as_str;
use crate::names::HEADER_X_DEATH;

/// The most recent dead-lettering of a message, from its `x-death` header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XDeath {
    /// How many times the message died in [`queue`](Self::queue) for
    /// [`reason`](Self::reason).
    pub count: i64,
    /// `rejected`, `expired`, `maxlen` or `delivery_limit`.
    pub reason: Option<String>,
    /// The queue the message was dead-lettered from.
    pub queue: Option<String>,
    /// The exchange the message had been published to.
    pub exchange: Option<String>,
}

/// Longest `x-death` string value read (queue and exchange names are ≤ 255 bytes).
const MAX_FIELD_LEN: usize = 255;

pub(crate) fn int_value(value: &AMQPValue) -> Option<i64> {
    match *value {
        AMQPValue::ShortShortInt(v) => Some(v.into()),
        AMQPValue::ShortShortUInt(v) => Some(v.into()),
        AMQPValue::ShortInt(v) => Some(v.into()),
        AMQPValue::ShortUInt(v) => Some(v.into()),
        AMQPValue::LongInt(v) => Some(v.into()),
        AMQPValue::LongUInt(v) => Some(v.into()),
        AMQPValue::LongLongInt(v) => Some(v),
        AMQPValue::Timestamp(v) => i64::try_from(v).ok(),
        _ => None,
    }
}

impl XDeath {
    /// The last death recorded in `headers`, if they carry a well-formed `x-death`.
    pub fn from_headers(headers: &FieldTable) -> Option<XDeath> {
        Self::from_value(headers.inner().get(HEADER_X_DEATH)?)
    }

    /// The last death recorded in an `x-death` header's value.
    pub(crate) fn from_value(value: &AMQPValue) -> Option<XDeath> {
        let AMQPValue::FieldArray(deaths) = value else {
            return None;
        };
        let AMQPValue::FieldTable(last) = deaths.as_slice().first()? else {
            return None;
        };
        let fields = last.inner();
        let text = |key: &str| {
            fields
                .get(key)
                .and_then(|v| value_as_str(v, MAX_FIELD_LEN))
                .map(str::to_owned)
        };
        Some(XDeath {
            count: fields.get("count").and_then(int_value).unwrap_or(1),
            reason: text("reason"),
            queue: text("queue"),
            exchange: text("exchange"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::types::FieldArray;

    #[test]
    fn last_death_is_read_and_wrong_types_are_absent() {
        let mut death = FieldTable::default();
        death.insert("count".into(), AMQPValue::LongLongInt(2));
        death.insert("reason".into(), AMQPValue::LongString("rejected".into()));
        death.insert("queue".into(), AMQPValue::LongString("work".into()));
        death.insert("exchange".into(), AMQPValue::Boolean(true));
        let mut headers = FieldTable::default();
        headers.insert(
            HEADER_X_DEATH.into(),
            AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::FieldTable(death)])),
        );
        assert_eq!(
            XDeath::from_headers(&headers),
            Some(XDeath {
                count: 2,
                reason: Some("rejected".into()),
                queue: Some("work".into()),
                exchange: None,
            })
        );
    }

    #[test]
    fn malformed_x_death_reads_as_none() {
        for bad in [
            AMQPValue::LongString("x".into()),
            AMQPValue::FieldArray(FieldArray::from(vec![])),
            AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::Void])),
        ] {
            let mut headers = FieldTable::default();
            headers.insert(HEADER_X_DEATH.into(), bad);
            assert_eq!(XDeath::from_headers(&headers), None);
        }
    }
}
