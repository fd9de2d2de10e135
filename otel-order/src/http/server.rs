//! The server side: a tower [`Layer`] that traces every request it serves.

use std::borrow::Cow;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use http::{Request, Response};
use opentelemetry::metrics::MeterProvider;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_semantic_conventions::attribute as semconv;
use opentelemetry_semantic_conventions::metric::HTTP_SERVER_REQUEST_DURATION;
use tower_layer::Layer;
use tower_service::Service;

use super::headers::{has_opaque_value, HeaderExtractor};
use super::instruments::{Instruments, InstrumentsConfig};
use super::semconv::{method_name, protocol_version};
use super::server_future::{RequestState, ResponseFuture};
use crate::names::{FIELD_WHOLE_HEADER, HEADER_ORDER, ORDER_STATUS};
use crate::span_processor::explicit_order_id;
use crate::{OrderContextExt, RejectReason};

/// Traces every request of the wrapped service: extracts trace and order context,
/// opens a `SERVER` span named `{method} {route}`, makes the [`OrderContext`] available
/// to handlers, and records `http.server.request.duration`.
///
/// Add it with `Router::layer` so axum has matched the route (the span is named after
/// the route template, never the raw path, which would leak ids into names):
///
/// ```
/// use axum::{routing::get, Router};
/// use otel_order::http::OrderTraceLayer;
/// use otel_order::OrderContext;
///
/// async fn show(order: Option<OrderContext>) -> String {
///     order.map(|o| o.order_id().to_string()).unwrap_or_default()
/// }
///
/// let app: Router = Router::new()
///     .route("/orders/{id}", get(show))
///     .layer(OrderTraceLayer::new());
/// ```
///
/// [`OrderContext`]: crate::OrderContext
#[derive(Clone)]
pub struct OrderTraceLayer {
    shared: Arc<Shared>,
}

/// What every service of one layer shares.
pub(crate) type Shared = Instruments;

impl Default for OrderTraceLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderTraceLayer {
    /// A layer using the global tracer and meter providers and W3C trace-context.
    pub fn new() -> Self {
        OrderTraceLayer::builder().build()
    }

    /// Configure tracer, meter and propagator explicitly.
    pub fn builder() -> OrderTraceLayerBuilder {
        OrderTraceLayerBuilder::default()
    }
}

/// Builds an [`OrderTraceLayer`]; anything not set comes from the globals.
#[derive(Default)]
pub struct OrderTraceLayerBuilder {
    config: InstrumentsConfig,
}

impl OrderTraceLayerBuilder {
    /// Trace with `provider` instead of the global tracer provider.
    pub fn tracer_provider<P>(mut self, provider: &P) -> Self
    where
        P: TracerProvider,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as Tracer>::Span: Send + Sync + 'static,
    {
        self.config.set_tracer_provider(provider);
        self
    }

    /// Record metrics with `provider` instead of the global meter provider.
    pub fn meter_provider<P: MeterProvider + ?Sized>(mut self, provider: &P) -> Self {
        self.config.set_meter_provider(provider);
        self
    }

    /// Extract the trace context with `propagator` instead of W3C trace-context (e.g.
    /// a composite with B3). Order context always uses its own propagator.
    pub fn trace_propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.config.set_trace_propagator(propagator);
        self
    }

    /// Finish the layer.
    pub fn build(self) -> OrderTraceLayer {
        OrderTraceLayer {
            shared: Arc::new(self.config.build(
                HTTP_SERVER_REQUEST_DURATION,
                "Duration of HTTP server requests",
            )),
        }
    }
}

impl<S> Layer<S> for OrderTraceLayer {
    type Service = OrderTraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OrderTraceService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`OrderTraceLayer`] wraps around an inner service.
#[derive(Clone)]
pub struct OrderTraceService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for OrderTraceService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: std::fmt::Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let start = Instant::now();
        let shared = &self.shared;
        let headers = HeaderExtractor(request.headers());
        let parent = shared
            .trace_propagator
            .extract_with_context(&Context::new(), &headers);
        let order = shared
            .order_propagator
            .extract_order_in(parent.span().span_context().trace_id(), &headers);
        if has_opaque_value(request.headers(), HEADER_ORDER) {
            shared
                .order_propagator
                .reject(FIELD_WHOLE_HEADER, RejectReason::InvalidCharset);
        }

        let method = method_name(request.method());
        let route = route_template(&request);
        let version = protocol_version(request.version());
        let scheme = request.uri().scheme_str().unwrap_or("http");
        let scheme: &'static str = if scheme.eq_ignore_ascii_case("https") {
            "https"
        } else {
            "http"
        };

        let name: Cow<'static, str> = match &route {
            Some(route) => Cow::Owned(format!("{method} {route}")),
            None => Cow::Borrowed(method),
        };
        let mut attributes = Vec::with_capacity(10);
        attributes.push(KeyValue::new(semconv::HTTP_REQUEST_METHOD, method));
        if method == "_OTHER" {
            attributes.push(KeyValue::new(
                semconv::HTTP_REQUEST_METHOD_ORIGINAL,
                truncate(request.method().as_str(), 32).to_owned(),
            ));
        }
        attributes.push(KeyValue::new(
            semconv::URL_PATH,
            truncate(request.uri().path(), 2048).to_owned(),
        ));
        attributes.push(KeyValue::new(semconv::URL_SCHEME, scheme));
        attributes.push(KeyValue::new(semconv::NETWORK_PROTOCOL_VERSION, version));
        if let Some(route) = &route {
            // One buffer shared by the span's and the metric's `http.route`.
            attributes.push(KeyValue::new(
                semconv::HTTP_ROUTE,
                StringValue::from(route.clone()),
            ));
        }
        if let Some((host, port)) = server_address(&request) {
            attributes.push(KeyValue::new(semconv::SERVER_ADDRESS, host));
            if let Some(port) = port {
                attributes.push(KeyValue::new(semconv::SERVER_PORT, i64::from(port)));
            }
        }
        if let Some(agent) = request
            .headers()
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
        {
            attributes.push(KeyValue::new(
                semconv::USER_AGENT_ORIGINAL,
                truncate(agent, 512).to_owned(),
            ));
        }
        if let Some(order) = &order {
            // The order came in headers, not in `parent`: always set here.
            attributes.extend(explicit_order_id(&parent, order));
            if let Some(status) = order.status() {
                attributes.push(KeyValue::new(ORDER_STATUS, status.as_str()));
            }
        }

        let span = shared
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_attributes(attributes)
            .start_with_context(&shared.tracer, &parent);
        let mut cx = parent.with_span(span);
        if let Some(order) = order {
            request.extensions_mut().insert(order.clone());
            cx = cx.with_order(order);
        }

        let mut metric_attributes = Vec::with_capacity(6);
        metric_attributes.push(KeyValue::new(semconv::HTTP_REQUEST_METHOD, method));
        metric_attributes.push(KeyValue::new(semconv::URL_SCHEME, scheme));
        metric_attributes.push(KeyValue::new(semconv::NETWORK_PROTOCOL_VERSION, version));
        if let Some(route) = route {
            metric_attributes.push(KeyValue::new(semconv::HTTP_ROUTE, StringValue::from(route)));
        }

        // Services may do work in `call` itself, so the context is attached here too.
        let inner = {
            let _guard = cx.clone().attach();
            self.inner.call(request)
        };
        ResponseFuture::new(
            inner,
            RequestState::new(cx, start, metric_attributes, self.shared.clone()),
        )
    }
}

/// The matched route template (`/orders/{id}`), when axum matched one.
fn route_template<B>(request: &Request<B>) -> Option<Arc<str>> {
    #[cfg(feature = "axum")]
    {
        request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|p| Arc::from(p.as_str()))
    }
    #[cfg(not(feature = "axum"))]
    {
        let _ = request;
        None
    }
}

fn server_address<B>(request: &Request<B>) -> Option<(String, Option<u16>)> {
    let authority = match request.uri().authority() {
        Some(a) => a.clone(),
        None => request
            .headers()
            .get(http::header::HOST)?
            .to_str()
            .ok()?
            .parse::<http::uri::Authority>()
            .ok()?,
    };
    Some((
        truncate(authority.host(), 255).to_owned(),
        authority.port_u16(),
    ))
}

/// At most `max` bytes of `s`, cut at a character boundary: attribute values from the
/// outside world are bounded.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
