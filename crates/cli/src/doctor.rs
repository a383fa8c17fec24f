//! `latchkey doctor [<connection>] [--json]`: prints what the engine's doctor found, one line
//! per finding (✓ ok, ! warning, ✗ failure, - skipped), the action indented below it, and any
//! message for an admin in a block that is easy to copy.

use latchkey_core::doctor::{Finding, Report, Status};
use latchkey_core::{CoreError, Latchkey};

/// Runs the doctor and prints its findings. Returns whether every check passed (no failure;
/// warnings do not count).
pub async fn run(engine: &Latchkey, connection: Option<&str>, json: bool) -> Result<bool, CoreError> {
    let env = latchkey_core::doctor::Env::current();
    let report = engine.doctor(connection, &env).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| CoreError::Invalid(e.to_string()))?);
    } else {
        print!("{}", render(&report));
    }
    Ok(report.passed)
}

fn marker(s: Status) -> &'static str {
    match s {
        Status::Ok => "✓",
        Status::Warn => "!",
        Status::Fail => "✗",
        Status::Skipped => "-",
    }
}

/// The human-readable report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    if report.connections.is_empty() {
        out.push_str("No connections yet. Run `latchkey connect atlassian` to add one.\n");
        return out;
    }
    for (i, c) in report.connections.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("{} · {}\n", c.name, c.url));
        for f in &c.findings {
            render_finding(&mut out, f);
        }
    }
    let (fails, warns) = report.connections.iter().flat_map(|c| &c.findings).fold((0, 0), |(f, w), x| match x.status {
        Status::Fail => (f + 1, w),
        Status::Warn => (f, w + 1),
        _ => (f, w),
    });
    out.push('\n');
    out.push_str(&match (fails, warns) {
        (0, 0) => "Everything checked is working.\n".to_owned(),
        (0, w) => format!("No failures; {w} warning{} to look at.\n", if w == 1 { "" } else { "s" }),
        (f, _) => format!("{f} problem{} found; follow the actions above.\n", if f == 1 { "" } else { "s" }),
    });
    out
}

fn render_finding(out: &mut String, f: &Finding) {
    out.push_str(&format!("  {} {:<18} {}\n", marker(f.status), f.check, f.summary));
    if let Some(a) = &f.action {
        out.push_str(&format!("      → {a}\n"));
    }
    if let Some(m) = &f.admin_message {
        out.push_str("      Message for your admin (copy everything between the lines):\n");
        out.push_str("      ----------------------------------------------------------------\n");
        for line in wrap(m, 72) {
            out.push_str(&format!("      {line}\n"));
        }
        out.push_str("      ----------------------------------------------------------------\n");
    }
}

/// Word-wraps `text` at `width` columns.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word() {
        let text = "Hello, please allow http://127.0.0.1 and http://localhost redirect URLs for the Latchkey client. Thank you.";
        let lines = wrap(text, 30);
        assert!(lines.iter().all(|l| l.chars().count() <= 30 || !l.contains(' ')));
        assert_eq!(lines.join(" "), text);
    }
}
