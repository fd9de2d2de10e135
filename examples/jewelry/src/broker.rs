//! Where RabbitMQ is and connecting to it; staying connected is
//! [`crate::reconnect`], publishing [`crate::publisher`].

use lapin::{Connection, ConnectionProperties};
use otel_amqp::PublishError;

/// The broker address the services use: `AMQP_ADDR`, else the local default.
pub fn amqp_addr() -> String {
    std::env::var("AMQP_ADDR").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// Host and port of an AMQP URI, for the `server.*` span attributes.
pub fn host_port(addr: &str) -> (String, u16) {
    let rest = addr.split("://").nth(1).unwrap_or(addr);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    match host_port.rsplit_once(':') {
        Some((host, port)) => (host.to_owned(), port.parse().unwrap_or(5672)),
        None => (host_port.to_owned(), 5672),
    }
}

/// The broker could not be reached: one sentence and the command that fixes it.
#[derive(Debug, thiserror::Error)]
#[error("RabbitMQ is not reachable at {addr} ({source}); start it with `sudo rabbitmq-server -detached` (Debian: `sudo apt-get install rabbitmq-server`) or `docker run -d -p 5672:5672 rabbitmq:4`, or point AMQP_ADDR at a running broker.")]
pub struct BrokerUnreachable {
    /// The address tried (credentials removed).
    pub addr: String,
    /// What lapin said.
    #[source]
    pub source: lapin::Error,
}

/// Connect to `addr`, failing with [`BrokerUnreachable`].
pub async fn connect(addr: &str) -> Result<Connection, BrokerUnreachable> {
    Connection::connect(addr, ConnectionProperties::default())
        .await
        .map_err(|source| {
            let (host, port) = host_port(addr);
            BrokerUnreachable {
                addr: format!("amqp://{host}:{port}"),
                source,
            }
        })
}

/// Why a message was not published.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The message could not be serialised.
    #[error("cannot serialise message: {0}")]
    Encode(#[from] serde_json::Error),
    /// The broker did not accept it.
    #[error(transparent)]
    Publish(#[from] PublishError),
}
