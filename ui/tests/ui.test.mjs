// The window, driven in headless Chromium with Tauri's IPC mocked: onboarding (by keyboard),
// re-auth, every troubleshooting state, app toggles, "Add another", and screenshots.

import { Backend, acme, appsFixture, assert, assertPlainSpoken, clipboard, contrastFailures, eq, now, openPage, report, shot, test } from "./lib.mjs";

const AUTH_URL = "https://auth.atlassian.com/authorize?client_id=abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A33418%2Fcallback&state=xyz";
const T = { timeout: 5000 };

const see = (page, text) => page.getByText(text).first().waitFor(T);
const heading = (page, name) => page.getByRole("heading", { name }).first().waitFor(T);
const button = (scope, name) => scope.getByRole("button", { name, exact: true });
/** Buttons whose accessible name adds the site or app to the visible words ("Test connection acme…"). */
const escapeRe = (s) => s.replace(/[.*+?^$()|[\]\\{}]/g, "\\$&");
const cbutton = (scope, name) => scope.getByRole("button", { name: new RegExp("^" + escapeRe(name)) });
const badge = (scope, text) => scope.locator(".badge", { hasText: text }).waitFor(T);
const card = (page, name) => page.locator(`article[data-connection="${name}"]`);
const row = (page, id) => page.locator(`li.app-row[data-app="${id}"]`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(fn, what) {
  for (let i = 0; i < 100; i++) {
    if (await fn()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function focusVisible(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const st = getComputedStyle(el);
    return { text: el.textContent.trim(), visible: el.matches(":focus-visible") && st.outlineStyle !== "none" && parseFloat(st.outlineWidth) >= 2 };
  });
}

// ---- Onboarding

test("onboarding: keyboard to Connect, waiting + Copy link, connected, apps, done", async (ctx) => {
  const be = new Backend({ connections: [], apps: appsFixture() });
  const signIn = be.hold("connect");
  const { page } = await openPage(ctx, be);
  await heading(page, "Welcome to Latchkey");
  await assertPlainSpoken(page);
  await shot(page, "onboarding-1-welcome");

  // Keyboard: Tab reaches the big button first, with a visible focus ring; Enter starts the sign-in.
  await page.keyboard.press("Tab");
  const f = await focusVisible(page);
  eq(f.text, "Connect Atlassian", "first Tab stop");
  assert(f.visible, "focus ring is visible on the Connect button");
  await page.keyboard.press("Enter");
  await heading(page, "Waiting for you to approve in your browser…");
  eq(be.callsOf("connect"), [{ target: "atlassian" }], "connect args");
  assert(await button(page, "Copy link (getting it…)").isDisabled(), "Copy link waits for the link");

  await be.emit("auth-url", AUTH_URL);
  await button(page, "Copy link").waitFor(T);
  await assertPlainSpoken(page);
  await shot(page, "onboarding-2-waiting");
  // The link is copied, never shown.
  await page.keyboard.press("Tab");
  eq((await focusVisible(page)).text, "Copy link", "Tab reaches Copy link");
  await page.keyboard.press("Enter");
  await button(page, "Copied").waitFor(T);
  eq(await clipboard(page), AUTH_URL, "clipboard holds the sign-in link");

  be.connections = [acme()];
  signIn.resolve(report());
  await be.emitEngine({ type: "connection_changed", name: "atlassian" });
  await heading(page, "Connected to acme.atlassian.net as Jane");
  await see(page, "27 tools are ready for your AI apps.");
  await shot(page, "onboarding-3-connected");

  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter"); // Continue
  await heading(page, "Which apps do you use?");
  for (const id of ["claude-desktop", "cursor", "claude-code"]) assert(await page.locator(`#pick-${id}`).isChecked(), `${id} is pre-ticked`);
  assert(!(await page.locator("#pick-vscode").isVisible()), "apps not found are tucked away");
  await see(page, "Quit Claude Desktop from its tray icon and open it again to finish.");
  // Untick Claude Code with the keyboard-reachable checkbox.
  await page.locator("#pick-claude-code").uncheck();
  await button(page, "Set up 2 apps").waitFor(T);
  await shot(page, "onboarding-4-apps");

  await button(page, "Set up 2 apps").click();
  await heading(page, "You're all set");
  eq(
    be.callsOf("set_app"),
    [
      { app: "claude-desktop", connection: "atlassian", on: true },
      { app: "cursor", connection: "atlassian", on: true },
    ],
    "set_app calls",
  );
  await see(page, "Cursor picks it up on its own; check Settings → MCP.");
  await assertPlainSpoken(page);
  await shot(page, "onboarding-5-done");

  await button(page, "Open Latchkey").click();
  await card(page, "atlassian").waitFor(T);
  await see(page, "Signed in as Jane Doe");
});

test("onboarding: Cancel stops the sign-in and goes back quietly", async (ctx) => {
  const be = new Backend({ connections: [], apps: appsFixture() });
  be.hold("connect");
  const { page } = await openPage(ctx, be);
  await button(page, "Connect Atlassian").click();
  await heading(page, "Waiting for you to approve in your browser…");
  await button(page, "Cancel").click();
  await heading(page, "Welcome to Latchkey");
  eq(be.callsOf("cancel_sign_in").length, 1, "cancel_sign_in called");
  eq(await page.locator(".trouble").count(), 0, "no error shown after cancelling");
});

test("onboarding: an app that cannot be set up is explained in words", async (ctx) => {
  const be = new Backend({ connections: [], apps: appsFixture() });
  be.on("set_app", ({ app }) => {
    const a = be.apps.find((x) => x.id === app);
    if (app === "cursor") return [{ id: a.id, name: a.name, written: [], note: a.note, error: { kind: "config_unparseable", message: "/home/jane/.cursor/mcp.json line 3, column 5: expected `,`" } }];
    return [{ id: a.id, name: a.name, written: ["x"], note: a.note, error: null }];
  });
  const { page } = await openPage(ctx, be);
  await button(page, "Connect Atlassian").click();
  be.connections = [acme()];
  await heading(page, "Connected to acme.atlassian.net as Jane");
  await button(page, "Continue").click();
  await button(page, "Set up 3 apps").click();
  await heading(page, "You're all set");
  await see(page, "Cursor's settings file has a mistake in it, so Latchkey left it alone. Fix the file, or use Restore backup.");
  await assertPlainSpoken(page);
});

// ---- Troubleshooting: every failure kind, from the first sign-in

const TROUBLES = [
  {
    kind: "browser_not_opened",
    message: `Could not open your web browser (no display). Open this link yourself to continue: ${AUTH_URL}`,
    id: "browser_not_opened",
    sentence: "Your web browser didn't open.",
    button: "Copy link",
    check: async (page) => eq(await clipboard(page), AUTH_URL, "link copied"),
  },
  { kind: "port_in_use", message: "Could not listen for the sign-in redirect on 127.0.0.1: address in use.", id: "port_in_use", sentence: "Another program is using the connection", button: "Try again", retries: true },
  {
    kind: "access_denied",
    message: "Access was denied in the browser (access_denied). If you did not decline, ask your site administrator to check that you have access to this product.",
    id: "access_denied",
    sentence: "check product access with your site admin",
    button: "Copy message for your site admin",
    check: async (page) => assert((await clipboard(page)).includes("product access to Jira and Confluence"), "admin message copied"),
  },
  { kind: "reauth_required", message: "The sign-in has expired or was revoked (refresh token was already used). Sign in again.", id: "reauth_required", sentence: "Your sign-in has expired or was withdrawn", button: "Re-authenticate", retries: true },
  { kind: "keychain_unavailable", message: "The system keychain is not available: no Secret Service provider.", id: "keychain_unavailable", sentence: "couldn't reach it", button: "Try again", retries: true },
  { kind: "keychain_locked", message: "The system keychain is locked.", id: "keychain_locked", sentence: "Your keychain is locked", button: "Try again", retries: true },
  {
    kind: "issuer_mismatch",
    message: "The authorization server at https://cf.mcp.atlassian.com identifies itself as https://evil.example. Refusing to continue.",
    id: "issuer_mismatch",
    sentence: "didn't identify itself as expected",
    button: "Copy details for your IT admin",
    check: async (page) => assert((await clipboard(page)).includes("issuer_mismatch"), "details copied"),
  },
  { kind: "timeout", message: "Sign-in timed out after 5 minutes without an answer from the browser.", id: "timeout", sentence: "wasn't finished in your browser in time", button: "Start again", retries: true },
  { kind: "network", message: "Could not reach https://mcp.atlassian.com/v1/mcp: dns error.", id: "network", sentence: "Latchkey couldn't reach Atlassian", button: "Try again", retries: true },
  {
    kind: "authorization_failed",
    message: "The authorization server reported `invalid_request` (The redirect URL is not allowed by your organization's admin: http://localhost:33418/callback). Start the sign-in again.",
    id: "redirect_blocked",
    sentence: "an admin must allow localhost and 127.0.0.1",
    button: "Copy message for your admin",
    shotName: "redirect",
    check: async (page) => {
      const m = await clipboard(page);
      assert(m.includes("http://localhost") && m.includes("http://127.0.0.1"), "admin message names both redirect hosts");
    },
  },
  {
    kind: "redirect",
    message: "The organisation's domain allowlist does not include 127.0.0.1.",
    id: "redirect_blocked",
    sentence: "an admin must allow localhost and 127.0.0.1",
    button: "Copy message for your admin",
    shotName: "redirect-doctor",
    check: async (page) => assert((await clipboard(page)).includes("127.0.0.1"), "admin message copied"),
  },
];

for (const t of TROUBLES) {
  test(`troubleshooting: ${t.shotName ?? t.kind}`, async (ctx) => {
    const be = new Backend({ connections: [], apps: appsFixture() });
    let first = true;
    be.on("connect", () => {
      if (first) {
        first = false;
        throw { kind: t.kind, message: t.message };
      }
      return report();
    });
    const { page } = await openPage(ctx, be);
    await button(page, "Connect Atlassian").click();
    const box = page.locator(`.trouble[data-problem="${t.id}"]`);
    await box.waitFor(T);
    await box.getByText(t.sentence, { exact: false }).first().waitFor(T);
    // Focus moved to the explanation, so a screen reader reads it and Tab reaches its button.
    assert(await box.evaluate((el) => el === document.activeElement), "the explanation takes focus");
    await assertPlainSpoken(page);
    await shot(page, `trouble-${t.shotName ?? t.kind}`);
    // The engine's own words stay under Details until opened.
    const details = box.locator("details", { hasText: "Details" });
    await details.locator("summary").click();
    await box.getByText(t.kind, { exact: true }).waitFor(T);
    const b = button(box, t.button);
    await b.waitFor(T);
    await b.click();
    if (t.check) await t.check(page);
    if (t.retries) {
      await heading(page, "Connected to acme.atlassian.net as Jane");
      eq(be.callsOf("connect").length, 2, "the button ran the sign-in again");
    }
  });
}

test("troubleshooting: API tokens disabled → sign in with the browser instead", async (ctx) => {
  const be = new Backend({ connections: [], apps: appsFixture() });
  be.on("connect", (args) => {
    if (args.apiToken) throw { kind: "api_tokens_disabled", message: "Your organisation has not enabled API-token access for `atlassian`." };
    return report();
  });
  const { page } = await openPage(ctx, be);
  await button(page, "Other ways to connect").click();
  await page.getByLabel("An Atlassian API token").check();
  await see(page, "admin must turn on API-token access");
  await page.getByLabel("Atlassian account email").fill("jane@acme.com");
  await page.getByLabel("API token", { exact: true }).fill("ATATT3xSECRETTOKEN");
  await page.getByLabel("Your Atlassian site").fill("https://acme.atlassian.net/wiki");
  await shot(page, "add-token-form", { fullPage: true });
  await button(page, "Connect with token").click();
  const box = page.locator('.trouble[data-problem="api_tokens_disabled"]');
  await box.waitFor(T);
  eq(be.callsOf("connect")[0], { target: "atlassian", site: "acme.atlassian.net", apiToken: { email: "jane@acme.com", token: "ATATT3xSECRETTOKEN" } }, "token connect args");
  await assertPlainSpoken(page, ["ATATT3xSECRETTOKEN"]);
  await shot(page, "trouble-api_tokens_disabled", { fullPage: true });
  await button(box, "Sign in with browser instead").click();
  await heading(page, "Connected to acme.atlassian.net as Jane");
  eq(be.callsOf("connect")[1], { target: "atlassian" }, "browser sign-in args");
});

test("troubleshooting: a refused API token sends focus back to the token field", async (ctx) => {
  const be = new Backend({ connections: [acme()] });
  be.on("connect", () => {
    throw { kind: "credential_rejected", message: "The server refused the API token for `atlassian-acme`." };
  });
  const { page } = await openPage(ctx, be);
  await button(page, "Add a site, server or API token…").click();
  await page.getByLabel("An Atlassian API token").check();
  await page.getByLabel("Atlassian account email").fill("jane@acme.com");
  await page.getByLabel("API token", { exact: true }).fill("wrong-token");
  await page.getByLabel("Your Atlassian site").fill("acme.atlassian.net");
  await button(page, "Connect with token").click();
  const box = page.locator('.trouble[data-problem="credential_rejected"]');
  await box.waitFor(T);
  eq(be.callsOf("connect")[0].name, "atlassian-acme", "a new name, so the existing sign-in is kept");
  await button(box, "Check the token").click();
  await until(() => page.evaluate(() => document.activeElement?.id === "add-token"), "focus on the token field");
});

// ---- Dashboard

function dashboardBackend() {
  return new Backend({
    connections: [
      acme(),
      acme({ name: "globex", site: "globex.atlassian.net", account: "jane@globex.com", refreshable: false, expires_at: now() + 2 * 3600 + 60, last_used: null, requests: 0, errors: 0 }),
      acme({ name: "docs", url: "https://mcp.docs.example.com/mcp", preset: null, auth: "none", site: null, account: null, summary: "Connected (no sign-in needed)", expires_at: null, refreshable: false, last_used: now() - 86400 * 2 }),
    ],
    apps: appsFixture({
      "claude-desktop": { atlassian: { state: "current" } },
      cursor: { atlassian: { state: "stale", reason: "its key was revoked or replaced" } },
      "claude-code": { atlassian: { state: "broken", reason: "it has no key" } },
    }),
    autostart: true,
  });
}

test("dashboard: cards show site, account, state, last used, next sign-in, tools", async (ctx) => {
  const be = dashboardBackend();
  const { page } = await openPage(ctx, be);
  const a = card(page, "atlassian");
  await a.waitFor(T);
  for (const text of ["acme.atlassian.net", "Connected", "Signed in as Jane Doe", "Last used 5 minutes ago", "Sign-in renews automatically", "Test the connection to count its tools"]) {
    await a.getByText(text, { exact: true }).first().waitFor(T);
  }
  const g = card(page, "globex");
  for (const text of ["Not used by an app yet", "Sign in again in 2 hours"]) await g.getByText(text, { exact: true }).waitFor(T);
  await card(page, "docs").getByText("No sign-in needed", { exact: true }).waitFor(T);
  await card(page, "docs").getByText("mcp.docs.example.com", { exact: true }).waitFor(T);
  // Test connection counts the tools.
  await cbutton(a, "Test connection").click();
  await a.getByText("27 tools available", { exact: true }).waitFor(T);
  await a.getByText("Working: 27 tools available.").waitFor(T);
  eq(be.callsOf("test_connection"), [{ name: "atlassian" }], "test_connection args");
  // Apps: configured state in words.
  await row(page, "claude-desktop").getByText("Set up", { exact: true }).waitFor(T);
  await row(page, "cursor").getByText("Out of date: its key was revoked or replaced").waitFor(T);
  await row(page, "claude-code").getByText("Broken: it has no key").waitFor(T);
  assert(await page.getByRole("switch", { name: "Use acme.atlassian.net in Claude Desktop" }).getAttribute("aria-checked") === "true", "Claude Desktop switch is on");
  await assertPlainSpoken(page);
  await shot(page, "dashboard");
  await shot(page, "dashboard-full", { fullPage: true });
  // Details shows the server address, and only when asked.
  assert(!(await a.getByText("https://mcp.atlassian.com/v1/mcp").isVisible()), "URL hidden until Details");
  await a.locator("summary", { hasText: "Details" }).click();
  await a.getByText("https://mcp.atlassian.com/v1/mcp").waitFor(T);
  // Status is fetched once at start and again only after events: no polling.
  const before = be.callsOf("status").length;
  await sleep(1500);
  eq(be.callsOf("status").length, before, "no status polling while idle");
  await be.emitEngine({ type: "connection_changed", name: "globex" });
  await until(() => be.callsOf("status").length === before + 1, "a refresh after the event");
});

test("full check: each step in words, the failing one with what to do and a message for the admin", async (ctx) => {
  const be = dashboardBackend();
  const admin = "Hi, could you allow the redirect address http://127.0.0.1:33418/callback for our Atlassian app? Thanks.";
  be.on("diagnose", ({ name }) => ({
    name,
    url: "https://mcp.atlassian.com/v1/mcp",
    findings: [
      { check: "network", status: "ok", summary: "The server answers over HTTPS." },
      { check: "registration", status: "warn", summary: "Latchkey registered itself again after the server forgot it." },
      { check: "redirect", status: "fail", summary: "Your organisation only allows sign-in from approved addresses.", action: "Send your admin the message below.", admin_message: admin },
      { check: "tools", status: "skipped", summary: "Not checked: the sign-in must work first." },
    ],
  }));
  const { page } = await openPage(ctx, be);
  const a = card(page, "atlassian");
  await a.waitFor(T);
  await a.locator("summary", { hasText: "Details" }).click();
  await cbutton(a, "Run a full check").click();
  await a.getByText("1 problem found. Follow the steps marked ✗, from the top.").waitFor(T);
  eq(be.callsOf("diagnose"), [{ name: "atlassian" }], "diagnose args");
  for (const text of ["The server answers over HTTPS.", "Your organisation only allows sign-in from approved addresses.", "Send your admin the message below.", "Not checked: the sign-in must work first."]) {
    await a.getByText(text, { exact: true }).waitFor(T);
  }
  // The status is in words for screen readers, not only in a mark.
  await a.locator(".finding.status-fail .sr-only", { hasText: "Broken:" }).waitFor(T);
  await cbutton(a, "Copy message for your admin").click();
  eq(await clipboard(page), admin, "admin message copied");
  await shot(page, "full-check");
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    eq(await contrastFailures(page), [], `contrast failures in the full check (${scheme})`);
  }
  await page.emulateMedia({ colorScheme: "light" });
  // A check that cannot run says so, and the button stays usable.
  be.on("diagnose", () => {
    throw { kind: "storage", message: "Latchkey's settings could not be read." };
  });
  await cbutton(a, "Run a full check").click();
  await a.getByRole("alert").getByText("The check could not run: Latchkey's settings could not be read.").waitFor(T);
  assert(await cbutton(a, "Run a full check").isEnabled(), "the button is usable again");
});

test("dashboard: contrast is WCAG AA in light and dark", async (ctx) => {
  const be = dashboardBackend();
  be.on("test_connection", () => report({ tools: ["a", "b"] }));
  const { page } = await openPage(ctx, be);
  await card(page, "atlassian").waitFor(T);
  await cbutton(card(page, "atlassian"), "Test connection").click();
  await page.locator(".trouble").first().waitFor(T);
  await button(page, "Add a site, server or API token…").click();
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    const fails = await contrastFailures(page);
    eq(fails, [], `contrast failures (${scheme})`);
  }
});

test("re-auth: a card that needs sign-in, Re-authenticate, live update from the event", async (ctx) => {
  const be = new Backend({ connections: [acme({ state: "needs_reauth", summary: "Needs sign-in again: refresh token was already used", refreshable: false, expires_at: now() - 60 })] });
  const { page } = await openPage(ctx, be);
  const a = card(page, "atlassian");
  await badge(a, "Needs sign-in");
  await a.getByText("Sign-in needed now", { exact: true }).waitFor(T);
  await a.locator('.trouble[data-problem="reauth_required"]').waitFor(T);
  await shot(page, "reauth-needed");
  const signIn = be.hold("reauth");
  await button(a.locator(".trouble"), "Re-authenticate").click();
  await heading(page, "Waiting for you to approve in your browser…");
  await see(page, "Sign in to acme.atlassian.net again in your browser");
  eq(be.callsOf("reauth"), [{ name: "atlassian" }], "reauth args");
  await be.emit("auth-url", AUTH_URL);
  await shot(page, "reauth-waiting");
  be.connections = [acme()];
  signIn.resolve(report());
  await be.emitEngine({ type: "connection_changed", name: "atlassian" });
  await badge(a, "Connected");
  await see(page, "Signed in again. Connected to acme.atlassian.net as Jane.");
  eq(await a.locator(".trouble").count(), 0, "the problem is gone");
  await shot(page, "reauth-done");
});

test("re-auth: the card's own button, and a failure explained on the card", async (ctx) => {
  const be = new Backend();
  be.on("reauth", () => {
    throw { kind: "access_denied", message: "Access was denied in the browser." };
  });
  const { page } = await openPage(ctx, be);
  const a = card(page, "atlassian");
  await cbutton(a, "Re-authenticate").click();
  const box = a.locator('.trouble[data-problem="access_denied"]');
  await box.waitFor(T);
  await box.getByLabel("Message to send").waitFor(T);
  assert((await box.getByLabel("Message to send").inputValue()).includes("acme.atlassian.net"), "message names the site");
  await shot(page, "trouble-access_denied-card");
});

for (const [n, id] of [
  [3, "few_tools"],
  [0, "no_data"],
]) {
  test(`troubleshooting: ${id} after Test connection → Re-authenticate`, async (ctx) => {
    const be = new Backend();
    be.on("test_connection", () => report({ tools: ["atlassianUserInfo", "getAccessibleAtlassianResources", "search"].slice(0, n) }));
    const { page } = await openPage(ctx, be);
    const a = card(page, "atlassian");
    await cbutton(a, "Test connection").click();
    const box = a.locator(`.trouble[data-problem="${id}"]`);
    await box.waitFor(T);
    await a.getByText(`${n} tools available`, { exact: true }).waitFor(T);
    await shot(page, `trouble-${id}`);
    await button(box, "Re-authenticate").click();
    await until(() => be.callsOf("reauth").length === 1, "reauth call");
    await a.getByText("Working: 27 tools available.").waitFor(T);
  });
}

test("troubleshooting: Test connection errors (network, keychain locked) offer their fix", async (ctx) => {
  const be = new Backend();
  let calls = 0;
  be.on("test_connection", () => {
    calls++;
    if (calls === 1) throw { kind: "network", message: "Could not reach https://mcp.atlassian.com/v1/mcp: connection refused." };
    if (calls === 2) throw { kind: "keychain_locked", message: "The system keychain is locked." };
    return report();
  });
  const { page } = await openPage(ctx, be);
  const a = card(page, "atlassian");
  await cbutton(a, "Test connection").click();
  await a.locator('.trouble[data-problem="network"]').waitFor(T);
  await button(a.locator(".trouble"), "Try again").click();
  await a.locator('.trouble[data-problem="keychain_locked"]').waitFor(T);
  await button(a.locator(".trouble"), "Try again").click();
  await a.getByText("Working: 27 tools available.").waitFor(T);
  eq(be.callsOf("reauth").length, 0, "Try again re-ran the test, not a sign-in");
});

test("dashboard: Disconnect asks first, then the card goes (and onboarding returns)", async (ctx) => {
  const be = new Backend();
  const { page } = await openPage(ctx, be);
  const a = card(page, "atlassian");
  await cbutton(a, "Disconnect").click();
  await see(page, "Disconnect acme.atlassian.net?");
  // Focus moved to the confirm button; Escape-free keyboard path: Tab to "Keep it".
  eq((await focusVisible(page)).text, "Yes, disconnect", "confirm button focused");
  await page.keyboard.press("Enter");
  await heading(page, "Welcome to Latchkey");
  eq(be.callsOf("disconnect"), [{ name: "atlassian" }], "disconnect args");
});

// ---- Apps

test("apps: toggles on and off, Update, Restore backup, errors, by keyboard too", async (ctx) => {
  const be = dashboardBackend();
  const { page } = await openPage(ctx, be);
  await card(page, "atlassian").waitFor(T);

  // Switch on Claude Code... it is broken; switch off Claude Desktop by keyboard (Space).
  const cd = page.getByRole("switch", { name: "Use acme.atlassian.net in Claude Desktop" });
  await cd.focus();
  assert((await focusVisible(page)).visible, "focus ring on the switch");
  await page.keyboard.press("Space");
  await row(page, "claude-desktop").getByText("Removed from Claude Desktop.").waitFor(T);
  await row(page, "claude-desktop").getByText("Not set up", { exact: true }).waitFor(T);
  eq(await cd.getAttribute("aria-checked"), "false", "switch off");

  await cd.click();
  await row(page, "claude-desktop").getByText("Added. Quit Claude Desktop from its tray icon and open it again to finish.").waitFor(T);
  eq(await cd.getAttribute("aria-checked"), "true", "switch on");

  await cbutton(row(page, "cursor"), "Update").click();
  await row(page, "cursor").getByText("Set up", { exact: true }).waitFor(T);

  await cbutton(row(page, "claude-code"), "Restore backup").click();
  await row(page, "claude-code").getByText("Put back Claude Code's previous settings.", { exact: false }).waitFor(T);

  eq(
    be.callsOf("set_app"),
    [
      { app: "claude-desktop", connection: "atlassian", on: false },
      { app: "claude-desktop", connection: "atlassian", on: true },
      { app: "cursor", connection: "atlassian", on: true },
    ],
    "set_app calls",
  );
  eq(be.callsOf("restore_app"), [{ app: "claude-code" }], "restore_app args");

  // The apps section can target the other connection.
  await page.getByLabel("Set up apps for").selectOption("globex");
  await page.getByRole("switch", { name: "Use globex.atlassian.net in Cursor" }).click();
  eq(be.callsOf("set_app").at(-1), { app: "cursor", connection: "globex", on: true }, "per-connection toggle");

  // Errors: no backup, and a config Latchkey will not touch.
  be.on("restore_app", () => {
    throw { kind: "no_backup", message: "No backup of Windsurf's config was found." };
  });
  be.on("set_app", ({ app }) => [{ id: app, name: "Windsurf", written: [], note: "", error: { kind: "config_unparseable", message: "/home/jane/.codeium/windsurf/mcp_config.json line 1: expected value" } }]);
  await page.locator("summary", { hasText: "Apps not found on this computer" }).click();
  await cbutton(row(page, "windsurf"), "Restore backup").click();
  await row(page, "windsurf").getByText("There's no backup of Windsurf's settings yet", { exact: false }).waitFor(T);
  await page.getByRole("switch", { name: "Use globex.atlassian.net in Windsurf" }).click();
  await row(page, "windsurf").getByText("Windsurf's settings file has a mistake in it", { exact: false }).waitFor(T);
  await assertPlainSpoken(page);
  await row(page, "windsurf").scrollIntoViewIfNeeded();
  await shot(page, "apps-errors");
});

test("apps: an app that wiped its setup is restored, told live by the event", async (ctx) => {
  const be = dashboardBackend();
  const { page } = await openPage(ctx, be);
  await card(page, "atlassian").waitFor(T);
  const appsCalls = be.callsOf("apps").length;
  await be.emitEngine({ type: "client_restored", app: "claude-desktop", app_name: "Claude Desktop", connection: "atlassian" });
  await see(page, "Claude Desktop removed its Atlassian setup, so Latchkey put it back.");
  await until(() => be.callsOf("apps").length === appsCalls + 1, "apps refreshed");
  await shot(page, "client-restored");
  await button(page, "Dismiss message").click();
  eq(await page.getByText("Latchkey put it back").count(), 0, "notice dismissed");
});

// ---- Add another, settings

test("add another: another Atlassian site and a server by URL", async (ctx) => {
  const be = new Backend();
  be.on("connect", (args) => report({ name: args.name ?? "x", site: args.target === "atlassian" ? "globex.atlassian.net" : null, account: args.target === "atlassian" ? "Jane" : null, tools: ["a", "b", "c", "d", "e", "f"] }));
  const { page } = await openPage(ctx, be);
  await button(page, "Add a site, server or API token…").click();
  await button(page, "Connect another site").click();
  await see(page, "Connected to globex.atlassian.net as Jane.");
  eq(be.callsOf("connect")[0], { target: "atlassian", name: "atlassian-2" }, "second site gets its own name");

  await button(page, "Add a site, server or API token…").click();
  await page.getByLabel("Any MCP server, by its address").check();
  await page.getByLabel("Server address").fill("http://mcp.example.com/mcp");
  await button(page, "Connect server").click();
  await see(page, "Use an address that starts with https://");
  assert((await page.getByLabel("Server address").getAttribute("aria-invalid")) === "true", "field marked invalid");
  await page.getByLabel("Server address").fill("https://mcp.example.com/mcp");
  await page.getByLabel("Short name").fill("example");
  await shot(page, "add-url-form", { fullPage: true });
  await button(page, "Connect server").click();
  await see(page, "Connected to Atlassian.");
  eq(be.callsOf("connect")[1], { target: "https://mcp.example.com/mcp", name: "example" }, "URL connect args");
});

test("settings: Start at login", async (ctx) => {
  const be = new Backend({ autostart: false });
  const { page } = await openPage(ctx, be);
  const box = page.getByLabel("Start Latchkey when I log in");
  await box.waitFor(T);
  assert(!(await box.isChecked()), "off at first");
  await box.check();
  eq(be.callsOf("set_autostart"), [{ on: true }], "set_autostart args");
});

test("help: the seed's table, each with its action", async (ctx) => {
  const be = new Backend();
  const { page } = await openPage(ctx, be);
  await page.locator("summary", { hasText: "The sign-in page says the redirect isn't allowed" }).click();
  await button(page, "Copy message for your admin").click();
  assert((await clipboard(page)).includes("http://127.0.0.1"), "redirect message copied");
  await page.locator("summary", { hasText: "My AI app gets no data, or only a few tools" }).click();
  await page.locator('[data-help="help_no_data"]').getByRole("button", { name: "Re-authenticate" }).click();
  await until(() => be.callsOf("reauth").length === 1, "reauth from help");
  await page.locator('[data-help="help_redirect"]').scrollIntoViewIfNeeded();
  await shot(page, "help");
});

// ---- Sign-ins the tray started, and the tray's "navigate"

test("tray: a re-auth started from the tray or a notification shows live, then updates the card", async (ctx) => {
  const be = new Backend({ connections: [acme({ state: "needs_reauth", summary: "Needs sign-in again: refresh token was already used", refreshable: false })] });
  const { page } = await openPage(ctx, be);
  await badge(card(page, "atlassian"), "Needs sign-in");
  await be.emit("sign-in", { name: "atlassian", phase: "waiting", report: null, error: null });
  await heading(page, "Waiting for you to approve in your browser…");
  await see(page, "Sign in to acme.atlassian.net again in your browser");
  await be.emit("auth-url", AUTH_URL);
  await button(page, "Copy link").waitFor(T);
  be.connections = [acme()];
  await be.emit("sign-in", { name: "atlassian", phase: "done", report: report(), error: null });
  await badge(card(page, "atlassian"), "Connected");
  await see(page, "Connected to acme.atlassian.net as Jane.");
  // A failed one lands on the card, explained.
  await be.emit("sign-in", { name: "atlassian", phase: "waiting", report: null, error: null });
  await heading(page, "Waiting for you to approve in your browser…");
  await button(page, "Cancel").click();
  eq(be.callsOf("cancel_sign_in").length, 1, "Cancel reaches the engine");
  await be.emit("sign-in", { name: "atlassian", phase: "failed", report: null, error: { kind: "port_in_use", message: "Could not listen on 127.0.0.1:33418" } });
  await card(page, "atlassian").locator('.trouble[data-problem="port_in_use"]').waitFor(T);
});

test("tray: Connect Atlassian from the tray during onboarding, and navigate to apps", async (ctx) => {
  const be = new Backend({ connections: [], apps: appsFixture() });
  const { page } = await openPage(ctx, be);
  await heading(page, "Welcome to Latchkey");
  await be.emit("sign-in", { name: null, phase: "waiting", report: null, error: null });
  await heading(page, "Waiting for you to approve in your browser…");
  be.connections = [acme()];
  await be.emit("sign-in", { name: "atlassian", phase: "done", report: report(), error: null });
  await heading(page, "Connected to acme.atlassian.net as Jane");
  await be.emit("navigate", { to: "apps" });
  await heading(page, "Which apps do you use?");
  await be.emit("navigate", { to: "dashboard" });
  await card(page, "atlassian").waitFor(T);
  await be.emit("navigate", { to: "apps" });
  await heading(page, "Apps");
  await until(() => page.evaluate(() => document.activeElement?.id === "apps-h"), "focus on the Apps heading");
  await be.emit("navigate", { to: "onboarding" });
  await heading(page, "Welcome to Latchkey");
  await button(page, "Back to my connections").click();
  await card(page, "atlassian").waitFor(T);
});

test("tray: a window opened by the tray shows what the tray asked for before it existed", async (ctx) => {
  const be = new Backend({ apps: appsFixture() });
  be.on("window_state", () => ({ view: "apps", sign_in: null }));
  const { page } = await openPage(ctx, be);
  await heading(page, "Apps");
  const pending = new Backend({ connections: [acme()], apps: appsFixture() });
  pending.on("window_state", () => ({ view: null, sign_in: { name: "atlassian", phase: "waiting", report: null, error: null } }));
  const second = await openPage(ctx, pending);
  await heading(second.page, "Waiting for you to approve in your browser…");
});
