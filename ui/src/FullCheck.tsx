// "Run a full check": core's doctor for one connection, in the card's Details. Every step in the
// order it ran, each with one plain sentence, what to do, and a message for the admin when only
// they can fix it. Nothing here opens a browser or changes anything.

import { useState } from "preact/hooks";
import { api, type ErrorView } from "./api";
import type { ConnectionReport, Finding } from "./bindings";
import { CopyButton } from "./components";

const MARK: Record<Finding["status"], { mark: string; words: string }> = {
  ok: { mark: "✓", words: "Works" },
  warn: { mark: "!", words: "Worth a look" },
  fail: { mark: "✗", words: "Broken" },
  skipped: { mark: "–", words: "Not checked" },
};

function verdict(r: ConnectionReport): string {
  const fails = r.findings.filter((f) => f.status === "fail").length;
  const warns = r.findings.filter((f) => f.status === "warn").length;
  if (fails > 0) return `${fails} ${fails === 1 ? "problem" : "problems"} found. Follow the steps marked ✗, from the top.`;
  if (warns > 0) return `Everything works; ${warns} ${warns === 1 ? "thing" : "things"} worth a look.`;
  return "Everything checked is working.";
}

export function FullCheck({ name, label }: { name: string; label: string }) {
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<ConnectionReport | null>(null);
  const [error, setError] = useState<ErrorView | null>(null);
  async function run() {
    setBusy(true);
    setError(null);
    try {
      setReport(await api.diagnose(name));
    } catch (e) {
      setReport(null);
      setError(e as ErrorView);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="full-check" aria-label={`Full check of ${label}`}>
      <button type="button" class="small" aria-label={`Run a full check of ${label}`} onClick={run} disabled={busy}>
        {busy ? "Checking…" : report ? "Check again" : "Run a full check"}
      </button>
      <div role="status" aria-live="polite">
        {busy && <p class="muted">Checking each step, from the network to your apps…</p>}
        {!busy && report && <p class="full-check-verdict">{verdict(report)}</p>}
      </div>
      {error && (
        <p class="field-error" role="alert">
          The check could not run: {error.message}
        </p>
      )}
      {report && (
        <ol class="findings">
          {report.findings.map((f, i) => (
            <li key={i} class={`finding status-${f.status}`} data-check={f.check}>
              <span class="finding-mark" aria-hidden="true">
                {MARK[f.status].mark}
              </span>
              <div>
                <p>
                  <span class="sr-only">{MARK[f.status].words}: </span>
                  <span>{f.summary}</span>
                </p>
                {f.action && <p class="muted">{f.action}</p>}
                {f.admin_message && (
                  <>
                    <div class="actions">
                      <CopyButton class="small" text={f.admin_message} label="Copy message for your admin" />
                    </div>
                    <details class="details">
                      <summary>Show the message</summary>
                      <textarea aria-label="Message for your admin" class="admin-message" readOnly rows={5} value={f.admin_message} />
                    </details>
                  </>
                )}
              </div>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
