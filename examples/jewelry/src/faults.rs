//! The seeds' failure points as switches: each [`Fault`] breaks one order in the place
//! the architecture records say orders get lost or stuck.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One way an order goes wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// MES publishes the "price calculated" event with a routing key nothing is bound
    /// to: the broker accepts it and drops it; CRM never hears of the order.
    LostMessage,
    /// MES pricing takes longer than the SUBMITTED SLA (the 30-minute queue).
    SlowPricing,
    /// The price event reaches CRM twice (a publisher retry), so CRM approves twice.
    DuplicateApproval,
    /// The uploaded 3D model is damaged on the way into storage.
    CorruptUpload,
    /// The MES worker dies after taking the pricing request, before acking it; the
    /// broker redelivers it.
    CrashBeforeAck,
    /// The Shop sends a pricing request MES cannot read; MES rejects it and it ends
    /// in the dead-letter queue.
    PoisonMessage,
}

impl Fault {
    /// Every fault, in the order the demo shows them.
    pub const ALL: [Fault; 6] = [
        Fault::LostMessage,
        Fault::SlowPricing,
        Fault::DuplicateApproval,
        Fault::CorruptUpload,
        Fault::CrashBeforeAck,
        Fault::PoisonMessage,
    ];

    /// The flag value (`lost-message`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Fault::LostMessage => "lost-message",
            Fault::SlowPricing => "slow-pricing",
            Fault::DuplicateApproval => "duplicate-approval",
            Fault::CorruptUpload => "corrupt-upload",
            Fault::CrashBeforeAck => "crash-before-ack",
            Fault::PoisonMessage => "poison-message",
        }
    }

    /// One line saying which seed failure point this is.
    pub const fn description(self) -> &'static str {
        match self {
            Fault::LostMessage => "MES -> CRM price event lost in RabbitMQ",
            Fault::SlowPricing => "MES pricing slower than the SUBMITTED SLA",
            Fault::DuplicateApproval => "CRM approval processed twice",
            Fault::CorruptUpload => "3D model corrupt in storage",
            Fault::CrashBeforeAck => "MES worker crashed before acking (redelivery)",
            Fault::PoisonMessage => "unreadable pricing request (dead-lettered)",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fault name that is not one of [`Fault::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown fault {0:?}; one of: lost-message, slow-pricing, duplicate-approval, corrupt-upload, crash-before-ack, poison-message")]
pub struct UnknownFault(pub String);

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .into_iter()
            .find(|f| f.as_str() == s.trim())
            .ok_or_else(|| UnknownFault(s.to_owned()))
    }
}

/// Which order suffers which fault; shared by all services of a run.
///
/// A fault hits only the order it is planned for, so the other orders of the run
/// show the healthy path next to the broken one. One-shot faults (the crash) fire
/// once.
#[derive(Clone, Debug, Default)]
pub struct FaultPlan {
    by_order: Arc<Mutex<HashMap<String, Fault>>>,
    crashed: Arc<AtomicBool>,
}

impl FaultPlan {
    /// No faults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Break `order_id` with `fault`.
    pub fn plan(&self, order_id: &str, fault: Fault) {
        if let Ok(mut map) = self.by_order.lock() {
            map.insert(order_id.to_owned(), fault);
        }
    }

    /// The fault planned for `order_id`, if any.
    pub fn fault_for(&self, order_id: &str) -> Option<Fault> {
        self.by_order.lock().ok()?.get(order_id).copied()
    }

    /// Whether `fault` is planned for `order_id`.
    pub fn hits(&self, order_id: &str, fault: Fault) -> bool {
        self.fault_for(order_id) == Some(fault)
    }

    /// Whether the worker should crash now on `order_id` (true once per run).
    pub fn crash_now(&self, order_id: &str) -> bool {
        self.hits(order_id, Fault::CrashBeforeAck) && !self.crashed.swap(true, Ordering::SeqCst)
    }
}
