//! Digit clusters: the shared front end of the phone, passport, card, SNILS and INN
//! detectors.
//!
//! A cluster is a run of digit groups joined by short separators (up to three of
//! ` `, `-`, `(`, `)`), optionally led by `+` or `(`: `+7 (916) 123-45-67`,
//! `4276 1600 1234 5674`, `112-233-445 95`. Clusters glued to a word or to another
//! number (`ORD-2026-000123`, the digits of a UUID or trace id, `12500.50`,
//! `192.168.0.1`, `2026-11-22T10:00`) are skipped whole: that is what keeps ids,
//! timestamps, versions and prices intact.
//!
//! Each detector then looks at *windows*: runs of whole groups with at most 19
//! digits. A window is a candidate only if the detector's own format and checksum
//! rules accept it, so a match always starts and ends on a group boundary.

/// Most groups held at once; longer clusters are looked at in overlapping chunks.
const MAX_GROUPS: usize = 32;
/// Groups kept from one chunk to the next (a window spans at most 19 groups).
const CHUNK_OVERLAP: usize = 19;
/// Longest window any detector needs (card numbers).
pub(crate) const MAX_WINDOW_DIGITS: usize = 19;
/// Fewest digits any numeric detector accepts; shorter clusters are not looked at.
pub(crate) const MIN_DETECTOR_DIGITS: usize = 9;
/// Separators joining two groups: at most this many bytes of ` -()`.
const MAX_SEP: usize = 3;

/// How a cluster begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lead {
    /// Straight with a digit.
    None,
    /// With `+` (international format).
    Plus,
    /// With `(` (a bracketed area code).
    Paren,
}

/// A run of whole groups inside one cluster, offered to each numeric detector.
pub(crate) struct Window<'a> {
    /// The text being scanned.
    pub text: &'a [u8],
    /// Digit groups, as byte ranges into `text`.
    pub groups: &'a [(usize, usize)],
    /// The digits, without separators.
    pub digits: &'a [u8],
    /// How the window begins (only the first window of a cluster has a lead).
    pub lead: Lead,
}

impl Window<'_> {
    /// The bytes between group `i` and group `i + 1`.
    pub fn sep(&self, i: usize) -> &[u8] {
        &self.text[self.groups[i].1..self.groups[i + 1].0]
    }

    /// Lengths of the groups, in digits.
    pub fn group_lens(&self) -> impl Iterator<Item = usize> + '_ {
        self.groups.iter().map(|(s, e)| e - s)
    }

    /// True if the group lengths are exactly `lens`.
    pub fn shape_is(&self, lens: &[usize]) -> bool {
        self.groups.len() == lens.len() && self.group_lens().zip(lens).all(|(a, b)| a == *b)
    }

    /// True if every separator is exactly one byte from `allowed`.
    pub fn seps_are_single(&self, allowed: &[u8]) -> bool {
        (0..self.groups.len().saturating_sub(1)).all(|i| {
            let s = self.sep(i);
            s.len() == 1 && allowed.contains(&s[0])
        })
    }

    /// Byte range the window covers in the text, lead included.
    pub fn range(&self) -> (usize, usize) {
        let first = self.groups.first().map_or(0, |g| g.0);
        let last = self.groups.last().map_or(0, |g| g.1);
        let start = if self.lead == Lead::None {
            first
        } else {
            first - 1
        };
        (start, last)
    }
}

fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'(' | b')')
}

/// True if the byte at `i` glues a cluster to what comes before it.
pub(crate) fn glued_left(text: &[u8], start: usize) -> bool {
    let Some(&prev) = start.checked_sub(1).and_then(|i| text.get(i)) else {
        return false;
    };
    if prev.is_ascii_alphanumeric() || prev == b'_' {
        return true;
    }
    let before = start.checked_sub(2).and_then(|i| text.get(i)).copied();
    match prev {
        b'.' | b',' | b':' | b'/' => before.is_some_and(|b| b.is_ascii_digit()),
        b'-' | b'+' => before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_'),
        _ => false,
    }
}

/// True if the byte at `end` glues a cluster to what comes after it.
pub(crate) fn glued_right(text: &[u8], end: usize) -> bool {
    let Some(&next) = text.get(end) else {
        return false;
    };
    if next.is_ascii_alphanumeric() || next == b'_' {
        return true;
    }
    let after = text.get(end + 1).copied();
    match next {
        b'.' | b',' | b':' | b'/' => after.is_some_and(|b| b.is_ascii_digit()),
        b'-' => after.is_some_and(|b| b.is_ascii_alphanumeric()),
        _ => false,
    }
}

/// Calls `visit` for every window of every unglued cluster in `text`.
#[cfg(test)]
pub(crate) fn for_each_window(text: &[u8], visit: impl FnMut(&Window<'_>)) {
    for_each_window_in(text, visit);
}

/// What [`for_each_window_in`] saw of the digit runs (glued or not), for the gates
/// of the detectors that do not work on clusters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Runs {
    /// The longest run of consecutive digits.
    pub longest: usize,
    /// A one-digit run `7` or `8` followed by `.`: the trunk of a dotted phone.
    pub dotted_trunk: bool,
}

impl Runs {
    /// Takes the digit run `text[start..end]` into account.
    fn note(&mut self, text: &[u8], start: usize, end: usize) {
        self.longest = self.longest.max(end - start);
        if end - start == 1 && super::phone::is_dotted_trunk(text, start) {
            self.dotted_trunk = true;
        }
    }
}

/// The ASCII digits among the eight bytes of `x`, as the high bit of each such byte
/// (branch-free: for each byte, the high bit of `t + 0x50` says `t >= 0x30`, that
/// of `t + 0x46` says `t >= 0x3A`, with `t` the byte's low seven bits, so no carry
/// crosses into the next byte).
fn digit_bits(x: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let t = x & LOW7;
    let at_least_0 = t + 0x5050_5050_5050_5050;
    let above_9 = t + 0x4646_4646_4646_4646;
    at_least_0 & !above_9 & !x & HIGH
}

/// The end of the run of digits starting at `start`, eight bytes at a time.
fn digits_end(text: &[u8], start: usize) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut end = start;
    while let Some(Ok(word)) = text.get(end..end + 8).map(<[u8; 8]>::try_from) {
        let others = !digit_bits(u64::from_le_bytes(word)) & HIGH;
        if others != 0 {
            return end + (others.trailing_zeros() / 8) as usize;
        }
        end += 8;
    }
    while end < text.len() && text[end].is_ascii_digit() {
        end += 1;
    }
    end
}

/// True if separators at `end` (as [`collect_groups`] accepts them) lead to
/// another digit.
fn joins_next(text: &[u8], end: usize) -> bool {
    let mut j = end;
    while j < text.len() && j - end < MAX_SEP && is_sep(text[j]) {
        j += 1;
    }
    j > end && text.get(j).is_some_and(u8::is_ascii_digit)
}

/// Calls `visit` for every window of every unglued cluster in `text`; returns what
/// it saw of the digit runs.
pub(crate) fn for_each_window_in(text: &[u8], visit: impl FnMut(&Window<'_>)) -> Runs {
    for_each_window_between(text, 0, text.len(), visit)
}

/// [`for_each_window_in`] for the clusters that start in `text[from..to]` (`from`
/// at a cluster's first digit or outside any cluster); what precedes and follows
/// is still looked at for glue.
pub(crate) fn for_each_window_between(
    text: &[u8],
    from: usize,
    to: usize,
    mut visit: impl FnMut(&Window<'_>),
) -> Runs {
    let mut groups = [(0usize, 0usize); MAX_GROUPS];
    let mut runs = Runs::default();
    let mut i = from;
    let to = to.min(text.len());
    while i < to {
        // Find the next digit eight bytes at a time.
        if let Some(Ok(word)) = text.get(i..i + 8).map(<[u8; 8]>::try_from) {
            let digits = digit_bits(u64::from_le_bytes(word));
            if digits == 0 {
                i += 8;
                continue;
            }
            i += (digits.trailing_zeros() / 8) as usize;
        } else if !text[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let run_end = digits_end(text, i);
        runs.note(text, i, run_end);
        // A run that no separator joins to another is its own cluster: too short
        // for any detector unless it has 9 digits (most runs in ids, versions,
        // dates, prices and `status=200 ` end here).
        if run_end - i < MIN_DETECTOR_DIGITS && !joins_next(text, run_end) {
            i = run_end;
            continue;
        }
        let mut lead = match i.checked_sub(1).map(|p| text[p]) {
            Some(b'+') => Lead::Plus,
            Some(b'(') => Lead::Paren,
            _ => Lead::None,
        };
        let lead_start = if lead == Lead::None { i } else { i - 1 };
        if glued_left(text, lead_start) {
            // The first group belongs to a word or another number (`visa13`,
            // `ORD-2026`): skip it; the rest of the cluster gets its own chance.
            i = run_end;
            continue;
        }
        let mut chunk_start = i;
        loop {
            let (n, more) = collect_groups(text, chunk_start, &mut groups);
            for &(s, e) in &groups[..n] {
                runs.note(text, s, e);
            }
            if more {
                // A very long cluster: look at it in overlapping chunks so no window
                // is lost. Continuation chunks have no lead.
                visit_windows(text, &groups[..n], lead, &mut visit);
                chunk_start = groups[n - CHUNK_OVERLAP].0;
                lead = Lead::None;
                continue;
            }
            let end = groups[n - 1].1;
            // A last group glued to what follows (`2026-11-22 10:15`, `…1111abc`)
            // is left out.
            let keep = if glued_right(text, end) { n - 1 } else { n };
            let digits: usize = groups[..keep].iter().map(|(s, e)| e - s).sum();
            if keep > 0 && digits >= MIN_DETECTOR_DIGITS {
                visit_windows(text, &groups[..keep], lead, &mut visit);
            }
            i = end;
            break;
        }
    }
    runs
}

/// Fills `groups` with the digit groups of the cluster starting at `start`; returns
/// how many, and whether the cluster goes on past the last one held.
fn collect_groups(
    text: &[u8],
    start: usize,
    groups: &mut [(usize, usize); MAX_GROUPS],
) -> (usize, bool) {
    let mut n = 0;
    let mut pos = start;
    loop {
        let group_start = pos;
        while pos < text.len() && text[pos].is_ascii_digit() {
            pos += 1;
        }
        groups[n] = (group_start, pos);
        n += 1;
        let mut j = pos;
        while j < text.len() && j - pos < MAX_SEP && is_sep(text[j]) {
            j += 1;
        }
        let joins = j > pos && j < text.len() && text[j].is_ascii_digit();
        if !joins {
            return (n, false);
        }
        if n == MAX_GROUPS {
            return (n, true);
        }
        pos = j;
    }
}

fn visit_windows(
    text: &[u8],
    groups: &[(usize, usize)],
    lead: Lead,
    visit: &mut impl FnMut(&Window<'_>),
) {
    let mut digits = [0u8; MAX_WINDOW_DIGITS];
    for a in 0..groups.len() {
        let mut len = 0;
        for b in a..groups.len() {
            let (s, e) = groups[b];
            if len + (e - s) > MAX_WINDOW_DIGITS {
                break;
            }
            digits[len..len + (e - s)].copy_from_slice(&text[s..e]);
            len += e - s;
            visit(&Window {
                text,
                groups: &groups[a..=b],
                digits: &digits[..len],
                lead: if a == 0 { lead } else { Lead::None },
            });
        }
    }
}

/// Value of an ASCII digit.
pub(crate) fn d(b: u8) -> u32 {
    u32::from(b.wrapping_sub(b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_window(text.as_bytes(), |w| {
            let (s, e) = w.range();
            out.push(text[s..e].to_owned());
        });
        out
    }

    #[test]
    fn formatted_phone_gives_the_whole_number_as_a_window() {
        assert!(windows("call +7 (916) 123-45-67 now").contains(&"+7 (916) 123-45-67".to_owned()));
    }

    #[test]
    fn digits_glued_to_words_or_numbers_give_no_long_windows() {
        for text in [
            "ORD-2026-000123",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "12500.50",
            "192.168.100.200",
            "2026-11-22T10:00:00Z",
            "v1.2.3",
            "visa13-4222222222222",
            "2026-11-22 10:15:30.123",
            "550e8400-e29b-41d4-a716-446655440000",
        ] {
            let w = windows(text);
            // Nothing a detector could take (they all need 9+ digits).
            let digits = |s: &String| s.bytes().filter(u8::is_ascii_digit).count();
            assert!(w.iter().all(|w| digits(w) < 9), "{text}: {w:?}");
        }
    }

    #[test]
    fn very_long_clusters_are_scanned_in_chunks_without_losing_windows() {
        let mut text = "1 ".repeat(40);
        text.push_str("4276 1600 1234 5674");
        let w = windows(&text);
        assert!(w.contains(&"4276 1600 1234 5674".to_owned()));
    }
}
