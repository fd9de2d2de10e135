//! The broker application restarts while orders are in flight
//! (`rabbitmqctl stop_app`, then `start_app`, on the dedicated fault node, see
//! `scripts/fault-broker.sh`): the services reconnect, consume again and republish
//! what was not confirmed; every order closes, no message is lost, and every
//! message processed twice is flagged, all as seen in the exported telemetry.

mod support;

use std::time::Duration;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_survive_a_broker_restart_mid_flow() {
    let ledger = orders_through("stop_app/start_app", |node| async move {
        // Durable queues and persistent messages survive the restart; the services
        // are refused while the broker is down and keep retrying.
        node.restart_app(Duration::from_secs(2))
            .await
            .expect("stop_app / start_app");
    })
    .await;
    ledger.assert_all_closed_nothing_lost();
}
