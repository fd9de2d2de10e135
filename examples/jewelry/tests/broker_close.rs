//! The broker closes every connection while orders are in flight
//! (`rabbitmqctl close_all_connections` on the dedicated fault node, see
//! `scripts/fault-broker.sh`), some publishes still unconfirmed (held by a memory
//! alarm): the services reconnect, consume again and republish
//! what was not confirmed; every order closes, no message is lost, and every
//! message processed twice is flagged, all as seen in the exported telemetry.

mod support;

use std::time::Duration;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_survive_the_broker_closing_every_connection_mid_flow() {
    let ledger = orders_through("close_all_connections", |node| async move {
        // Hold some publishes unconfirmed (a memory alarm), so the close loses
        // their confirms: the publishers must publish them again, and say so.
        node.block_publishers().await.expect("memory alarm on");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let closed = node
            .close_all_connections("ordertrace fault test: close all")
            .await;
        node.unblock_publishers().await.expect("memory alarm off");
        closed.expect("close_all_connections");
    })
    .await;
    ledger.assert_all_closed_nothing_lost();
    assert!(
        ledger.publish_failures >= 1 && ledger.republishes >= 1,
        "confirms lost with the connection are span errors, and republished: {ledger}"
    );
}
