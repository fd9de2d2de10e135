//! The order id: the business key every span of an order carries.

use std::fmt;
use std::sync::Arc;

/// Longest accepted order id, in bytes. Generous for UUIDs (36) and prefixed ids,
/// small enough that a hostile header cannot bloat every span it touches.
pub const MAX_ORDER_ID_LEN: usize = 64;

/// A validated order id: 1 to [`MAX_ORDER_ID_LEN`] bytes of ASCII letters, digits and
/// `-` `_` `.` `:`. Cheap to clone.
///
/// ```
/// use otel_order::OrderId;
/// assert!(OrderId::new("ORD-2026-000123").is_ok());
/// assert!(OrderId::new("9f1c2d3e-0000-4000-8000-000000000001").is_ok());
/// assert!(OrderId::new("ord 1").is_err());
/// assert!(OrderId::new("заказ-1").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OrderId(Arc<str>);

/// Why a string is not an order id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOrderId {
    /// The id is empty.
    #[error("order id is empty")]
    Empty,
    /// The id is longer than [`MAX_ORDER_ID_LEN`].
    #[error("order id is longer than {MAX_ORDER_ID_LEN} bytes")]
    TooLong,
    /// The id has a byte outside `[A-Za-z0-9._:-]`.
    #[error("order id has a character outside [A-Za-z0-9._:-]")]
    InvalidCharset,
}

impl OrderId {
    /// Validate `id` and wrap it.
    pub fn new(id: &str) -> Result<OrderId, InvalidOrderId> {
        validate(id)?;
        Ok(OrderId(Arc::from(id)))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an attribute value sharing this id's buffer: stamping `order.id` on
    /// every span of an order allocates nothing.
    pub fn to_value(&self) -> opentelemetry::Value {
        opentelemetry::Value::String(opentelemetry::StringValue::from(self.0.clone()))
    }
}

fn validate(id: &str) -> Result<(), InvalidOrderId> {
    if id.is_empty() {
        return Err(InvalidOrderId::Empty);
    }
    if id.len() > MAX_ORDER_ID_LEN {
        return Err(InvalidOrderId::TooLong);
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    {
        return Err(InvalidOrderId::InvalidCharset);
    }
    Ok(())
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrderId({:?})", &*self.0)
    }
}

impl std::str::FromStr for OrderId {
    type Err = InvalidOrderId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderId::new(s)
    }
}

impl AsRef<str> for OrderId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_exact() {
        assert!(OrderId::new(&"a".repeat(MAX_ORDER_ID_LEN)).is_ok());
        assert_eq!(
            OrderId::new(&"a".repeat(MAX_ORDER_ID_LEN + 1)),
            Err(InvalidOrderId::TooLong)
        );
        assert_eq!(OrderId::new(""), Err(InvalidOrderId::Empty));
    }

    #[test]
    fn control_and_injection_characters_are_rejected() {
        for bad in ["a\nb", "a\"b", "a,b", "a=b", "a b", "a\0", "a}b", "a/b"] {
            assert_eq!(
                OrderId::new(bad),
                Err(InvalidOrderId::InvalidCharset),
                "{bad:?}"
            );
        }
    }
}
