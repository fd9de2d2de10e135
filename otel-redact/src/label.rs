//! Rule labels: the short names that appear in masks (`[REDACTED:<label>]`) and in
//! the `redaction.detector` metric attribute, so they must stay short and plain.

use crate::error::RedactError;

/// Longest label accepted, in bytes.
pub const MAX_LABEL_LEN: usize = 32;

pub(crate) fn validate_label(label: &str) -> Result<(), RedactError> {
    let ok = !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(RedactError::InvalidLabel {
            label: label.to_owned(),
            max: MAX_LABEL_LEN,
        })
    }
}
