//! Which hosts may receive order headers.

/// Hosts that may receive the order-context headers (and `tracestate`). Trace context
/// (`traceparent`) goes everywhere; order ids and vendor trace state only where the
/// operator said so, because they are business data.
///
/// Entries are host names or IP addresses compared case-insensitively, optionally
/// with a port (`crm.internal:8080`), or `*.suffix` for every sub-domain of `suffix`.
///
/// ```
/// use otel_order::http::HostAllowList;
/// let hosts = HostAllowList::new(["crm.internal", "*.svc.cluster.local", "127.0.0.1:8080"]);
/// assert!(hosts.allows("CRM.internal", Some(443)));
/// assert!(hosts.allows("mes.prod.svc.cluster.local", None));
/// assert!(!hosts.allows("svc.cluster.local.evil.com", None));
/// assert!(hosts.allows("127.0.0.1", Some(8080)));
/// assert!(!hosts.allows("127.0.0.1", Some(9090)));
/// assert!(!hosts.allows("payments.example.com", None));
/// ```
#[derive(Clone, Debug, Default)]
pub struct HostAllowList {
    entries: Vec<Entry>,
}

#[derive(Clone, Debug)]
enum Entry {
    Host { host: String, port: Option<u16> },
    Suffix(String),
}

impl HostAllowList {
    /// An allow-list of the given entries.
    pub fn new<I, S>(entries: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = HostAllowList::default();
        for entry in entries {
            list.push(entry.as_ref());
        }
        list
    }

    /// Add one entry.
    pub fn push(&mut self, entry: &str) {
        let entry = entry.trim().to_ascii_lowercase();
        if let Some(suffix) = entry.strip_prefix("*.") {
            self.entries.push(Entry::Suffix(format!(".{suffix}")));
            return;
        }
        let (host, port) = match entry.rsplit_once(':') {
            // An IPv6 literal without brackets has many colons: no port then.
            Some((h, p)) if !h.contains(':') => match p.parse() {
                Ok(port) => (h.to_string(), Some(port)),
                Err(_) => (entry.clone(), None),
            },
            _ => (entry.clone(), None),
        };
        self.entries.push(Entry::Host { host, port });
    }

    /// Whether order headers may go to `host` (and `port`, when the entry names one).
    pub fn allows(&self, host: &str, port: Option<u16>) -> bool {
        self.entries.iter().any(|entry| match entry {
            Entry::Host { host: h, port: p } => {
                h.eq_ignore_ascii_case(host) && (p.is_none() || *p == port)
            }
            Entry::Suffix(suffix) => {
                host.len() > suffix.len()
                    && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
            }
        })
    }

    /// Whether the list is empty (order headers go nowhere).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
