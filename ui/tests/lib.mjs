// Test plumbing: a static server for ui/dist on 127.0.0.1, headless Debian Chromium through
// playwright-core, a fake engine behind Tauri's mocked IPC, screenshots, and a tiny registry.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const UI = path.resolve(here, "..");
const DIST = path.join(UI, "dist");
const MOCK = path.join(here, ".harness", "mock.js");
export const SHOTS = path.join(UI, "test-results", "screenshots");

// ---- registry

export const tests = [];
export function test(name, fn) {
  tests.push({ name, fn });
}

export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

export function eq(actual, expected, msg) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${msg}: expected ${e}, got ${a}`);
}

// ---- static server

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon" };

export function serve() {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url, "http://127.0.0.1");
      let file = path.join(DIST, decodeURIComponent(url.pathname));
      if (!file.startsWith(DIST)) {
        res.writeHead(403).end();
        return;
      }
      if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
      fs.readFile(file, (err, data) => {
        if (err) {
          res.writeHead(404).end("not found");
          return;
        }
        res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" });
        res.end(data);
      });
    });
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
}

// ---- fixtures

export const now = () => Math.floor(Date.now() / 1000);

export function acme(patch = {}) {
  return {
    name: "atlassian",
    url: "https://mcp.atlassian.com/v1/mcp",
    preset: "atlassian",
    auth: "o_auth",
    state: "connected",
    summary: "Connected",
    account: "Jane Doe",
    site: "acme.atlassian.net",
    expires_at: now() + 3600,
    refreshable: true,
    requests: 42,
    errors: 1,
    last_used: now() - 300,
    allow_keyless: false,
    ...patch,
  };
}

export const TOOLS = [
  "atlassianUserInfo", "getAccessibleAtlassianResources", "getJiraIssue", "editJiraIssue", "createJiraIssue", "searchJiraIssuesUsingJql",
  "getTransitionsForJiraIssue", "transitionJiraIssue", "addCommentToJiraIssue", "getVisibleJiraProjects", "getJiraProjectIssueTypesMetadata",
  "lookupJiraAccountId", "getJiraIssueRemoteIssueLinks", "getConfluenceSpaces", "getConfluencePage", "getPagesInConfluenceSpace",
  "getConfluencePageFooterComments", "getConfluencePageInlineComments", "getConfluencePageDescendants", "createConfluencePage",
  "updateConfluencePage", "createConfluenceFooterComment", "createConfluenceInlineComment", "searchConfluenceUsingCql", "search", "fetch", "getJiraIssueWorklog",
];

export function report(patch = {}) {
  return { name: "atlassian", url: "https://mcp.atlassian.com/v1/mcp", server: "Atlassian Rovo MCP", protocol_version: "2025-06-18", tools: TOOLS, site: "acme.atlassian.net", account: "Jane", notes: [], ...patch };
}

const APP_DEFS = [
  ["claude-desktop", "Claude Desktop", true, "Quit Claude Desktop from its tray icon and open it again to finish.", "/home/jane/.config/Claude/claude_desktop_config.json"],
  ["cursor", "Cursor", true, "Cursor picks it up on its own; check Settings → MCP.", "/home/jane/.cursor/mcp.json"],
  ["claude-code", "Claude Code", true, "Start a new Claude Code session to pick it up.", "/home/jane/.claude.json"],
  ["vscode", "VS Code", false, "VS Code picks it up on its own; start the server from the MCP view if asked.", "/home/jane/.config/Code/User/mcp.json"],
  ["windsurf", "Windsurf", false, "Press Refresh in Windsurf's MCP settings.", "/home/jane/.codeium/windsurf/mcp_config.json"],
  ["zed", "Zed", false, "Zed reloads its settings on its own.", "/home/jane/.config/zed/settings.json"],
];

export function appsFixture(states = {}) {
  return APP_DEFS.map(([id, name, installed, note, file]) => ({
    id,
    name,
    installed,
    note,
    connections: Object.entries(states[id] ?? {}).map(([connection, state]) => ({ connection, files: [{ path: file, state }] })),
  }));
}

export function appFile(id) {
  return APP_DEFS.find((a) => a[0] === id)[4];
}

// ---- fake engine

export function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class Backend {
  constructor({ connections = [acme()], apps = appsFixture({ "claude-desktop": { atlassian: { state: "current" } } }), autostart = false } = {}) {
    this.connections = connections;
    this.apps = apps;
    this.autostart = autostart;
    this.calls = [];
    this.handlers = {};
    this.page = null;
    this.pendingSignIn = null;
  }

  /** Overrides one command; `fn(args)` returns the value or throws `{kind, message}`. */
  on(cmd, fn) {
    this.handlers[cmd] = fn;
  }

  /** Makes a sign-in command wait until the test settles it (`.resolve(report)` / `.reject(err)`). */
  hold(cmd) {
    const d = deferred();
    this.pendingSignIn = d;
    this.on(cmd, () => d.promise);
    return d;
  }

  /** The args of each call of `cmd`, without the `null`s the generated bindings send for absent options. */
  callsOf(cmd) {
    const strip = (v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, strip(x)])) : v);
    return this.calls.filter((c) => c.cmd === cmd).map((c) => strip(c.args));
  }

  async handle(cmd, args) {
    this.calls.push({ cmd, args });
    try {
      const h = this.handlers[cmd] ?? this.defaults[cmd];
      if (!h) throw { kind: "unknown", message: `the fake engine has no ${cmd}` };
      return { ok: await h.call(this, args) };
    } catch (e) {
      return { err: e instanceof Error ? { kind: "unknown", message: e.message } : e };
    }
  }

  defaults = {
    status() {
      return this.connections;
    },
    apps() {
      return this.apps;
    },
    get_autostart() {
      return this.autostart;
    },
    window_state() {
      return { view: null, sign_in: null };
    },
    set_autostart({ on }) {
      this.autostart = on;
      return null;
    },
    connect() {
      return report();
    },
    reauth({ name }) {
      return report({ name });
    },
    test_connection({ name }) {
      return report({ name });
    },
    diagnose({ name }) {
      const c = this.connections.find((x) => x.name === name);
      return {
        name,
        url: c?.url ?? "",
        findings: [
          { check: "network", status: "ok", summary: "The server answers over HTTPS." },
          { check: "tokens", status: "ok", summary: "The sign-in is valid and renews automatically." },
        ],
      };
    },
    cancel_sign_in() {
      this.pendingSignIn?.reject({ kind: "cancelled", message: "Sign-in was cancelled." });
      return null;
    },
    disconnect({ name }) {
      this.connections = this.connections.filter((c) => c.name !== name);
      setTimeout(() => this.emitEngine({ type: "connection_removed", name }), 10);
      return true;
    },
    set_app({ app, connection, on }) {
      const a = this.apps.find((x) => x.id === app);
      a.connections = a.connections.filter((c) => c.connection !== connection);
      if (on) a.connections.push({ connection, files: [{ path: appFile(app), state: { state: "current" } }] });
      return [{ id: a.id, name: a.name, written: [appFile(app)], note: a.note, error: null }];
    },
    restore_app({ app }) {
      return [appFile(app)];
    },
  };

  async emit(event, payload) {
    await this.page.evaluate(([e, p]) => window.__mock.emit(e, p), [event, payload]);
  }

  emitEngine(payload) {
    return this.emit("engine-event", payload);
  }
}

// ---- pages

export async function openPage(ctx, backend, { colorScheme = "light" } = {}) {
  const context = await ctx.browser.newContext({ viewport: { width: 420, height: 640 }, deviceScaleFactor: 1, colorScheme, reducedMotion: "reduce" });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: ctx.url.replace(/\/$/, "") });
  ctx.contexts?.push(context);
  const page = await context.newPage();
  page.on("pageerror", (e) => ctx.errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") ctx.errors.push(m.text());
  });
  await page.exposeFunction("__backend", (cmd, args) => backend.handle(cmd, args));
  await page.addInitScript({ path: MOCK });
  backend.page = page;
  await page.goto(ctx.url);
  return { page, context };
}

export async function clipboard(page) {
  return page.evaluate(() => navigator.clipboard.readText());
}

/** Saves `name-light.png` and `name-dark.png` of the window (420×640) or the whole page. */
export async function shot(page, name, { fullPage = false } = {}) {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${scheme}.png`), fullPage });
  }
  await page.emulateMedia({ colorScheme: "light" });
}

/** Text the user can see must never show a token, a port or JSON (outside opened Details). */
export async function assertPlainSpoken(page, secrets = []) {
  const text = await page.evaluate(() => {
    const out = [];
    const walk = (el) => {
      if (el.tagName === "DETAILS" && !el.open) {
        const s = el.querySelector("summary");
        if (s) out.push(s.innerText);
        return;
      }
      if (el.tagName === "TEXTAREA") {
        out.push(el.value);
        return;
      }
      for (const c of el.childNodes) {
        if (c.nodeType === 3) out.push(c.textContent);
        else if (c.nodeType === 1 && getComputedStyle(c).display !== "none" && !c.classList.contains("sr-only")) walk(c);
      }
    };
    walk(document.body);
    return out.join(" ");
  });
  assert(!/127\.0\.0\.1:\d+|localhost:\d+/.test(text), `a port is visible: ${text}`);
  assert(!/[{}]/.test(text), `JSON is visible: ${text}`);
  assert(!/Bearer|access_token|refresh_token/i.test(text), `a token word is visible: ${text}`);
  for (const s of secrets) assert(!text.includes(s), `a secret is visible`);
}

/** A basic WCAG AA contrast check over every visible text node (axe-like, no dependency). */
export async function contrastFailures(page) {
  return page.evaluate(() => {
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const blend = (top, bottom) => ({ r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a), b: top.b * top.a + bottom.b * (1 - top.a), a: 1 });
    const bgOf = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0) {
          layers.push(c);
          if (c.a === 1) break;
        }
      }
      let bg = { r: 255, g: 255, b: 255, a: 1 };
      for (const l of layers.reverse()) bg = blend(l, bg);
      return bg;
    };
    const fails = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim()) continue;
      const el = n.parentElement;
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height || el.closest(".sr-only")) continue;
      const st = getComputedStyle(el);
      if (st.visibility === "hidden") continue;
      let opacity = 1;
      for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
      const disabled = el.closest("button:disabled, input:disabled");
      if (disabled) continue; // WCAG exempts inactive controls
      const bg = bgOf(el);
      const fg = blend({ ...parse(st.color), a: parse(st.color).a * opacity }, bg);
      const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(st.fontSize);
      const bold = Number(st.fontWeight) >= 700;
      const large = size >= 24 || (bold && size >= 18.66);
      if (ratio < (large ? 3 : 4.5)) fails.push(`${ratio.toFixed(2)} "${n.textContent.trim().slice(0, 40)}"`);
    }
    return fails;
  });
}
