//! Log lines through the redactor: what the installed `tracing` subscriber prints
//! passes the same rules as exported spans, so a handler that logs a customer's phone
//! number does not put it on stderr either.

use std::io::{self, Write};

use otel_redact::Redactor;
use tracing_subscriber::fmt::MakeWriter;

/// Wraps a [`MakeWriter`] (stderr in `init`): one [`RedactingLine`] per log event.
#[derive(Clone)]
pub(crate) struct RedactingWriter<M> {
    pub(crate) redactor: Redactor,
    pub(crate) inner: M,
}

/// Collects one formatted event and writes it, redacted, to the inner writer when
/// dropped (the formatter drops its writer after each event).
pub(crate) struct RedactingLine<W: Write> {
    redactor: Redactor,
    buffer: Vec<u8>,
    inner: W,
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingWriter<M> {
    type Writer = RedactingLine<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingLine {
            redactor: self.redactor.clone(),
            buffer: Vec::with_capacity(256),
            inner: self.inner.make_writer(),
        }
    }
}

impl<W: Write> Write for RedactingLine<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for RedactingLine<W> {
    fn drop(&mut self) {
        let line = String::from_utf8_lossy(&self.buffer);
        let clean = self.redactor.redact_str(&line);
        // A closed stderr must not take the application down.
        let _ = self.inner.write_all(clean.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    #[test]
    fn personal_data_in_log_events_is_redacted_before_it_is_written() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(RedactingWriter {
                    redactor: Redactor::default(),
                    inner: captured.clone(),
                }),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                order.id = "ORD-2026-000123",
                "customer ivan.petrov@example.ru called from +7 916 123-45-67"
            );
        });
        let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(out.contains("ORD-2026-000123"), "{out}");
        assert!(!out.contains("ivan.petrov@example.ru"), "{out}");
        assert!(!out.contains("916 123-45-67"), "{out}");
        assert!(out.contains("[REDACTED:email]"), "{out}");
    }
}
