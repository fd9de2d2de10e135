//! The response future of [`OrderTraceService`](super::OrderTraceService): runs the
//! inner future inside the request's context and closes the span when it completes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use http::Response;
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute as semconv;
use pin_project_lite::pin_project;

use super::semconv::status_code;
use super::server::Shared;

pin_project! {
    /// Response future of the traced service.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        state: RequestState,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, state: RequestState) -> Self {
        ResponseFuture { inner, state }
    }
}

/// What the future needs to finish the request's telemetry.
pub(crate) struct RequestState {
    cx: Context,
    start: Instant,
    metric_attributes: Vec<KeyValue>,
    shared: Arc<Shared>,
    finished: bool,
}

impl RequestState {
    pub(crate) fn new(
        cx: Context,
        start: Instant,
        metric_attributes: Vec<KeyValue>,
        shared: Arc<Shared>,
    ) -> Self {
        RequestState {
            cx,
            start,
            metric_attributes,
            shared,
            finished: false,
        }
    }

    fn finish(&mut self, code: Option<http::StatusCode>, error: Option<String>) {
        self.finished = true;
        let span = self.cx.span();
        let elapsed = self.start.elapsed().as_secs_f64();
        let mut attributes = std::mem::take(&mut self.metric_attributes);
        if let Some(code) = code {
            span.set_attribute(KeyValue::new(
                semconv::HTTP_RESPONSE_STATUS_CODE,
                status_code(code),
            ));
            attributes.push(KeyValue::new(
                semconv::HTTP_RESPONSE_STATUS_CODE,
                status_code(code),
            ));
            // Server spans: 4xx is the client's fault, only 5xx marks ours as failed.
            if code.is_server_error() {
                let kind = code.as_str().to_owned();
                span.set_attribute(KeyValue::new(semconv::ERROR_TYPE, kind.clone()));
                attributes.push(KeyValue::new(semconv::ERROR_TYPE, kind));
                span.set_status(Status::error(""));
            }
        }
        if let Some(description) = error {
            span.set_attribute(KeyValue::new(semconv::ERROR_TYPE, "handler_error"));
            attributes.push(KeyValue::new(semconv::ERROR_TYPE, "handler_error"));
            span.set_status(Status::error(description));
        }
        self.shared.duration.record(elapsed, &attributes);
        span.end();
    }
}

impl Drop for RequestState {
    fn drop(&mut self) {
        // The connection went away before the handler answered: still close the span,
        // and say why, instead of leaving it to end whenever the context is dropped.
        if !self.finished {
            self.finished = true;
            let span = self.cx.span();
            span.set_attribute(KeyValue::new(semconv::ERROR_TYPE, "cancelled"));
            span.end();
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: std::fmt::Display,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _guard = this.state.cx.clone().attach();
            match this.inner.poll(task) {
                Poll::Ready(result) => result,
                Poll::Pending => return Poll::Pending,
            }
        };
        match &result {
            Ok(response) => this.state.finish(Some(response.status()), None),
            Err(error) => this.state.finish(None, Some(error.to_string())),
        }
        Poll::Ready(result)
    }
}
