//! The Shop API alone: `LISTEN` (default 127.0.0.1:8081), `AMQP_ADDR`, `TOPOLOGY`,
//! `ORDER_PREFIX`, and the `OTEL_*` variables.

use jewelry::broker;
use jewelry::faults::FaultPlan;
use jewelry::reconnect::Broker;
use jewelry::shop::{self, ModelStorage, ShopConfig};
use jewelry::standalone::{env_or, serve, telemetry, topology, BoxError};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let telemetry = telemetry("shop-api")?;
    let broker = Broker::connect(&broker::amqp_addr(), topology()).await?;
    let config = ShopConfig {
        topology: topology(),
        faults: FaultPlan::new(),
        order_prefix: env_or("ORDER_PREFIX", "ORD"),
        storage: ModelStorage::default(),
    };
    let (router, _book) = shop::app(&telemetry, &broker, config).await?;
    serve(&telemetry, router, "127.0.0.1:8081").await
}
