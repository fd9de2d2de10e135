//! The two listeners (gRPC and HTTP/protobuf) and the store they write into.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::query::{ReceivedMetric, ReceivedSpan};

/// How the receiver answers exports; switch at run time with [`OtlpReceiver::set_mode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Accept and store every export.
    Healthy = 0,
    /// Refuse every export: gRPC `UNAVAILABLE`, HTTP 503. Nothing is stored.
    Unavailable = 1,
    /// Never answer (the exporter's timeout must fire). Nothing is stored.
    Hang = 2,
}

#[derive(Default)]
struct Store {
    mode: AtomicU8,
    traces: Mutex<Vec<ExportTraceServiceRequest>>,
    metrics: Mutex<Vec<ExportMetricsServiceRequest>>,
    /// Every accepted export request as protobuf bytes (re-encoded for gRPC, as
    /// received for HTTP): what went over the wire.
    raw: Mutex<Vec<Vec<u8>>>,
    /// Request headers (gRPC metadata) of every accepted export, for auth checks.
    headers: Mutex<Vec<Vec<(String, String)>>>,
    arrived: Notify,
}

impl Store {
    fn mode(&self) -> Mode {
        match self.mode.load(Ordering::Relaxed) {
            1 => Mode::Unavailable,
            2 => Mode::Hang,
            _ => Mode::Healthy,
        }
    }

    fn record_headers(&self, metadata: &tonic::metadata::MetadataMap) {
        let headers = metadata
            .clone()
            .into_headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        self.headers.lock().unwrap().push(headers);
    }

    fn push_traces(&self, request: ExportTraceServiceRequest, raw: Vec<u8>) {
        self.raw.lock().unwrap().push(raw);
        self.traces.lock().unwrap().push(request);
        self.arrived.notify_waiters();
    }

    fn push_metrics(&self, request: ExportMetricsServiceRequest, raw: Vec<u8>) {
        self.raw.lock().unwrap().push(raw);
        self.metrics.lock().unwrap().push(request);
        self.arrived.notify_waiters();
    }
}

/// A running receiver. Dropping it stops both listeners.
pub struct OtlpReceiver {
    store: Arc<Store>,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    grpc_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    http_task: tokio::task::JoinHandle<()>,
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        if let Some(task) = self.grpc_task.lock().unwrap().take() {
            task.abort();
        }
        self.http_task.abort();
    }
}

fn serve_grpc(store: Arc<Store>, listener: TcpListener) -> tokio::task::JoinHandle<()> {
    serve_grpc_with(store, listener, None)
}

fn serve_grpc_with(
    store: Arc<Store>,
    listener: TcpListener,
    tls: Option<tonic::transport::ServerTlsConfig>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut builder = tonic::transport::Server::builder();
        if let Some(tls) = tls {
            builder = match builder.tls_config(tls) {
                Ok(builder) => builder,
                Err(_) => return,
            };
        }
        let _ = builder
            .add_service(TraceServiceServer::new(GrpcTraces(store.clone())))
            .add_service(MetricsServiceServer::new(GrpcMetrics(store)))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await;
    })
}

impl OtlpReceiver {
    /// Bind both listeners on free loopback ports and start serving.
    pub async fn start() -> OtlpReceiver {
        Self::start_with(None).await
    }

    /// Like [`start`](Self::start), but the gRPC listener speaks TLS with the given
    /// certificate chain and key (PEM): for testing exporters against a private CA.
    pub async fn start_tls(cert_pem: &str, key_pem: &str) -> OtlpReceiver {
        let identity = tonic::transport::Identity::from_pem(cert_pem, key_pem);
        Self::start_with(Some(
            tonic::transport::ServerTlsConfig::new().identity(identity),
        ))
        .await
    }

    /// Request headers of every accepted gRPC trace export, in arrival order.
    pub fn grpc_headers(&self) -> Vec<Vec<(String, String)>> {
        self.store.headers.lock().unwrap().clone()
    }

    async fn start_with(tls: Option<tonic::transport::ServerTlsConfig>) -> OtlpReceiver {
        let store = Arc::new(Store::default());
        let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind gRPC");
        let http = TcpListener::bind("127.0.0.1:0").await.expect("bind HTTP");
        let grpc_addr = grpc.local_addr().expect("gRPC addr");
        let http_addr = http.local_addr().expect("HTTP addr");

        let grpc_task = serve_grpc_with(store.clone(), grpc, tls);
        let http_task = tokio::spawn({
            let app = axum::Router::new()
                .route("/v1/traces", post(http_traces))
                .route("/v1/metrics", post(http_metrics))
                .with_state(store.clone());
            async move {
                let _ = axum::serve(http, app).await;
            }
        });
        OtlpReceiver {
            store,
            grpc_addr,
            http_addr,
            grpc_task: Mutex::new(Some(grpc_task)),
            http_task,
        }
    }

    /// Close the gRPC listener and its connections: exporters now get "connection
    /// refused", as from a collector that is down.
    pub async fn refuse_connections(&self) {
        let task = self.grpc_task.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listen again on the same gRPC port after [`refuse_connections`](Self::refuse_connections).
    pub async fn accept_connections(&self) {
        let listener = TcpListener::bind(self.grpc_addr)
            .await
            .expect("rebind gRPC port");
        *self.grpc_task.lock().unwrap() = Some(serve_grpc(self.store.clone(), listener));
    }

    /// Endpoint for `OTEL_EXPORTER_OTLP_ENDPOINT` with protocol `grpc`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// Base endpoint for protocol `http/protobuf` (`/v1/traces` and `/v1/metrics` are
    /// served below it).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// Switch how exports are answered from now on.
    pub fn set_mode(&self, mode: Mode) {
        self.store.mode.store(mode as u8, Ordering::Relaxed);
    }

    /// Every span received so far, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        let traces = self.store.traces.lock().unwrap();
        let mut out = Vec::new();
        for request in traces.iter() {
            for rs in &request.resource_spans {
                let resource = rs
                    .resource
                    .as_ref()
                    .map(|r| r.attributes.clone())
                    .unwrap_or_default();
                for ss in &rs.scope_spans {
                    let scope = ss
                        .scope
                        .as_ref()
                        .map(|s| s.name.clone())
                        .unwrap_or_default();
                    for span in &ss.spans {
                        out.push(ReceivedSpan {
                            resource: resource.clone(),
                            scope: scope.clone(),
                            span: span.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    /// Every metric data set received so far, in arrival order (one entry per metric
    /// per export: with cumulative temporality the last entry of a name is its total).
    pub fn metrics(&self) -> Vec<ReceivedMetric> {
        let metrics = self.store.metrics.lock().unwrap();
        let mut out = Vec::new();
        for request in metrics.iter() {
            for rm in &request.resource_metrics {
                let resource = rm
                    .resource
                    .as_ref()
                    .map(|r| r.attributes.clone())
                    .unwrap_or_default();
                for sm in &rm.scope_metrics {
                    let scope = sm
                        .scope
                        .as_ref()
                        .map(|s| s.name.clone())
                        .unwrap_or_default();
                    for metric in &sm.metrics {
                        out.push(ReceivedMetric {
                            resource: resource.clone(),
                            scope: scope.clone(),
                            metric: metric.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    /// The last data set received for the metric `name`, if any.
    pub fn last_metric(&self, name: &str) -> Option<ReceivedMetric> {
        self.metrics()
            .into_iter()
            .rev()
            .find(|m| m.metric.name == name)
    }

    /// The last data set received for the metric `name` from instrumentation scope
    /// `scope` (several scopes may report metrics of one name).
    pub fn last_metric_in_scope(&self, name: &str, scope: &str) -> Option<ReceivedMetric> {
        self.metrics()
            .into_iter()
            .rev()
            .find(|m| m.metric.name == name && m.scope == scope)
    }

    /// Every accepted export request's protobuf bytes, concatenated.
    pub fn raw_bytes(&self) -> Vec<u8> {
        self.store.raw.lock().unwrap().concat()
    }

    /// Wait until at least `count` spans have arrived, or `timeout` passes; returns what
    /// arrived either way.
    pub async fn wait_for_spans(&self, count: usize, timeout: Duration) -> Vec<ReceivedSpan> {
        self.wait_until(timeout, || self.spans().len() >= count)
            .await;
        self.spans()
    }

    /// Wait until a data set of the metric `name` satisfying `accept` has arrived, or
    /// `timeout` passes; returns the latest one that satisfies it, else the latest of
    /// that name. (Several scopes may report one name: `accept` can tell them apart.)
    pub async fn wait_for_metric(
        &self,
        name: &str,
        timeout: Duration,
        accept: impl Fn(&ReceivedMetric) -> bool,
    ) -> Option<ReceivedMetric> {
        let latest_accepted = || {
            self.metrics()
                .into_iter()
                .rev()
                .find(|m| m.metric.name == name && accept(m))
        };
        self.wait_until(timeout, || latest_accepted().is_some())
            .await;
        latest_accepted().or_else(|| self.last_metric(name))
    }

    async fn wait_until(&self, timeout: Duration, mut done: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.store.arrived.notified();
            if done() {
                return;
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            // Re-check at least every 50 ms: a notification may race the registration.
            let _ = tokio::time::timeout(left.min(Duration::from_millis(50)), notified).await;
        }
    }
}

/// What a fault mode does to one export: `None` to go on and store it.
async fn fault(store: &Store) -> Option<()> {
    match store.mode() {
        Mode::Healthy => None,
        Mode::Unavailable => Some(()),
        Mode::Hang => std::future::pending().await,
    }
}

struct GrpcTraces(Arc<Store>);

#[tonic::async_trait]
impl TraceService for GrpcTraces {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        if fault(&self.0).await.is_some() {
            return Err(tonic::Status::unavailable(
                "receiver switched to unavailable",
            ));
        }
        self.0.record_headers(request.metadata());
        let request = request.into_inner();
        let raw = request.encode_to_vec();
        self.0.push_traces(request, raw);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

struct GrpcMetrics(Arc<Store>);

#[tonic::async_trait]
impl MetricsService for GrpcMetrics {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        if fault(&self.0).await.is_some() {
            return Err(tonic::Status::unavailable(
                "receiver switched to unavailable",
            ));
        }
        let request = request.into_inner();
        let raw = request.encode_to_vec();
        self.0.push_metrics(request, raw);
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

fn http_answer<M: Message + Default>(
    body: &Bytes,
    store: impl FnOnce(M, Vec<u8>),
    ok: impl Message,
) -> (StatusCode, Vec<u8>) {
    match M::decode(body.as_ref()) {
        Ok(request) => {
            store(request, body.to_vec());
            (StatusCode::OK, ok.encode_to_vec())
        }
        Err(_) => (StatusCode::BAD_REQUEST, Vec::new()),
    }
}

async fn http_handler<M, F>(
    store: Arc<Store>,
    body: Bytes,
    push: F,
    ok: impl Message,
) -> (StatusCode, Vec<u8>)
where
    M: Message + Default,
    F: FnOnce(&Store, M, Vec<u8>),
{
    if fault(&store).await.is_some() {
        return (StatusCode::SERVICE_UNAVAILABLE, Vec::new());
    }
    http_answer::<M>(&body, |m, raw| push(&store, m, raw), ok)
}

async fn http_traces(State(store): State<Arc<Store>>, body: Bytes) -> (StatusCode, Vec<u8>) {
    http_handler::<ExportTraceServiceRequest, _>(
        store,
        body,
        Store::push_traces,
        ExportTraceServiceResponse::default(),
    )
    .await
}

async fn http_metrics(State(store): State<Arc<Store>>, body: Bytes) -> (StatusCode, Vec<u8>) {
    http_handler::<ExportMetricsServiceRequest, _>(
        store,
        body,
        Store::push_metrics,
        ExportMetricsServiceResponse::default(),
    )
    .await
}
