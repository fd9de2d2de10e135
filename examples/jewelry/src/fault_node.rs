//! The dedicated RabbitMQ node the broker-fault tests and the soak break on purpose
//! (`scripts/fault-broker.sh start`): closing every connection, restarting the
//! broker application. Never the shared broker on 5672.
//!
//! `AMQP_FAULT_ADDR` (default `amqp://guest:guest@127.0.0.1:5673/%2f`) is where the
//! services connect; `AMQP_FAULT_NODE` (default `ordertrace-faults@localhost`) is
//! the node `rabbitmqctl` drives.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::broker::host_port;

/// Default address of the fault node.
pub const DEFAULT_ADDR: &str = "amqp://guest:guest@127.0.0.1:5673/%2f";
/// Default Erlang node name of the fault node.
pub const DEFAULT_NODE: &str = "ordertrace-faults@localhost";

/// RabbitMQ's default memory high watermark (fraction of RAM).
pub const DEFAULT_WATERMARK: &str = "0.4";

/// A fault could not be injected, or the node is not there.
#[derive(Debug, thiserror::Error)]
pub enum FaultNodeError {
    /// Nothing accepts AMQP at the fault node's address.
    #[error("the fault broker is not up at {addr}: start it with `scripts/fault-broker.sh start` (a dedicated node; the broker-fault tests never touch the shared one on 5672)")]
    NotUp {
        /// host:port tried.
        addr: String,
    },
    /// `rabbitmqctl` failed.
    #[error("rabbitmqctl -n {node} {command} failed: {detail}")]
    Ctl {
        /// The node.
        node: String,
        /// The subcommand.
        command: String,
        /// Exit status and output.
        detail: String,
    },
}

/// The fault node: its address and the commands that break it.
#[derive(Clone, Debug)]
pub struct FaultNode {
    /// AMQP address the services connect to.
    pub addr: String,
    /// Erlang node name for `rabbitmqctl -n`.
    pub node: String,
}

impl FaultNode {
    /// The node named by `AMQP_FAULT_ADDR` / `AMQP_FAULT_NODE`, checked to accept
    /// AMQP connections.
    pub fn from_env() -> Result<FaultNode, FaultNodeError> {
        let node = FaultNode {
            addr: std::env::var("AMQP_FAULT_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.into()),
            node: std::env::var("AMQP_FAULT_NODE").unwrap_or_else(|_| DEFAULT_NODE.into()),
        };
        if node.accepts_amqp() {
            Ok(node)
        } else {
            Err(FaultNodeError::NotUp {
                addr: node.host_port(),
            })
        }
    }

    fn host_port(&self) -> String {
        let (host, port) = host_port(&self.addr);
        format!("{host}:{port}")
    }

    /// Whether the AMQP port accepts TCP connections now.
    pub fn accepts_amqp(&self) -> bool {
        use std::net::ToSocketAddrs;
        self.host_port()
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .is_some_and(|a| {
                std::net::TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok()
            })
    }

    /// Run `rabbitmqctl -n {node} {args}` off the async workers.
    async fn ctl(&self, args: &[&str]) -> Result<(), FaultNodeError> {
        let node = self.node.clone();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let output = Command::new("rabbitmqctl")
                .arg("-n")
                .arg(&node)
                .args(&args)
                .output();
            let failed = |detail: String| FaultNodeError::Ctl {
                node: node.clone(),
                command: args.join(" "),
                detail,
            };
            match output {
                Ok(o) if o.status.success() => Ok(()),
                Ok(o) => Err(failed(format!(
                    "{}: {}{}",
                    o.status,
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                ))),
                Err(e) => Err(failed(e.to_string())),
            }
        })
        .await
        .map_err(|e| FaultNodeError::Ctl {
            node: self.node.clone(),
            command: "(task running rabbitmqctl)".into(),
            detail: e.to_string(),
        })?
    }

    /// The broker closes every client connection (`close_all_connections`).
    pub async fn close_all_connections(&self, reason: &str) -> Result<(), FaultNodeError> {
        self.ctl(&["close_all_connections", reason]).await
    }

    /// Raise a memory alarm (`set_vm_memory_high_watermark 0`): the broker stops
    /// reading from publishing connections, so their publishes wait unconfirmed,
    /// as on a broker under memory pressure.
    pub async fn block_publishers(&self) -> Result<(), FaultNodeError> {
        self.ctl(&["set_vm_memory_high_watermark", "0"]).await
    }

    /// Clear the alarm of [`block_publishers`](Self::block_publishers) (the
    /// default watermark).
    pub async fn unblock_publishers(&self) -> Result<(), FaultNodeError> {
        self.ctl(&["set_vm_memory_high_watermark", DEFAULT_WATERMARK])
            .await
    }

    /// Stop the broker application (the node stays, clients are disconnected and
    /// refused), wait `down`, start it again, and wait until it accepts AMQP.
    pub async fn restart_app(&self, down: Duration) -> Result<(), FaultNodeError> {
        self.ctl(&["stop_app"]).await?;
        tokio::time::sleep(down).await;
        self.ctl(&["start_app"]).await?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.accepts_amqp() {
            if Instant::now() > deadline {
                return Err(FaultNodeError::NotUp {
                    addr: self.host_port(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
}
