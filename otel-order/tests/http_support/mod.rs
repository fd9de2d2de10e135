//! Shared set-up for the HTTP tests: providers exporting over OTLP/gRPC to an
//! in-process receiver, and an axum server with the layer on a free port.

#![allow(dead_code)]

use std::net::SocketAddr;

use axum::Router;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use otlp_receiver::OtlpReceiver;

pub struct Pipeline {
    pub receiver: OtlpReceiver,
    pub tracer_provider: SdkTracerProvider,
    pub meter_provider: SdkMeterProvider,
}

impl Pipeline {
    pub async fn start(service: &str) -> Pipeline {
        let receiver = OtlpReceiver::start().await;
        let resource = Resource::builder()
            .with_service_name(service.to_owned())
            .build();
        let spans = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(receiver.grpc_endpoint())
            .build()
            .unwrap();
        let metrics = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(receiver.grpc_endpoint())
            .build()
            .unwrap();
        Pipeline {
            tracer_provider: SdkTracerProvider::builder()
                .with_resource(resource.clone())
                .with_span_processor(otel_order::OrderSpanProcessor::wrap(
                    BatchSpanProcessor::builder(spans).build(),
                ))
                .build(),
            meter_provider: SdkMeterProvider::builder()
                .with_resource(resource)
                .with_reader(PeriodicReader::builder(metrics).build())
                .build(),
            receiver,
        }
    }

    pub fn flush(&self) {
        self.tracer_provider.force_flush().unwrap();
        self.meter_provider.force_flush().unwrap();
    }
}

pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Sum of `order.context.rejected` data points with `reason`.
pub fn rejected(receiver: &OtlpReceiver, reason: &str) -> u64 {
    use otlp_receiver::proto::metrics::v1::{metric::Data, number_data_point::Value};
    let Some(metric) = receiver.last_metric("order.context.rejected") else {
        return 0;
    };
    let Some(Data::Sum(sum)) = metric.metric.data else {
        return 0;
    };
    sum.data_points
        .iter()
        .filter(|p| otlp_receiver::attr_str(&p.attributes, "order.context.reason") == Some(reason))
        .map(|p| match p.value {
            Some(Value::AsInt(i)) => i as u64,
            _ => 0,
        })
        .sum()
}
