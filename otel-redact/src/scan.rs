//! Finding matches in text and rewriting it, in one pass.
//!
//! **Overlaps.** Every enabled detector proposes candidates; they are then sorted by
//! start (leftmost first), then length (longest first), then detector priority
//! (the order of [`Detector::ALL`](crate::Detector::ALL), custom rules last), and
//! taken greedily: a candidate overlapping one already taken is discarded. The text is
//! then copied once, with each taken match replaced.
//!
//! **Size cap.** Text longer than the redactor's `max_scan_len` is not scanned at
//! all: it is replaced whole by `[REDACTED:oversize]` (removed under
//! [`Action::Drop`](crate::Action::Drop)), so no input is scanned unboundedly and
//! nothing in it can leak.

use std::borrow::Cow;

use crate::action::{write_replacement, Action};
use crate::detectors::{card, snils};
use crate::detectors::{email, inn, name, numeric, passport, phone, Detector};
use crate::metrics::Tally;
use crate::prefilter::{self, Hints, INN_RUN, MIN_CONTEXT_DIGITS, PASSPORT_RUN};
use crate::rules::{RuleId, Rules};
use crate::shape::Shape;

/// A proposed match: bytes `start..end` of the text, found by `rule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) rule: RuleId,
}

/// A numeric detector's test of one window.
type WindowCheck = fn(&numeric::Window<'_>) -> bool;

/// The one verdict [`Rules::clean_literals`] holds: nothing to redact.
const CLEAN: u16 = 0;

impl Rules {
    /// Collects the candidates of every enabled rule whose gate the text passes,
    /// with the prefilter's `hints` for it.
    pub(crate) fn candidates(&self, text: &str, hints: &Hints, out: &mut Vec<Candidate>) {
        let mut runs = None;
        if self.numeric && hints.windows {
            let seen = numeric::for_each_window_in(text.as_bytes(), |w| {
                self.window_candidates(w, out);
            });
            runs = Some(seen);
        }
        self.dotted_candidates(text, hints, runs, out);
        self.context_candidates(
            text,
            hints,
            runs,
            || prefilter::passport_word(text.as_bytes()),
            || prefilter::inn_word(text.as_bytes()),
            out,
        );
        if let Some(secrets) = &self.secrets {
            secrets.find(text, hints, |s, e| push(out, Detector::Secret, s, e));
        }
        self.word_candidates(text, hints, out);
    }

    /// [`Rules::candidates`] for a long text, in one pass over its bytes
    /// ([`pass`](crate::pass)): the hints, the digit clusters, the `=`/`:`
    /// positions and the context words all come from it, so no detector's front
    /// end searches the text again. Returns the hints (those of
    /// [`prefilter::scan_general`]).
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    pub(crate) fn candidates_in_one_pass(&self, text: &str, out: &mut Vec<Candidate>) -> Hints {
        struct Collect<'a> {
            rules: &'a Rules,
            text: &'a str,
            out: &'a mut Vec<Candidate>,
        }
        impl crate::pass::Sink for Collect<'_> {
            fn region(&mut self, from: usize, to: usize) {
                // A region holds 9 digits, so the general path's digit gate is open.
                if self.rules.numeric {
                    let (rules, out) = (self.rules, &mut *self.out);
                    numeric::for_each_window_between(self.text.as_bytes(), from, to, |w| {
                        rules.window_candidates(w, out);
                    });
                }
            }
            fn assign(&mut self, at: usize) {
                // A `=`/`:` opens the general path's parameter gate.
                if self.rules.secrets.is_some() {
                    if let Some((s, e)) = crate::detectors::secret::parameter_at(self.text, at) {
                        push(self.out, Detector::Secret, s, e);
                    }
                }
            }
        }
        let mut sink = Collect {
            rules: self,
            text,
            out,
        };
        // SAFETY: the only requirement of `pass::scan` is SSE2, which this build
        // targets (it is part of every x86_64 target's baseline).
        let pass = unsafe { crate::pass::scan(text.as_bytes(), &mut sink) };
        let hints = pass.hints;
        let runs = (self.numeric && hints.windows).then_some(pass.runs);
        self.dotted_candidates(text, &hints, runs, out);
        self.context_candidates(
            text,
            &hints,
            runs,
            || pass.passport_word,
            || pass.inn_word,
            out,
        );
        if let Some(secrets) = &self.secrets {
            secrets.find_patterns(text, &hints, |s, e| push(out, Detector::Secret, s, e));
        }
        self.word_candidates(text, &hints, out);
        hints
    }

    /// The numeric detectors' candidates in one window of a digit cluster.
    fn window_candidates(&self, w: &numeric::Window<'_>, out: &mut Vec<Candidate>) {
        let checks: [(Detector, WindowCheck); 5] = [
            (Detector::Card, card::is_card),
            (Detector::Phone, phone::is_phone),
            (Detector::Snils, snils::is_snils),
            (Detector::Inn, inn::is_inn),
            (Detector::Passport, passport::is_passport),
        ];
        for (detector, check) in checks {
            if self.is_enabled(detector) && check(w) {
                let (s, e) = w.range();
                push(out, detector, s, e);
            }
        }
    }

    /// Dotted phone numbers, looked for only if the cluster scan (run: `runs`)
    /// saw a trunk.
    fn dotted_candidates(
        &self,
        text: &str,
        hints: &Hints,
        runs: Option<numeric::Runs>,
        out: &mut Vec<Candidate>,
    ) {
        if runs.is_some_and(|r| r.dotted_trunk)
            && self.is_enabled(Detector::Phone)
            && hints.total_digits >= phone::DOTTED_DIGITS
        {
            phone::find_dotted(text.as_bytes(), |s, e| push(out, Detector::Phone, s, e));
        }
    }

    /// Passport and INN numbers after their context words. `runs` is what the
    /// cluster scan saw, if it ran; the words are asked for only when the digits
    /// could make a match.
    fn context_candidates(
        &self,
        text: &str,
        hints: &Hints,
        runs: Option<numeric::Runs>,
        passport_word: impl FnOnce() -> bool,
        inn_word: impl FnOnce() -> bool,
        out: &mut Vec<Candidate>,
    ) {
        // Passport numbers end in 6 consecutive digits, INNs are 10 or 12.
        let longest = runs.map_or(hints.longest_run as usize, |r| r.longest);
        let passport_gate = self.passport_context.is_some() && longest >= PASSPORT_RUN as usize;
        let inn_gate = self.inn_context.is_some() && longest >= INN_RUN as usize;
        if hints.total_digits < MIN_CONTEXT_DIGITS || !(passport_gate || inn_gate) {
            return;
        }
        // Context words only matter next to enough digits; look for them only then.
        let cyrillic = hints.cyrillic;
        if let Some(re) = &self.passport_context {
            if passport_gate && (cyrillic || passport_word()) {
                passport::find_with_context(re, text, |s, e| push(out, Detector::Passport, s, e));
            }
        }
        if let Some(re) = &self.inn_context {
            if inn_gate && (cyrillic || inn_word()) {
                inn::find_with_context(re, text, |s, e| push(out, Detector::Inn, s, e));
            }
        }
    }

    /// The regex detectors the hints allow (e-mail, names) and the custom rules.
    fn word_candidates(&self, text: &str, hints: &Hints, out: &mut Vec<Candidate>) {
        if hints.at {
            if let Some(re) = &self.email {
                email::find(re, text, |s, e| push(out, Detector::Email, s, e));
            }
        }
        if hints.cyrillic_upper {
            if let Some(re) = &self.name {
                name::find(re, text, |s, e| push(out, Detector::Name, s, e));
            }
        }
        if hints.latin_patronymic {
            if let Some(re) = &self.latin_name {
                name::find(re, text, |s, e| push(out, Detector::Name, s, e));
            }
        }
        for (i, rule) in self.custom.iter().enumerate() {
            for m in rule.regex.find_iter(text) {
                if m.start() < m.end() {
                    out.push(Candidate {
                        start: m.start(),
                        end: m.end(),
                        rule: RuleId::Custom(i),
                    });
                }
            }
        }
    }

    /// Finds the matches that will be replaced, overlaps resolved (module docs).
    pub(crate) fn matches(&self, text: &str) -> Vec<Candidate> {
        self.matches_with(text, None)
    }

    /// [`Rules::matches`] with the prefilter's hints when they are already known.
    /// Without them, a long text is taken in one pass on SSE2
    /// ([`Rules::candidates_in_one_pass`]), which finds the hints itself.
    pub(crate) fn matches_with(&self, text: &str, hints: Option<Hints>) -> Vec<Candidate> {
        let mut out = Vec::new();
        if text.len() > self.max_scan_len {
            out.push(Candidate {
                start: 0,
                end: text.len(),
                rule: RuleId::Oversize,
            });
            return out;
        }
        let hints = match hints {
            Some(hints) => hints,
            None => {
                #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
                if text.len() > crate::masks::MAX_LEN {
                    // Clean text gives the pass nothing to hand on and opens no
                    // gate after it: no early return is needed.
                    self.candidates_in_one_pass(text, &mut out);
                    resolve(&mut out);
                    return out;
                }
                prefilter::scan(text.as_bytes())
            }
        };
        if hints.is_clean() && self.custom.is_empty() {
            return out;
        }
        self.candidates(text, &hints, &mut out);
        resolve(&mut out);
        out
    }

    /// Redacts free text; counts what it found into `tally` under `surface`.
    ///
    /// A literal already found clean costs one cache lookup, a short text found
    /// clean recently on this thread a hash and a compare; other text one prefilter
    /// pass, and a call into the detectors only if that finds anything.
    #[inline(always)]
    pub(crate) fn redact_text<'t>(
        &self,
        text: &'t str,
        surface: &'static str,
        tally: &mut Tally,
    ) -> Cow<'t, str> {
        if self.clean_literals.holds(text, CLEAN) {
            return Cow::Borrowed(text);
        }
        if tally
            .recent
            .as_deref()
            .is_some_and(|recent| recent.is_clean(self.keys.id(), text))
        {
            return Cow::Borrowed(text);
        }
        self.redact_unknown_text(text, surface, tally)
    }

    /// [`Rules::redact_text`] for text not known clean: known clean by its shape
    /// ([`shape`](crate::shape)), else the prefilter pass, and the detectors if it
    /// finds anything.
    #[inline(never)]
    fn redact_unknown_text<'t>(
        &self,
        text: &'t str,
        surface: &'static str,
        tally: &mut Tally,
    ) -> Cow<'t, str> {
        let mut hints = None;
        if text.len() <= self.max_scan_len {
            // Custom rules can match what the prefilter calls clean: then neither
            // its verdict nor a shape decides anything.
            let shape = match tally.recent {
                Some(_) if self.custom.is_empty() => Shape::of(text.as_bytes()),
                _ => None,
            };
            if let (Some(shape), Some(recent)) = (&shape, tally.recent.as_deref_mut()) {
                if recent.shape_is_clean(self.keys.id(), shape) {
                    // Noted as itself too: a text that repeats is then found by
                    // the cheaper lookup before this one.
                    recent.remember_clean(self.keys.id(), text);
                    return Cow::Borrowed(text);
                }
            }
            #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
            if text.len() > crate::masks::MAX_LEN {
                // The detectors take a long text in the same pass that finds its
                // hints. (Here, not before the shape, which a long text has none
                // of: this check then stands in for the prefilter's own.)
                return self.redact_found(text, None, surface, tally);
            }
            let h = prefilter::scan(text.as_bytes());
            if h.is_clean() && self.custom.is_empty() {
                self.remember_clean(text, tally);
                if let (Some(shape), Some(recent)) = (&shape, tally.recent.as_deref_mut()) {
                    recent.remember_clean_shape(self.keys.id(), shape);
                }
                return Cow::Borrowed(text);
            }
            hints = Some(h);
        }
        self.redact_found(text, hints, surface, tally)
    }

    /// Remembers a text found clean: by address if it is a literal, else by content
    /// on this thread if it is short.
    fn remember_clean(&self, text: &str, tally: &mut Tally) {
        if !self.clean_literals.put(text, CLEAN) {
            if let Some(recent) = tally.recent.as_deref_mut() {
                recent.remember_clean(self.keys.id(), text);
            }
        }
    }

    /// [`Rules::redact_text`] past the fast path.
    #[inline(never)]
    fn redact_found<'t>(
        &self,
        text: &'t str,
        hints: Option<Hints>,
        surface: &'static str,
        tally: &mut Tally,
    ) -> Cow<'t, str> {
        let found = self.matches_with(text, hints);
        if found.is_empty() {
            self.remember_clean(text, tally);
            return Cow::Borrowed(text);
        }
        for c in &found {
            tally.add(c.rule, surface);
        }
        if self.detect_only {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len() + 16 * found.len());
        let mut at = 0;
        for c in &found {
            out.push_str(text.get(at..c.start).unwrap_or_default());
            let matched = text.get(c.start..c.end).unwrap_or_default();
            let action = if c.rule == RuleId::Oversize && matches!(self.action, Action::Hash(_)) {
                &Action::Mask
            } else {
                &self.action
            };
            write_replacement(
                action,
                self.label(c.rule),
                self.mask(c.rule).as_str(),
                self.normalise(c.rule),
                matched,
                &mut out,
            );
            at = c.end;
        }
        out.push_str(text.get(at..).unwrap_or_default());
        Cow::Owned(out)
    }
}

fn push(out: &mut Vec<Candidate>, detector: Detector, start: usize, end: usize) {
    if start < end {
        out.push(Candidate {
            start,
            end,
            rule: RuleId::Builtin(detector),
        });
    }
}

/// Sorts candidates and keeps a non-overlapping set: leftmost, then longest, then
/// highest priority.
pub(crate) fn resolve(found: &mut Vec<Candidate>) {
    if found.len() < 2 {
        return;
    }
    found.sort_unstable_by_key(|c| (c.start, std::cmp::Reverse(c.end), c.rule.priority()));
    let mut end = 0;
    found.retain(|c| {
        if c.start >= end {
            end = c.end;
            true
        } else {
            false
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(start: usize, end: usize, d: Detector) -> Candidate {
        Candidate {
            start,
            end,
            rule: RuleId::Builtin(d),
        }
    }

    #[test]
    fn overlaps_resolve_leftmost_then_longest_then_priority() {
        let mut v = vec![
            c(5, 9, Detector::Email),
            c(0, 4, Detector::Phone),
            c(0, 6, Detector::Email),
            c(0, 6, Detector::Card),
            c(7, 12, Detector::Name),
        ];
        resolve(&mut v);
        assert_eq!(v, vec![c(0, 6, Detector::Card), c(7, 12, Detector::Name)]);
    }
}
