//! OTLP/gRPC export over TLS to a collector whose certificate is signed by a private
//! CA, with an auth header: both configured through the standard environment
//! variables, as an operator would.

use std::time::Duration;

use opentelemetry::global;
use opentelemetry::trace::{Span, Tracer};
use otlp_receiver::OtlpReceiver;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

#[tokio::test(flavor = "multi_thread")]
async fn exports_over_tls_trusting_a_private_ca_with_auth_header() {
    // A private CA and a server certificate for localhost signed by it.
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();

    let receiver = OtlpReceiver::start_tls(&server_cert.pem(), &server_key.serialize_pem()).await;
    let ca_file =
        std::env::temp_dir().join(format!("ordertrace-test-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();
    let port = receiver
        .grpc_endpoint()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();

    // SAFETY of set_var: this test binary runs only this test, before any thread reads env.
    std::env::set_var(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        format!("https://localhost:{port}"),
    );
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
    std::env::set_var("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca_file);
    std::env::set_var(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "authorization=Bearer support-ro-token",
    );
    let telemetry = ordertrace::init("crm-api").expect("telemetry over TLS");

    global::tracer("crm").start("approve order").end();
    telemetry.flush();
    let spans = receiver.wait_for_spans(1, Duration::from_secs(10)).await;
    assert_eq!(spans.len(), 1, "the span arrived over TLS");
    assert_eq!(spans[0].span.name, "approve order");
    let headers = receiver.grpc_headers();
    assert!(
        headers[0]
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Bearer support-ro-token"),
        "auth header from OTEL_EXPORTER_OTLP_HEADERS reached the collector: {:?}",
        headers[0]
    );
    let _ = std::fs::remove_file(&ca_file);
    telemetry.shutdown();
}
