// Runs the UI tests one by one against the built UI and prints `N passed, M failed` last.
// Usage: node tests/run.mjs [name filter]

import { launch, serve, tests } from "./lib.mjs";
import "./ui.test.mjs";

const filter = process.argv[2];
const { server, url } = await serve();
const browser = await launch();
let passed = 0;
let failed = 0;
for (const t of tests) {
  if (filter && !t.name.includes(filter)) continue;
  const ctx = { browser, url, errors: [], contexts: [] };
  const started = Date.now();
  try {
    await Promise.race([t.fn(ctx), new Promise((_, rej) => setTimeout(() => rej(new Error("test timed out after 60 s")), 60_000))]);
    if (ctx.errors.length) throw new Error(`page errors: ${ctx.errors.join(" | ")}`);
    passed++;
    console.log(`ok   ${t.name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${t.name}\n     ${String(e?.stack ?? e).split("\n").slice(0, 6).join("\n     ")}`);
  } finally {
    for (const c of ctx.contexts) await c.close().catch(() => {});
  }
}
await browser.close();
server.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
