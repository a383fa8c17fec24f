//! Samples and the Markdown table the gateway bench prints.

use super::*;

/// Paired samples: the same iteration measured through the hop and directly, interleaved.
pub(crate) struct Paired {
    pub(crate) hop: Samples,
    pub(crate) direct: Samples,
    pub(crate) added: Samples,
}

impl Paired {
    pub(crate) fn from(pairs: &[(f64, f64)]) -> Self {
        Paired {
            hop: Samples::new(pairs.iter().map(|p| p.0).collect()),
            direct: Samples::new(pairs.iter().map(|p| p.1).collect()),
            added: Samples::new(pairs.iter().map(|p| p.0 - p.1).collect()),
        }
    }
}

pub(crate) struct Row {
    pub(crate) what: String,
    pub(crate) n: String,
    pub(crate) p50: String,
    pub(crate) p99: String,
    pub(crate) base_what: String,
    pub(crate) base: String,
    pub(crate) ratio: String,
    pub(crate) target: String,
    pub(crate) met: String,
}

pub(crate) fn met(ok: bool) -> String {
    if ok { "yes".into() } else { "**no**".into() }
}

pub(crate) fn dash() -> String {
    "-".into()
}

pub(crate) fn table(rows: &[Row], notes: &[String]) -> String {
    let mut t = String::new();
    t.push_str("| Measurement | n | p50 / median | p99 | Baseline (same run) | baseline p50 / p99 | ratio | Target | Met |\n");
    t.push_str("|---|---:|---:|---:|---|---:|---:|---|---|\n");
    for r in rows {
        t.push_str(&format!("| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", r.what, r.n, r.p50, r.p99, r.base_what, r.base, r.ratio, r.target, r.met));
    }
    for n in notes {
        t.push_str(&format!("\n- {n}"));
    }
    t.push('\n');
    t
}

pub(crate) fn us(v: f64) -> String {
    format!("{v:.0} µs")
}
pub(crate) fn ms(v: f64) -> String {
    format!("{v:.1} ms")
}
pub(crate) fn mb(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 / 1024.0)
}

// ---------------------------------------------------------------------------------------------
