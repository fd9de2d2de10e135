//! Accuracy on the shipped corpus: every positive found by the right detector, no
//! negative touched. Prints precision and recall per detector and overall.

use std::borrow::Cow;
use std::collections::BTreeMap;

use otel_redact::Redactor;

const POSITIVE: &str = include_str!("corpus/positive.txt");
const NEGATIVE: &str = include_str!("corpus/negative.txt");

struct Positive {
    detector: String,
    text: String,
    pii: std::ops::Range<usize>,
}

fn positives() -> Vec<Positive> {
    POSITIVE
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (detector, marked) = line.split_once('|').expect("corpus line has a detector");
            let open = marked.find('⟦').expect("corpus line marks its PII");
            let close = marked.find('⟧').expect("corpus line closes its mark");
            let text = marked.replace(['⟦', '⟧'], "");
            let pii = open..close - '⟦'.len_utf8();
            Positive {
                detector: detector.to_owned(),
                text,
                pii,
            }
        })
        .collect()
}

fn negatives() -> Vec<&'static str> {
    NEGATIVE
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect()
}

#[derive(Default, Debug)]
struct Score {
    tp: u32,
    fn_: u32,
    fp: u32,
}

#[test]
fn corpus_precision_and_recall() {
    let r = Redactor::default();
    let mut scores: BTreeMap<String, Score> = BTreeMap::new();
    let mut misses = Vec::new();
    for p in positives() {
        let findings = r.findings(&p.text);
        let hit = findings.iter().any(|f| {
            f.rule == p.detector && f.range.start <= p.pii.start && f.range.end >= p.pii.end
        });
        if hit {
            scores.entry(p.detector.clone()).or_default().tp += 1;
        } else {
            scores.entry(p.detector.clone()).or_default().fn_ += 1;
            misses.push(format!(
                "missed {}: {:?} -> {:?}",
                p.detector, p.text, findings
            ));
        }
        // Anything found that is not the marked PII is a false positive.
        for f in &findings {
            let overlaps = f.range.start < p.pii.end && p.pii.start < f.range.end;
            if !overlaps {
                scores.entry(f.rule.to_owned()).or_default().fp += 1;
                misses.push(format!(
                    "extra {}: {:?} in {:?}",
                    f.rule,
                    &p.text[f.range.clone()],
                    p.text
                ));
            }
        }
        let redacted = r.redact_str(&p.text);
        if redacted.contains(&p.text[p.pii.clone()]) {
            misses.push(format!(
                "PII survived redaction: {:?} -> {:?}",
                p.text, redacted
            ));
        }
    }
    for n in negatives() {
        for f in r.findings(n) {
            scores.entry(f.rule.to_owned()).or_default().fp += 1;
            misses.push(format!(
                "false positive {}: {:?} in {:?}",
                f.rule,
                &n[f.range.clone()],
                n
            ));
        }
        if !matches!(r.redact_str(n), Cow::Borrowed(s) if s == n) {
            misses.push(format!("negative changed: {n:?}"));
        }
    }

    let mut total = Score::default();
    println!(
        "{:<10} {:>4} {:>4} {:>4} {:>9} {:>7}",
        "detector", "tp", "fn", "fp", "precision", "recall"
    );
    for (d, s) in &scores {
        total.tp += s.tp;
        total.fn_ += s.fn_;
        total.fp += s.fp;
        println!(
            "{:<10} {:>4} {:>4} {:>4} {:>9.3} {:>7.3}",
            d,
            s.tp,
            s.fn_,
            s.fp,
            f64::from(s.tp) / f64::from((s.tp + s.fp).max(1)),
            f64::from(s.tp) / f64::from((s.tp + s.fn_).max(1))
        );
    }
    let precision = f64::from(total.tp) / f64::from((total.tp + total.fp).max(1));
    let recall = f64::from(total.tp) / f64::from((total.tp + total.fn_).max(1));
    println!(
        "overall: {} positives, {} negatives, precision {precision:.3}, recall {recall:.3}",
        total.tp + total.fn_,
        negatives().len()
    );
    for m in &misses {
        println!("{m}");
    }
    assert!(
        misses.is_empty(),
        "{} corpus mismatches, see output",
        misses.len()
    );
    assert_eq!(recall, 1.0);
    assert_eq!(precision, 1.0);
}

#[test]
fn corpus_covers_every_detector() {
    let covered: std::collections::BTreeSet<String> =
        positives().into_iter().map(|p| p.detector).collect();
    for d in otel_redact::Detector::ALL {
        assert!(covered.contains(d.name()), "no positives for {d}");
    }
    assert!(negatives().len() >= 40);
}
