//! The crate's one error type: what can be wrong in a redaction configuration.
//! Redacting itself never fails: any input string is accepted.

/// A configuration given to [`RedactorBuilder`](crate::RedactorBuilder) that cannot be
/// compiled into a [`Redactor`](crate::Redactor).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedactError {
    /// A custom rule's regular expression does not compile (or is too large).
    #[error("custom rule `{name}`: invalid regular expression")]
    InvalidPattern {
        /// The rule's name as given to the builder.
        name: String,
        /// What the regex compiler said.
        #[source]
        source: regex::Error,
    },
    /// A rule name or key-rule label is empty, too long, or uses characters other
    /// than ASCII letters, digits, `_`, `.` and `-`. Labels appear in masks and in
    /// metric attributes, so they are kept short and plain.
    #[error("invalid label `{label}`: use 1..={max} of [A-Za-z0-9_.-]")]
    InvalidLabel {
        /// The label as given.
        label: String,
        /// The longest label accepted.
        max: usize,
    },
    /// A sensitive-key pattern has no segments (empty or only separators).
    #[error("invalid key pattern `{0}`: it has no segments")]
    InvalidKeyPattern(String),
    /// A hash action's key id is not a valid label or its secret is empty.
    #[error("invalid hash key: {0}")]
    InvalidHashKey(&'static str),
}
