//! A tracing sidecar: a reverse proxy for an HTTP API whose code cannot take the SDK
//! (the seeds' proprietary MES: "wrap it in a tracing proxy").
//!
//! For every request it opens a SERVER span (continuing `traceparent` and the
//! `ordertrace-order` context the caller sent), forwards the request upstream under
//! a CLIENT span, and for the routes it is told about turns a successful answer into
//! a status transition with [`StatusRecorder`](otel_order::StatusRecorder): the
//! upstream system's statuses appear in the order's trace without a line of its code
//! changed. The order id comes from the path, a header, or a JSON body field
//! ([`OrderIdFrom`]). Like many proxies it records the request body on its span; the
//! redactor in front of the exporter masks the customer data in it.
//!
//! ```no_run
//! use jewelry::sidecar::{mes_operator_routes, SidecarConfig};
//! let config = SidecarConfig::new("http://mes.internal:8080", mes_operator_routes());
//! # let _ = config;
//! ```

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, on, MethodFilter};
use axum::Router;
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use otel_order::http::{HostAllowList, UrlTemplate};
use otel_order::{FailureReason, OrderContext, OrderContextExt, OrderId, OrderStatus, SlaConfig};
use reqwest_middleware::ClientWithMiddleware;

use crate::orders::{later, OrderBook, OrderRecord};
use crate::telemetry::{inject_headers, Recorder, ServiceTelemetry};

/// Largest request body the sidecar buffers (it must read JSON bodies for ids).
pub const MAX_BODY: usize = 1 << 20;
/// How much of a request body is recorded on the span.
const RECORDED_BODY: usize = 512;

/// Where a route's order id is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderIdFrom {
    /// The `{id}` segment of the route path.
    Path,
    /// A request header.
    Header(String),
    /// A top-level string field of the JSON body.
    JsonField(String),
}

/// A route whose successful answer moves an order to a status.
#[derive(Clone, Debug)]
pub struct StatusRoute {
    /// HTTP method.
    pub method: Method,
    /// axum path template, e.g. `/orders/{id}/start`.
    pub path: String,
    /// Where the order id is.
    pub order_id: OrderIdFrom,
    /// The status a 2xx answer means.
    pub status: OrderStatus,
}

impl StatusRoute {
    /// `method path` moves the order (id from `order_id`) to `status`.
    pub fn new(method: Method, path: &str, order_id: OrderIdFrom, status: OrderStatus) -> Self {
        StatusRoute {
            method,
            path: path.to_owned(),
            order_id,
            status,
        }
    }
}

/// The MES operator API's status routes (see [`crate::mes`]).
pub fn mes_operator_routes() -> Vec<StatusRoute> {
    vec![
        StatusRoute::new(
            Method::POST,
            "/orders/{id}/start",
            OrderIdFrom::Path,
            OrderStatus::ManufacturingStarted,
        ),
        StatusRoute::new(
            Method::POST,
            "/orders/{id}/complete",
            OrderIdFrom::Path,
            OrderStatus::ManufacturingCompleted,
        ),
        StatusRoute::new(
            Method::POST,
            "/packaging",
            OrderIdFrom::Header("x-order-id".into()),
            OrderStatus::Packaging,
        ),
        StatusRoute::new(
            Method::POST,
            "/shipments",
            OrderIdFrom::JsonField("order_id".into()),
            OrderStatus::Shipped,
        ),
    ]
}

/// What the sidecar proxies and which routes are status moves.
#[derive(Clone, Debug)]
pub struct SidecarConfig {
    /// Base URL of the wrapped API.
    pub upstream: String,
    /// Status routes.
    pub routes: Vec<StatusRoute>,
}

impl SidecarConfig {
    /// Proxy to `upstream`, recording `routes`.
    pub fn new(upstream: &str, routes: Vec<StatusRoute>) -> Self {
        SidecarConfig {
            upstream: upstream.trim_end_matches('/').to_owned(),
            routes,
        }
    }
}

#[derive(Clone)]
struct Sidecar {
    upstream: Arc<str>,
    routes: Arc<[StatusRoute]>,
    client: ClientWithMiddleware,
    recorder: Arc<Recorder>,
    book: OrderBook,
}

/// The sidecar's router (with the tracing layer) and the orders it has seen move.
pub fn app(telemetry: &ServiceTelemetry, config: SidecarConfig) -> (Router, OrderBook) {
    let upstream_host = reqwest::Url::parse(&config.upstream)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let book = OrderBook::new();
    let sidecar = Sidecar {
        upstream: Arc::from(config.upstream.as_str()),
        routes: Arc::from(config.routes.clone()),
        client: telemetry.http_client(HostAllowList::new([upstream_host])),
        recorder: Arc::new(telemetry.recorder(SlaConfig::new())),
        book: book.clone(),
    };
    let mut router = Router::new();
    for route in &config.routes {
        let filter = MethodFilter::try_from(route.method.clone()).unwrap_or(MethodFilter::POST);
        router = router.route(&route.path, on(filter, proxy));
    }
    // Everything else is proxied too (named by method only: no raw paths in names).
    let router = router
        .fallback(any(proxy))
        .with_state(sidecar)
        .layer(telemetry.server_layer());
    (router, book)
}

async fn proxy(
    State(sidecar): State<Sidecar>,
    matched: Option<MatchedPath>,
    inbound: Option<OrderContext>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
    };
    let cx = Context::current();
    if !body.is_empty() {
        // What a generic proxy records: the start of the body. It may hold customer
        // data (a shipping label); the redactor masks it before export.
        let text = String::from_utf8_lossy(&body[..body.len().min(RECORDED_BODY)]).into_owned();
        cx.span().add_event(
            "request body",
            vec![KeyValue::new("http.request.body.content", text)],
        );
    }
    let route = matched.and_then(|m| {
        sidecar
            .routes
            .iter()
            .find(|r| r.path == m.as_str() && r.method == parts.method)
            .cloned()
    });
    let order_id = route
        .as_ref()
        .and_then(|r| order_id_of(r, parts.uri.path(), &parts.headers, &body));

    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut forward = sidecar
        .client
        .request(
            parts.method.clone(),
            format!("{}{}", sidecar.upstream, path_and_query),
        )
        .body(body.clone());
    for (name, value) in &parts.headers {
        // Trace and order headers are the middleware's to write; hop-by-hop ones stay.
        if !matches!(
            name.as_str(),
            "host"
                | "content-length"
                | "connection"
                | "traceparent"
                | "tracestate"
                | "ordertrace-order"
        ) {
            forward = forward.header(name, value);
        }
    }
    let current = order_id.as_ref().map(|id| {
        let known = sidecar.book.get(id.as_str()).map(|r| r.order);
        let base = known.unwrap_or_else(|| OrderContext::new(id.clone()));
        later(base, inbound.filter(|o| o.order_id() == id))
    });
    if let Some(order) = &current {
        forward = forward.with_extension(order.clone());
    }
    // The client span is named after the route, never the raw path with its id.
    if let Some(route) = &route {
        forward = forward.with_extension(UrlTemplate::from(route.path.clone()));
    }
    let upstream = match forward.send().await {
        Ok(r) => r,
        Err(e) => {
            cx.span()
                .set_status(Status::error(format!("upstream unreachable: {e}")));
            if let Some(order) = &current {
                sidecar.recorder.failure(order, FailureReason::ApiError);
            }
            return (StatusCode::BAD_GATEWAY, "upstream unreachable").into_response();
        }
    };
    let status = upstream.status();
    let content_type = upstream.headers().get(http::header::CONTENT_TYPE).cloned();
    let bytes = upstream.bytes().await.unwrap_or_else(|_| Bytes::new());
    let mut response = Response::builder().status(status.as_u16());
    if let Some(ct) = content_type {
        response = response.header(http::header::CONTENT_TYPE, ct);
    }
    let mut response = response
        .body(Body::from(bytes))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response());

    if let (Some(route), Some(order)) = (route, current) {
        if status.is_success() {
            let next = sidecar.recorder.transition(&order, route.status);
            let id = next.order_id().as_str();
            // After its last status the order never comes back through this proxy:
            // forget it, so a long-running sidecar does not grow without bound.
            let last = sidecar.routes.iter().map(|r| r.status).max();
            if Some(route.status) == last {
                sidecar.book.remove(id);
            } else {
                sidecar.book.put(id, OrderRecord::new(next.clone()));
            }
            // Hand the caller the order as it now stands, to continue the trace.
            inject_headers(&cx.with_order(next), response.headers_mut());
        }
    }
    response
}

fn order_id_of(
    route: &StatusRoute,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<OrderId> {
    let raw = match &route.order_id {
        OrderIdFrom::Path => route
            .path
            .split('/')
            .zip(path.split('/'))
            .find(|(template, _)| *template == "{id}")
            .map(|(_, segment)| segment.to_owned()),
        OrderIdFrom::Header(name) => headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        OrderIdFrom::JsonField(field) => serde_json::from_slice::<serde_json::Value>(body)
            .ok()?
            .get(field)?
            .as_str()
            .map(str::to_owned),
    }?;
    OrderId::new(&raw).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> StatusRoute {
        mes_operator_routes()
            .into_iter()
            .find(|r| r.path == path)
            .unwrap()
    }

    #[test]
    fn order_id_is_taken_from_the_path_a_header_or_a_json_field() {
        let none = HeaderMap::new();
        let empty = Bytes::new();
        let id = order_id_of(
            &route("/orders/{id}/start"),
            "/orders/ORD-7/start",
            &none,
            &empty,
        );
        assert_eq!(id.unwrap().as_str(), "ORD-7");

        let mut headers = HeaderMap::new();
        headers.insert("x-order-id", "ORD-8".parse().unwrap());
        let id = order_id_of(&route("/packaging"), "/packaging", &headers, &empty);
        assert_eq!(id.unwrap().as_str(), "ORD-8");

        let body = Bytes::from_static(br#"{"order_id":"ORD-9","recipient":"x"}"#);
        let id = order_id_of(&route("/shipments"), "/shipments", &none, &body);
        assert_eq!(id.unwrap().as_str(), "ORD-9");
    }

    #[test]
    fn invalid_or_missing_order_ids_are_ignored() {
        let none = HeaderMap::new();
        let empty = Bytes::new();
        let bad = order_id_of(
            &route("/orders/{id}/start"),
            "/orders/заказ 1/start",
            &none,
            &empty,
        );
        assert!(bad.is_none());
        assert!(order_id_of(&route("/packaging"), "/packaging", &none, &empty).is_none());
        let not_json = Bytes::from_static(b"order_id=ORD-9");
        assert!(order_id_of(&route("/shipments"), "/shipments", &none, &not_json).is_none());
    }
}
