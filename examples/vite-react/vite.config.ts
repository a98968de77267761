// Vite builds the app; the package's wasm is found by its glue through
// `new URL("sottovoce_bg.wasm", import.meta.url)`, which Vite copies into dist/assets itself.
// The dev server must not pre-bundle the package, or that URL would point into .vite/deps.
import { defineConfig } from "vite";

export default defineConfig({
  // React's automatic JSX runtime through Vite's own transform: no plugin needed to build.
  oxc: { jsx: { runtime: "automatic" } },
  optimizeDeps: { exclude: ["sottovoce"] },
  build: { target: "es2022" },
});
