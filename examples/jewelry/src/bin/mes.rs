//! MES alone (pricing worker, production inbox, dead-letter monitor, and the untraced
//! operator API on `LISTEN`, default 127.0.0.1:8083). `STORAGE_URL` (default
//! http://127.0.0.1:8081, the Shop), `PRICING_DELAY_MS` (default 2000),
//! `PRICING_SLA_MS` (default 1800000, the seeds' 30 minutes), `AMQP_ADDR`,
//! `TOPOLOGY`, and the `OTEL_*` variables. Put `sidecar` in front of the operator API.

use std::time::Duration;

use jewelry::broker;
use jewelry::faults::FaultPlan;
use jewelry::mes::{self, MesConfig};
use jewelry::reconnect::Broker;
use jewelry::standalone::{env_ms, env_or, serve, telemetry, topology, BoxError};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let telemetry = telemetry("mes")?;
    let broker = Broker::connect(&broker::amqp_addr(), topology()).await?;
    let pricing_delay = env_ms("PRICING_DELAY_MS", 2_000);
    let config = MesConfig {
        topology: topology(),
        faults: FaultPlan::new(),
        pricing_delay,
        slow_pricing_delay: pricing_delay,
        pricing_sla: env_ms("PRICING_SLA_MS", 30 * 60 * 1000).max(Duration::from_millis(1)),
        storage_url: env_or("STORAGE_URL", "http://127.0.0.1:8081"),
    };
    let service = mes::start(&telemetry, broker, config).await?;
    serve(&telemetry, service.operator_api.clone(), "127.0.0.1:8083").await
}
