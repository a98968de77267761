// Bundles src/main.js into dist/ with webpack 5's Node API (no CLI, no loader, no plugin):
// webpack follows the glue's `new URL("sottovoce_bg.wasm", import.meta.url)` as an asset and
// emits the wasm beside the bundle; index.html and the model come from public/ (copied by the
// example test, as a site's deploy step would).
import webpack from "webpack";
import { fileURLToPath } from "node:url";

const config = {
  mode: "production",
  entry: "./src/main.js",
  output: {
    path: fileURLToPath(new URL("dist", import.meta.url)),
    filename: "main.js",
    clean: true,
  },
  performance: { hints: false }, // the wasm is large by design; the example test prints its size
};

const stats = await new Promise((resolve, reject) =>
  webpack(config, (error, result) => (error ? reject(error) : resolve(result))),
);
if (!stats || stats.hasErrors() || stats.hasWarnings()) {
  console.error(stats?.toString("errors-warnings"));
  process.exit(1);
}
console.log(stats.toString({ preset: "summary", assets: true }));
