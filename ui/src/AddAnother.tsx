// "Add another": a second Atlassian site, any MCP server by its address, or an Atlassian API token.

import { useEffect, useRef, useState } from "preact/hooks";
import { Trouble } from "./components";
import type { Action, Problem } from "./troubles";

export type AddKind = "site" | "url" | "token";

export interface AddForm {
  kind: AddKind;
  url: string;
  urlName: string;
  email: string;
  token: string;
  site: string;
}

export const emptyForm: AddForm = { kind: "site", url: "", urlName: "", email: "", token: "", site: "" };

export interface AddProps {
  form: AddForm;
  setForm: (f: AddForm) => void;
  problem: Problem | null;
  onProblemAction: (a: Action) => void;
  onAddSite: () => void;
  onAddUrl: (url: string, name?: string) => void;
  onAddToken: (email: string, token: string, site: string) => void;
  /** Bumped to move focus to the token field ("Check the token"). */
  focusToken: number;
}

/** `https://acme.atlassian.net/wiki` → `acme.atlassian.net`. */
export function cleanSite(s: string): string {
  return s.trim().replace(/^https?:\/\//i, "").replace(/\/.*$/, "").toLowerCase();
}

export function validUrl(s: string): string | null {
  try {
    const u = new URL(s.trim());
    if (u.protocol === "https:") return null;
    if (u.protocol === "http:" && (u.hostname === "127.0.0.1" || u.hostname === "localhost" || u.hostname === "[::1]")) return null;
    return "Use an address that starts with https://";
  } catch {
    return "Enter the server's full address, for example https://mcp.example.com/mcp";
  }
}

const NAME_RE = /^[a-z0-9_-]+$/;

const KINDS: [AddKind, string][] = [
  ["site", "Another Atlassian site"],
  ["url", "Any MCP server, by its address"],
  ["token", "An Atlassian API token"],
];

export function AddAnother(p: AddProps & { kinds?: AddKind[]; legend?: string }) {
  const kinds = p.kinds ?? ["site", "url", "token"];
  const f = kinds.includes(p.form.kind) ? p.form : { ...p.form, kind: kinds[0] };
  const set = (patch: Partial<AddForm>) => p.setForm({ ...f, ...patch });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const tokenRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (p.focusToken) tokenRef.current?.focus();
  }, [p.focusToken]);

  function submitUrl(e: Event) {
    e.preventDefault();
    const err: Record<string, string> = {};
    const u = validUrl(f.url);
    if (u) err.url = u;
    if (f.urlName.trim() && !NAME_RE.test(f.urlName.trim())) err.urlName = "Use lowercase letters, digits, - and _ only.";
    setErrors(err);
    if (Object.keys(err).length === 0) p.onAddUrl(f.url.trim(), f.urlName.trim() || undefined);
  }
  function submitToken(e: Event) {
    e.preventDefault();
    const err: Record<string, string> = {};
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(f.email.trim())) err.email = "Enter the email address of your Atlassian account.";
    if (!f.token.trim()) err.token = "Paste the API token you created.";
    const site = cleanSite(f.site);
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(site)) err.site = "Enter your site's address, for example acme.atlassian.net";
    setErrors(err);
    if (Object.keys(err).length === 0) p.onAddToken(f.email.trim(), f.token.trim(), site);
  }
  const fieldErr = (k: string) =>
    errors[k] ? (
      <p class="field-error" id={`err-${k}`}>
        {errors[k]}
      </p>
    ) : null;
  const desc = (k: string, hint?: string) => [errors[k] ? `err-${k}` : "", hint ?? ""].filter(Boolean).join(" ") || undefined;

  return (
    <div class="add">
      <fieldset class="choice">
        <legend>{p.legend ?? "What do you want to add?"}</legend>
        {KINDS.filter(([k]) => kinds.includes(k)).map(([k, label]) => (
          <label key={k} class="radio">
            <input type="radio" name="add-kind" value={k} checked={f.kind === k} onChange={() => set({ kind: k })} />
            {label}
          </label>
        ))}
      </fieldset>

      {p.problem && <Trouble problem={p.problem} onAction={p.onProblemAction} focus />}

      {f.kind === "site" && (
        <div class="add-form">
          <p>Your browser opens Atlassian's consent screen. Pick the other site there.</p>
          <button type="button" class="primary" onClick={p.onAddSite}>
            Connect another site
          </button>
        </div>
      )}

      {f.kind === "url" && (
        <form class="add-form" onSubmit={submitUrl} noValidate>
          <label for="add-url">Server address</label>
          <input id="add-url" type="url" inputMode="url" autoComplete="off" spellcheck={false} placeholder="https://mcp.example.com/mcp" value={f.url} aria-invalid={!!errors.url} aria-describedby={desc("url")} onInput={(e) => set({ url: e.currentTarget.value })} />
          {fieldErr("url")}
          <label for="add-url-name">
            Short name <span class="muted">(optional)</span>
          </label>
          <input id="add-url-name" type="text" autoComplete="off" spellcheck={false} placeholder="my-server" value={f.urlName} aria-invalid={!!errors.urlName} aria-describedby={desc("urlName")} onInput={(e) => set({ urlName: e.currentTarget.value })} />
          {fieldErr("urlName")}
          <button type="submit" class="primary">
            Connect server
          </button>
        </form>
      )}

      {f.kind === "token" && (
        <form class="add-form" onSubmit={submitToken} noValidate>
          <p id="token-help">
            For organisations that allow it: an <strong>admin must turn on API-token access</strong> for Atlassian's MCP server first. Create a token at id.atlassian.com → Security → API tokens. If you're not sure, use the browser sign-in instead.
          </p>
          <label for="add-email">Atlassian account email</label>
          <input id="add-email" type="email" autoComplete="email" value={f.email} aria-invalid={!!errors.email} aria-describedby={desc("email")} onInput={(e) => set({ email: e.currentTarget.value })} />
          {fieldErr("email")}
          <label for="add-token">API token</label>
          <input id="add-token" ref={tokenRef} type="password" autoComplete="off" spellcheck={false} value={f.token} aria-invalid={!!errors.token} aria-describedby={desc("token", "token-help")} onInput={(e) => set({ token: e.currentTarget.value })} />
          {fieldErr("token")}
          <label for="add-site">Your Atlassian site</label>
          <input id="add-site" type="text" inputMode="url" autoComplete="off" spellcheck={false} placeholder="acme.atlassian.net" value={f.site} aria-invalid={!!errors.site} aria-describedby={desc("site")} onInput={(e) => set({ site: e.currentTarget.value })} />
          {fieldErr("site")}
          <button type="submit" class="primary">
            Connect with token
          </button>
        </form>
      )}
    </div>
  );
}
