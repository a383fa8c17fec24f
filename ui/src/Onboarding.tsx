// First run: welcome → (waiting in the browser) → connected → which apps → done.

import { useState } from "preact/hooks";
import type { AppChange, AppView, CheckReport, ErrorView } from "./api";
import { ScreenTitle, Trouble } from "./components";
import { appErrorSentence, fromReport, type Action, type Problem } from "./troubles";
import { AddAnother, type AddProps } from "./AddAnother";

export type Step = "welcome" | "success" | "apps" | "done";

export interface AppResult {
  id: string;
  name: string;
  note: string;
  error: ErrorView | null;
}

export interface OnboardingProps {
  step: Step;
  report: CheckReport | null;
  apps: AppView[];
  problem: Problem | null;
  results: AppResult[];
  authUrl: string | null;
  onConnect: () => void;
  onProblemAction: (a: Action) => void;
  onContinue: () => void;
  onSetUpApps: (ids: string[]) => Promise<void>;
  onFinish: () => void;
  /** There are connections already (the tray opened onboarding): offer a way back. */
  canLeave?: boolean;
  add: AddProps;
}

function Steps({ n }: { n: number }) {
  return (
    <p class="step-count">
      Step {n} of 5
    </p>
  );
}

export function connectedLine(r: CheckReport): string {
  const where = r.site ?? "Atlassian";
  return r.account ? `Connected to ${where} as ${r.account}` : `Connected to ${where}`;
}

export function Onboarding(p: OnboardingProps) {
  switch (p.step) {
    case "welcome":
      return <Welcome {...p} />;
    case "success":
      return <Success {...p} />;
    case "apps":
      return <WhichApps {...p} />;
    case "done":
      return <Done {...p} />;
  }
}

function Welcome(p: OnboardingProps) {
  const [otherState, setOther] = useState(false);
  // Stays open after a failed token or URL connect (the waiting screen replaced this one).
  const other = otherState || !!p.add.problem || p.add.form.kind !== "site" || p.add.form.token !== "";
  return (
    <main class="screen">
      <Steps n={1} />
      {!p.problem && (
        <div class="welcome-mark" aria-hidden="true">
          <svg viewBox="0 0 48 48" width="56" height="56">
            <circle cx="17" cy="24" r="10" fill="none" stroke="currentColor" stroke-width="4" />
            <path d="M27 24h17M37 24v8M43 24v6" fill="none" stroke="currentColor" stroke-width="4" stroke-linecap="round" />
          </svg>
        </div>
      )}
      <ScreenTitle focus={false}>{p.problem ? "The sign-in didn't finish" : "Welcome to Latchkey"}</ScreenTitle>
      {!p.problem && <p class="lead">Latchkey connects your AI apps, like Claude, Cursor or VS Code, to Jira and Confluence. You sign in once; Latchkey keeps the sign-in safe on this computer.</p>}
      {p.problem && <Trouble problem={p.problem} onAction={p.onProblemAction} authUrl={p.authUrl} focus />}
      <button type="button" class={p.problem ? "big" : "primary big"} onClick={p.onConnect}>
        Connect Atlassian
      </button>
      {!p.problem && <p class="muted center-text">Your browser will open so you can approve access.</p>}
      <button type="button" class="link" aria-expanded={other} onClick={() => {
          setOther(!other);
          if (other) p.add.setForm({ ...p.add.form, kind: "site", token: "" });
        }}>
        {other ? "Hide other ways to connect" : "Other ways to connect"}
      </button>
      {other && <AddAnother {...p.add} kinds={["token", "url"]} legend="Other ways to connect" />}
      {p.canLeave && (
        <button type="button" class="link" onClick={p.onFinish}>
          Back to my connections
        </button>
      )}
    </main>
  );
}

function Success(p: OnboardingProps) {
  const r = p.report!;
  const problem = fromReport(r);
  return (
    <main class="screen">
      <Steps n={3} />
      <div class="big-check" aria-hidden="true">
        ✓
      </div>
      <ScreenTitle>{connectedLine(r)}</ScreenTitle>
      <p class="lead">
        {r.tools.length} {r.tools.length === 1 ? "tool is" : "tools are"} ready for your AI apps.
      </p>
      {problem && <Trouble problem={problem} onAction={p.onProblemAction} />}
      {r.notes.length > 0 && (
        <ul class="notes">
          {r.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <button type="button" class="primary big" onClick={p.onContinue}>
        Continue
      </button>
    </main>
  );
}

function AppCheck({ app, checked, onToggle }: { app: AppView; checked: boolean; onToggle: () => void }) {
  const id = `pick-${app.id}`;
  return (
    <li class="pick">
      <input type="checkbox" id={id} checked={checked} onChange={onToggle} aria-describedby={`${id}-note`} />
      <label for={id}>
        <span class="pick-name">{app.name}</span>
        {app.installed && <span class="tag">Found on this computer</span>}
      </label>
      <p class="pick-note" id={`${id}-note`}>
        {app.note}
      </p>
    </li>
  );
}

function WhichApps(p: OnboardingProps) {
  const [picked, setPicked] = useState<Set<string>>(() => new Set(p.apps.filter((a) => a.installed).map((a) => a.id)));
  const [busy, setBusy] = useState(false);
  const found = p.apps.filter((a) => a.installed);
  const others = p.apps.filter((a) => !a.installed);
  const toggle = (id: string) => {
    const next = new Set(picked);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setPicked(next);
  };
  const n = picked.size;
  async function go() {
    setBusy(true);
    try {
      await p.onSetUpApps(p.apps.filter((a) => picked.has(a.id)).map((a) => a.id));
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="screen">
      <Steps n={4} />
      <ScreenTitle>Which apps do you use?</ScreenTitle>
      <p class="lead">{found.length ? "We ticked the apps we found on this computer. Latchkey adds Atlassian to each one." : "We didn't find any AI apps on this computer. Tick the ones you use."}</p>
      <fieldset class="picks">
        <legend class="sr-only">Apps to set up</legend>
        <ul>
          {found.map((a) => (
            <AppCheck key={a.id} app={a} checked={picked.has(a.id)} onToggle={() => toggle(a.id)} />
          ))}
        </ul>
        {others.length > 0 && (
          <details class="details" open={!found.length}>
            <summary>More apps ({others.length})</summary>
            <ul>
              {others.map((a) => (
                <AppCheck key={a.id} app={a} checked={picked.has(a.id)} onToggle={() => toggle(a.id)} />
              ))}
            </ul>
          </details>
        )}
      </fieldset>
      <div class="actions stacked">
        <button type="button" class="primary big" disabled={busy || n === 0} onClick={go}>
          {busy ? "Setting up…" : n === 1 ? "Set up 1 app" : `Set up ${n} apps`}
        </button>
        <button type="button" class="link" disabled={busy} onClick={() => p.onSetUpApps([])}>
          Skip for now
        </button>
      </div>
    </main>
  );
}

function Done(p: OnboardingProps) {
  const ok = p.results.filter((r) => !r.error);
  const failed = p.results.filter((r) => r.error);
  return (
    <main class="screen">
      <Steps n={5} />
      <div class="big-check" aria-hidden="true">
        ✓
      </div>
      <ScreenTitle>You're all set</ScreenTitle>
      {p.results.length === 0 && <p class="lead">You can add Atlassian to your apps any time from the Apps section.</p>}
      {ok.length > 0 && (
        <>
          <p class="lead">One last step in each app:</p>
          <ul class="results">
            {ok.map((r) => (
              <li key={r.id}>
                <strong>{r.name}</strong>
                <span>{r.note}</span>
              </li>
            ))}
          </ul>
        </>
      )}
      {failed.length > 0 && (
        <>
          <p class="lead">These apps could not be set up:</p>
          <ul class="results bad">
            {failed.map((r) => (
              <li key={r.id}>
                <strong>{r.name}</strong>
                <span>{appErrorSentence(r.error!, r.name)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
      <p class="muted">Latchkey keeps running in the tray and renews your sign-in on its own.</p>
      <button type="button" class="primary big" onClick={p.onFinish}>
        Open Latchkey
      </button>
    </main>
  );
}

export function toResult(c: AppChange): AppResult {
  return { id: c.id, name: c.name, note: c.note, error: c.error };
}
