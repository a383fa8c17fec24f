// Injected into the page before the app (Playwright addInitScript): Tauri's IPC, mocked with
// @tauri-apps/api/mocks. Every command goes to the test's fake backend (a function the test
// exposes as window.__backend); events go through the mocks' event plugin.

import { mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";

type Reply = { ok?: unknown; err?: unknown };

declare global {
  interface Window {
    __backend?: (cmd: string, args: unknown) => Promise<Reply>;
    __mock: { emit: (event: string, payload: unknown) => Promise<void> };
  }
}

mockIPC(
  async (cmd, args) => {
    if (!window.__backend) throw { kind: "unknown", message: `no backend for ${cmd}` };
    const r = await window.__backend(cmd, args ?? {});
    if (r && "err" in r) throw r.err;
    return r?.ok ?? null;
  },
  { shouldMockEvents: true },
);

window.__mock = { emit: (event, payload) => emit(event, payload) };
