//! The ten order statuses, their wire names and the system that sets each one.

use std::fmt;
use std::str::FromStr;

/// A system of the jewelry company that moves orders between statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum System {
    /// The online store.
    Shop,
    /// Customer relations: approves and closes orders.
    Crm,
    /// Manufacturing execution: prices and produces.
    Mes,
}

impl System {
    /// Lower-case name, as used in `service.name`-like contexts.
    pub const fn as_str(self) -> &'static str {
        match self {
            System::Shop => "shop",
            System::Crm => "crm",
            System::Mes => "mes",
        }
    }
}

/// An order status, in lifecycle order.
///
/// ```
/// use otel_order::OrderStatus;
/// let s: OrderStatus = "PRICE_CALCULATED".parse().unwrap();
/// assert_eq!(s, OrderStatus::PriceCalculated);
/// assert_eq!(s.to_string(), "PRICE_CALCULATED");
/// assert_eq!(s.next(), Some(OrderStatus::ManufacturingApproved));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrderStatus {
    /// Order created / first item in the cart (Shop).
    Initiated,
    /// 3D model uploaded and verified in storage (Shop).
    FileUploaded,
    /// Customer pressed "Order" (Shop).
    Submitted,
    /// Price computed from the model (MES).
    PriceCalculated,
    /// Approved for production (CRM).
    ManufacturingApproved,
    /// An operator took the order (MES).
    ManufacturingStarted,
    /// The operator finished it (MES).
    ManufacturingCompleted,
    /// Being packed (MES).
    Packaging,
    /// Sent to the customer (MES).
    Shipped,
    /// Received, order closed (CRM).
    Closed,
}

impl OrderStatus {
    /// All statuses in lifecycle order.
    pub const ALL: [OrderStatus; 10] = [
        OrderStatus::Initiated,
        OrderStatus::FileUploaded,
        OrderStatus::Submitted,
        OrderStatus::PriceCalculated,
        OrderStatus::ManufacturingApproved,
        OrderStatus::ManufacturingStarted,
        OrderStatus::ManufacturingCompleted,
        OrderStatus::Packaging,
        OrderStatus::Shipped,
        OrderStatus::Closed,
    ];

    /// The wire name (`INITIATED`, `FILE_UPLOADED`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Initiated => "INITIATED",
            OrderStatus::FileUploaded => "FILE_UPLOADED",
            OrderStatus::Submitted => "SUBMITTED",
            OrderStatus::PriceCalculated => "PRICE_CALCULATED",
            OrderStatus::ManufacturingApproved => "MANUFACTURING_APPROVED",
            OrderStatus::ManufacturingStarted => "MANUFACTURING_STARTED",
            OrderStatus::ManufacturingCompleted => "MANUFACTURING_COMPLETED",
            OrderStatus::Packaging => "PACKAGING",
            OrderStatus::Shipped => "SHIPPED",
            OrderStatus::Closed => "CLOSED",
        }
    }

    /// The system that sets this status.
    pub const fn owner(self) -> System {
        match self {
            OrderStatus::Initiated | OrderStatus::FileUploaded | OrderStatus::Submitted => {
                System::Shop
            }
            OrderStatus::ManufacturingApproved | OrderStatus::Closed => System::Crm,
            _ => System::Mes,
        }
    }

    /// Position in the lifecycle, 0 for `INITIATED` to 9 for `CLOSED`.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The status that legally follows this one; `None` for `CLOSED`.
    pub fn next(self) -> Option<OrderStatus> {
        OrderStatus::ALL.get(self.index() + 1).copied()
    }

    /// Whether no status follows this one.
    pub const fn is_terminal(self) -> bool {
        matches!(self, OrderStatus::Closed)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the ten wire names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown order status (expected one of INITIATED .. CLOSED)")]
pub struct UnknownStatus;

impl FromStr for OrderStatus {
    type Err = UnknownStatus;

    /// Exact, case-sensitive wire names only: inbound values are untrusted and a
    /// lenient parser would let two spellings of one status split a metric series.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "INITIATED" => OrderStatus::Initiated,
            "FILE_UPLOADED" => OrderStatus::FileUploaded,
            "SUBMITTED" => OrderStatus::Submitted,
            "PRICE_CALCULATED" => OrderStatus::PriceCalculated,
            "MANUFACTURING_APPROVED" => OrderStatus::ManufacturingApproved,
            "MANUFACTURING_STARTED" => OrderStatus::ManufacturingStarted,
            "MANUFACTURING_COMPLETED" => OrderStatus::ManufacturingCompleted,
            "PACKAGING" => OrderStatus::Packaging,
            "SHIPPED" => OrderStatus::Shipped,
            "CLOSED" => OrderStatus::Closed,
            _ => return Err(UnknownStatus),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_wire_name() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
        }
    }

    #[test]
    fn lower_case_and_padded_names_are_rejected() {
        assert_eq!("submitted".parse::<OrderStatus>(), Err(UnknownStatus));
        assert_eq!(" SUBMITTED".parse::<OrderStatus>(), Err(UnknownStatus));
        assert_eq!("".parse::<OrderStatus>(), Err(UnknownStatus));
    }

    #[test]
    fn owners_match_the_seed_table() {
        use OrderStatus::*;
        let shop = [Initiated, FileUploaded, Submitted];
        let crm = [ManufacturingApproved, Closed];
        for s in OrderStatus::ALL {
            let expected = if shop.contains(&s) {
                System::Shop
            } else if crm.contains(&s) {
                System::Crm
            } else {
                System::Mes
            };
            assert_eq!(s.owner(), expected, "{s}");
        }
    }

    #[test]
    fn closed_is_the_only_terminal_status() {
        assert_eq!(OrderStatus::Closed.next(), None);
        assert!(OrderStatus::ALL[..9].iter().all(|s| s.next().is_some()));
    }
}
