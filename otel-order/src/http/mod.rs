//! HTTP integration (placeholder while being written).
