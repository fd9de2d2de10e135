//! The tracer publish and process spans come from: the SDK's own tracer when the
//! telemetry was built from an `SdkTracerProvider`, a boxed one otherwise.
//!
//! Why not always boxed: a [`BoxedTracer`] puts every span in a box of its own,
//! and a boxed span made current (`Context::with_span`) is boxed a second time.
//! With the SDK tracer each span is built and ended through static dispatch and
//! allocated once: [`AmqpTracer::start_in`] hands the SDK span to the context
//! directly, and a span kept outside a context ([`AmqpSpan`], the publish span) is
//! one box (the SDK span is several hundred bytes: moving it with every publish
//! future and confirm costs more than the allocation). Any other provider (the
//! global one, a no-op, a custom implementation) still works through the boxed
//! variant.

use std::any::Any;
use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::global::{BoxedSpan, BoxedTracer};
use opentelemetry::trace::noop::NoopTracer;
use opentelemetry::trace::{Span, SpanBuilder, SpanContext, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{self as sdk, SdkTracer};

/// An SDK tracer, or any other tracer boxed.
#[derive(Debug)]
pub(crate) enum AmqpTracer {
    Sdk(SdkTracer),
    Boxed(BoxedTracer),
}

impl AmqpTracer {
    /// The SDK variant when `tracer` is the SDK's tracer, the boxed one otherwise
    /// (a tracer that already is a `BoxedTracer`, such as the global provider's,
    /// is not boxed again).
    pub(crate) fn new<T>(tracer: T) -> Self
    where
        T: Tracer + Send + Sync + 'static,
        T::Span: Send + Sync + 'static,
    {
        let mut slot = Some(tracer);
        let any = &mut slot as &mut dyn Any;
        if let Some(sdk) = any
            .downcast_mut::<Option<SdkTracer>>()
            .and_then(Option::take)
        {
            return AmqpTracer::Sdk(sdk);
        }
        if let Some(boxed) = any
            .downcast_mut::<Option<BoxedTracer>>()
            .and_then(Option::take)
        {
            return AmqpTracer::Boxed(boxed);
        }
        match slot {
            Some(other) => AmqpTracer::Boxed(BoxedTracer::new(Box::new(other))),
            // Only the branches above take the tracer, and they return. Were this
            // ever reached, messages would go untraced rather than the caller
            // panic: instrumentation must not break the application.
            None => AmqpTracer::Boxed(BoxedTracer::new(Box::new(NoopTracer::new()))),
        }
    }
}

impl From<BoxedTracer> for AmqpTracer {
    fn from(tracer: BoxedTracer) -> Self {
        AmqpTracer::Boxed(tracer)
    }
}

impl AmqpTracer {
    /// Start the span `builder` describes under `parent` and return `parent` with
    /// it as the active span (the SDK span is boxed once, by the context).
    pub(crate) fn start_in(&self, builder: SpanBuilder, parent: Context) -> Context {
        match self {
            AmqpTracer::Sdk(t) => {
                let span = t.build_with_context(builder, &parent);
                parent.with_span(span)
            }
            AmqpTracer::Boxed(t) => {
                let span = t.build_with_context(builder, &parent);
                parent.with_span(span)
            }
        }
    }
}

impl Tracer for AmqpTracer {
    type Span = AmqpSpan;

    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> AmqpSpan {
        match self {
            AmqpTracer::Sdk(t) => AmqpSpan::Sdk(Box::new(t.build_with_context(builder, parent_cx))),
            AmqpTracer::Boxed(t) => AmqpSpan::Boxed(t.build_with_context(builder, parent_cx)),
        }
    }
}

/// A span of an [`AmqpTracer`], one pointer wide.
#[derive(Debug)]
pub(crate) enum AmqpSpan {
    Sdk(Box<sdk::Span>),
    Boxed(BoxedSpan),
}

/// Forward a `Span` method to whichever span this is.
macro_rules! forward {
    ($self:ident, $span:ident => $call:expr) => {
        match $self {
            AmqpSpan::Sdk($span) => $call,
            AmqpSpan::Boxed($span) => $call,
        }
    };
}

impl Span for AmqpSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        forward!(self, s => s.add_event_with_timestamp(name, timestamp, attributes))
    }

    fn span_context(&self) -> &SpanContext {
        forward!(self, s => s.span_context())
    }

    fn is_recording(&self) -> bool {
        forward!(self, s => s.is_recording())
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        forward!(self, s => s.set_attribute(attribute))
    }

    fn set_attributes(&mut self, attributes: impl IntoIterator<Item = KeyValue>) {
        forward!(self, s => s.set_attributes(attributes))
    }

    fn set_status(&mut self, status: Status) {
        forward!(self, s => s.set_status(status))
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        forward!(self, s => s.update_name(new_name))
    }

    fn add_link(&mut self, span_context: SpanContext, attributes: Vec<KeyValue>) {
        forward!(self, s => s.add_link(span_context, attributes))
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        forward!(self, s => s.end_with_timestamp(timestamp))
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{noop::NoopTracerProvider, TracerProvider};
    use opentelemetry_sdk::trace::SdkTracerProvider;

    use super::*;

    #[test]
    fn sdk_tracer_is_used_directly_and_others_are_boxed() {
        let sdk = SdkTracerProvider::builder().build();
        assert!(matches!(
            AmqpTracer::new(sdk.tracer("t")),
            AmqpTracer::Sdk(_)
        ));
        assert!(matches!(
            AmqpTracer::new(NoopTracerProvider::new().tracer("t")),
            AmqpTracer::Boxed(_)
        ));
        assert!(matches!(
            AmqpTracer::new(opentelemetry::global::tracer("t")),
            AmqpTracer::Boxed(_)
        ));
    }
}
