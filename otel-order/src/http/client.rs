//! The client side: a `reqwest-middleware` middleware that traces outgoing requests and
//! carries trace and order context to the next service.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use http::Extensions;
use opentelemetry::metrics::MeterProvider;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{FutureExt, SpanKind, Status, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_semantic_conventions::attribute as semconv;
use opentelemetry_semantic_conventions::metric::HTTP_CLIENT_REQUEST_DURATION;
use reqwest_middleware::reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next, Result};

use super::allow_list::HostAllowList;
use super::headers::HeaderInjector;
use super::instruments::{Instruments, InstrumentsConfig};
use super::semconv::{method_name, status_code};
use crate::names::HEADER_ORDER;
use crate::span_processor::explicit_order_id;
use crate::{OrderContext, OrderContextExt};

const TRACESTATE: &str = "tracestate";

/// Put this in a request's extensions to send it untraced: no span, no injected
/// headers.
///
/// ```no_run
/// # async fn run(client: reqwest_middleware::ClientWithMiddleware) -> reqwest_middleware::Result<()> {
/// use otel_order::http::NoTrace;
/// client.get("http://health.internal/ping").with_extension(NoTrace).send().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTrace;

/// The low-cardinality template of a request's URL (`/orders/{id}/submit`), set as a
/// request extension: the span is then named `{method} {template}` and carries
/// `url.template`, as the HTTP conventions ask. Without it the span is named after
/// the method alone, because a raw path would put ids into span names.
///
/// ```no_run
/// # async fn run(client: reqwest_middleware::ClientWithMiddleware) -> reqwest_middleware::Result<()> {
/// use otel_order::http::UrlTemplate;
/// client
///     .post("http://shop.internal/orders/ORD-1/submit")
///     .with_extension(UrlTemplate::from_static("/orders/{id}/submit"))
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlTemplate(Cow<'static, str>);

impl UrlTemplate {
    /// A template known at compile time (no allocation).
    pub const fn from_static(template: &'static str) -> Self {
        UrlTemplate(Cow::Borrowed(template))
    }

    /// The template.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for UrlTemplate {
    /// A template known at run time, e.g. a proxy's matched route.
    fn from(template: String) -> Self {
        UrlTemplate(Cow::Owned(template))
    }
}

/// Traces outgoing requests: a `CLIENT` span per request, `traceparent` injected into
/// every request, the order-context headers and `tracestate` only towards hosts on the
/// allow-list, `http.client.request.duration` recorded.
///
/// The order context comes from an [`OrderContext`] in the request's extensions, else
/// from the current OpenTelemetry context (which the server layer sets for handlers).
///
/// ```no_run
/// use otel_order::http::{HostAllowList, OrderTraceMiddleware};
///
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(
///         OrderTraceMiddleware::builder()
///             .allow_order_headers_to(HostAllowList::new(["crm.internal", "*.mes.internal"]))
///             .build(),
///     )
///     .build();
/// ```
#[derive(Clone)]
pub struct OrderTraceMiddleware {
    shared: Arc<Shared>,
}

struct Shared {
    instruments: Instruments,
    allow_list: HostAllowList,
}

impl Default for OrderTraceMiddleware {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderTraceMiddleware {
    /// A middleware with global providers, W3C trace-context, and an empty allow-list
    /// (order headers go nowhere until hosts are allowed).
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Configure allow-list, providers and propagator.
    pub fn builder() -> OrderTraceMiddlewareBuilder {
        OrderTraceMiddlewareBuilder::default()
    }
}

/// Builds an [`OrderTraceMiddleware`]; anything not set comes from the globals.
#[derive(Default)]
pub struct OrderTraceMiddlewareBuilder {
    config: InstrumentsConfig,
    allow_list: HostAllowList,
}

impl OrderTraceMiddlewareBuilder {
    /// Hosts that may receive order headers and `tracestate`.
    pub fn allow_order_headers_to(mut self, hosts: HostAllowList) -> Self {
        self.allow_list = hosts;
        self
    }

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

    /// Inject the trace context with `propagator` instead of W3C trace-context. It must
    /// not carry order data: that goes only through the allow-list.
    pub fn trace_propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.config.set_trace_propagator(propagator);
        self
    }

    /// Finish the middleware.
    pub fn build(self) -> OrderTraceMiddleware {
        OrderTraceMiddleware {
            shared: Arc::new(Shared {
                instruments: self.config.build(
                    HTTP_CLIENT_REQUEST_DURATION,
                    "Duration of HTTP client requests",
                ),
                allow_list: self.allow_list,
            }),
        }
    }
}

#[async_trait::async_trait]
impl Middleware for OrderTraceMiddleware {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<Response> {
        if extensions.get::<NoTrace>().is_some() {
            return next.run(request, extensions).await;
        }
        let shared = &self.shared.instruments;
        let start = Instant::now();
        let parent = Context::current();
        let order = extensions
            .get::<OrderContext>()
            .cloned()
            .or_else(|| parent.order().cloned());

        let method = method_name(request.method());
        let url = request.url();
        // One buffer for the span's and the metric's `server.address`.
        let host: Arc<str> = Arc::from(url.host_str().unwrap_or_default());
        let port = url.port_or_known_default();
        let allowed = self.shared.allow_list.allows(&host, port);

        let mut attributes = Vec::with_capacity(8);
        attributes.push(KeyValue::new(semconv::HTTP_REQUEST_METHOD, method));
        attributes.push(KeyValue::new(
            semconv::SERVER_ADDRESS,
            StringValue::from(host.clone()),
        ));
        if let Some(port) = port {
            attributes.push(KeyValue::new(semconv::SERVER_PORT, i64::from(port)));
        }
        // Scheme, host and path only: credentials and query strings stay out of spans.
        attributes.push(KeyValue::new(semconv::URL_FULL, url_without_secrets(url)));
        // Set only when the order came in the request's extensions: under an order
        // context OrderSpanProcessor stamps it.
        if let Some(id) = order.as_ref().and_then(|o| explicit_order_id(&parent, o)) {
            attributes.push(id);
        }
        let mut metric_attributes = vec![
            KeyValue::new(semconv::HTTP_REQUEST_METHOD, method),
            KeyValue::new(semconv::SERVER_ADDRESS, StringValue::from(host)),
        ];
        if let Some(port) = port {
            metric_attributes.push(KeyValue::new(semconv::SERVER_PORT, i64::from(port)));
        }

        let name: Cow<'static, str> = match extensions.get::<UrlTemplate>() {
            Some(UrlTemplate(template)) => {
                attributes.push(KeyValue::new(semconv::URL_TEMPLATE, template.clone()));
                Cow::Owned(format!("{method} {template}"))
            }
            None => Cow::Borrowed(method),
        };
        let span = shared
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(&shared.tracer, &parent);
        let cx = parent.with_span(span);

        let headers = request.headers_mut();
        // Whatever the caller or an inbound request put there is replaced or removed:
        // only this middleware decides what crosses to which host.
        headers.remove(HEADER_ORDER);
        shared
            .trace_propagator
            .inject_context(&cx, &mut HeaderInjector(headers));
        // The SDK writes `tracestate` even when the trace state is empty: on the wire
        // that tells the receiver nothing and costs bytes on every request.
        if headers.get(TRACESTATE).is_some_and(|v| v.is_empty()) {
            headers.remove(TRACESTATE);
        }
        if allowed {
            if let Some(order) = &order {
                shared.order_propagator.inject_order_for(
                    cx.span().span_context().trace_id(),
                    order,
                    &mut HeaderInjector(headers),
                );
            }
        } else {
            headers.remove(TRACESTATE);
        }

        let result = next.run(request, extensions).with_context(cx.clone()).await;

        let span = cx.span();
        match &result {
            Ok(response) => {
                let code = status_code(response.status());
                span.set_attribute(KeyValue::new(semconv::HTTP_RESPONSE_STATUS_CODE, code));
                metric_attributes.push(KeyValue::new(semconv::HTTP_RESPONSE_STATUS_CODE, code));
                // Client spans: any 4xx or 5xx means the call did not do its job.
                if response.status().is_client_error() || response.status().is_server_error() {
                    let kind = response.status().as_str().to_owned();
                    span.set_attribute(KeyValue::new(semconv::ERROR_TYPE, kind.clone()));
                    metric_attributes.push(KeyValue::new(semconv::ERROR_TYPE, kind));
                    span.set_status(Status::error(""));
                }
            }
            Err(error) => {
                let kind = error_type(error);
                span.set_attribute(KeyValue::new(semconv::ERROR_TYPE, kind));
                metric_attributes.push(KeyValue::new(semconv::ERROR_TYPE, kind));
                span.set_status(Status::error(error.to_string()));
            }
        }
        shared
            .duration
            .record(start.elapsed().as_secs_f64(), &metric_attributes);
        span.end();
        result
    }
}

/// `scheme://host[:port]/path`, built in one allocation: no user info, no query.
fn url_without_secrets(url: &reqwest_middleware::reqwest::Url) -> String {
    use std::fmt::Write;
    let host = url.host_str().unwrap_or_default();
    let mut full = String::with_capacity(url.scheme().len() + host.len() + url.path().len() + 9);
    let _ = write!(full, "{}://{host}", url.scheme());
    if let Some(port) = url.port() {
        let _ = write!(full, ":{port}");
    }
    full.push_str(url.path());
    full
}

/// A bounded `error.type` for a failed call.
fn error_type(error: &reqwest_middleware::Error) -> &'static str {
    match error {
        reqwest_middleware::Error::Reqwest(e) if e.is_timeout() => "timeout",
        reqwest_middleware::Error::Reqwest(e) if e.is_connect() => "connect",
        reqwest_middleware::Error::Reqwest(e) if e.is_request() => "request",
        reqwest_middleware::Error::Reqwest(_) => "transport",
        reqwest_middleware::Error::Middleware(_) => "middleware",
    }
}
