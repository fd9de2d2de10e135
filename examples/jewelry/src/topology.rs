//! The RabbitMQ topology of the shop: one direct exchange for order messages, a
//! dead-letter exchange and queue, and one durable queue per consumer.
//!
//! ```text
//! Shop ──pricing.request──▶ jewelry.orders ──▶ mes.pricing ──(reject)──▶ jewelry.dlx ──▶ jewelry.dlq
//! MES  ──price.calculated─▶ jewelry.orders ──▶ crm.prices
//! CRM  ──manufacturing.approved──▶ jewelry.orders ──▶ mes.production
//! ```
//!
//! Every service declares the whole topology at start (declarations are idempotent),
//! so the start order does not matter. Names carry a suffix so several runs (tests,
//! demos) share one broker without seeing each other's messages.

use lapin::options::{
    ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Channel, ExchangeKind};

/// Routing key of a pricing request (Shop → MES).
pub const RK_PRICING: &str = "pricing.request";
/// Routing key of a "price calculated" event (MES → CRM).
pub const RK_PRICE_CALCULATED: &str = "price.calculated";
/// Routing key of a manufacturing approval (CRM → MES).
pub const RK_APPROVED: &str = "manufacturing.approved";

/// Exchange and queue names of one deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    /// Direct exchange all order messages go through.
    pub exchange: String,
    /// Dead-letter exchange (fanout).
    pub dead_letter_exchange: String,
    /// Dead-letter queue.
    pub dead_letter_queue: String,
    /// MES pricing requests.
    pub pricing_queue: String,
    /// CRM's inbox of price events.
    pub prices_queue: String,
    /// MES's inbox of approvals.
    pub production_queue: String,
    /// Queues delete themselves after this long unused (`x-expires`): for demo and
    /// test runs, so an interrupted run leaves nothing behind. `None` in production.
    pub expires: Option<std::time::Duration>,
}

impl Topology {
    /// Names with `suffix` (e.g. `prod`, or a per-run id).
    pub fn new(suffix: &str) -> Self {
        Topology {
            exchange: format!("jewelry.orders.{suffix}"),
            dead_letter_exchange: format!("jewelry.dlx.{suffix}"),
            dead_letter_queue: format!("jewelry.dlq.{suffix}"),
            pricing_queue: format!("mes.pricing.{suffix}"),
            prices_queue: format!("crm.prices.{suffix}"),
            production_queue: format!("mes.production.{suffix}"),
            expires: None,
        }
    }

    /// The same names, with queues that expire after `after` unused.
    pub fn expiring(mut self, after: std::time::Duration) -> Self {
        self.expires = Some(after);
        self
    }

    fn queue_arguments(&self) -> FieldTable {
        let mut arguments = FieldTable::default();
        if let Some(after) = self.expires {
            let ms = i64::try_from(after.as_millis()).unwrap_or(i64::MAX).max(1);
            arguments.insert(ShortString::from("x-expires"), AMQPValue::LongLongInt(ms));
        }
        arguments
    }

    /// The work queues with their routing keys.
    pub fn bindings(&self) -> [(&str, &'static str); 3] {
        [
            (self.pricing_queue.as_str(), RK_PRICING),
            (self.prices_queue.as_str(), RK_PRICE_CALCULATED),
            (self.production_queue.as_str(), RK_APPROVED),
        ]
    }

    /// Every queue, dead-letter queue included (for the queue gauges).
    pub fn queues(&self) -> Vec<String> {
        let mut queues: Vec<String> = self
            .bindings()
            .iter()
            .map(|(q, _)| (*q).to_owned())
            .collect();
        queues.push(self.dead_letter_queue.clone());
        queues
    }

    /// Declare exchanges, queues (each dead-lettering to the DLX) and bindings.
    pub async fn declare(&self, channel: &Channel) -> Result<(), lapin::Error> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .exchange_declare(
                self.exchange.as_str().into(),
                ExchangeKind::Direct,
                durable,
                FieldTable::default(),
            )
            .await?;
        channel
            .exchange_declare(
                self.dead_letter_exchange.as_str().into(),
                ExchangeKind::Fanout,
                durable,
                FieldTable::default(),
            )
            .await?;
        let queue_options = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .queue_declare(
                self.dead_letter_queue.as_str().into(),
                queue_options,
                self.queue_arguments(),
            )
            .await?;
        channel
            .queue_bind(
                self.dead_letter_queue.as_str().into(),
                self.dead_letter_exchange.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        for (queue, routing_key) in self.bindings() {
            let mut arguments = self.queue_arguments();
            arguments.insert(
                ShortString::from("x-dead-letter-exchange"),
                AMQPValue::LongString(self.dead_letter_exchange.as_str().into()),
            );
            channel
                .queue_declare(queue.into(), queue_options, arguments)
                .await?;
            channel
                .queue_bind(
                    queue.into(),
                    self.exchange.as_str().into(),
                    routing_key.into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(())
    }

    /// Delete everything [`declare`](Self::declare) created (tests, demo runs).
    pub async fn delete(&self, channel: &Channel) -> Result<(), lapin::Error> {
        for queue in self.queues() {
            channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await?;
        }
        for exchange in [&self.exchange, &self.dead_letter_exchange] {
            channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await?;
        }
        Ok(())
    }
}
