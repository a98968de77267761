#!/usr/bin/env bash
# Installs what `make demo` and `make test` need, skipping whatever is already there.
# Idempotent: a second run takes a few seconds. See ../shared/TOOLCHAIN.md for why each pin.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# 1. The wasm target for the core check and the binding crate.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 1b. std's source, for the production wasm builds' -Zbuild-std (Makefile, `pkg`). Optional:
#     without it `make pkg` builds them with the prebuilt std, about 18 KB gzip larger.
if ! rustup component list --installed 2>/dev/null | grep -qx rust-src; then
  log "adding rust component rust-src"
  rustup component add rust-src || echo "setup: warning: rust-src could not be added; the wasm builds use the prebuilt std" >&2
fi

# 2. wasm-bindgen CLI: must equal the wasm-bindgen crate version in Cargo.lock exactly,
#    or wasm-pack tries to download one (and fails here).
want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock 2>/dev/null || true)
want=${want:-0.2.129}
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  log "installing wasm-bindgen-cli $want (about 4 minutes)"
  cargo install wasm-bindgen-cli --version "$want" --locked
fi

# 3. wasm-pack, pinned.
if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "0.15.1" ]; then
  log "installing wasm-pack 0.15.1 (about 2 minutes)"
  cargo install wasm-pack --version 0.15.1 --locked
fi

# 3b. twiggy, for `make pkg`'s per-component breakdown of the wasm bundle.
if [ "$(twiggy --version 2>/dev/null | awk '{print $2}')" != "0.8.0" ]; then
  log "installing twiggy 0.8.0 (about 2 minutes)"
  cargo install twiggy --version 0.8.0 --locked
fi

# 3c. cargo-deny, for `make deny` (licences, bans, sources of the dependency graph).
if [ "$(cargo deny --version 2>/dev/null | awk '{print $2}')" != "0.20.2" ]; then
  log "installing cargo-deny 0.20.2 (about 12 minutes on 2 shared cores)"
  cargo install cargo-deny --version 0.20.2 --locked
fi

# 3d. cargo-cyclonedx, for `make sbom` (CycloneDX SBOMs of the server and the npm package).
if [ "$(cargo cyclonedx --version 2>/dev/null | awk '{print $2}')" != "0.5.9" ]; then
  log "installing cargo-cyclonedx 0.5.9 (about 2 minutes)"
  cargo install cargo-cyclonedx --version 0.5.9 --locked
fi

# 4. Debian's Chromium and its driver, for wasm-bindgen-test and Playwright.
if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
  log "installing chromium and chromium-driver"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver
fi
# Debian's binaryen (v108) emits broken modules; wasm-pack would pick it up from PATH.
if [ -x /usr/bin/wasm-opt ] && /usr/bin/wasm-opt --version 2>/dev/null | grep -q 'version 10[0-9]\b'; then
  echo "setup: warning: /usr/bin/wasm-opt is Debian's old binaryen; it is not used (npm binaryen is)" >&2
fi

# 5. npm packages (binaryen's wasm-opt, playwright-core), from the lockfile when there is one.
if [ -f package.json ]; then
  if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ] || \
     { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
    log "installing npm packages"
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
  fi
fi
log "ready"
