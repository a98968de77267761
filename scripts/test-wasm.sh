#!/usr/bin/env bash
# The binding crate's wasm-bindgen-test suites, in headless Chromium (and node).
#
# wasm-bindgen-test-runner gives ChromeDriver a short window to bind its port; on a busy machine
# it sometimes misses it and gives up with "driver failed to bind port during startup" before any
# test runs (a known spurious failure, e.g. nimiq/core-rs-albatross#2830). That start-up error,
# and only that, is retried, up to 3 runs; a failing test fails at once.
set -uo pipefail
CARGO=${CARGO:-cargo}
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for attempt in 1 2 3; do
  "$CARGO" test -p sottovoce-wasm --target wasm32-unknown-unknown 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  [ "$status" -eq 0 ] && exit 0
  grep -q "driver failed to bind port during startup" "$log" || exit "$status"
  echo "test-wasm: ChromeDriver did not start in time (run $attempt of 3)" >&2
done
exit 1
