//! The CRM API alone: `LISTEN` (default 127.0.0.1:8082), `AMQP_ADDR`, `TOPOLOGY`, and
//! the `OTEL_*` variables.

use jewelry::broker;
use jewelry::crm;
use jewelry::reconnect::Broker;
use jewelry::standalone::{serve, telemetry, topology, BoxError};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let telemetry = telemetry("crm-api")?;
    let broker = Broker::connect(&broker::amqp_addr(), topology()).await?;
    let service = crm::start(&telemetry, &broker, topology()).await?;
    serve(&telemetry, service.router.clone(), "127.0.0.1:8082").await
}
