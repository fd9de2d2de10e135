//! Deterministic per-message cost for profiling: publish + consume `N` messages
//! (`PERCALL_N`, default 2000, after 200 warm-up) either bare or traced
//! (`PERCALL_MODE=bare|headers|floor|traced`; `headers` is bare lapin carrying
//! the headers the traced side adds, `floor` that plus a bare SDK producer and
//! consumer span, see the rig's `FloorSpans`) against the real broker, counting heap
//! allocations (`PERCALL_HEADERS` picks which headers `headers` carries, to price
//! them one by one). Meant for `valgrind --tool=callgrind`, where instruction counts
//! per message do not depend on machine load:
//!
//! ```text
//! cargo bench -p otel-amqp --bench percall --no-run
//! PERCALL_MODE=traced valgrind --tool=callgrind target/release/deps/percall-*
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use otel_amqp::{ConsumerConfig, DeliveryTracer, TracedChannel};
use otel_order::{OrderContext, OrderContextExt, OrderId, OrderStatus};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

mod rig;

use rig::DiscardSpans;

/// What `headers` mode carries: the three headers and the `timestamp` property
/// a traced publish adds.
const DEFAULT_HEADERS: &str = "tp,order,pub,ts";

/// `properties` with the context headers `spec` names (`PERCALL_HEADERS`, comma
/// separated), to price each one and each encoding of it: `tp` (`traceparent` as
/// a long string), `tp-bytes` (as a byte array), `tp-short` (as a short string,
/// which RabbitMQ refuses by closing the channel: not an option on the wire),
/// `order` (the order header), `pub` (published-at as a long long int), `pub-ts`
/// (as an AMQP timestamp), `ts` (the `timestamp` property).
fn context_properties(properties: BasicProperties, spec: &str) -> BasicProperties {
    use rig::{ORDER_HEADER, PUBLISHED_AT_MS, TIMESTAMP_S, TRACEPARENT};
    let mut headers = FieldTable::default();
    let mut timestamp = false;
    for part in spec.split(',') {
        let (key, value) = match part {
            "tp" => ("traceparent", AMQPValue::LongString(TRACEPARENT.into())),
            "tp-bytes" => (
                "traceparent",
                AMQPValue::ByteArray(TRACEPARENT.as_bytes().to_vec().into()),
            ),
            "tp-short" => ("traceparent", AMQPValue::ShortString(TRACEPARENT.into())),
            "order" => (
                otel_order::names::HEADER_ORDER,
                AMQPValue::LongString(ORDER_HEADER.into()),
            ),
            "pub" => (
                otel_amqp::names::HEADER_PUBLISHED_AT,
                AMQPValue::LongLongInt(PUBLISHED_AT_MS),
            ),
            "pub-ts" => (
                otel_amqp::names::HEADER_PUBLISHED_AT,
                AMQPValue::Timestamp(PUBLISHED_AT_MS as u64),
            ),
            "ts" => {
                timestamp = true;
                continue;
            }
            "" => continue,
            other => panic!("PERCALL_HEADERS: unknown part {other:?}"),
        };
        headers.insert(key.into(), value);
    }
    let properties = if headers.inner().is_empty() {
        properties
    } else {
        properties.with_headers(headers)
    };
    if timestamp {
        properties.with_timestamp(TIMESTAMP_S)
    } else {
        properties
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let mode = std::env::var("PERCALL_MODE").unwrap_or_default();
    // `headers`: bare lapin carrying the headers the traced side adds (what the
    // context costs lapin and the broker, without any instrumentation).
    // `floor`: `headers` plus a bare SDK producer and consumer span per message
    // (the rig's `FloorSpans`).
    let floor = mode == "floor";
    let with_headers = mode == "headers" || floor;
    let traced = mode != "bare" && !with_headers;
    let header_spec = std::env::var("PERCALL_HEADERS").unwrap_or_else(|_| DEFAULT_HEADERS.into());
    let n: usize = std::env::var("PERCALL_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let runtime = rig::runtime();
    let _guard = runtime.enter();
    // As `ordertrace::init` and the overhead gate build it: `order.id` stamped by
    // the order processor, spans exported in batches.
    let tracer_provider = SdkTracerProvider::builder()
        .with_span_processor(otel_order::OrderSpanProcessor::wrap(
            BatchSpanProcessor::builder(DiscardSpans::default()).build(),
        ))
        .build();
    let (_meter_provider, telemetry) = rig::telemetry(&tracer_provider);
    runtime.block_on(async move {
        let addr = std::env::var("AMQP_ADDR")
            .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
        let connection = Connection::connect(&addr, ConnectionProperties::default())
            .await
            .expect("RabbitMQ at AMQP_ADDR");
        let queue = format!("otel-amqp-percall.{}", std::process::id());
        let publisher = connection.create_channel().await.unwrap();
        publisher.confirm_select(ConfirmSelectOptions::default()).await.unwrap();
        publisher
            .queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions { auto_delete: true, ..QueueDeclareOptions::default() },
                FieldTable::default(),
            )
            .await
            .unwrap();
        let consuming = connection.create_channel().await.unwrap();
        consuming.basic_qos(1000, BasicQosOptions::default()).await.unwrap();
        let consumer = consuming
            .basic_consume(
                queue.as_str().into(),
                "percall".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        let traced_channel = TracedChannel::new(publisher.clone(), telemetry.clone());
        let tracer = DeliveryTracer::new(telemetry, ConsumerConfig::new(queue.clone()));
        let order = OrderContext::new(OrderId::new("ORD-2026-000123").unwrap())
            .with_status_only(OrderStatus::Submitted);
        let cx = Context::new().with_order(order);
        let floor_spans = floor.then(|| rig::FloorSpans::new(&tracer_provider, &queue));
        let payload = br#"{"order":"ORD-2026-000123","status":"SUBMITTED","items":[{"sku":"RING-1","qty":1}]}"#.to_vec();
        let mut consumer = Some(consumer);
        let mut run = async |count: usize| {
            let mut c = consumer.take().unwrap();
            let tracer = tracer.clone();
            let (spans, consume_cx) = (floor_spans.clone(), cx.clone());
            let consume = tokio::spawn(async move {
                for _ in 0..count {
                    let delivery = c.next().await.unwrap().unwrap();
                    if traced {
                        tracer.trace(delivery).ack(BasicAckOptions::default()).await.unwrap();
                    } else {
                        let span = spans.as_ref().map(|f| f.process(&consume_cx, &delivery));
                        delivery.ack(BasicAckOptions::default()).await.unwrap();
                        if let Some(span) = span {
                            rig::FloorSpans::settled(span);
                        }
                    }
                }
                c
            });
            let properties = || {
                BasicProperties::default()
                    .with_content_type("application/json".into())
                    .with_message_id("m".into())
            };
            let bare_properties = || {
                if !with_headers {
                    return properties();
                }
                context_properties(properties(), &header_spec)
            };
            let mut left = count;
            while left > 0 {
                let m = left.min(500);
                left -= m;
                if traced {
                    let mut confirms = Vec::with_capacity(m);
                    for _ in 0..m {
                        confirms.push(
                            traced_channel
                                .basic_publish_with_context(
                                    &cx,
                                    "".into(),
                                    queue.as_str().into(),
                                    BasicPublishOptions::default(),
                                    &payload,
                                    properties(),
                                )
                                .await
                                .unwrap(),
                        );
                    }
                    for confirm in confirms {
                        assert!(confirm.await.unwrap().is_ack());
                    }
                } else {
                    let mut confirms = Vec::with_capacity(m);
                    for _ in 0..m {
                        let span = floor_spans.as_ref().map(|f| f.publish(&cx, payload.len(), "m"));
                        let confirm = publisher
                            .basic_publish(
                                "".into(),
                                queue.as_str().into(),
                                BasicPublishOptions::default(),
                                &payload,
                                bare_properties(),
                            )
                            .await
                            .unwrap();
                        confirms.push((confirm, span));
                    }
                    for (confirm, span) in confirms {
                        assert!(confirm.await.unwrap().is_ack());
                        if let Some(span) = span {
                            rig::FloorSpans::published(span);
                        }
                    }
                }
            }
            consumer = Some(consume.await.unwrap());
        };
        run(200).await;
        let allocs = ALLOCS.load(Ordering::Relaxed);
        let start = Instant::now();
        run(n).await;
        let elapsed = start.elapsed();
        let allocs = ALLOCS.load(Ordering::Relaxed) - allocs;
        println!(
            "{} {n} messages: {:.0} msg/s, {:.1} allocations per message",
            if traced {
                "traced"
            } else if floor {
                "floor"
            } else if with_headers {
                "bare+headers"
            } else {
                "bare"
            },
            n as f64 / elapsed.as_secs_f64(),
            allocs as f64 / n as f64
        );
        let _ = publisher
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
        drop(consuming);
        drop(connection);
    });
}
