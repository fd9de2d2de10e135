//! MES: the pricing worker, the production inbox, the dead-letter monitor, and the
//! operator API.
//!
//! The worker side is instrumented with the crates (it was bought with source code):
//! it consumes pricing requests, fetches the model from storage, prices it
//! ([`crate::stl`]), records `PRICE_CALCULATED` and sends the event to CRM. The
//! production inbox stores approvals for the operators; the dead-letter monitor
//! records a `dead_lettered` failure for every message that ends in the DLQ.
//!
//! The **operator API** is the part that cannot take the SDK in the seeds: a plain
//! axum router with no tracing at all. [`crate::sidecar`] sits in front of it and
//! records `MANUFACTURING_STARTED` … `SHIPPED`.
//!
//! | operator route | needs | moves to |
//! |---|---|---|
//! | `GET /orders/{id}` | | (status and stored trace headers) |
//! | `POST /orders/{id}/start` | `MANUFACTURING_APPROVED` | `MANUFACTURING_STARTED` |
//! | `POST /orders/{id}/complete` | `MANUFACTURING_STARTED` | `MANUFACTURING_COMPLETED` |
//! | `POST /packaging` (`x-order-id` header) | `MANUFACTURING_COMPLETED` | `PACKAGING` |
//! | `POST /shipments` (JSON `order_id`, shipping label) | `PACKAGING` | `SHIPPED` |

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use lapin::options::{BasicAckOptions, BasicNackOptions};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::KeyValue;
use otel_amqp::{AmqpTelemetry, QueueGauges, TracedDelivery};
use otel_order::http::HostAllowList;
use otel_order::{FailureReason, OrderContextExt, OrderStatus, SlaConfig};
use reqwest_middleware::ClientWithMiddleware;
use serde::Deserialize;

use crate::api::{order_id, ApiError};
use crate::broker;
use crate::faults::{Fault, FaultPlan};
use crate::orders::{
    ManufacturingApproval, OrderBook, OrderRecord, PriceCalculated, PricingRequest,
};
use crate::publisher::{record_sent, Publisher};
use crate::reconnect::{consume, Broker, ConsumeSpec, Flow};
use crate::stl::{quote, Mesh};
use crate::telemetry::{inject_headers, Recorder, ServiceTelemetry};
use crate::topology::{Topology, RK_PRICE_CALCULATED};

/// How to run MES.
#[derive(Clone, Debug)]
pub struct MesConfig {
    /// Broker names.
    pub topology: Topology,
    /// Injected faults.
    pub faults: FaultPlan,
    /// Extra time pricing takes (the seeds' queue under load), per request.
    pub pricing_delay: Duration,
    /// Pricing delay of an order hit by [`Fault::SlowPricing`].
    pub slow_pricing_delay: Duration,
    /// SLA of `SUBMITTED` (time until the price is known).
    pub pricing_sla: Duration,
    /// Base URL of the model storage (the Shop's `/files`).
    pub storage_url: String,
}

/// The statuses MES is responsible for while an order sits in them (its gauges).
pub const MES_STATUSES: [OrderStatus; 5] = [
    OrderStatus::PriceCalculated,
    OrderStatus::ManufacturingApproved,
    OrderStatus::ManufacturingStarted,
    OrderStatus::ManufacturingCompleted,
    OrderStatus::Packaging,
];

/// The running MES: its order book, the operator router, and the background tasks.
pub struct Mes {
    /// MES's orders.
    pub book: OrderBook,
    /// The operator API (untraced: put [`crate::sidecar`] in front of it).
    pub operator_api: Router,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Mes {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[derive(Clone)]
struct Worker {
    config: Arc<MesConfig>,
    book: OrderBook,
    recorder: Arc<Recorder>,
    publisher: Publisher,
    http: ClientWithMiddleware,
}

/// Start MES on `broker`: the consumers (through broker restarts) and the queue
/// gauges.
pub async fn start(
    telemetry: &ServiceTelemetry,
    broker: Broker,
    config: MesConfig,
) -> Result<Mes, lapin::Error> {
    let (host, port) = broker::host_port(broker.addr());
    let amqp = telemetry.amqp(&host, port);
    let publisher = Publisher::new(broker.clone(), amqp.clone());
    let book = OrderBook::new();
    let recorder =
        telemetry.recorder(SlaConfig::new().with(OrderStatus::Submitted, config.pricing_sla));
    let gauges = book.clone();
    recorder.register_status_gauges(move || gauges.snapshot(&MES_STATUSES));
    let storage_host = reqwest::Url::parse(&config.storage_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let worker = Worker {
        config: Arc::new(config),
        book: book.clone(),
        recorder: Arc::new(recorder),
        publisher,
        http: telemetry.http_client(HostAllowList::new([storage_host])),
    };
    let topology = worker.config.topology.clone();
    let spec = |queue: &str, tag: &str, prefetch| ConsumeSpec {
        queue: queue.to_owned(),
        tag: tag.to_owned(),
        prefetch,
        group: "mes".into(),
    };
    let tasks = vec![
        tokio::spawn(queue_gauges(
            broker.clone(),
            amqp.clone(),
            topology.queues(),
        )),
        // One request at a time, as the seeds' MES worker does: under load the
        // others wait in the queue (and the queue wait shows on their spans).
        spawn_consumer(
            &broker,
            &amqp,
            spec(&topology.pricing_queue, "mes-pricing", 1),
            &worker,
            price_or_crash,
        ),
        spawn_consumer(
            &broker,
            &amqp,
            spec(&topology.production_queue, "mes-production", 8),
            &worker,
            production_inbox,
        ),
        spawn_consumer(
            &broker,
            &amqp,
            spec(&topology.dead_letter_queue, "mes-dlq-monitor", 8),
            &worker,
            dead_letter_monitor,
        ),
    ];

    let operator_api = Router::new()
        .route("/orders/{id}", get(operator_show))
        .route("/orders/{id}/start", post(operator_start))
        .route("/orders/{id}/complete", post(operator_complete))
        .route("/packaging", post(operator_package))
        .route("/shipments", post(operator_ship))
        .with_state(book.clone());
    Ok(Mes {
        book,
        operator_api,
        tasks,
    })
}

/// Run `handle` for every delivery of `spec.queue`, through connection losses.
fn spawn_consumer<Fut>(
    broker: &Broker,
    amqp: &AmqpTelemetry,
    spec: ConsumeSpec,
    worker: &Worker,
    handle: fn(Worker, TracedDelivery) -> Fut,
) -> tokio::task::JoinHandle<()>
where
    Fut: std::future::Future<Output = Flow> + Send + 'static,
{
    let worker = worker.clone();
    tokio::spawn(consume(
        broker.clone(),
        amqp.clone(),
        spec,
        move |delivery| handle(worker.clone(), delivery),
    ))
}

/// Queue depth and consumers of every queue, on whichever connection is live: the
/// gauges ask the broker handle for its connection again whenever theirs is lost
/// (one set of instruments for the life of the service).
async fn queue_gauges(broker: Broker, amqp: AmqpTelemetry, queues: Vec<String>) {
    let next_connection = move || {
        let broker = broker.clone();
        async move { Some(broker.connection().await) }
    };
    match QueueGauges::start_reconnecting(next_connection, &amqp, queues, Duration::from_secs(1))
        .await
    {
        // Reported until the service stops this task.
        Ok(_gauges) => std::future::pending::<()>().await,
        Err(e) => tracing::warn!(error = %e, "queue gauges not started"),
    }
}

/// The pricing worker's handler: price the request, or die before acking it when
/// the crash fault says so (the broker then redelivers it to the restarted worker).
async fn price_or_crash(worker: Worker, delivery: TracedDelivery) -> Flow {
    let order_id = delivery.order().map(|o| o.order_id().as_str().to_owned());
    if order_id
        .as_deref()
        .is_some_and(|id| worker.config.faults.crash_now(id))
    {
        // Killed mid-work: the delivery is never settled.
        drop(delivery);
        return Flow::Restart;
    }
    // A failed settle means the channel died: the consumer loop notices.
    let _ = price(&worker, delivery).await;
    Flow::Continue
}

async fn price(worker: &Worker, mut delivery: TracedDelivery) -> Result<(), lapin::Error> {
    let Some(order) = delivery.order().cloned() else {
        delivery.record_error(&Invalid("pricing request without an order context".into()));
        delivery
            .nack(BasicNackOptions {
                requeue: false,
                ..Default::default()
            })
            .await?;
        return Ok(());
    };
    let request: PricingRequest = match serde_json::from_slice(delivery.data()) {
        Ok(r) => r,
        Err(e) => {
            // Poison: retrying cannot help. Dead-letter it, and say why.
            delivery.record_error(&Invalid(format!("unreadable pricing request: {e}")));
            delivery
                .nack(BasicNackOptions {
                    requeue: false,
                    ..Default::default()
                })
                .await?;
            return Ok(());
        }
    };
    let id = order.order_id().as_str().to_owned();
    let known = worker.book.get(&id).and_then(|r| r.order.status());
    if known.is_some_and(|s| s >= OrderStatus::PriceCalculated) {
        // At-least-once delivery: a second request for a priced order (redelivered
        // or republished) is done; its price event went out with the first.
        delivery
            .context()
            .span()
            .add_event("already priced; duplicate request ignored", Vec::new());
        delivery.ack(BasicAckOptions::default()).await?;
        return Ok(());
    }
    let delay = if worker.config.faults.hits(&id, Fault::SlowPricing) {
        worker.config.slow_pricing_delay
    } else {
        worker.config.pricing_delay
    };
    let priced = delivery
        .in_span(async {
            tokio::time::sleep(delay).await;
            let url = format!("{}/files/{}", worker.config.storage_url, request.model_key);
            let bytes = worker
                .http
                .get(url)
                .send()
                .await
                .map_err(|e| Invalid(format!("model download failed: {e}")))?
                .error_for_status()
                .map_err(|e| Invalid(format!("model download failed: {e}")))?
                .bytes()
                .await
                .map_err(|e| Invalid(format!("model download failed: {e}")))?;
            let mesh = Mesh::from_binary_stl(&bytes).map_err(|e| Invalid(e.to_string()))?;
            quote(&mesh, &request.metal)
                .ok_or_else(|| Invalid(format!("no price for metal {}", request.metal)))
        })
        .await;
    let quote = match priced {
        Ok(q) => q,
        Err(e) => {
            worker.recorder.failure_with_context(
                delivery.context(),
                &order,
                FailureReason::Rejected,
            );
            delivery.record_error(&e);
            delivery
                .nack(BasicNackOptions {
                    requeue: false,
                    ..Default::default()
                })
                .await?;
            return Ok(());
        }
    };
    let cx = delivery.context().clone();
    cx.span()
        .set_attribute(KeyValue::new("jewelry.price_rub", quote.price_rub));
    let known = worker.book.get(&id).map(|r| r.order);
    let current = crate::orders::later(order, known);
    let next = worker
        .recorder
        .transition_with_context(&cx, &current, OrderStatus::PriceCalculated);
    let mut record = OrderRecord::new(next.clone());
    record.price_rub = Some(quote.price_rub);
    worker.book.put(&id, record);

    let event = PriceCalculated {
        order_id: id.clone(),
        price_rub: quote.price_rub,
        volume_mm3: quote.volume_mm3,
    };
    let topology = &worker.config.topology;
    let faults = &worker.config.faults;
    // The lost message: a routing key nothing is bound to. The broker confirms it
    // and drops it; nobody downstream ever hears of the order.
    let routing_key = if faults.hits(&id, Fault::LostMessage) {
        "price.calculated.v2"
    } else {
        RK_PRICE_CALCULATED
    };
    let duplicate = faults.hits(&id, Fault::DuplicateApproval);
    let publish_cx = cx.with_order(next.clone());
    let message_id = format!("{id}:price");
    let sent = worker
        .publisher
        .publish_json(
            &publish_cx,
            &topology.exchange,
            routing_key,
            &message_id,
            &event,
        )
        .await;
    record_sent(sent, &worker.recorder, &next, &mut delivery);
    if duplicate {
        // The careless publisher retry of the fault: outside the outbox, so CRM
        // gets the event twice, and neither copy is marked.
        let _ = worker
            .publisher
            .publish_unguarded(
                &publish_cx,
                &topology.exchange,
                routing_key,
                &message_id,
                &event,
            )
            .await;
    }
    delivery.ack(BasicAckOptions::default()).await?;
    Ok(())
}

async fn production_inbox(worker: Worker, mut delivery: TracedDelivery) -> Flow {
    let approval: Result<ManufacturingApproval, _> = serde_json::from_slice(delivery.data());
    let (Some(order), Ok(_approval)) = (delivery.order().cloned(), approval) else {
        delivery.record_error(&Invalid("unreadable approval".into()));
        let _ = delivery
            .nack(BasicNackOptions {
                requeue: false,
                ..Default::default()
            })
            .await;
        return Flow::Continue;
    };
    let id = order.order_id().as_str().to_owned();
    let cx = delivery.context().clone();
    let already = worker
        .book
        .get(&id)
        .and_then(|r| r.order.status())
        .is_some_and(|s| s >= OrderStatus::ManufacturingApproved);
    if already {
        // Processed twice upstream: MES keeps one production job per order.
        cx.span()
            .add_event("duplicate approval ignored", Vec::new());
        cx.span()
            .set_attribute(KeyValue::new("jewelry.duplicate", true));
    } else {
        // The operators continue the order's trace from here.
        let mut headers = http::HeaderMap::new();
        inject_headers(&cx.with_order(order.clone()), &mut headers);
        let mut record = worker
            .book
            .get(&id)
            .unwrap_or_else(|| OrderRecord::new(order.clone()));
        record.order = order;
        record.trace_headers = headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        worker.book.put(&id, record);
    }
    let _ = delivery.ack(BasicAckOptions::default()).await;
    Flow::Continue
}

async fn dead_letter_monitor(worker: Worker, delivery: TracedDelivery) -> Flow {
    if let Some(order) = delivery.order().cloned() {
        worker.recorder.failure_with_context(
            delivery.context(),
            &order,
            FailureReason::DeadLettered,
        );
    }
    let _ = delivery.ack(BasicAckOptions::default()).await;
    Flow::Continue
}

/// A message MES cannot work with.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Invalid(String);

fn advance(
    book: &OrderBook,
    id: &str,
    from: OrderStatus,
    to: OrderStatus,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = order_id(id)?;
    let moved = book
        .update(id.as_str(), |record| {
            if record.order.status() != Some(from) {
                return false;
            }
            record.order = record.order.clone().with_status(to, SystemTime::now());
            true
        })
        .ok_or_else(|| ApiError::unknown_order(id.as_str()))?;
    if !moved {
        return Err(ApiError::conflict(format!("order {id} is not {from}")));
    }
    Ok(Json(
        serde_json::json!({ "order_id": id.as_str(), "status": to.as_str() }),
    ))
}

async fn operator_show(
    State(book): State<OrderBook>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let record = book.get(&id).ok_or_else(|| ApiError::unknown_order(&id))?;
    let headers: serde_json::Map<String, serde_json::Value> = record
        .trace_headers
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone())))
        .collect();
    Ok(Json(serde_json::json!({
        "order_id": id,
        "status": record.order.status().map(|s| s.as_str()),
        "price_rub": record.price_rub,
        "trace_headers": headers,
    })))
}

async fn operator_start(
    State(book): State<OrderBook>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    advance(
        &book,
        &id,
        OrderStatus::ManufacturingApproved,
        OrderStatus::ManufacturingStarted,
    )
}

async fn operator_complete(
    State(book): State<OrderBook>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    advance(
        &book,
        &id,
        OrderStatus::ManufacturingStarted,
        OrderStatus::ManufacturingCompleted,
    )
}

async fn operator_package(
    State(book): State<OrderBook>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = headers
        .get("x-order-id")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError(StatusCode::BAD_REQUEST, "missing x-order-id".into()))?;
    advance(
        &book,
        id,
        OrderStatus::ManufacturingCompleted,
        OrderStatus::Packaging,
    )
}

/// A shipping label, as the operator's dashboard sends it.
#[derive(Debug, Deserialize)]
struct Shipment {
    order_id: String,
}

async fn operator_ship(
    State(book): State<OrderBook>,
    Json(shipment): Json<Shipment>,
) -> Result<Json<serde_json::Value>, ApiError> {
    advance(
        &book,
        &shipment.order_id,
        OrderStatus::Packaging,
        OrderStatus::Shipped,
    )
}
