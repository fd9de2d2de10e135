//! A counting OTLP/gRPC sink for the soak: it decodes every export and keeps only
//! what the report needs (per order and per message id), never the spans, so the
//! process's memory measures the services and not the test's receiver.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use otlp_receiver::proto::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use otlp_receiver::proto::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use otlp_receiver::proto::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use otlp_receiver::proto::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use otlp_receiver::proto::common::v1::any_value::Value as AnyValue;
use otlp_receiver::proto::common::v1::KeyValue;
use otlp_receiver::proto::metrics::v1::{metric::Data, number_data_point::Value};
use otlp_receiver::{attr, attr_i64, attr_str};

/// Deliveries of one message id.
#[derive(Debug, Default, Clone, Copy)]
pub struct Deliveries {
    pub processed: u32,
    /// Redelivered by the broker or republished by the producer.
    pub flagged: u32,
}

/// What arrived so far.
#[derive(Debug, Default)]
pub struct Tally {
    pub spans: u64,
    pub closed: HashSet<String>,
    pub failed: HashMap<String, String>,
    /// Orders with a `repeat` transition: a duplicate the order lifecycle flagged.
    pub repeated: HashSet<String>,
    pub confirmed: HashSet<String>,
    pub publish_outcomes_lost: u64,
    pub republishes: u64,
    pub deliveries: HashMap<String, Deliveries>,
    pub redelivered: u64,
    pub republished_copies: u64,
    /// Last cumulative value per (service, error.type) of the span queue's
    /// `otel.sdk.processor.span.processed`.
    pub span_queue: HashMap<(String, String), f64>,
    pub metric_names: HashSet<String>,
}

impl Tally {
    fn span_queue_total(&self, error_type: &str) -> u64 {
        self.span_queue
            .iter()
            .filter(|((_, error), _)| error == error_type)
            .map(|(_, v)| *v as u64)
            .sum()
    }

    /// Spans the services' bounded queues handed on to the exporters.
    pub fn spans_queued(&self) -> u64 {
        self.span_queue_total("")
    }

    /// Spans the services' bounded queues dropped (queue full), all services.
    pub fn spans_dropped(&self) -> u64 {
        self.span_queue_total("queue_full")
    }

    /// Spans lost to failed exports, all services.
    pub fn export_failures(&self) -> u64 {
        self.span_queue_total("export_failed")
    }
}

/// The running sink.
#[derive(Clone, Default)]
pub struct Sink {
    tally: Arc<Mutex<Tally>>,
}

impl Sink {
    /// Serve on a free loopback port; returns the endpoint for
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the sink");
        let addr: SocketAddr = listener.local_addr().expect("sink address");
        let (traces, metrics) = (Traces(self.clone()), Metrics(self.clone()));
        tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(traces))
                .add_service(MetricsServiceServer::new(metrics))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await;
        });
        format!("http://{addr}")
    }

    /// Read the tally.
    pub fn with<R>(&self, f: impl FnOnce(&Tally) -> R) -> R {
        f(&self.tally.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn record_spans(&self, request: &ExportTraceServiceRequest) {
        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        for rs in &request.resource_spans {
            for ss in &rs.scope_spans {
                let amqp = ss.scope.as_ref().is_some_and(|s| s.name == "otel-amqp");
                for span in &ss.spans {
                    tally.spans += 1;
                    record_span(&mut tally, amqp, &span.name, &span.attributes);
                }
            }
        }
    }

    fn record_metrics(&self, request: &ExportMetricsServiceRequest) {
        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        for rm in &request.resource_metrics {
            let service = rm
                .resource
                .as_ref()
                .and_then(|r| attr_str(&r.attributes, "service.name"))
                .unwrap_or("?")
                .to_owned();
            for metric in rm.scope_metrics.iter().flat_map(|s| &s.metrics) {
                tally.metric_names.insert(metric.name.clone());
                if metric.name != "otel.sdk.processor.span.processed" {
                    continue;
                }
                let Some(Data::Sum(sum)) = &metric.data else {
                    continue;
                };
                for point in &sum.data_points {
                    if attr_str(&point.attributes, "otel.component.type")
                        != Some("bounded_span_queue")
                    {
                        continue;
                    }
                    let error = attr_str(&point.attributes, "error.type")
                        .unwrap_or("")
                        .to_owned();
                    let value = match point.value {
                        Some(Value::AsInt(i)) => i as f64,
                        Some(Value::AsDouble(d)) => d,
                        None => continue,
                    };
                    tally.span_queue.insert((service.clone(), error), value);
                }
            }
        }
    }
}

fn attr_bool(attributes: &[KeyValue], key: &str) -> bool {
    matches!(
        attr(attributes, key).and_then(|v| v.value.as_ref()),
        Some(AnyValue::BoolValue(true))
    )
}

fn record_span(tally: &mut Tally, amqp: bool, name: &str, attributes: &[KeyValue]) {
    let order = attr_str(attributes, "order.id");
    if let Some(order) = order {
        if attr_str(attributes, "order.status.next") == Some("CLOSED") {
            tally.closed.insert(order.to_owned());
        }
        if attr_str(attributes, "order.transition.kind") == Some("repeat") {
            tally.repeated.insert(order.to_owned());
        }
        if name == "order.failure" {
            let reason = attr_str(attributes, "order.failure.reason").unwrap_or("?");
            tally
                .failed
                .entry(order.to_owned())
                .or_insert_with(|| reason.to_owned());
        }
    }
    if !amqp {
        return;
    }
    let Some(id) = attr_str(attributes, "messaging.message.id") else {
        return;
    };
    let republished = attr_i64(attributes, "rabbitmq.message.publish_attempt").is_some();
    if name.starts_with("publish ") {
        tally.republishes += u64::from(republished);
        match attr_str(attributes, "rabbitmq.confirm") {
            Some("ack") => {
                tally.confirmed.insert(id.to_owned());
            }
            Some("channel_error") => tally.publish_outcomes_lost += 1,
            _ => {}
        }
    } else if name.starts_with("process ") && !name.starts_with("process jewelry.dlq") {
        let redelivered = attr_bool(attributes, "rabbitmq.message.redelivered");
        tally.redelivered += u64::from(redelivered);
        tally.republished_copies += u64::from(republished);
        let entry = tally.deliveries.entry(id.to_owned()).or_default();
        entry.processed += 1;
        entry.flagged += u32::from(redelivered || republished);
    }
}

struct Traces(Sink);

#[tonic::async_trait]
impl TraceService for Traces {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.record_spans(request.get_ref());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

struct Metrics(Sink);

#[tonic::async_trait]
impl MetricsService for Metrics {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0.record_metrics(request.get_ref());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}
