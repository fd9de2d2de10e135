//! Fuzz check `http_request`: an inbound HTTP request with any method, path and
//! headers (trace, order and foreign ones, any bytes) through the server layer.
//!
//! Input: the first line is `METHOD PATH`, every further line `name: value`; lines
//! that do not make a valid `http` request line or header are skipped, as a server's
//! HTTP parser would refuse them before any middleware runs.
//!
//! Properties: no panic; the request is always served (the inner service's `200`
//! comes back, instrumentation never fails a request); an order context handed to the
//! handler holds a valid order id and survives an inject/extract round trip unchanged
//! (nothing invalid is propagated); every span stays bounded ([`invariants`]).

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::LazyLock;
use std::task::{Context as TaskContext, Poll, Waker};

use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri};
use otel_order::http::OrderTraceLayer;
use otel_order::OrderContext;
use tower::{Layer, Service};

use super::invariants::{assert_valid_order, TRACER_PROVIDER};

static LAYER: LazyLock<OrderTraceLayer> = LazyLock::new(|| {
    OrderTraceLayer::builder()
        .tracer_provider(&*TRACER_PROVIDER)
        .build()
});

/// The handler: checks what the layer handed it and hands it back in the response
/// extensions, so a test can see what extraction found.
async fn handler(request: Request<()>) -> Result<Response<()>, Infallible> {
    let mut response = Response::new(());
    if let Some(order) = request.extensions().get::<OrderContext>() {
        assert_valid_order(order);
        response.extensions_mut().insert(order.clone());
    }
    Ok(response)
}

/// Build the request `data` describes; `None` when its first line is not a request
/// line `http` accepts.
pub fn request(data: &[u8]) -> Option<Request<()>> {
    let mut lines = data.split(|&b| b == b'\n');
    let first = lines.next()?;
    let mut parts = first.splitn(2, |&b| b == b' ');
    let method = Method::from_bytes(parts.next()?).ok()?;
    let uri = Uri::try_from(parts.next().unwrap_or(b"/")).ok()?;
    let mut request = Request::builder().method(method).uri(uri).body(()).ok()?;
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            request.headers_mut().append(name, value);
        }
    }
    Some(request)
}

/// The property, on one input; returns the order context the handler got.
pub fn check(data: &[u8]) -> Option<OrderContext> {
    let request = request(data)?;
    let mut service = LAYER.layer(tower::service_fn(handler));
    let mut cx = TaskContext::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut cx).is_ready());
    let future = pin!(service.call(request));
    // The handler never waits, so one poll finishes the request.
    match Future::poll(future, &mut cx) {
        Poll::Ready(Ok(mut response)) => {
            assert_eq!(response.status(), StatusCode::OK);
            response.extensions_mut().remove::<OrderContext>()
        }
        Poll::Ready(Err(never)) => match never {},
        Poll::Pending => panic!("the server layer made a ready request wait"),
    }
}
