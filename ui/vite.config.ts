import { defineConfig } from "vite";

// Built to ui/dist, Tauri's frontendDist. Relative asset paths so the bundle also works
// from a plain static server in the UI tests.
export default defineConfig({
  base: "./",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  clearScreen: false,
  server: { port: 1420, strictPort: true, host: "127.0.0.1" },
  build: { outDir: "dist", emptyOutDir: true, target: "es2021", sourcemap: false },
});
