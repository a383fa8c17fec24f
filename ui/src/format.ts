// Times and states in words.

import type { AppView, ConnectionView, EntryState } from "./api";

const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** "5 minutes ago", "in 3 hours", "yesterday". */
export function relative(unixSecs: number, nowMs: number = Date.now()): string {
  const diff = unixSecs - Math.round(nowMs / 1000);
  const abs = Math.abs(diff);
  if (abs < 45) return diff <= 0 ? "just now" : "in a moment";
  if (abs < 45 * 60) return rtf.format(Math.round(diff / 60), "minute");
  if (abs < 22 * 3600) return rtf.format(Math.round(diff / 3600), "hour");
  if (abs < 26 * 86400) return rtf.format(Math.round(diff / 86400), "day");
  if (abs < 320 * 86400) return rtf.format(Math.round(diff / (30 * 86400)), "month");
  return rtf.format(Math.round(diff / (365 * 86400)), "year");
}

export function lastUsed(c: ConnectionView): string {
  return c.last_used ? `Last used ${relative(c.last_used)}` : "Not used by an app yet";
}

/** When the user will next have to sign in, in words. */
export function nextSignIn(c: ConnectionView, nowMs: number = Date.now()): string {
  if (c.auth === "none") return "No sign-in needed";
  if (c.auth === "api_token_basic" || c.auth === "api_token_bearer") return "Uses an API token, no sign-in needed";
  if (c.state === "needs_reauth" || c.state === "not_signed_in") return "Sign-in needed now";
  if (c.refreshable) return "Sign-in renews automatically";
  if (c.expires_at) {
    return c.expires_at * 1000 <= nowMs ? "Sign-in has expired" : `Sign in again ${relative(c.expires_at, nowMs)}`;
  }
  return "Sign-in renews when needed";
}

export type Tone = "ok" | "warn" | "bad" | "neutral";

export function stateTone(state: string): Tone {
  switch (state) {
    case "connected":
      return "ok";
    case "expiring_soon":
    case "needs_step_up":
    case "not_signed_in":
      return "warn";
    case "needs_reauth":
    case "upstream_unreachable":
    case "upstream_error":
      return "bad";
    default:
      return "neutral";
  }
}

/** The connection's title: its site when known, else its server's host, else its name. */
export function title(c: ConnectionView): string {
  if (c.site) return c.site;
  if (c.preset === "atlassian") return "Atlassian";
  try {
    return new URL(c.url).hostname;
  } catch {
    return c.name;
  }
}

export function authWords(c: ConnectionView): string {
  switch (c.auth) {
    case "o_auth":
      return "Browser sign-in (OAuth)";
    case "api_token_basic":
      return "Personal API token";
    case "api_token_bearer":
      return "Service account key";
    default:
      return "None";
  }
}

export type AppStatus = "current" | "stale" | "broken" | "foreign" | "missing";

const RANK: Record<AppStatus, number> = { broken: 4, stale: 3, foreign: 2, current: 1, missing: 0 };

/** The worst state of our entry across the app's files, for one connection. */
export function appStatus(app: AppView, connection: string): { status: AppStatus; reason?: string } {
  const files = app.connections.find((c) => c.connection === connection)?.files ?? [];
  let worst: EntryState = { state: "missing" };
  for (const f of files) if (RANK[f.state.state] > RANK[worst.state]) worst = f.state;
  return { status: worst.state, reason: "reason" in worst ? worst.reason : undefined };
}

export function appStatusWords(s: AppStatus): string {
  switch (s) {
    case "current":
      return "Set up";
    case "stale":
      return "Out of date";
    case "broken":
      return "Broken";
    case "foreign":
      return "Has a different server with the same name";
    default:
      return "Not set up";
  }
}
