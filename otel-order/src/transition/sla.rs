//! How long an order may stay in each status: per-status SLA thresholds, built in
//! code or read from a TOML file with human durations (`"30m"`, `"2d"`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::OrderStatus;

/// Per-status SLA thresholds: how long an order may stay in a status before it
/// counts as late.
///
/// A transition that leaves a status later than its SLA is marked on the status span
/// (`order.sla.exceeded = true`) and counted in `order.sla.breaches`; the stuck-order
/// gauges report open orders over it. Statuses without a threshold are never late.
///
/// ```
/// use otel_order::transition::SlaConfig;
/// use otel_order::OrderStatus;
/// use std::time::Duration;
///
/// let in_code = SlaConfig::new()
///     .with(OrderStatus::Submitted, Duration::from_secs(30 * 60))
///     .with(OrderStatus::ManufacturingApproved, Duration::from_secs(2 * 86_400));
///
/// let from_file = SlaConfig::from_toml_str(r#"
///     [sla]
///     SUBMITTED = "30m"
///     MANUFACTURING_APPROVED = "2d"
/// "#)?;
/// assert_eq!(in_code, from_file);
/// assert_eq!(from_file.get(OrderStatus::Closed), None);
/// # Ok::<(), otel_order::transition::SlaConfigError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlaConfig {
    thresholds: [Option<Duration>; 10],
}

impl SlaConfig {
    /// No thresholds: nothing is ever late.
    pub fn new() -> Self {
        SlaConfig::default()
    }

    /// Set the threshold of `status` (a zero threshold is ignored: nothing could meet it).
    pub fn with(mut self, status: OrderStatus, threshold: Duration) -> Self {
        self.set(status, threshold);
        self
    }

    /// Set the threshold of `status` in place (a zero threshold is ignored).
    pub fn set(&mut self, status: OrderStatus, threshold: Duration) {
        if !threshold.is_zero() {
            self.thresholds[status.index()] = Some(threshold);
        }
    }

    /// The threshold of `status`, if one is configured.
    pub fn get(&self, status: OrderStatus) -> Option<Duration> {
        self.thresholds[status.index()]
    }

    /// Every configured `(status, threshold)`, in lifecycle order.
    pub fn iter(&self) -> impl Iterator<Item = (OrderStatus, Duration)> + '_ {
        OrderStatus::ALL
            .into_iter()
            .filter_map(|s| self.get(s).map(|d| (s, d)))
    }

    /// Parse the `[sla]` table of a TOML document: keys are status wire names, values
    /// durations such as `"45s"`, `"30m"`, `"4h"`, `"2d"`, `"1w"` or `"1h30m"` (see
    /// [`parse_duration`]). Other top-level keys are ignored, so the table can live
    /// in a service's own config file.
    pub fn from_toml_str(document: &str) -> Result<SlaConfig, SlaConfigError> {
        let table: toml::Table = document.parse().map_err(SlaConfigError::Toml)?;
        let sla = match table.get("sla") {
            Some(toml::Value::Table(sla)) => sla,
            Some(_) => return Err(SlaConfigError::SlaNotATable),
            None => return Err(SlaConfigError::MissingSlaTable),
        };
        let mut config = SlaConfig::new();
        for (key, value) in sla {
            let status: OrderStatus = key
                .parse()
                .map_err(|_| SlaConfigError::UnknownStatus(key.clone()))?;
            let toml::Value::String(text) = value else {
                return Err(SlaConfigError::NotADuration {
                    status,
                    source: DurationError::NotAString,
                });
            };
            let threshold = parse_duration(text)
                .map_err(|source| SlaConfigError::NotADuration { status, source })?;
            config.set(status, threshold);
        }
        Ok(config)
    }

    /// Read and parse a TOML file (see [`SlaConfig::from_toml_str`]).
    pub fn from_file(path: impl AsRef<Path>) -> Result<SlaConfig, SlaConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SlaConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        SlaConfig::from_toml_str(&text)
    }
}

/// Why an SLA configuration could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlaConfigError {
    /// The file could not be read.
    #[error("cannot read SLA config {path}: {source}")]
    Io {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The document is not valid TOML.
    #[error("SLA config is not valid TOML: {0}")]
    Toml(#[source] toml::de::Error),
    /// The document has no `[sla]` table.
    #[error("SLA config has no [sla] table")]
    MissingSlaTable,
    /// `sla` is there but is not a table.
    #[error("`sla` in the SLA config must be a table of STATUS = \"duration\"")]
    SlaNotATable,
    /// A key of `[sla]` is not one of the ten status wire names.
    #[error("SLA config names an unknown status {0:?} (expected INITIATED .. CLOSED)")]
    UnknownStatus(String),
    /// A value of `[sla]` is not a valid duration.
    #[error("SLA of {status} is not a valid duration: {source}")]
    NotADuration {
        /// The status whose value is wrong.
        status: OrderStatus,
        /// What is wrong with it.
        source: DurationError,
    },
}

/// Why a text is not a duration (see [`parse_duration`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// The value is not a string (e.g. a bare number: the unit would be a guess).
    #[error("expected a string such as \"30m\" or \"2d\"")]
    NotAString,
    /// The text is empty or only spaces.
    #[error("empty duration")]
    Empty,
    /// A number is not followed by a unit, or a unit has no number.
    #[error("expected <number><unit> parts, units s, m, h, d, w (e.g. \"1h30m\")")]
    Malformed,
    /// A unit other than `s`, `m`, `h`, `d`, `w`.
    #[error("unknown unit (use s, m, h, d or w)")]
    UnknownUnit,
    /// The total does not fit in 64-bit seconds.
    #[error("duration too large")]
    Overflow,
    /// The total is zero.
    #[error("duration must be greater than zero")]
    Zero,
}

/// Parse a human duration: one or more `<integer><unit>` parts, units `s`, `m`, `h`,
/// `d` (24 h) and `w` (7 d), optionally separated by spaces: `"90s"`, `"30m"`,
/// `"1h30m"`, `"2d 12h"`, `"1w"`. The total must be positive.
///
/// ```
/// use otel_order::transition::parse_duration;
/// use std::time::Duration;
/// assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
/// assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
/// assert!(parse_duration("30").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut total: u64 = 0;
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(DurationError::Malformed);
        }
        let mut number: u64 = 0;
        for &d in &rest[..digits] {
            number = number
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
                .ok_or(DurationError::Overflow)?;
        }
        rest = &rest[digits..];
        let unit = match rest.first() {
            Some(b's') => 1,
            Some(b'm') => 60,
            Some(b'h') => 3_600,
            Some(b'd') => 86_400,
            Some(b'w') => 604_800,
            Some(b) if b.is_ascii_alphabetic() => return Err(DurationError::UnknownUnit),
            _ => return Err(DurationError::Malformed),
        };
        rest = &rest[1..];
        if rest.first().is_some_and(|b| b.is_ascii_alphabetic()) {
            // "ms", "min", "hours": not ours, and guessing would be wrong by 60x.
            return Err(DurationError::UnknownUnit);
        }
        total = number
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or(DurationError::Overflow)?;
        while rest.first() == Some(&b' ') {
            rest = &rest[1..];
        }
    }
    if total == 0 {
        return Err(DurationError::Zero);
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_from_seconds_to_weeks_parses() {
        let cases = [
            ("45s", 45),
            ("30m", 1_800),
            ("4h", 14_400),
            ("2d", 172_800),
            ("1w", 604_800),
            ("1h30m", 5_400),
            (" 2d 12h ", 216_000),
        ];
        for (text, secs) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_durations_are_typed_errors() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(parse_duration("30"), Err(DurationError::Malformed));
        assert_eq!(parse_duration("m"), Err(DurationError::Malformed));
        assert_eq!(parse_duration("5ms"), Err(DurationError::UnknownUnit));
        assert_eq!(parse_duration("5y"), Err(DurationError::UnknownUnit));
        assert_eq!(parse_duration("-5m"), Err(DurationError::Malformed));
        assert_eq!(parse_duration("0s"), Err(DurationError::Zero));
        assert_eq!(
            parse_duration("99999999999999999999s"),
            Err(DurationError::Overflow)
        );
        assert_eq!(
            parse_duration("9999999999999999w"),
            Err(DurationError::Overflow)
        );
    }

    #[test]
    fn config_errors_name_the_problem() {
        assert!(matches!(
            SlaConfig::from_toml_str("sla = ["),
            Err(SlaConfigError::Toml(_))
        ));
        assert!(matches!(
            SlaConfig::from_toml_str("other = 1"),
            Err(SlaConfigError::MissingSlaTable)
        ));
        assert!(matches!(
            SlaConfig::from_toml_str("sla = 5"),
            Err(SlaConfigError::SlaNotATable)
        ));
        assert!(matches!(
            SlaConfig::from_toml_str("[sla]\nsubmitted = \"5m\""),
            Err(SlaConfigError::UnknownStatus(s)) if s == "submitted"
        ));
        assert!(matches!(
            SlaConfig::from_toml_str("[sla]\nSUBMITTED = 300"),
            Err(SlaConfigError::NotADuration {
                status: OrderStatus::Submitted,
                source: DurationError::NotAString
            })
        ));
        assert!(matches!(
            SlaConfig::from_toml_str("[sla]\nSHIPPED = \"5min\""),
            Err(SlaConfigError::NotADuration {
                status: OrderStatus::Shipped,
                source: DurationError::UnknownUnit
            })
        ));
        assert!(matches!(
            SlaConfig::from_file("/nonexistent/sla.toml"),
            Err(SlaConfigError::Io { .. })
        ));
    }

    #[test]
    fn other_top_level_keys_are_ignored() {
        let config =
            SlaConfig::from_toml_str("service = \"mes\"\n[sla]\nPRICE_CALCULATED = \"30m\"\n")
                .unwrap();
        assert_eq!(
            config.iter().collect::<Vec<_>>(),
            vec![(OrderStatus::PriceCalculated, Duration::from_secs(1_800))]
        );
    }
}
