//! Running one service as its own process (the binaries in `src/bin/`): settings
//! from the environment, telemetry through [`ordertrace::init`], serve until Ctrl-C.

use std::time::Duration;

use crate::telemetry::ServiceTelemetry;

/// Why a service binary stopped.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The environment variable `key`, else `default`.
pub fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_owned())
}

/// `key` as milliseconds, else `default_ms`.
pub fn env_ms(key: &str, default_ms: u64) -> Duration {
    Duration::from_millis(
        std::env::var(key)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default_ms),
    )
}

/// Install telemetry for `service` globally (OTLP from `OTEL_*`, else readable lines
/// on stderr) and return its providers.
pub fn telemetry(service: &str) -> Result<ServiceTelemetry, BoxError> {
    let guard = ordertrace::init(service)?;
    Ok(ServiceTelemetry::from_guard(service, guard))
}

/// Serve `router` on `LISTEN` (default `default_addr`) until Ctrl-C, then flush.
pub async fn serve(
    telemetry: &ServiceTelemetry,
    router: axum::Router,
    default_addr: &str,
) -> Result<(), BoxError> {
    let addr = env_or("LISTEN", default_addr);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(service = telemetry.name(), %addr, "listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    telemetry.flush();
    Ok(())
}

/// The topology the binaries share: suffix from `TOPOLOGY` (default `prod`).
pub fn topology() -> crate::topology::Topology {
    crate::topology::Topology::new(&env_or("TOPOLOGY", "prod"))
}
