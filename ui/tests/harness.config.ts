import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

// Bundles the IPC mock (tests/harness/mock-entry.ts) into one script the tests inject.
export default defineConfig({
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("./.harness", import.meta.url)),
    emptyOutDir: true,
    lib: { entry: fileURLToPath(new URL("./harness/mock-entry.ts", import.meta.url)), formats: ["iife"], name: "LatchkeyMock", fileName: () => "mock.js" },
  },
});
