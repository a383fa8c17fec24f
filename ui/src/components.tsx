// Small shared pieces: the guided-fix box, the waiting screen, copy buttons, headings that take
// focus when a screen changes.

import { useEffect, useRef, useState } from "preact/hooks";
import type { ComponentChildren } from "preact";
import { copyText } from "./clipboard";
import type { Action, Problem } from "./troubles";

let uid = 0;
export function useId(prefix: string): string {
  const r = useRef<string>();
  if (!r.current) r.current = `${prefix}-${++uid}`;
  return r.current;
}

/** A screen's heading: focused when the screen appears (not on first load), so screen readers announce it. */
export function ScreenTitle({ children, focus = true }: { children: ComponentChildren; focus?: boolean }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focus && document.body.dataset.interacted) ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1} class="screen-title">
      {children}
    </h1>
  );
}

/** A button that copies `text` and says so. */
export function CopyButton({ text, label, class: cls = "", disabled = false }: { text: string | null; label: string; class?: string; disabled?: boolean }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const timer = useRef<number>();
  useEffect(() => () => window.clearTimeout(timer.current), []);
  async function copy() {
    if (!text) return;
    const ok = await copyText(text);
    setState(ok ? "copied" : "failed");
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setState("idle"), 4000);
  }
  return (
    <>
      <button type="button" class={cls} onClick={copy} disabled={disabled || !text}>
        {state === "copied" ? "Copied" : label}
      </button>
      <span class="sr-only" role="status">
        {state === "copied" ? "Copied to the clipboard" : state === "failed" ? "Could not copy; select the text and copy it yourself" : ""}
      </span>
    </>
  );
}

export interface TroubleProps {
  problem: Problem;
  /** Called for the actions the box cannot do itself (everything but copying). */
  onAction: (a: Action) => void;
  /** The current sign-in link, for "Copy link". */
  authUrl?: string | null;
  /** Move focus to the box when it appears (after a failed sign-in, say). */
  focus?: boolean;
}

function linkIn(message?: string): string | null {
  const m = message?.match(/https?:\/\/\S+/);
  return m ? m[0].replace(/[.,)]+$/, "") : null;
}

/** One sentence explaining the problem and one button acting on it; the engine's words under Details. */
export function Trouble({ problem, onAction, authUrl, focus = false }: TroubleProps) {
  const ref = useRef<HTMLDivElement>(null);
  const msgId = useId("admin-msg");
  useEffect(() => {
    if (focus) ref.current?.focus();
  }, [problem.id, focus]);
  const link = authUrl ?? linkIn(problem.detail?.message);
  let button;
  switch (problem.action) {
    case "copy_link":
      button = link ? <CopyButton class="primary" text={link} label={problem.actionLabel} /> : (
        <button type="button" class="primary" onClick={() => onAction("retry")}>
          Start again
        </button>
      );
      break;
    case "copy_admin_message":
      button = <CopyButton class="primary" text={problem.adminMessage ?? ""} label={problem.actionLabel} />;
      break;
    case "copy_details":
      button = <CopyButton class="primary" text={problem.detail ? `${problem.detail.message} (${problem.detail.kind})` : problem.sentence} label={problem.actionLabel} />;
      break;
    default:
      button = (
        <button type="button" class="primary" onClick={() => onAction(problem.action)}>
          {problem.actionLabel}
        </button>
      );
  }
  return (
    <div class="trouble" role="alert" tabIndex={-1} ref={ref} data-problem={problem.id}>
      <p class="trouble-sentence">{problem.sentence}</p>
      {problem.hint && <p class="trouble-hint">{problem.hint}</p>}
      {problem.adminMessage && problem.action === "copy_admin_message" && (
        <>
          <label class="small-label" for={msgId}>
            Message to send
          </label>
          <textarea id={msgId} class="admin-message" readOnly rows={7} value={problem.adminMessage} />
        </>
      )}
      <div class="actions">{button}</div>
      {problem.adminMessage && problem.action !== "copy_admin_message" && (
        <details class="details">
          <summary>Message for your admin</summary>
          <textarea aria-label="Message for your admin" class="admin-message" readOnly rows={5} value={problem.adminMessage} />
          <CopyButton text={problem.adminMessage} label="Copy message" />
        </details>
      )}
      {problem.detail && (
        <details class="details">
          <summary>Details</summary>
          <p class="detail-text">{problem.detail.message}</p>
          <p class="detail-text">
            Error kind: <code>{problem.detail.kind}</code>
          </p>
        </details>
      )}
    </div>
  );
}

export interface WaitInfo {
  title: string;
  text: string;
  /** A browser sign-in (offers Copy link and explains the browser step). */
  browser: boolean;
}

/** "Waiting for you to approve in your browser…", with Cancel and Copy link. */
export function Waiting({ wait, authUrl, onCancel }: { wait: WaitInfo; authUrl: string | null; onCancel: () => void }) {
  return (
    <main class="screen center" aria-busy="true">
      <div class="spinner" aria-hidden="true" />
      <ScreenTitle>{wait.title}</ScreenTitle>
      <p class="lead">{wait.text}</p>
      {wait.browser && (
        <>
          <p class="muted">Browser didn't open? Copy the link and paste it into your browser.</p>
          <div class="actions stacked">
            <CopyButton class="primary" text={authUrl} label={authUrl ? "Copy link" : "Copy link (getting it…)"} />
            <button type="button" onClick={onCancel}>
              Cancel
            </button>
          </div>
        </>
      )}
    </main>
  );
}
