//! What the services exchange and keep: the customer's order form, the messages on
//! the broker, and each service's own order book (its database, in the example).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use otel_order::transition::StatusSnapshot;
use otel_order::{OrderContext, OrderStatus};
use serde::{Deserialize, Serialize};

/// The order form a customer fills in. Jewelry law asks for the passport; none of
/// these fields may reach telemetry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrderForm {
    /// Full name with patronymic, e.g. `Смирнова Анна Сергеевна`.
    pub full_name: String,
    /// Phone, e.g. `+7 916 123-45-67`.
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// Russian passport, series and number (`4510 123456`).
    pub passport: String,
    /// What to make (`ring`, ...).
    pub item: String,
    /// Metal (`gold-585`, `silver-925`, `platinum-950`).
    pub metal: String,
    /// Ring size or similar, free text.
    pub comment: String,
}

/// Shop → MES: price this order's model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PricingRequest {
    /// The order.
    pub order_id: String,
    /// Where the model is in storage.
    pub model_key: String,
    /// Metal to price in.
    pub metal: String,
}

/// MES → CRM: the price is known.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PriceCalculated {
    /// The order.
    pub order_id: String,
    /// Price, roubles.
    pub price_rub: f64,
    /// Model volume, mm³.
    pub volume_mm3: f64,
}

/// CRM → MES: go ahead and make it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManufacturingApproval {
    /// The order.
    pub order_id: String,
    /// Agreed price, roubles.
    pub price_rub: f64,
}

/// One order as a service stores it.
#[derive(Clone, Debug)]
pub struct OrderRecord {
    /// The order context last recorded (status, when it was entered, by which span).
    pub order: OrderContext,
    /// Trace headers (`traceparent`, `ordertrace-order`) of the step that stored it,
    /// so a later step (an operator, a courier) can continue the order's trace.
    pub trace_headers: Vec<(String, String)>,
    /// Price, when known.
    pub price_rub: Option<f64>,
    /// Model key in storage, when uploaded.
    pub model_key: Option<String>,
    /// Metal.
    pub metal: Option<String>,
}

impl OrderRecord {
    /// A record of `order` with nothing else known yet.
    pub fn new(order: OrderContext) -> Self {
        OrderRecord {
            order,
            trace_headers: Vec::new(),
            price_rub: None,
            model_key: None,
            metal: None,
        }
    }
}

/// A service's store of orders, keyed by order id.
#[derive(Clone, Debug, Default)]
pub struct OrderBook {
    orders: Arc<Mutex<HashMap<String, OrderRecord>>>,
}

impl OrderBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// The record of `order_id`.
    pub fn get(&self, order_id: &str) -> Option<OrderRecord> {
        self.lock().get(order_id).cloned()
    }

    /// Insert or replace.
    pub fn put(&self, order_id: &str, record: OrderRecord) {
        self.lock().insert(order_id.to_owned(), record);
    }

    /// Forget `order_id`.
    pub fn remove(&self, order_id: &str) -> Option<OrderRecord> {
        self.lock().remove(order_id)
    }

    /// Change the record of `order_id` in place; `None` when there is none.
    pub fn update<R>(&self, order_id: &str, f: impl FnOnce(&mut OrderRecord) -> R) -> Option<R> {
        self.lock().get_mut(order_id).map(f)
    }

    /// Open orders per status among `statuses` (0 included), for the stuck-order
    /// gauges.
    pub fn snapshot(&self, statuses: &[OrderStatus]) -> Vec<StatusSnapshot> {
        let orders = self.lock();
        statuses
            .iter()
            .map(|&status| {
                let mut open = 0;
                let mut oldest: Option<SystemTime> = None;
                for record in orders.values() {
                    if record.order.status() == Some(status) {
                        open += 1;
                        if let Some(at) = record.order.entered_at() {
                            oldest = Some(oldest.map_or(at, |o| o.min(at)));
                        }
                    }
                }
                StatusSnapshot::new(status, open, oldest)
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, OrderRecord>> {
        // A panic while holding the lock leaves the map usable; take it anyway.
        self.orders.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The later of two views of an order (by status); `a` on a tie.
pub fn later(a: OrderContext, b: Option<OrderContext>) -> OrderContext {
    match b {
        Some(b) if b.status() > a.status() => b,
        _ => a,
    }
}
