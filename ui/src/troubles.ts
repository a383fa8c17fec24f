// Guided fixes: the seed's troubleshooting table (flow doesn't launch, redirect fails, access
// denied, no data returned) plus every failure kind the engine classifies, each turned into one
// plain sentence and one button.

import type { CheckReport, ConnectionView, ErrorView } from "./api";

/** What the one button does. The screen showing the problem supplies the behaviour. */
export type Action =
  | "copy_link" // copy the sign-in link (browser did not open)
  | "reauth" // run the browser sign-in again for this connection
  | "retry" // run the same thing again
  | "copy_admin_message" // copy the ready-to-send message shown with the problem
  | "browser_sign_in" // use the browser sign-in instead of an API token
  | "edit_token" // go back to the API-token form
  | "test" // test the connection again
  | "copy_details"; // copy the error's details for an admin or support

export interface Problem {
  /** Stable id, used by tests and for styling. */
  id: string;
  sentence: string;
  action: Action;
  actionLabel: string;
  /** A ready-to-send message (for the admin), shown with a Copy button. */
  adminMessage?: string;
  /** A second line of advice, when one sentence cannot carry it. */
  hint?: string;
  /** The engine's own words and kind, shown only under "Details". */
  detail?: ErrorView;
}

/** Fewer tools than this after a successful sign-in usually means missing scopes. */
export const FEW_TOOLS = 5;

export interface Context {
  site?: string | null;
  account?: string | null;
  /** The problem came from an API-token connect. */
  apiToken?: boolean;
}

export function redirectAdminMessage(site?: string | null): string {
  return [
    "Hi,",
    "",
    `I'm connecting my AI apps to our Atlassian site${site ? ` (${site})` : ""} with Latchkey, which uses Atlassian's official sign-in for the Rovo MCP Server. The sign-in is blocked because our organisation doesn't allow its redirect address.`,
    "",
    "Could you allow sign-in redirects to http://localhost and http://127.0.0.1 in Atlassian Administration (the Rovo MCP Server's allowed domains)? Atlassian counts localhost and 127.0.0.1 as different addresses, so please add both. Both stay on my own computer.",
    "",
    "Thank you!",
  ].join("\n");
}

export function accessAdminMessage(site?: string | null, account?: string | null): string {
  return [
    "Hi,",
    "",
    `I tried to connect my AI apps to ${site ?? "our Atlassian site"} through Atlassian's Rovo MCP Server, and Atlassian said I don't have access.`,
    "",
    `Could you check that my account${account ? ` (${account})` : ""} has product access to Jira and Confluence on ${site ?? "our site"}, and that the Rovo MCP Server is allowed for our organisation?`,
    "",
    "Thank you!",
  ].join("\n");
}

export function apiTokenAdminMessage(): string {
  return [
    "Hi,",
    "",
    "Could you turn on API-token authentication for the Atlassian Rovo MCP Server (Atlassian Administration → Security)? I'd like to connect my AI apps to our Atlassian site with an API token.",
    "",
    "Thank you!",
  ].join("\n");
}

/** Did the org refuse the loopback redirect? (the doctor's `redirect` finding, or the server's words) */
export function isRedirectBlocked(e: ErrorView): boolean {
  if (e.kind === "redirect" || e.kind === "redirect_blocked") return true;
  if (e.kind === "authorization_failed" || e.kind === "registration_rejected" || e.kind === "unknown") {
    return /redirect/i.test(e.message);
  }
  return false;
}

/** The problem an error stands for; `null` when there is nothing to explain (the user cancelled). */
export function fromError(e: ErrorView, ctx: Context = {}): Problem | null {
  const detail = e;
  if (e.kind === "cancelled") return null;
  if (isRedirectBlocked(e)) {
    return {
      id: "redirect_blocked",
      sentence: "Your organisation blocks sign-ins that come back to this computer: an admin must allow localhost and 127.0.0.1 as redirect addresses.",
      action: "copy_admin_message",
      actionLabel: "Copy message for your admin",
      adminMessage: redirectAdminMessage(ctx.site),
      detail,
    };
  }
  switch (e.kind) {
    case "browser_not_opened":
      return { id: "browser_not_opened", sentence: "Your web browser didn't open. Copy the sign-in link and paste it into your browser's address bar.", action: "copy_link", actionLabel: "Copy link", detail };
    case "port_in_use":
      return {
        id: "port_in_use",
        sentence: "Another program is using the connection Latchkey needs to hear back from your browser.",
        hint: "Close any other sign-in windows or apps that are signing in right now, then try again. If it keeps happening, restart your computer.",
        action: "retry",
        actionLabel: "Try again",
        detail,
      };
    case "access_denied":
      return {
        id: "access_denied",
        sentence: "Atlassian denied access. If you didn't press Decline, your account may not have access to Jira or Confluence: check product access with your site admin.",
        action: "copy_admin_message",
        actionLabel: "Copy message for your site admin",
        adminMessage: accessAdminMessage(ctx.site, ctx.account),
        detail,
      };
    case "reauth_required":
    case "invalid_client":
      return { id: "reauth_required", sentence: "Your sign-in has expired or was withdrawn, so you need to sign in again.", action: "reauth", actionLabel: "Re-authenticate", detail };
    case "keychain_unavailable":
      return {
        id: "keychain_unavailable",
        sentence: "Latchkey keeps your sign-in in your computer's keychain, and it couldn't reach it.",
        hint: "Make sure your keychain is installed and running (Keychain on macOS, Credential Manager on Windows, GNOME Keyring or KWallet on Linux), then try again.",
        action: "retry",
        actionLabel: "Try again",
        detail,
      };
    case "keychain_locked":
      return {
        id: "keychain_locked",
        sentence: "Your keychain is locked, so Latchkey can't save or read your sign-in.",
        hint: "Unlock it (sign in to your computer again, or open your Passwords app and unlock the “Login” keyring), then try again.",
        action: "retry",
        actionLabel: "Try again",
        detail,
      };
    case "keychain_corrupt":
    case "keychain_error":
      return { id: "keychain_error", sentence: "Latchkey couldn't use your computer's keychain. Try again; if it keeps failing, restart your computer.", action: "retry", actionLabel: "Try again", detail };
    case "issuer_mismatch":
    case "callback_issuer_mismatch":
    case "resource_mismatch":
      return {
        id: "issuer_mismatch",
        sentence: "The sign-in server didn't identify itself as expected, so Latchkey stopped before sharing anything, to keep you safe.",
        hint: "This is usually a passing problem on the server's side. If it keeps happening, send the details to your IT admin.",
        action: "copy_details",
        actionLabel: "Copy details for your IT admin",
        detail,
      };
    case "api_tokens_disabled":
      return {
        id: "api_tokens_disabled",
        sentence: "Your organisation hasn't turned on API-token access to Atlassian's MCP server. An admin can enable it; until then, sign in with your browser.",
        action: "browser_sign_in",
        actionLabel: "Sign in with browser instead",
        adminMessage: apiTokenAdminMessage(),
        detail,
      };
    case "credential_rejected":
      return { id: "credential_rejected", sentence: "Atlassian didn't accept that API token. Check the email address and the token, and that API-token access is turned on.", action: "edit_token", actionLabel: "Check the token", detail };
    case "timeout":
      return { id: "timeout", sentence: "The sign-in wasn't finished in your browser in time. Start again when you're ready.", action: "retry", actionLabel: "Start again", detail };
    case "network":
      return { id: "network", sentence: "Latchkey couldn't reach Atlassian. Check that you're online, and that your VPN or proxy is connected.", action: "retry", actionLabel: "Try again", detail };
    case "mcp_error":
      return { id: "server_error", sentence: "The server answered with an error. It may be a passing problem: try again in a minute.", action: "retry", actionLabel: "Try again", detail };
    case "state_mismatch":
    case "missing_code":
    case "token_request_failed":
    case "authorization_failed":
    case "registration_rejected":
    case "no_registration":
    case "too_many_attempts":
    case "bad_metadata":
    case "pkce_unsupported":
      return { id: "sign_in_failed", sentence: "The sign-in didn't complete. Start it again; if it keeps failing, send the details to your IT admin.", action: "retry", actionLabel: "Start again", detail };
    default:
      return { id: "other", sentence: e.message || "Something went wrong.", action: ctx.apiToken ? "edit_token" : "retry", actionLabel: ctx.apiToken ? "Check the token" : "Try again", detail };
  }
}

/** A successful check that still looks wrong: no tools, or only a few (missing scopes). */
export function fromReport(r: CheckReport): Problem | null {
  const n = r.tools.length;
  if (n === 0) {
    return {
      id: "no_data",
      sentence: "Connected, but no tools or data came back. The sign-in is probably missing permissions: sign in again and allow Jira and Confluence.",
      action: "reauth",
      actionLabel: "Re-authenticate",
    };
  }
  if (n < FEW_TOOLS) {
    return {
      id: "few_tools",
      sentence: `Only ${n} ${n === 1 ? "tool is" : "tools are"} available, which usually means the sign-in didn't include all permissions (scopes).`,
      hint: "Sign in again and, on Atlassian's consent screen, allow access to Jira and Confluence.",
      action: "reauth",
      actionLabel: "Re-authenticate",
    };
  }
  return null;
}

/** What a connection's saved state asks of the user, if anything. */
export function fromState(c: ConnectionView): Problem | null {
  switch (c.state) {
    case "needs_reauth":
    case "not_signed_in":
      if (c.auth === "api_token_basic" || c.auth === "api_token_bearer") {
        return { id: "token_check", sentence: "This API token hasn't been checked yet, or was refused.", action: "test", actionLabel: "Test connection" };
      }
      return { id: "reauth_required", sentence: c.state === "not_signed_in" ? "You haven't signed in to this connection yet." : "Your sign-in has expired or was withdrawn, so you need to sign in again.", action: "reauth", actionLabel: c.state === "not_signed_in" ? "Sign in" : "Re-authenticate" };
    case "needs_step_up":
      return { id: "needs_step_up", sentence: "An app asked for something this sign-in doesn't allow. Sign in again and approve the extra permissions.", action: "reauth", actionLabel: "Re-authenticate" };
    case "expiring_soon":
      return { id: "expiring_soon", sentence: "This sign-in can't renew itself and runs out soon. Sign in again to keep your apps working.", action: "reauth", actionLabel: "Re-authenticate" };
    case "upstream_unreachable":
      return { id: "network", sentence: "The server couldn't be reached the last time an app used it. Check that you're online, then test again.", action: "test", actionLabel: "Test connection" };
    case "upstream_error":
      return { id: "server_error", sentence: "The server answered with an error the last time an app used it. Test again to see if it's fixed.", action: "test", actionLabel: "Test connection" };
    default:
      return null;
  }
}

/** The "Having trouble?" list: the seed's table, for people looking for help without an error. */
export const COMMON: { id: string; question: string; problem: Problem }[] = [
  { id: "help_browser", question: "The browser didn't open", problem: { id: "browser_not_opened", sentence: "Start the sign-in, then use “Copy link” on the waiting screen and paste the link into your browser.", action: "copy_link", actionLabel: "Copy link" } },
  { id: "help_redirect", question: "The sign-in page says the redirect isn't allowed", problem: { id: "redirect_blocked", sentence: "Your organisation must allow localhost and 127.0.0.1 as redirect addresses. Send this to your admin:", action: "copy_admin_message", actionLabel: "Copy message for your admin", adminMessage: redirectAdminMessage() } },
  { id: "help_access", question: "Atlassian says access was denied", problem: { id: "access_denied", sentence: "Your account may not have access to Jira or Confluence: check product access with your site admin.", action: "copy_admin_message", actionLabel: "Copy message for your site admin", adminMessage: accessAdminMessage() } },
  { id: "help_no_data", question: "My AI app gets no data, or only a few tools", problem: { id: "few_tools", sentence: "The sign-in is probably missing permissions. Sign in again and allow Jira and Confluence on the consent screen.", action: "reauth", actionLabel: "Re-authenticate" } },
];

/** Why an app's settings were left alone, in one sentence (the engine's words stay under Details). */
export function appErrorSentence(e: ErrorView, app: string): string {
  switch (e.kind) {
    case "config_unparseable":
      return `${app}'s settings file has a mistake in it, so Latchkey left it alone. Fix the file, or use Restore backup.`;
    case "config_unexpected_shape":
      return `${app}'s settings file isn't laid out the way Latchkey expects, so Latchkey left it alone.`;
    case "entry_name_taken":
      return `${app} already has a server with this name that Latchkey didn't add, so Latchkey left it alone. Remove or rename it in ${app}, then try again.`;
    case "config_io":
      return `Latchkey couldn't read or save ${app}'s settings file. Close anything that has it open, then try again.`;
    case "no_backup":
      return `There's no backup of ${app}'s settings yet: Latchkey makes one the first time it changes them.`;
    case "client_tool_failed":
      return `${app}'s own setup command failed. Check that ${app} is installed and up to date, then try again.`;
    default:
      return e.message || `Latchkey couldn't change ${app}'s settings.`;
  }
}
