// The everyday window: a card per connection, the apps, "Add another", settings and help.

import { useState } from "preact/hooks";
import type { AppView, ConnectionView } from "./api";
import { CopyButton, Trouble } from "./components";
import { appStatus, appStatusWords, authWords, lastUsed, nextSignIn, stateTone, title, type AppStatus } from "./format";
import { COMMON, fromState, type Action, type Problem } from "./troubles";
import { AddAnother, type AddProps } from "./AddAnother";
import { FullCheck } from "./FullCheck";

export interface CardState {
  tools?: number;
  problem?: Problem | null;
  /** A passing message ("Working: 27 tools available"). */
  message?: string | null;
  busy?: "test" | "disconnect" | null;
}

export interface AppRowState {
  busy?: boolean;
  message?: string | null;
  problem?: { sentence: string; detail: string } | null;
}

export interface DashboardProps {
  connections: ConnectionView[];
  cards: Record<string, CardState>;
  apps: AppView[];
  appRows: Record<string, AppRowState>;
  appsConnection: string;
  setAppsConnection: (n: string) => void;
  authUrl: string | null;
  notice: string | null;
  onDismissNotice: () => void;
  onReauth: (name: string) => void;
  onTest: (name: string) => void;
  onDisconnect: (name: string) => void;
  onCardAction: (name: string, a: Action) => void;
  onToggleApp: (app: string, on: boolean) => void;
  onRestoreApp: (app: string) => void;
  autostart: boolean | null;
  onAutostart: (on: boolean) => void;
  add: AddProps;
}

const BADGE: Record<string, string> = {
  connected: "Connected",
  expiring_soon: "Expires soon",
  needs_reauth: "Needs sign-in",
  needs_step_up: "Needs more permissions",
  not_signed_in: "Not signed in",
  upstream_unreachable: "Can't reach server",
  upstream_error: "Server error",
};

export function badgeWords(c: ConnectionView): string {
  return BADGE[c.state] ?? c.summary;
}

function Card({ c, s, p }: { c: ConnectionView; s: CardState; p: DashboardProps }) {
  const [confirming, setConfirming] = useState(false);
  const t = title(c);
  const hid = `card-${c.name}`;
  const token = c.auth === "api_token_basic" || c.auth === "api_token_bearer";
  const canReauth = !token && (c.auth === "o_auth" || c.state === "not_signed_in" || c.state === "needs_reauth" || c.state === "needs_step_up");
  const tools = s.tools;
  const problem = s.problem ?? fromState(c);
  return (
    <article class={`card tone-${stateTone(c.state)}`} aria-labelledby={hid} data-connection={c.name}>
      <header class="card-head">
        <h3 id={hid}>{t}</h3>
        <span class={`badge tone-${stateTone(c.state)}`}>{badgeWords(c)}</span>
      </header>
      <p class="account">{c.account ? `Signed in as ${c.account}` : c.preset === "atlassian" ? "Atlassian" : "MCP server"}</p>
      <ul class="facts">
        <li>{lastUsed(c)}</li>
        <li>{nextSignIn(c)}</li>
        <li>{tools === undefined ? "Test the connection to count its tools" : `${tools} ${tools === 1 ? "tool" : "tools"} available`}</li>
      </ul>
      {problem && <Trouble problem={problem} authUrl={p.authUrl} onAction={(a) => p.onCardAction(c.name, a)} />}
      {s.message && (
        <p class="ok-message" role="status">
          {s.message}
        </p>
      )}
      {!confirming && (
        <div class="actions">
          {canReauth && problem?.action !== "reauth" && (
            <button type="button" aria-label={`Re-authenticate ${t}`} onClick={() => p.onReauth(c.name)} disabled={!!s.busy}>
              Re-authenticate
            </button>
          )}
          <button type="button" aria-label={`Test connection ${t}`} onClick={() => p.onTest(c.name)} disabled={!!s.busy}>
            {s.busy === "test" ? "Testing…" : "Test connection"}
          </button>
        </div>
      )}
      {confirming && (
        <div class="confirm" role="group" aria-label={`Disconnect ${t}?`}>
          <p>Disconnect {t}? Your apps will stop reaching it and Latchkey forgets the sign-in.</p>
          <div class="actions">
            <button
              type="button"
              class="danger solid"
              ref={(el) => el?.focus()}
              onClick={() => {
                setConfirming(false);
                p.onDisconnect(c.name);
              }}
            >
              Yes, disconnect
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
        </div>
      )}
      <div class="card-foot">
      <details class="details">
        <summary>Details</summary>
        <dl>
          <dt>Status</dt>
          <dd>{c.summary}</dd>
          <dt>Name</dt>
          <dd>{c.name}</dd>
          <dt>Server</dt>
          <dd class="break">{c.url}</dd>
          <dt>Sign-in</dt>
          <dd>{authWords(c)}</dd>
          <dt>Requests</dt>
          <dd>
            {c.requests} ({c.errors} failed)
          </dd>
        </dl>
        <FullCheck name={c.name} label={t} />
      </details>
      {!confirming && (
        <button type="button" class="danger small" aria-label={`Disconnect ${t}`} onClick={() => setConfirming(true)} disabled={!!s.busy}>
          Disconnect
        </button>
      )}
      </div>
    </article>
  );
}

function AppRow({ app, connection, connTitle, s, p }: { app: AppView; connection: string; connTitle: string; s: AppRowState; p: DashboardProps }) {
  const { status, reason } = appStatus(app, connection);
  const on = status === "current" || status === "stale" || status === "broken";
  const lid = `app-${app.id}-label`;
  const sid = `app-${app.id}-status`;
  return (
    <li class="app-row" data-app={app.id}>
      <div class="app-main">
        <span class="app-name" id={lid}>
          {app.name}
        </span>
        <span class={`app-status st-${status}`} id={sid}>
          {appStatusWords(status)}
          {reason && status !== "current" ? `: ${reason}` : ""}
        </span>
      </div>
      <button
        type="button"
        role="switch"
        class="switch"
        aria-checked={on}
        aria-label={`Use ${connTitle} in ${app.name}`}
        aria-describedby={sid}
        disabled={s.busy}
        onClick={() => p.onToggleApp(app.id, !on)}
      >
        <span class="knob" aria-hidden="true" />
      </button>
      <div class="app-extra">
        {status === "stale" && (
          <button type="button" class="small" disabled={s.busy} onClick={() => p.onToggleApp(app.id, true)} aria-label={`Update ${app.name}`}>
            Update
          </button>
        )}
        <button type="button" class="small" disabled={s.busy} onClick={() => p.onRestoreApp(app.id)} aria-label={`Restore backup of ${app.name}'s settings`}>
          Restore backup
        </button>
      </div>
      {s.message && (
        <p class="app-note" role="status">
          {s.message}
        </p>
      )}
      {s.problem && (
        <div class="trouble small-trouble" role="alert">
          <p class="trouble-sentence">{s.problem.sentence}</p>
          <details class="details">
            <summary>Details</summary>
            <p class="detail-text">{s.problem.detail}</p>
          </details>
        </div>
      )}
    </li>
  );
}

function Apps(p: DashboardProps) {
  const conn = p.connections.find((c) => c.name === p.appsConnection) ?? p.connections[0];
  if (!conn) return null;
  const relevant = (a: AppView) => a.installed || a.connections.some((c) => c.connection === conn.name && c.files.some((f) => f.state.state !== "missing"));
  const shown = p.apps.filter(relevant);
  const rest = p.apps.filter((a) => !relevant(a));
  const row = (a: AppView) => <AppRow key={a.id} app={a} connection={conn.name} connTitle={title(conn)} s={p.appRows[a.id] ?? {}} p={p} />;
  return (
    <section aria-labelledby="apps-h" class="section">
      <h2 id="apps-h" tabIndex={-1}>
        Apps
      </h2>
      {p.connections.length > 1 && (
        <div class="field-inline">
          <label for="apps-conn">Set up apps for</label>
          <select id="apps-conn" value={conn.name} onChange={(e) => p.setAppsConnection(e.currentTarget.value)}>
            {p.connections.map((c) => (
              <option key={c.name} value={c.name}>
                {title(c)}
                {c.site ? "" : ` (${c.name})`}
              </option>
            ))}
          </select>
        </div>
      )}
      {shown.length === 0 && <p class="muted">No AI apps found on this computer.</p>}
      <ul class="apps">{shown.map(row)}</ul>
      {rest.length > 0 && (
        <details class="details">
          <summary>Apps not found on this computer ({rest.length})</summary>
          <ul class="apps">{rest.map(row)}</ul>
        </details>
      )}
    </section>
  );
}

function Help({ p }: { p: DashboardProps }) {
  const first = p.connections.find((c) => c.auth === "o_auth") ?? p.connections[0];
  return (
    <section aria-labelledby="help-h" class="section">
      <h2 id="help-h">Having trouble?</h2>
      {COMMON.map((h) => (
        <details class="details help" key={h.id} data-help={h.id}>
          <summary>{h.question}</summary>
          <p>{h.problem.sentence}</p>
          {h.problem.adminMessage && (
            <>
              <textarea aria-label={`Message to send: ${h.question}`} class="admin-message" readOnly rows={6} value={h.problem.adminMessage} />
              <CopyButton class="primary" text={h.problem.adminMessage} label={h.problem.actionLabel} />
            </>
          )}
          {h.problem.action === "reauth" && first && (
            <button type="button" class="primary" onClick={() => p.onReauth(first.name)}>
              {h.problem.actionLabel}
            </button>
          )}
        </details>
      ))}
    </section>
  );
}

export function Dashboard(p: DashboardProps) {
  const [adding, setAdding] = useState(false);
  return (
    <main class="screen dashboard">
      <header class="top">
        <h1 class="screen-title" tabIndex={-1}>
          Latchkey
        </h1>
      </header>
      <div class="notice-slot" role="status" aria-live="polite">
        {p.notice && (
          <div class="notice">
            <span>{p.notice}</span>
            <button type="button" class="icon" aria-label="Dismiss message" onClick={p.onDismissNotice}>
              ×
            </button>
          </div>
        )}
      </div>
      <section aria-labelledby="conns-h" class="section">
        <h2 id="conns-h">Connections</h2>
        {p.connections.map((c) => (
          <Card key={c.name} c={c} s={p.cards[c.name] ?? {}} p={p} />
        ))}
      </section>
      <Apps {...p} />
      <section aria-labelledby="add-h" class="section">
        <h2 id="add-h">Add another</h2>
        {!adding && !p.add.problem ? (
          <button type="button" onClick={() => setAdding(true)} aria-expanded="false">
            Add a site, server or API token…
          </button>
        ) : (
          <AddAnother {...p.add} />
        )}
      </section>
      <section aria-labelledby="settings-h" class="section">
        <h2 id="settings-h">Settings</h2>
        <label class="check">
          <input type="checkbox" checked={!!p.autostart} disabled={p.autostart === null} onChange={(e) => p.onAutostart(e.currentTarget.checked)} />
          Start Latchkey when I log in
        </label>
      </section>
      <Help p={p} />
    </main>
  );
}

export type { AppStatus };
