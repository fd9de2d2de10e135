//! The broker closes every connection while orders are in flight
//! (`rabbitmqctl close_all_connections` on the dedicated fault node, see
//! `scripts/fault-broker.sh`), some publishes still unconfirmed (held by a memory
//! alarm): the services reconnect, consume again and republish
//! what was not confirmed; every order closes, no message is lost, and every
//! message processed twice is flagged, all as seen in the exported telemetry.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;

const IN_FLIGHT: usize = 20;
const AFTER: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_survive_the_broker_closing_every_connection_mid_flow() {
    let node = fault_node();
    let receiver = receiver().await;
    let services = services(&node).await;
    let started = Instant::now();

    let in_flight = tokio::spawn({
        let services = Arc::clone(&services);
        async move { services.run_orders(vec![None; IN_FLIGHT]).await }
    });
    // Pricing takes turns, so requests queue up: break the broker while messages
    // sit in queues, in consumers' hands and in publishers' confirms
    // (rabbitmqctl itself takes a second or two to act).
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Hold some publishes unconfirmed (a memory alarm), so the close loses their
    // confirms: the publishers must publish them again, and say so.
    node.block_publishers().await.expect("memory alarm on");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let closed = node
        .close_all_connections("ordertrace fault test: close all")
        .await;
    node.unblock_publishers().await.expect("memory alarm off");
    closed.expect("close_all_connections");
    let mut outcomes = in_flight.await.expect("orders driven");
    // Recovered: new orders go through on the new connections.
    outcomes.extend(services.run_orders(vec![None; AFTER]).await);
    assert!(
        services.reconnects() >= 3,
        "every service reconnected: {}",
        services.reconnects()
    );

    let spans = exported_spans(&services, &receiver).await;
    let ledger = Ledger::new(&spans, &outcomes);
    println!(
        "close_all_connections: {ledger}\nreconnects {}, {:.1}s",
        services.reconnects(),
        started.elapsed().as_secs_f64()
    );
    let services = Arc::into_inner(services).expect("no order still running");
    services
        .cleanup()
        .await
        .expect("the run's queues are deleted");
    ledger.assert_all_closed_nothing_lost();
    assert!(
        ledger.publish_failures >= 1 && ledger.republishes >= 1,
        "confirms lost with the connection are span errors, and republished: {ledger}"
    );
}
