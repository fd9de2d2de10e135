//! The jewelry shop of the seeds, instrumented with the ordertrace crates: the Shop,
//! CRM and MES services, a tracing sidecar for the part of MES that cannot take the
//! SDK, and the order-flow scenario the `order_flow` demo and the integration test
//! run.
//!
//! - [`shop`]: create (`INITIATED`), upload a verified model (`FILE_UPLOADED`), submit
//!   (`SUBMITTED`) → pricing request over RabbitMQ.
//! - [`mes`]: pricing worker (`PRICE_CALCULATED` → event to CRM), production inbox,
//!   dead-letter monitor, and the untraced operator API.
//! - [`crm`]: approves priced orders (`MANUFACTURING_APPROVED` → message to MES),
//!   closes delivered ones (`CLOSED`).
//! - [`sidecar`]: reverse proxy recording the operator API's statuses
//!   (`MANUFACTURING_STARTED` … `SHIPPED`).
//! - [`topology`]: exchanges, queues, dead-lettering; [`broker`]: where the broker
//!   is; [`reconnect`]: staying connected through broker restarts (reconnect,
//!   re-declare, consume again); [`publisher`]: confirmed publishes, republished
//!   visibly after a lost confirm, never sent twice once confirmed; [`stl`]:
//!   pricing a binary STL model.
//! - [`faults`]: the seeds' failure points as switches; [`fault_node`]: the
//!   dedicated broker node the broker-fault tests break; [`demo`]: the scenario;
//!   [`report`]: the terminal waterfall and status table.
//!
//! Each service also has a binary (`src/bin/`) that runs it alone with
//! [`ordertrace::init`].
#![warn(missing_docs)]

pub mod api;
pub mod broker;
pub mod crm;
pub mod demo;
pub mod fault_node;
pub mod faults;
pub mod mes;
pub mod orders;
pub mod publisher;
pub mod reconnect;
pub mod report;
pub mod shop;
pub mod sidecar;
pub mod standalone;
pub mod stl;
pub mod telemetry;
pub mod topology;

pub use faults::Fault;
pub use telemetry::{ServiceTelemetry, SpanCollector};
