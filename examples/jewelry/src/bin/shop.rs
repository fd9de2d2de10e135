//! The Shop API alone: `LISTEN` (default 127.0.0.1:8081), `AMQP_ADDR`, `TOPOLOGY`,
//! `ORDER_PREFIX`, and the `OTEL_*` variables.

use jewelry::broker;
use jewelry::faults::FaultPlan;
use jewelry::shop::{self, ShopConfig};
use jewelry::standalone::{env_or, serve, telemetry, topology, BoxError};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let telemetry = telemetry("shop-api")?;
    let connection = broker::connect(&broker::amqp_addr()).await?;
    let config = ShopConfig {
        topology: topology(),
        faults: FaultPlan::new(),
        order_prefix: env_or("ORDER_PREFIX", "ORD"),
    };
    let (router, _book) = shop::app(&telemetry, &connection, config).await?;
    serve(&telemetry, router, "127.0.0.1:8081").await
}
