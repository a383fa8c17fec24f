// The window's state and the calls it makes. Core's events drive every refresh: no polling.

import { useEffect, useRef, useState } from "preact/hooks";
import { api, onAuthUrl, onEngineEvent, onNavigate, onSignIn, toErrorView, type AppView, type CheckReport, type ConnectionView, type ErrorView } from "./api";
import { Trouble, Waiting, type WaitInfo } from "./components";
import { Dashboard, type AppRowState, type CardState } from "./Dashboard";
import { Onboarding, connectedLine, toResult, type AppResult, type Step } from "./Onboarding";
import { emptyForm, type AddForm, type AddProps } from "./AddAnother";
import { title } from "./format";
import { appErrorSentence, fromError, fromReport, type Action, type Problem } from "./troubles";

type Outcome<T> = { ok: true; value: T } | { ok: false; error: ErrorView };

const BROWSER_TITLE = "Waiting for you to approve in your browser…";

function browserWait(text: string): WaitInfo {
  return { title: BROWSER_TITLE, text, browser: true };
}

export function uniqueName(base: string, taken: string[]): string {
  if (!taken.includes(base)) return base;
  for (let i = 2; ; i++) if (!taken.includes(`${base}-${i}`)) return `${base}-${i}`;
}

export function App() {
  const [conns, setConns] = useState<ConnectionView[] | null>(null);
  const [loadProblem, setLoadProblem] = useState<Problem | null>(null);
  const [apps, setApps] = useState<AppView[]>([]);
  const [authUrl, setAuthUrl] = useState<string | null>(null);
  const [wait, setWait] = useState<WaitInfo | null>(null);
  const [step, setStepState] = useState<Step | null>(null);
  const stepRef = useRef<Step | null>(null);
  const [report, setReport] = useState<CheckReport | null>(null);
  const [onbProblem, setOnbProblem] = useState<Problem | null>(null);
  const [results, setResults] = useState<AppResult[]>([]);
  const [cards, setCards] = useState<Record<string, CardState>>({});
  const lastOp = useRef<Record<string, "test" | "reauth">>({});
  const [appRows, setAppRows] = useState<Record<string, AppRowState>>({});
  const [appsConn, setAppsConn] = useState("");
  const [notice, setNotice] = useState<string | null>(null);
  const [autostart, setAutostart] = useState<boolean | null>(null);
  const [form, setForm] = useState<AddForm>(emptyForm);
  const [addProblem, setAddProblem] = useState<Problem | null>(null);
  const [focusToken, setFocusToken] = useState(0);
  const lastAdd = useRef<() => void>(() => {});
  const connsRef = useRef<ConnectionView[] | null>(null);
  connsRef.current = conns;

  const setStep = (s: Step | null) => {
    stepRef.current = s;
    setStepState(s);
  };

  const updateCard = (name: string, patch: Partial<CardState>) => setCards((c) => ({ ...c, [name]: { ...c[name], ...patch } }));
  const updateRow = (id: string, patch: Partial<AppRowState>) => setAppRows((r) => ({ ...r, [id]: { ...r[id], ...patch } }));

  async function refreshStatus() {
    try {
      const list = await api.status();
      setConns(list);
      setLoadProblem(null);
      if (list.length === 0 && stepRef.current === null) setStep("welcome");
    } catch (e) {
      setLoadProblem(fromError(toErrorView(e)));
    }
  }

  async function refreshApps() {
    try {
      setApps(await api.apps());
    } catch {
      // The apps section just stays as it was; the next event refreshes it.
    }
  }

  useEffect(() => {
    const mark = () => (document.body.dataset.interacted = "1");
    window.addEventListener("keydown", mark, { once: true });
    window.addEventListener("pointerdown", mark, { once: true });
    const unlisten: (() => void)[] = [];
    onEngineEvent((e) => {
      if (e.type === "client_restored") {
        setNotice(`${e.app_name} removed its Atlassian setup, so Latchkey put it back.`);
        refreshApps();
        return;
      }
      if (e.type === "connection_removed") setCards((c) => Object.fromEntries(Object.entries(c).filter(([k]) => k !== e.name)));
      refreshStatus();
      if (e.type === "connection_removed") refreshApps();
    })
      .then((u) => unlisten.push(u))
      .catch(() => {});
    onAuthUrl((url) => setAuthUrl(url))
      .then((u) => unlisten.push(u))
      .catch(() => {});
    onSignIn(externalSignIn)
      .then((u) => unlisten.push(u))
      .catch(() => {});
    onNavigate(navigate)
      .then((u) => unlisten.push(u))
      .catch(() => {});
    refreshStatus();
    refreshApps();
    api.getAutostart().then(setAutostart, () => setAutostart(null));
    // The window is created when it opens: pick up what the tray asked for before it existed.
    api.windowState().then(
      (ws) => {
        if (ws?.sign_in) externalSignIn(ws.sign_in);
        if (ws?.view) navigate(ws.view);
      },
      () => {},
    );
    return () => unlisten.forEach((u) => u());
  }, []);

  /** Shows the waiting screen while `fn` runs (a browser sign-in or a token check). */
  async function signIn<T>(w: WaitInfo, fn: () => Promise<T>): Promise<Outcome<T>> {
    setAuthUrl(null);
    setWait(w);
    try {
      return { ok: true, value: await fn() };
    } catch (e) {
      return { ok: false, error: toErrorView(e) };
    } finally {
      setWait(null);
    }
  }

  function gotReport(r: CheckReport) {
    const problem = fromReport(r);
    updateCard(r.name, { tools: r.tools.length, problem, message: problem ? null : `Working: ${r.tools.length} tools available.` });
  }

  /** A sign-in the tray, a notification or a deep link started: mirror it here. */
  function externalSignIn(e: { name: string | null; phase: string; report: CheckReport | null; error: ErrorView | null }) {
    const c = connsRef.current?.find((x) => x.name === e.name);
    if (e.phase === "waiting") {
      setAuthUrl(null);
      setWait(browserWait(c ? `Sign in to ${title(c)} again in your browser, then come back to this window.` : "We opened Atlassian's sign-in page. Approve access there, then come back to this window."));
      return;
    }
    setWait(null);
    if (e.phase === "done" && e.report) {
      gotReport(e.report);
      if (stepRef.current === "welcome") {
        setReport(e.report);
        setStep("success");
      } else {
        setNotice(`${connectedLine(e.report)}.`);
      }
    } else if (e.phase === "failed" && e.error) {
      const problem = fromError(e.error, { site: c?.site, account: c?.account });
      if (c && stepRef.current === null) updateCard(c.name, { problem, message: null });
      else if (stepRef.current === "welcome" || !connsRef.current?.length) setOnbProblem(problem);
      else setAddProblem(problem);
    }
    refreshStatus();
    refreshApps();
  }

  /** The tray asks for a view ("Set up apps…", "Open Latchkey", "Connect Atlassian…"). */
  function navigate(to: string) {
    const hasConns = !!connsRef.current?.length;
    if (to === "onboarding") {
      if (stepRef.current === null) setStep("welcome");
      return;
    }
    if (to === "apps" && stepRef.current === "success") {
      refreshApps();
      setStep("apps"); // onboarding's own app picker
      return;
    }
    if (to === "dashboard" && hasConns) setStep(null);
    if (to === "apps" && hasConns && stepRef.current !== "apps") {
      setStep(null);
      window.setTimeout(() => {
        const h = document.getElementById("apps-h");
        h?.scrollIntoView({ block: "start" });
        h?.focus();
      }, 0);
    }
  }

  function cancel() {
    api.cancelSignIn().catch(() => {});
  }

  // ---- Onboarding

  async function onboardConnect() {
    setOnbProblem(null);
    const r = await signIn(browserWait("We opened Atlassian's sign-in page. Approve access there, then come back to this window."), () => api.connect({ target: "atlassian" }));
    if (r.ok) {
      gotReport(r.value);
      setReport(r.value);
      setStep("success");
    } else {
      setOnbProblem(fromError(r.error));
    }
    refreshStatus();
  }

  async function onboardReauth() {
    if (!report) return onboardConnect();
    const r = await signIn(browserWait("Sign in again and allow access to Jira and Confluence on Atlassian's consent screen."), () => api.reauth(report.name));
    if (r.ok) {
      gotReport(r.value);
      setReport(r.value);
    } else {
      setStep("welcome");
      setOnbProblem(fromError(r.error, { site: report.site, account: report.account }));
    }
  }

  function onboardAction(a: Action) {
    if (stepRef.current === "success" && a === "reauth") return onboardReauth();
    if (a === "test" || a === "edit_token") return;
    onboardConnect();
  }

  async function setUpApps(ids: string[]) {
    const connection = report?.name ?? conns?.[0]?.name;
    const out: AppResult[] = [];
    if (connection) {
      for (const id of ids) {
        const app = apps.find((a) => a.id === id);
        try {
          const changes = await api.setApp(id, connection, true);
          out.push(...(changes.length ? changes.map(toResult) : [{ id, name: app?.name ?? id, note: app?.note ?? "", error: null }]));
        } catch (e) {
          out.push({ id, name: app?.name ?? id, note: app?.note ?? "", error: toErrorView(e) });
        }
      }
    }
    setResults(out);
    setStep("done");
    refreshApps();
  }

  function finishOnboarding() {
    if (report) setAppsConn(report.name);
    setStep(null);
    refreshStatus();
    refreshApps();
  }

  // ---- Dashboard: connections

  function conn(name: string): ConnectionView | undefined {
    return conns?.find((c) => c.name === name);
  }

  async function reauth(name: string) {
    const c = conn(name);
    lastOp.current[name] = "reauth";
    updateCard(name, { problem: null, message: null });
    const r = await signIn(browserWait(`Sign in to ${c ? title(c) : name} again in your browser, then come back to this window.`), () => api.reauth(name));
    if (r.ok) {
      gotReport(r.value);
      setNotice(`Signed in again. ${connectedLine(r.value)}.`);
    } else {
      updateCard(name, { problem: fromError(r.error, { site: c?.site, account: c?.account }), message: null });
    }
    refreshStatus();
  }

  async function test(name: string) {
    const c = conn(name);
    lastOp.current[name] = "test";
    updateCard(name, { busy: "test", problem: null, message: null });
    try {
      const r = await api.testConnection(name);
      gotReport(r);
    } catch (e) {
      updateCard(name, { problem: fromError(toErrorView(e), { site: c?.site, account: c?.account }) });
    } finally {
      updateCard(name, { busy: null });
    }
  }

  async function disconnect(name: string) {
    const c = conn(name);
    updateCard(name, { busy: "disconnect", problem: null, message: null });
    try {
      await api.disconnect(name);
      setNotice(`Disconnected ${c ? title(c) : name}. Latchkey forgot its sign-in.`);
      setCards((cs) => Object.fromEntries(Object.entries(cs).filter(([k]) => k !== name)));
    } catch (e) {
      updateCard(name, { busy: null, problem: fromError(toErrorView(e)) });
    }
    refreshStatus();
    refreshApps();
  }

  function cardAction(name: string, a: Action) {
    switch (a) {
      case "test":
        return test(name);
      case "retry":
        return lastOp.current[name] === "test" ? test(name) : reauth(name);
      case "reauth":
      case "browser_sign_in":
        return reauth(name);
      default:
        return;
    }
  }

  // ---- Dashboard: apps

  const appsConnection = appsConn && conns?.some((c) => c.name === appsConn) ? appsConn : (conns?.[0]?.name ?? "");

  async function toggleApp(id: string, on: boolean) {
    const app = apps.find((a) => a.id === id);
    const name = app?.name ?? id;
    updateRow(id, { busy: true, message: null, problem: null });
    try {
      const changes = await api.setApp(id, appsConnection, on);
      const ch = changes.find((c) => c.id === id) ?? changes[0];
      if (ch?.error) updateRow(id, { problem: { sentence: appErrorSentence(ch.error, name), detail: ch.error.message } });
      else updateRow(id, { message: on ? `Added. ${ch?.note ?? app?.note ?? ""}` : `Removed from ${name}.` });
    } catch (e) {
      const err = toErrorView(e);
      updateRow(id, { problem: { sentence: appErrorSentence(err, name), detail: err.message } });
    } finally {
      updateRow(id, { busy: false });
    }
    refreshApps();
  }

  async function restoreApp(id: string) {
    const app = apps.find((a) => a.id === id);
    const name = app?.name ?? id;
    updateRow(id, { busy: true, message: null, problem: null });
    try {
      const restored = await api.restoreApp(id);
      updateRow(id, { message: restored.length ? `Put back ${name}'s previous settings. ${app?.note ?? ""}` : `There was nothing to put back.` });
    } catch (e) {
      const err = toErrorView(e);
      updateRow(id, { problem: { sentence: appErrorSentence(err, name), detail: err.message } });
    } finally {
      updateRow(id, { busy: false });
    }
    refreshApps();
  }

  async function changeAutostart(on: boolean) {
    setAutostart(on);
    try {
      await api.setAutostart(on);
    } catch (e) {
      setAutostart(!on);
      setNotice(`Couldn't change “Start at login”: ${toErrorView(e).message}`);
    }
  }

  // ---- Add another

  function afterAdd(r: Outcome<CheckReport>, ctx: { apiToken?: boolean; site?: string }) {
    if (r.ok) {
      gotReport(r.value);
      setAddProblem(null);
      setForm({ ...emptyForm });
      if (stepRef.current === "welcome") {
        setReport(r.value);
        setStep("success");
      } else {
        setNotice(`${connectedLine(r.value)}.`);
      }
    } else {
      setAddProblem(fromError(r.error, ctx));
    }
    refreshStatus();
    refreshApps();
  }

  const taken = () => (conns ?? []).map((c) => c.name);

  async function addSite() {
    lastAdd.current = addSite;
    setAddProblem(null);
    const name = uniqueName("atlassian", taken());
    const r = await signIn(browserWait("On Atlassian's consent screen, pick the other site, approve access, then come back to this window."), () => api.connect({ target: "atlassian", name }));
    afterAdd(r, {});
  }

  async function addUrl(url: string, name?: string) {
    lastAdd.current = () => addUrl(url, name);
    setAddProblem(null);
    let host = url;
    try {
      host = new URL(url).hostname;
    } catch {
      /* shown as typed */
    }
    const r = await signIn({ title: `Connecting to ${host}…`, text: "If your browser opens, approve access there, then come back to this window.", browser: true }, () => api.connect({ target: url, name }));
    afterAdd(r, {});
  }

  async function addToken(email: string, token: string, site: string) {
    lastAdd.current = () => addToken(email, token, site);
    setAddProblem(null);
    const names = taken();
    const name = names.includes("atlassian") ? uniqueName(`atlassian-${site.split(".")[0].replace(/[^a-z0-9_-]/g, "")}`, names) : undefined;
    const r = await signIn({ title: "Checking your API token…", text: `Connecting to ${site}. This takes a few seconds.`, browser: false }, () => api.connect({ target: "atlassian", name, site, apiToken: { email, token } }));
    afterAdd(r, { apiToken: true, site });
  }

  function addAction(a: Action) {
    switch (a) {
      case "browser_sign_in":
        setForm({ ...form, kind: "site", token: "" });
        setAddProblem(null);
        return stepRef.current === "welcome" ? onboardConnect() : addSite();
      case "edit_token":
        setForm({ ...form, kind: "token" });
        setFocusToken((n) => n + 1);
        return;
      case "test":
        return;
      default:
        return lastAdd.current();
    }
  }

  const add: AddProps = { form, setForm, problem: addProblem, onProblemAction: addAction, onAddSite: addSite, onAddUrl: addUrl, onAddToken: addToken, focusToken };

  // ---- Screens

  if (wait) return <Waiting wait={wait} authUrl={authUrl} onCancel={cancel} />;
  if (conns === null) {
    return (
      <main class="screen center">
        {loadProblem ? (
          <>
            <h1 class="screen-title">Latchkey couldn't start</h1>
            <Trouble problem={loadProblem} onAction={() => refreshStatus()} focus />
          </>
        ) : (
          <p class="muted">Loading…</p>
        )}
      </main>
    );
  }
  const shownStep = step ?? (conns.length === 0 ? "welcome" : null);
  if (shownStep) {
    return (
      <Onboarding
        step={shownStep}
        report={report}
        apps={apps}
        problem={onbProblem}
        results={results}
        authUrl={authUrl}
        onConnect={onboardConnect}
        onProblemAction={onboardAction}
        onContinue={() => {
          refreshApps();
          setStep("apps");
        }}
        onSetUpApps={setUpApps}
        onFinish={finishOnboarding}
        canLeave={shownStep === "welcome" && conns.length > 0}
        add={add}
      />
    );
  }
  return (
    <Dashboard
      connections={conns}
      cards={cards}
      apps={apps}
      appRows={appRows}
      appsConnection={appsConnection}
      setAppsConnection={setAppsConn}
      authUrl={authUrl}
      notice={notice}
      onDismissNotice={() => setNotice(null)}
      onReauth={reauth}
      onTest={test}
      onDisconnect={disconnect}
      onCardAction={cardAction}
      onToggleApp={toggleApp}
      onRestoreApp={restoreApp}
      autostart={autostart}
      onAutostart={changeAutostart}
      add={add}
    />
  );
}
