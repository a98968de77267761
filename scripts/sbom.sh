#!/usr/bin/env bash
# CycloneDX SBOMs (JSON, spec 1.3, by cargo-cyclonedx) under target/sbom/:
# - sottovoce-server.cdx.json: the escalation server binary, built for x86_64 Linux;
# - npm-sottovoce.cdx.json and npm-sottovoce-catalog.cdx.json: the npm package `pkg/`, whose
#   code is all compiled from the binding crates for wasm32 (its package.json has no npm
#   dependencies), so its bill of materials is theirs.
# Build dependencies (build.rs, proc macros) are left out: they are not in what ships.
# cargo-cyclonedx writes one file beside every Cargo.toml of the workspace; they are moved or
# removed here so the tree stays clean. Checked by tests/sbom.test.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
out=target/sbom
mkdir -p "$out"
clean() { find . crates -maxdepth 2 -name '*.cdx.json' -not -path './target/*' -delete; }
trap clean EXIT
clean
$CARGO cyclonedx -f json --no-build-deps -q --target x86_64-unknown-linux-gnu
mv crates/sottovoce-server/sottovoce-server.cdx.json "$out/sottovoce-server.cdx.json"
clean
$CARGO cyclonedx -f json --no-build-deps -q --target wasm32-unknown-unknown
mv crates/sottovoce-wasm/sottovoce-wasm.cdx.json "$out/npm-sottovoce.cdx.json"
mv crates/sottovoce-catalog-wasm/sottovoce-catalog-wasm.cdx.json "$out/npm-sottovoce-catalog.cdx.json"
echo "sbom: $(ls "$out" | tr '\n' ' ')in $out"
