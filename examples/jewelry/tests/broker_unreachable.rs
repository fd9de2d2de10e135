//! Without RabbitMQ the demo stops with one sentence that says how to get it.

use jewelry::demo::{self, DemoConfig, DemoError};

#[tokio::test]
async fn unreachable_broker_is_one_sentence_with_the_fix() {
    let config = DemoConfig {
        // Port 1: nothing listens there.
        amqp_addr: "amqp://guest:guest@127.0.0.1:1/%2f".into(),
        ..DemoConfig::default()
    };
    let Err(error) = demo::run(config).await else {
        panic!("the demo must not start without a broker");
    };
    assert!(matches!(error, DemoError::Broker(_)), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with("RabbitMQ is not reachable at amqp://127.0.0.1:1"),
        "{message}"
    );
    assert!(message.contains("rabbitmq-server -detached"), "{message}");
    assert!(
        !message.contains("guest"),
        "credentials stay out of the message: {message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
}
