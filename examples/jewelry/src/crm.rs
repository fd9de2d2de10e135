//! The CRM API: approves priced orders for manufacturing and closes delivered ones.
//!
//! - consumes "price calculated" events: `MANUFACTURING_APPROVED`, then an approval
//!   message to MES;
//! - `POST /orders/{id}/delivered` (the courier's confirmation, with the order's
//!   trace headers): `CLOSED`;
//! - `GET /orders/{id}`: where the order stands in CRM.
//!
//! An event delivered twice is recorded twice, the second time as a `repeat`
//! transition; the approval itself goes to MES once (the publisher's outbox knows
//! it was confirmed).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lapin::options::{BasicAckOptions, BasicNackOptions};
use otel_amqp::TracedDelivery;
use otel_order::{OrderContext, OrderContextExt, OrderStatus, SlaConfig};

use crate::api::{order_id, with_order_context, ApiError};
use crate::broker;
use crate::orders::{later, ManufacturingApproval, OrderBook, OrderRecord, PriceCalculated};
use crate::publisher::{record_sent, Publisher};
use crate::reconnect::{consume, Broker, ConsumeSpec, Flow};
use crate::telemetry::{Recorder, ServiceTelemetry};
use crate::topology::{Topology, RK_APPROVED};

/// The statuses CRM watches (its stuck-order gauges).
pub const CRM_STATUSES: [OrderStatus; 1] = [OrderStatus::ManufacturingApproved];

#[derive(Clone)]
struct Crm {
    book: OrderBook,
    recorder: Arc<Recorder>,
}

/// The running CRM: its router (with the tracing layer), its book, its consumer task.
pub struct CrmService {
    /// The HTTP API.
    pub router: Router,
    /// CRM's orders.
    pub book: OrderBook,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CrmService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start CRM: consumes price events (through broker restarts) and serves its API.
pub async fn start(
    telemetry: &ServiceTelemetry,
    broker: &Broker,
    topology: Topology,
) -> Result<CrmService, lapin::Error> {
    let (host, port) = broker::host_port(broker.addr());
    let amqp = telemetry.amqp(&host, port);
    let publisher = Publisher::new(broker.clone(), amqp.clone());
    let book = OrderBook::new();
    let recorder = Arc::new(telemetry.recorder(SlaConfig::new()));
    let gauges = book.clone();
    recorder.register_status_gauges(move || gauges.snapshot(&CRM_STATUSES));

    let crm = Crm {
        book: book.clone(),
        recorder,
    };
    let spec = ConsumeSpec {
        queue: topology.prices_queue.clone(),
        tag: "crm-prices".into(),
        prefetch: 8,
        group: "crm".into(),
    };
    let task = tokio::spawn(consume(broker.clone(), amqp, spec, {
        let crm = crm.clone();
        move |delivery| {
            let (crm, publisher, topology) = (crm.clone(), publisher.clone(), topology.clone());
            async move {
                approve_priced(&crm, delivery, &publisher, &topology).await;
                Flow::Continue
            }
        }
    }));
    let router = Router::new()
        .route("/orders/{id}", get(show))
        .route("/orders/{id}/delivered", post(delivered))
        .with_state(crm)
        .layer(telemetry.server_layer());
    Ok(CrmService { router, book, task })
}

async fn approve_priced(
    crm: &Crm,
    mut delivery: TracedDelivery,
    publisher: &Publisher,
    topology: &Topology,
) {
    let event: Result<PriceCalculated, _> = serde_json::from_slice(delivery.data());
    let (Some(order), Ok(event)) = (delivery.order().cloned(), event) else {
        delivery.record_error(&UnreadableEvent);
        let _ = delivery
            .nack(BasicNackOptions {
                requeue: false,
                ..Default::default()
            })
            .await;
        return;
    };
    let id = order.order_id().as_str().to_owned();
    let cx = delivery.context().clone();
    let current = later(order, crm.book.get(&id).map(|r| r.order));
    // A second event for an approved order (redelivered, republished, or sent
    // twice by MES) is recorded as a `repeat` transition: visible, not hidden.
    let next =
        crm.recorder
            .transition_with_context(&cx, &current, OrderStatus::ManufacturingApproved);
    let mut record = OrderRecord::new(next.clone());
    record.price_rub = Some(event.price_rub);
    crm.book.put(&id, record);
    let approval = ManufacturingApproval {
        order_id: id.clone(),
        price_rub: event.price_rub,
    };
    let publish_cx = cx.with_order(next.clone());
    // Sent once per order: a second event finds the approval already confirmed.
    let sent = publisher
        .publish_json(
            &publish_cx,
            &topology.exchange,
            RK_APPROVED,
            &format!("{id}:approval"),
            &approval,
        )
        .await;
    record_sent(sent, &crm.recorder, &next, &mut delivery);
    let _ = delivery.ack(BasicAckOptions::default()).await;
}

#[derive(Debug, thiserror::Error)]
#[error("unreadable price event")]
struct UnreadableEvent;

async fn show(State(crm): State<Crm>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let record = crm
        .book
        .get(&id)
        .ok_or_else(|| ApiError::unknown_order(&id))?;
    let status = record.order.status().map(|s| s.as_str());
    Ok(
        Json(
            serde_json::json!({ "order_id": id, "status": status, "price_rub": record.price_rub }),
        )
        .into_response(),
    )
}

async fn delivered(
    State(crm): State<Crm>,
    Path(id): Path<String>,
    inbound: Option<OrderContext>,
) -> Result<Response, ApiError> {
    let id = order_id(&id)?;
    let stored = crm
        .book
        .get(id.as_str())
        .map(|r| r.order)
        .ok_or_else(|| ApiError::unknown_order(id.as_str()))?;
    // The courier's call carries the order as MES last saw it (SHIPPED, and since
    // when); CRM's own record stops at the approval.
    let inbound = inbound.filter(|o| o.order_id() == &id);
    let current = later(stored, inbound);
    if current.status() != Some(OrderStatus::Shipped) {
        return Err(ApiError::conflict(format!(
            "order {id} has not been shipped"
        )));
    }
    let next = crm.recorder.transition(&current, OrderStatus::Closed);
    crm.book.update(id.as_str(), |r| r.order = next.clone());
    Ok(with_order_context(
        StatusCode::OK,
        &next,
        serde_json::json!({ "order_id": id.as_str(), "status": OrderStatus::Closed.as_str() }),
    ))
}
