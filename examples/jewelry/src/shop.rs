//! The Shop API: the customer creates an order, uploads the 3D model, submits.
//!
//! | route | does | status |
//! |---|---|---|
//! | `POST /orders` (order form) | creates the order | `INITIATED` |
//! | `PUT /orders/{id}/model` (binary STL, `x-checksum-sha256`) | stores the model, reads it back, verifies checksum and format | `FILE_UPLOADED`, or an `order.failure` (`file_corrupt`) and 422 |
//! | `POST /orders/{id}/submit` | sends a pricing request to MES (confirmed by the broker) | `SUBMITTED` |
//! | `GET /orders/{id}` | where the order stands | |
//! | `GET /files/{key}` | the model storage (the S3 stand-in MES reads from) | |
//!
//! Responses carry `traceparent` and `ordertrace-order`: the shop's front end sends
//! them back with the next request, so an order's steps form one trace.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use otel_order::{FailureReason, OrderContext, OrderContextExt, OrderStatus, SlaConfig};
use sha2::{Digest, Sha256};

use crate::api::{hex, order_id, with_order_context, ApiError};
use crate::broker;
use crate::faults::{Fault, FaultPlan};
use crate::orders::{OrderBook, OrderForm, OrderRecord, PricingRequest};
use crate::publisher::Publisher;
use crate::reconnect::Broker;
use crate::stl::Mesh;
use crate::telemetry::{Recorder, ServiceTelemetry};
use crate::topology::{Topology, RK_PRICING};

/// Header with the SHA-256 (hex) the client computed over the uploaded model.
pub const CHECKSUM_HEADER: &str = "x-checksum-sha256";

/// How to run the Shop.
#[derive(Clone, Debug)]
pub struct ShopConfig {
    /// Broker names.
    pub topology: Topology,
    /// Injected faults.
    pub faults: FaultPlan,
    /// Order ids are `{prefix}-{n:06}`.
    pub order_prefix: String,
    /// Where uploaded models go (shared with whoever archives them).
    pub storage: ModelStorage,
}

/// The model storage: keys to bytes (an S3 bucket, in the example).
#[derive(Clone, Debug, Default)]
pub struct ModelStorage(Arc<Mutex<HashMap<String, Bytes>>>);

impl ModelStorage {
    fn put(&self, key: &str, bytes: Bytes) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(key.to_owned(), bytes);
        }
    }

    fn get(&self, key: &str) -> Option<Bytes> {
        self.0.lock().ok()?.get(key).cloned()
    }

    /// Delete the model of `order_id` (archived with a finished order).
    pub fn remove_model(&self, order_id: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(&format!("{order_id}.stl"));
        }
    }
}

#[derive(Clone)]
struct Shop {
    config: Arc<ShopConfig>,
    book: OrderBook,
    storage: ModelStorage,
    recorder: Arc<Recorder>,
    publisher: Publisher,
    next_id: Arc<AtomicU64>,
}

/// The Shop's router (with the tracing layer) and its order book.
pub async fn app(
    telemetry: &ServiceTelemetry,
    broker: &Broker,
    config: ShopConfig,
) -> Result<(Router, OrderBook), lapin::Error> {
    let (host, port) = broker::host_port(broker.addr());
    let publisher = Publisher::new(broker.clone(), telemetry.amqp(&host, port));
    let book = OrderBook::new();
    let recorder = telemetry.recorder(SlaConfig::new());
    let gauges = book.clone();
    recorder.register_status_gauges(move || {
        gauges.snapshot(&[OrderStatus::Initiated, OrderStatus::FileUploaded])
    });
    let shop = Shop {
        storage: config.storage.clone(),
        config: Arc::new(config),
        book: book.clone(),
        recorder: Arc::new(recorder),
        publisher,
        next_id: Arc::new(AtomicU64::new(1)),
    };
    let router = Router::new()
        .route("/orders", post(create))
        .route("/orders/{id}", get(show))
        .route("/orders/{id}/model", put(upload))
        .route("/orders/{id}/submit", post(submit))
        .route("/files/{key}", get(download))
        .with_state(shop)
        .layer(telemetry.server_layer());
    Ok((router, book))
}

async fn create(
    State(shop): State<Shop>,
    Json(form): Json<OrderForm>,
) -> Result<Response, ApiError> {
    // What a careless real service does: log the whole form on its span. The
    // redactor in front of every exporter is what keeps it out of the backend.
    let cx = Context::current();
    let span = cx.span();
    span.set_attributes([
        KeyValue::new("customer.name", form.full_name.clone()),
        KeyValue::new("customer.phone", form.phone.clone()),
        KeyValue::new("customer.email", form.email.clone()),
        KeyValue::new("order.item", form.item.clone()),
    ]);
    span.add_event(
        "order form received",
        vec![KeyValue::new(
            "form",
            serde_json::to_string(&form).unwrap_or_default(),
        )],
    );
    // And its log line (run alone, `ordertrace::init`'s log writer redacts it).
    tracing::info!(form = ?form, "order form received");
    let n = shop.next_id.fetch_add(1, Ordering::Relaxed);
    let id = order_id(&format!("{}-{n:06}", shop.config.order_prefix))?;
    let order = shop
        .recorder
        .transition(&OrderContext::new(id.clone()), OrderStatus::Initiated);
    let mut record = OrderRecord::new(order.clone());
    record.metal = Some(form.metal.clone());
    shop.book.put(id.as_str(), record);
    Ok(with_order_context(
        StatusCode::CREATED,
        &order,
        serde_json::json!({ "order_id": id.as_str(), "status": OrderStatus::Initiated.as_str() }),
    ))
}

async fn show(State(shop): State<Shop>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let record = shop
        .book
        .get(&id)
        .ok_or_else(|| ApiError::unknown_order(&id))?;
    let status = record
        .order
        .status()
        .map(|s| s.as_str())
        .unwrap_or_default();
    Ok(Json(serde_json::json!({ "order_id": id, "status": status })).into_response())
}

async fn upload(
    State(shop): State<Shop>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let record = shop
        .book
        .get(&id)
        .ok_or_else(|| ApiError::unknown_order(&id))?;
    let declared = headers
        .get(CHECKSUM_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("missing {CHECKSUM_HEADER}"),
            )
        })?;
    let key = format!("{id}.stl");
    let mut stored = body.to_vec();
    if shop.config.faults.hits(&id, Fault::CorruptUpload) && stored.len() > 100 {
        // The storage write goes wrong: a torn write loses the tail.
        stored.truncate(stored.len() - 37);
    }
    shop.storage.put(&key, Bytes::from(stored));

    // The status may only change once the file is really in storage, intact.
    let problem = match shop.storage.get(&key) {
        None => Some("model missing from storage".to_owned()),
        Some(bytes) => {
            let actual = hex(&Sha256::digest(&bytes));
            if actual != declared {
                Some("model checksum mismatch".to_owned())
            } else {
                Mesh::from_binary_stl(&bytes)
                    .err()
                    .map(|e| format!("model is not a valid STL: {e}"))
            }
        }
    };
    if let Some(problem) = problem {
        shop.recorder
            .failure(&record.order, FailureReason::FileCorrupt);
        Context::current().span().add_event(
            "upload rejected",
            vec![KeyValue::new("reason", problem.clone())],
        );
        return Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, problem));
    }
    let order = shop
        .recorder
        .transition(&record.order, OrderStatus::FileUploaded);
    shop.book.update(&id, |r| {
        r.order = order.clone();
        r.model_key = Some(key);
    });
    Ok(with_order_context(
        StatusCode::OK,
        &order,
        serde_json::json!({ "order_id": id, "status": OrderStatus::FileUploaded.as_str() }),
    ))
}

async fn submit(State(shop): State<Shop>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let record = shop
        .book
        .get(&id)
        .ok_or_else(|| ApiError::unknown_order(&id))?;
    let Some(model_key) = record.model_key.clone() else {
        return Err(ApiError::conflict("upload the model first"));
    };
    if record.order.status() != Some(OrderStatus::FileUploaded) {
        return Err(ApiError::conflict("order already submitted"));
    }
    let order = shop
        .recorder
        .transition(&record.order, OrderStatus::Submitted);
    shop.book.update(&id, |r| r.order = order.clone());

    let request = PricingRequest {
        order_id: id.clone(),
        model_key,
        metal: record.metal.clone().unwrap_or_else(|| "gold-585".into()),
    };
    let mut body = serde_json::to_vec(&request)
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    if shop.config.faults.hits(&id, Fault::PoisonMessage) {
        // A serialiser bug cuts the message short: valid headers, unreadable body.
        body.truncate(body.len() / 2);
    }
    let topology = &shop.config.topology;
    let cx = Context::current().with_order(order.clone());
    let message_id = format!("{id}:pricing");
    // Retried through a broker outage (republished if a confirm was lost); a
    // customer pressing "Order" twice sends one request.
    if let Err(e) = shop
        .publisher
        .publish_bytes(&cx, &topology.exchange, RK_PRICING, &message_id, &body)
        .await
    {
        shop.recorder.failure(&order, FailureReason::MessageLost);
        Context::current()
            .span()
            .set_status(Status::error("pricing request not accepted by broker"));
        return Err(ApiError(StatusCode::BAD_GATEWAY, e.to_string()));
    }
    Ok(with_order_context(
        StatusCode::ACCEPTED,
        &order,
        serde_json::json!({ "order_id": id, "status": OrderStatus::Submitted.as_str() }),
    ))
}

async fn download(State(shop): State<Shop>, Path(key): Path<String>) -> Result<Bytes, ApiError> {
    shop.storage
        .get(&key)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "no such file".into()))
}
