// The gzip bytes a page downloads for a static file: Zopfli (Google's exhaustive deflate
// encoder, through the `@gfx/zopfli` npm package, Apache-2.0) at its default 15 iterations. The
// output is ordinary gzip that every browser decodes; it is 4 to 9 % smaller than zlib's level 9.
// On 2026-12-06 the runtime wasm was 304,524 → 288,131 bytes and the demo's English model part
// 138,359 → 126,717. It is slow (about 1.5 s for the runtime wasm), so files are compressed
// once, at build time: `make pkg` writes these bytes as the `.gz` siblings that `sottovoce serve`
// sends (tower-http's `ServeDir::precompressed_gzip`). A static host does the same with
// nginx's `gzip_static` or an equivalent.
//
// The sizes `make pkg`, `make first-load` and `make bench-browser` report for the widget and the
// npm package are those of these bytes, so they are the sizes served. The CLI compresses models
// when a server starts, so it uses libdeflate at level 12 instead
// (`crates/sottovoce-cli/src/gzip.rs`): within 1 % of Zopfli, about 30 times faster. Two
// benchmarks still report zlib's level 9, an upper bound: the catalog's
// (`scripts/bench-catalog.mjs`) and the accuracy tier's download (`bench-browser-accurate.mjs`).
import { gzipAsync } from "@gfx/zopfli";

/// `bytes` (a Buffer, Uint8Array or string) gzipped as served: resolves to a Buffer.
export async function servedGzip(bytes) {
  return Buffer.from(await gzipAsync(typeof bytes === "string" ? Buffer.from(bytes) : bytes, { numiterations: 15 }));
}
