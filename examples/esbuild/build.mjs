// Bundles src/main.ts into dist/ with esbuild. esbuild does not follow the glue's
// `new URL("sottovoce_bg.wasm", import.meta.url)`, so the app imports the wasm itself
// (`sottovoce/sottovoce_bg.wasm`, the `file` loader copies it and gives its URL) and passes
// that URL to `init`. index.html and the model come from public/ (copied by the example test,
// as a site's deploy step would).
import { build } from "esbuild";

await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  outdir: "dist",
  loader: { ".wasm": "file" },
  logLevel: "warning",
});
