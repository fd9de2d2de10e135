//! The tracing sidecar alone, in front of the MES operator API: `LISTEN` (default
//! 127.0.0.1:8084), `UPSTREAM` (default http://127.0.0.1:8083), and the `OTEL_*`
//! variables. Operators' dashboards talk to the sidecar instead of MES.

use jewelry::sidecar::{self, SidecarConfig};
use jewelry::standalone::{env_or, serve, telemetry, BoxError};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let telemetry = telemetry("mes-sidecar")?;
    let upstream = env_or("UPSTREAM", "http://127.0.0.1:8083");
    let (router, _book) = sidecar::app(
        &telemetry,
        SidecarConfig::new(&upstream, sidecar::mes_operator_routes()),
    );
    serve(&telemetry, router, "127.0.0.1:8084").await
}
