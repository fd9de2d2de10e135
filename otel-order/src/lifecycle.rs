//! Which status transitions are legal, and how an observed one is classified.
//!
//! Services observe transitions they did not cause (a CRM event arriving twice, an MES
//! event lost), so classification never fails: an illegal move is a signal to record,
//! not an error to propagate.

use std::fmt;

use crate::OrderStatus;

/// How an observed transition relates to the lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransitionKind {
    /// The first status seen for an order (no previous status known).
    Initial,
    /// To the next status: the only legal move.
    Forward,
    /// Forward past one or more statuses: a step was lost or not reported.
    Skip,
    /// To an earlier status.
    Backward,
    /// To the status the order is already in: how "approval processed twice" shows up.
    Repeat,
}

impl TransitionKind {
    /// All kinds, for bounded metric attributes.
    pub const ALL: [TransitionKind; 5] = [
        TransitionKind::Initial,
        TransitionKind::Forward,
        TransitionKind::Skip,
        TransitionKind::Backward,
        TransitionKind::Repeat,
    ];

    /// Lower-case name used as attribute value.
    pub const fn as_str(self) -> &'static str {
        match self {
            TransitionKind::Initial => "initial",
            TransitionKind::Forward => "forward",
            TransitionKind::Skip => "skip",
            TransitionKind::Backward => "backward",
            TransitionKind::Repeat => "repeat",
        }
    }

    /// Whether the lifecycle allows this move.
    pub const fn is_legal(self) -> bool {
        matches!(self, TransitionKind::Initial | TransitionKind::Forward)
    }
}

impl fmt::Display for TransitionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classify the move `from → to`; `from = None` means the previous status is unknown.
///
/// ```
/// use otel_order::{classify, OrderStatus::*, TransitionKind};
/// assert_eq!(classify(Some(Submitted), PriceCalculated), TransitionKind::Forward);
/// assert_eq!(classify(Some(ManufacturingApproved), ManufacturingApproved), TransitionKind::Repeat);
/// assert_eq!(classify(Some(Shipped), Packaging), TransitionKind::Backward);
/// assert_eq!(classify(Some(Submitted), ManufacturingApproved), TransitionKind::Skip);
/// assert_eq!(classify(None, Initiated), TransitionKind::Initial);
/// ```
pub fn classify(from: Option<OrderStatus>, to: OrderStatus) -> TransitionKind {
    let Some(from) = from else {
        return TransitionKind::Initial;
    };
    match to.index() as isize - from.index() as isize {
        0 => TransitionKind::Repeat,
        1 => TransitionKind::Forward,
        d if d > 1 => TransitionKind::Skip,
        _ => TransitionKind::Backward,
    }
}

/// Whether `from → to` is a legal lifecycle move.
pub fn is_legal(from: OrderStatus, to: OrderStatus) -> bool {
    from.next() == Some(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn happy_path_is_all_forward() {
        for pair in OrderStatus::ALL.windows(2) {
            assert_eq!(classify(Some(pair[0]), pair[1]), TransitionKind::Forward);
            assert!(is_legal(pair[0], pair[1]));
        }
    }

    #[test]
    fn every_pair_gets_exactly_one_kind_consistent_with_order() {
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                let kind = classify(Some(from), to);
                let expected = if from == to {
                    TransitionKind::Repeat
                } else if to.index() == from.index() + 1 {
                    TransitionKind::Forward
                } else if to > from {
                    TransitionKind::Skip
                } else {
                    TransitionKind::Backward
                };
                assert_eq!(kind, expected, "{from} -> {to}");
                assert_eq!(kind.is_legal(), is_legal(from, to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn repeated_approval_is_a_repeat_not_legal() {
        let kind = classify(Some(ManufacturingApproved), ManufacturingApproved);
        assert_eq!(kind, TransitionKind::Repeat);
        assert!(!kind.is_legal());
    }

    #[test]
    fn nothing_leaves_closed_legally() {
        assert!(OrderStatus::ALL.iter().all(|&to| !is_legal(Closed, to)));
    }
}
