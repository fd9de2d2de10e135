//! The order-flow demo: one order of the jewelry shop through all ten statuses across
//! the Shop, CRM and MES APIs, over real HTTP, every span printed to the terminal.
//!
//! ```text
//! cargo run --example order_flow
//! ```
//!
//! Each service is an axum app with `OrderTraceLayer`, keeps its orders in its own
//! store (as a database would) and records status moves with `StatusRecorder`; the
//! calls between them go through `OrderTraceMiddleware`. With
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set, the same spans go to Jaeger or a Collector.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use opentelemetry::trace::{FutureExt, TraceContextExt, Tracer};
use otel_order::http::{HostAllowList, OrderTraceLayer, OrderTraceMiddleware};
use otel_order::{OrderContext, OrderId, OrderStatus, StatusRecorder};

/// A service's own record of where each order stands (its database, in the demo).
#[derive(Clone, Default)]
struct Store(Arc<Mutex<HashMap<String, OrderContext>>>);

#[derive(Clone)]
struct Service {
    store: Store,
    recorder: Arc<StatusRecorder>,
}

/// `POST /orders/{id}/{status}`: the service moves the order to `status`, the way a
/// real handler would after doing the work.
async fn move_order(
    State(service): State<Service>,
    Path((id, status)): Path<(String, String)>,
    inbound: Option<OrderContext>,
) -> Result<String, (StatusCode, String)> {
    let to: OrderStatus = status
        .to_ascii_uppercase()
        .parse()
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("{e}")))?;
    let id = OrderId::new(&id).map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    let mut store = service.store.0.lock().unwrap_or_else(|p| p.into_inner());
    // What this service knows, else what the caller carried, else a new order.
    let current = store
        .get(id.as_str())
        .cloned()
        .or(inbound)
        .unwrap_or_else(|| OrderContext::new(id.clone()));
    let next = service.recorder.transition(&current, to);
    store.insert(id.to_string(), next);
    Ok(to.to_string())
}

async fn start(name: &str, store: Store) -> String {
    let service = Service {
        store,
        recorder: Arc::new(StatusRecorder::new()),
    };
    let app = Router::new()
        .route("/orders/{id}/{status}", post(move_order))
        .with_state(service)
        .layer(OrderTraceLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().expect("bound address"));
    eprintln!("{name} API listening on {url}");
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = ordertrace::init("order-flow-demo")?;

    // One shared store stands in for the order state each system reads from its own
    // database; the status moves and spans are what the demo is about.
    let store = Store::default();
    let shop = start("Shop", store.clone()).await;
    let crm = start("CRM", store.clone()).await;
    let mes = start("MES", store.clone()).await;

    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(
            OrderTraceMiddleware::builder()
                .allow_order_headers_to(HostAllowList::new(["127.0.0.1"]))
                .build(),
        )
        .build();

    let order = "ORD-2026-000123";
    // The customer's journey is one trace: the Shop's front end starts it.
    let journey = opentelemetry::global::tracer("shop-frontend").start("customer journey");
    let cx = opentelemetry::Context::current_with_span(journey);
    let steps = [
        (&shop, OrderStatus::Initiated),
        (&shop, OrderStatus::FileUploaded),
        (&shop, OrderStatus::Submitted),
        (&mes, OrderStatus::PriceCalculated),
        (&crm, OrderStatus::ManufacturingApproved),
        (&mes, OrderStatus::ManufacturingStarted),
        (&mes, OrderStatus::ManufacturingCompleted),
        (&mes, OrderStatus::Packaging),
        (&mes, OrderStatus::Shipped),
        (&crm, OrderStatus::Closed),
    ];
    for (service, status) in steps {
        let response = client
            .post(format!("{service}/orders/{order}/{status}"))
            .with_extension(OrderContext::new(OrderId::new(order)?))
            .send()
            .with_context(cx.clone())
            .await?;
        eprintln!("{order} -> {status}: HTTP {}", response.status());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    cx.span().end();
    telemetry.flush();
    // Give the console exporter's batch a moment to print before exiting.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    Ok(())
}
