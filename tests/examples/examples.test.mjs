// The npm package as a site's developer gets it (issue 16): `npm pack` of pkg/ holds exactly the
// expected files, and each example app under examples/ installs that packed package (its own
// package.json and lockfile, `npm ci`), type-checks with `tsc --strict` against the generated
// types, builds with its bundler (Vite + React, esbuild, webpack 5), and is loaded in Chromium,
// under a CSP that allows only 'self' and 'wasm-unsafe-eval' for scripts, where it must fetch
// its wasm from the app's own build and answer a message with the bot's real reply.
//
// Data: tests/examples/examples.json. Needs `make pkg` and `make cli` (make test-examples).
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { launchChromium, ROOT, watchPage } from "../e2e/support.mjs";

const SPEC = JSON.parse(readFileSync(join(ROOT, "tests", "examples", "examples.json"), "utf8"));
const NPM = join(ROOT, "target", "npm"); // the packed package and the model, rebuilt every run
const MODEL = join(NPM, "model");
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

/// Runs a command to completion; throws with its output when it fails. Returns seconds taken.
function run(command, args, cwd) {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, CI: "true" } });
  if (result.status !== 0) {
    throw new Error(`\`${command} ${args.join(" ")}\` in ${cwd} exited with ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return { seconds: (Date.now() - started) / 1000, stdout: result.stdout };
}

let packed; // npm pack's report: { filename, size, unpackedSize, files: [{ path, size }] }

before(() => {
  for (const [path, hint] of [[join(ROOT, "pkg", "package.json"), "make pkg"], [join(ROOT, "target", "release", "sottovoce"), "make cli"]]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run \`${hint}\` first`);
  }
  rmSync(NPM, { recursive: true, force: true });
  mkdirSync(MODEL, { recursive: true });
  packed = JSON.parse(run("npm", ["pack", join(ROOT, "pkg"), "--json", "--pack-destination", NPM], ROOT).stdout)[0];
  // Unpacked where every example's `file:../../target/npm/package` dependency points: the apps
  // see exactly what the registry would serve, so a file missing from `files` breaks them.
  run("tar", ["xzf", join(NPM, packed.filename), "-C", NPM], ROOT);
  run(join(ROOT, "target", "release", "sottovoce"), ["build", "--split", SPEC.model.definition, "-o", join(MODEL, "store.svm")], ROOT);
});

test("npm pack: the expected files, nothing stray, every export packed", () => {
  const files = packed.files.map((f) => f.path).sort();
  assert.deepEqual(files, [...SPEC.pack.files].sort());
  console.log(`npm pack: ${packed.filename}: ${files.length} files, ${kib(packed.size)} packed, ${kib(packed.unpackedSize)} unpacked`);
  assert.ok(packed.size <= SPEC.pack.max_packed_bytes, `the tarball is ${packed.size} bytes (limit ${SPEC.pack.max_packed_bytes})`);
  const manifest = JSON.parse(readFileSync(join(NPM, "package", "package.json"), "utf8"));
  const targets = Object.values(manifest.exports).flatMap((t) => (typeof t === "string" ? [t] : Object.values(t)));
  for (const target of [...targets, manifest.main, manifest.types]) {
    assert.ok(files.includes(target.replace(/^\.\//, "")), `package.json points at ${target}, which is not in the tarball`);
  }
  assert.equal(manifest.sideEffects, false);
});

/// Serves `dir` on a free loopback port with the CSP a careful site sets; resolves to its URL
/// and a close function.
async function serve(dir) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".svm": "application/octet-stream" };
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    if (path === "/favicon.ico") { // the browser asks on its own; none of the apps has one
      response.writeHead(204).end();
      return;
    }
    const file = join(dir, path.endsWith("/") ? `${path}index.html` : path);
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      "content-type": types[extname(file)] ?? "application/octet-stream",
      "content-security-policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'",
    });
    response.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

/// Loads the built app, waits for the greeting, sends `SPEC.say` and waits for `SPEC.reply`.
async function converse(dist) {
  const site = await serve(dist);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ locale: "en-US" });
    const watch = await watchPage(page);
    const wasm = [];
    page.on("response", (r) => { if (r.url().endsWith(".wasm")) wasm.push(`${r.status()} ${r.url()}`); });
    await page.goto(site.url);
    await page.locator('li[data-from="bot"]').first().waitFor({ timeout: 20_000 });
    await page.getByLabel("Message").fill(SPEC.say);
    await page.getByLabel("Message").press("Enter");
    await page.locator('li[data-from="visitor"]', { hasText: SPEC.say }).waitFor({ timeout: 10_000 });
    await page.locator('li[data-from="bot"]', { hasText: SPEC.reply }).waitFor({ timeout: 10_000 });
    assert.deepEqual(await watch.all(), []);
    assert.equal(wasm.length, 1, `one wasm fetched from the app's build: ${wasm.join(", ")}`);
    assert.match(wasm[0], new RegExp(`^200 ${site.url}`));
  } finally {
    await browser.close();
    await site.close();
  }
}

for (const app of SPEC.apps) {
  test(`${app.dir} (${app.bundler})`, async () => {
    const dir = join(ROOT, app.dir);
    const times = [`npm ci ${run("npm", ["ci", "--no-audit", "--no-fund"], dir).seconds.toFixed(1)} s`];
    times.push(`tsc ${run(join(dir, "node_modules", ".bin", "tsc"), ["--strict", "--noEmit", "-p", "."], dir).seconds.toFixed(1)} s`);
    if (app.page) {
      // The model goes into the app's public dir, as a site's own files would; Vite copies it
      // into dist/ itself, the other apps' deploy step (here) copies what their bundler did not.
      const pub = join(dir, "public");
      mkdirSync(pub, { recursive: true });
      for (const part of SPEC.model.parts) copyFileSync(join(MODEL, part), join(pub, part));
      // A fresh dist/: one left by an earlier run kept a model of an older format beside the
      // new wasm (the deploy step below copied only what was missing), and the app never started.
      const dist = join(dir, "dist");
      rmSync(dist, { recursive: true, force: true });
      times.push(`build ${run("npm", ["run", "build"], dir).seconds.toFixed(1)} s`);
      for (const f of readdirSync(pub)) if (!existsSync(join(dist, f))) copyFileSync(join(pub, f), join(dist, f));
      const built = readdirSync(dist, { recursive: true }).map((f) => join(dist, f)).filter((f) => statSync(f).isFile());
      const size = (filter) => built.filter(filter).reduce((sum, f) => {
        const bytes = readFileSync(f);
        return [sum[0] + bytes.length, sum[1] + gzipSync(bytes, { level: 9 }).length];
      }, [0, 0]);
      const [js, jsGz] = size((f) => f.endsWith(".js"));
      const [wasm, wasmGz] = size((f) => f.endsWith(".wasm"));
      console.log(`${app.dir}: JavaScript ${kib(js)} (${kib(jsGz)} gzip), wasm ${kib(wasm)} (${kib(wasmGz)} gzip)`);
      const started = Date.now();
      await converse(dist);
      times.push(`Chromium ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    console.log(`${app.dir}: ${times.join(", ")}`);
  });
}
