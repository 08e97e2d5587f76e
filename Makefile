# Larder build, run and test targets. `make test` installs what a fresh
# Debian machine lacks (Chromium, Firefox ESR, WebKitGTK's WebDriver and
# MiniBrowser, Xvfb, pinned npm packages) before running.
SHELL := /bin/bash
GO ?= go
DIST ?= dist
ADDR ?= 127.0.0.1:8080

.PHONY: all build cli run test vet gotest
all: build

## cli: the native larder binary; `larder --version` says $(VERSION)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
cli:
	$(GO) build -ldflags "-X main.buildVersion=$(VERSION)" -o $(DIST)/bin/larder ./cmd/larder

## build: everything the browser needs, into dist/: larder.js,
## larder-worker.js, the modules they import (client/*.js), larder.d.ts, wasm_exec.js (of the Go that built the
## wasm) and larder.wasm, which stays lean (no FTS5). EXT=fts5 builds
## dist/larder-fts5.wasm as well: the same module with -tags fts5 (FTS5 on
## every connection, about 3 MB more), which apps open with
## open({ wasm: ".../larder-fts5.wasm" }). EXT takes a list: EXT="fts5 x".
EXT ?=
WASM := $(DIST)/larder.wasm
EXT_WASM := $(foreach e,$(EXT),$(DIST)/larder-$(e).wasm)
JS_FILES := larder.js larder-worker.js larder.d.ts
WASM_SRC := $(shell find wasm engine jsbridge internal migrations syncer -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum
build: cli $(WASM) $(EXT_WASM)
	cp $(addprefix jsbridge/js/,$(JS_FILES)) $(DIST)/
	rm -rf $(DIST)/client && mkdir -p $(DIST)/client && cp jsbridge/js/client/*.js $(DIST)/client/
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(DIST)/wasm_exec.js

$(WASM): $(WASM_SRC)
	@mkdir -p $(DIST)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -o $@ ./wasm

## wasm-size: the bytes of code each Go package adds to larder.wasm
## (internal/wasmsize/cmd/wasmsize, on a build that keeps the name
## section, which larder.wasm itself strips)
.PHONY: wasm-size
wasm-size:
	@mkdir -p $(DIST)/wasmsize
	GOOS=js GOARCH=wasm $(GO) build -trimpath -o $(DIST)/wasmsize/larder.wasm ./wasm
	$(GO) run ./internal/wasmsize/cmd/wasmsize ./wasm $(DIST)/wasmsize/larder.wasm

## build-testhooks: $(DIST)/testhooks/larder.wasm, larder.wasm with the
## fault-injection hooks of the browser tests (-tags larder_test_hooks:
## the "__fault" op). Never shipped: `make build` leaves them out, and the
## worker script refuses "__" ops from any other build.
.PHONY: build-testhooks
build-testhooks: $(DIST)/testhooks/larder.wasm
$(DIST)/testhooks/larder.wasm: $(WASM_SRC)
	@mkdir -p $(DIST)/testhooks
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -tags larder_test_hooks -o $@ ./wasm

# The crash and kill browser tests (jsbridge) load the test-hooks build.
gotest: $(DIST)/testhooks/larder.wasm

# larder-NAME.wasm: larder.wasm with the opt-in extension NAME (-tags NAME).
$(DIST)/larder-%.wasm: $(WASM_SRC)
	@mkdir -p $(DIST)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -tags $* -o $@ ./wasm

## extension: the MV3 example (web/extension) assembled in dist/extension
## for chrome://extensions → Load unpacked
.PHONY: extension
extension: build
	rm -rf $(DIST)/extension
	mkdir -p $(DIST)/extension/larder
	cp web/extension/manifest.json web/extension/*.js web/extension/*.html web/extension/*.css $(DIST)/extension/
	cp $(addprefix $(DIST)/,larder.js larder-worker.js wasm_exec.js larder.wasm) $(DIST)/extension/larder/
	cp -r $(DIST)/client $(DIST)/extension/larder/
	$(DIST)/bin/larder migrate bundle --dir web/extension/migrations > $(DIST)/extension/migrations.json

## package: dist/npm/larderdb-larder-VERSION.tgz, the tarball `npm pack`
## makes of @larderdb/larder (npm/package.json, the adapters in npm/, and
## from dist/ the files of $(JS_FILES) with every file they reference:
## their imported modules, wasm_exec.js, larder.wasm; npm/pack.mjs follows
## the references), and the same file as dist/npm/larderdb-larder.tgz.
## The version comes from `git describe --tags` (0.0.0-dev.SHA without a
## tag). Install it with `npm install ./dist/npm/larderdb-larder.tgz`
## (docs/javascript.md).
.PHONY: package
package: build
	node npm/pack.mjs --dist $(DIST) --out $(DIST)/npm $(JS_FILES)

## typecheck: `tsc --strict --noEmit` (TypeScript pinned in npm/test) over
## npm/test/types.test.ts, whose @ts-expect-error lines must fail, and
## larder.d.ts itself, and `node --test` over npm/test/ssr.test.mjs (the
## package on a server: importing is inert, open() refuses clearly),
## against the packed package; the examples are
## type-checked by `make examples`
.PHONY: typecheck
typecheck: package
	cd npm/test && npm ci --no-audit --no-fund && npx tsc -p tsconfig.dts.json && npx tsc -p . && node --test ssr.test.mjs

## examples: examples/vite-react (React 19, Drizzle, Kysely, useQuery; Vite
## with no plugin and no config; vite-react-vite7 builds it with Vite 7),
## examples/webpack (webpack 5, entry and output only), examples/esbuild
## (the worker and wasm as entry points) and examples/rollup (node-resolve,
## the worker as an input, the wasm copied), each installed with `npm ci`
## from its lockfile plus the packed tarball, built for production into
## examples/NAME/dist (vite-react and webpack type-checked first by tsc
## --strict), which the browser tests in examples/ serve
EXAMPLES := vite-react vite-react-vite7 webpack esbuild rollup
.PHONY: examples
examples: package
	for e in $(EXAMPLES); do (cd examples/$$e && npm ci --no-audit --no-fund && npm run build) || exit 1; done

# The examples' browser tests serve their production builds.
gotest: examples

## run: build (with larder-fts5.wasm, which the demo opens) and serve the
## demo app on $(ADDR)
run: build $(DIST)/larder-fts5.wasm
	$(DIST)/bin/larder serve --addr $(ADDR) --dist $(DIST)

## run-sync: the demo syncing through the edge (docs/sync.md#the-demo): the
## Worker of `make edge` in workerd with local D1 on $(EDGE_PORT), and the
## demo on $(ADDR), allowed to call it. $(DIST)/sync-dev.json holds the
## edge's address and a 24 h dev token for each of SYNC_USERS; open
## http://$(ADDR)/?user=alice in two browser profiles. Ctrl-C stops both.
SYNC_USERS ?= alice bob
SYNC_CSP = default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
  img-src 'self' data: blob:; connect-src 'self' http://127.0.0.1:$(EDGE_PORT); worker-src 'self'; manifest-src 'self'; \
  object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'
.PHONY: run-sync
run-sync: build $(DIST)/larder-fts5.wasm edge-deps edge-build
	@set -e; out=$(DIST)/sync-dev.json.tmp; sep=; \
	printf '{"url":"http://127.0.0.1:%s","tokens":{' '$(EDGE_PORT)' > $$out; \
	for u in $(SYNC_USERS); do \
	  tok=$$($(DIST)/bin/larder edge token --secret '$(EDGE_DEV_SECRET)' --sub "$$u" --ttl 24h); \
	  printf '%s"%s":"%s"' "$$sep" "$$u" "$$tok" >> $$out; sep=,; \
	done; printf '}}\n' >> $$out; mv $$out $(DIST)/sync-dev.json
	@for u in $(SYNC_USERS); do echo "run-sync: open http://$(ADDR)/?user=$$u (in two browser profiles to see sync)"; done
	cd edge && node dev.mjs --build build --state $(abspath $(EDGE_STATE)) --port $(EDGE_PORT) \
	  --var 'JWT_SECRET=$(EDGE_DEV_SECRET)' --var 'CORS_ORIGINS=$(EDGE_ORIGINS),http://$(ADDR)' & edge=$$!; \
	trap 'kill $$edge 2>/dev/null' EXIT INT TERM; \
	$(DIST)/bin/larder serve --addr $(ADDR) --dist $(DIST) --csp "$(SYNC_CSP)"

## vet: go vet natively and for GOOS=js GOARCH=wasm (the browser and Worker
## code: every _js.go file). Under js the packages that only run on the host
## (internal/browsertest, bench/cmd/bench, the browser tests) are excluded by
## their //go:build !js line.
vet:
	$(GO) vet ./...
	$(GO) vet -tags 'browser workerd full' ./...
	GOOS=js GOARCH=wasm $(GO) vet ./...

## gotest: every Go test, the browser (-tags browser: Chromium, Firefox,
## WebKitGTK) and workerd (-tags workerd) ones included, the randomized
## suites at full size (-tags full: crash injection, the planner's property
## test; internal/testkind), summed up per
## engine by internal/testsummary. GOTEST_TIMEOUT bounds each package: the
## slowest, jsbridge (its cross-engine tests run three browsers one after
## another), took 47 minutes in `make test-stress` on this 2-core machine
## (two CPU burners beside other work), far past go test's 10-minute
## default, so the bound is explicit and 3x above that loaded run.
## GOTESTFLAGS adds flags (e.g. GOTESTFLAGS='-run TestBrowserEngineStorage');
## LARDER_ENGINES narrows the engines (e.g. LARDER_ENGINES=firefox).
GOTEST_TIMEOUT ?= 150m
GOTESTFLAGS ?=
gotest:
	set -o pipefail; $(GO) test -count=1 -tags 'browser workerd full' -timeout $(GOTEST_TIMEOUT) -json $(GOTESTFLAGS) ./... 2>&1 | $(GO) run ./internal/testsummary

## test-native: the tests that need no browser and no workerd
.PHONY: test-native
test-native:
	$(GO) test -count=1 ./...

## fuzz-short: each fuzz target of the migration parsers for FUZZTIME
## (run one longer by hand: -fuzztime 2m). A count, not a duration: Go
## 1.26's coordinator can fail a duration run at its deadline with a bare
## "context deadline exceeded" on a loaded machine (golang/go#75804, fixed
## in 1.27); a count has no deadline to race.
FUZZTIME ?= 50000x
.PHONY: fuzz-short
fuzz-short:
	$(GO) test ./migrations -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./migrations -run '^$$' -fuzz '^FuzzParseBundle$$' -fuzztime $(FUZZTIME)
	$(GO) test ./migrations -run '^$$' -fuzz '^FuzzParseRebuildDirective$$' -fuzztime $(FUZZTIME)

## test: every test, browser ones included
test: vet fuzz-short jstest typecheck gotest

## jstest: the JS unit tests (Node's test runner, jsbridge/js/test/): the
## encodings against testdata/wire, the owner protocol over a fake channel
## and lock, the error codes.
.PHONY: jstest
jstest:
	node --test jsbridge/js/test/*.test.js

# The demo's browser tests (web/) open larder-fts5.wasm.
gotest: $(DIST)/larder-fts5.wasm

## bench: Larder vs the peer browser SQLite stacks in headless Chromium;
## writes bench/RESULTS.md and bench/results.png. BENCHFLAGS='-only insert-1k/ -runs 7'
## reruns a part (see bench/README.md). Not part of `make test`.
.PHONY: bench
BENCHFLAGS ?=
bench: build $(DIST)/larder-fts5.wasm browsers
	cd bench && npm ci --no-audit --no-fund
	$(GO) run ./bench/cmd/bench $(BENCHFLAGS)

## edge: the Cloudflare Worker (edge/) in workerd through miniflare on
## 127.0.0.1:$(EDGE_PORT), with a local D1 (binding DB) and R2 bucket
## (BACKUPS) kept in $(EDGE_STATE); no network. EDGE_MIGRATIONS=dir picks
## the migrations it applies (default: the demo's). Auth is HS256 with the
## dev secret EDGE_DEV_SECRET (local only); it prints a token and a curl.
## EDGE_ORIGINS: pages allowed to call it (default: `make run`'s).
EDGE_MIGRATIONS ?= web/migrations
EDGE_STATE ?= edge/.state
EDGE_PORT ?= 8787
EDGE_DEV_SECRET ?= larder-local-dev-secret-never-deploy-this
EDGE_ORIGINS ?= http://127.0.0.1:8080,http://localhost:8080
.PHONY: edge edge-deps edge-build
edge: edge-deps edge-build
	@tok=$$($(GO) run ./cmd/larder edge token --secret '$(EDGE_DEV_SECRET)' --sub alice --ttl 24h) && \
	printf '%s\n' \
	  "edge: JWT_SECRET is the dev secret '$(EDGE_DEV_SECRET)' (local only; deploy with your own, see docs/edge.md)." \
	  "A token for user alice, valid 24 h (another: go run ./cmd/larder edge token --secret '$(EDGE_DEV_SECRET)' --sub bob):" \
	  "  TOKEN=$$tok" \
	  "  curl -H \"Authorization: Bearer \$$TOKEN\" http://127.0.0.1:$(EDGE_PORT)/api/migrations" \
	  "  curl -H \"Authorization: Bearer \$$TOKEN\" -H 'If-None-Match: *' -T my.sqlite http://127.0.0.1:$(EDGE_PORT)/api/backup/my-notes" \
	  "  curl -H \"Authorization: Bearer \$$TOKEN\" http://127.0.0.1:$(EDGE_PORT)/api/backups" \
	  ""
	cd edge && node dev.mjs --build build --state $(abspath $(EDGE_STATE)) --port $(EDGE_PORT) \
	  --var 'JWT_SECRET=$(EDGE_DEV_SECRET)' --var 'CORS_ORIGINS=$(EDGE_ORIGINS)'

## edge-build: edge/build/ (syumai/workers' JS glue, which empties the
## directory first, + app.wasm embedding the
## bundle of $(EDGE_MIGRATIONS), its statements split by SQLite). The bundle
## is written to edge/build/migrations.json and replaces the committed
## placeholder edge/migrations.json (an empty array) through -overlay, so
## that `GOOS=js go build ./...` works on a fresh clone and this target
## changes no tracked file. $(EDGE_MIGRATIONS)/sync.toml, when there is one,
## replaces the placeholder edge/sync.toml the same way (the Worker then
## serves /sync/*); without one the Worker does not sync.
edge-build:
	$(GO) run github.com/syumai/workers/cmd/workers-assets-gen -mode=go -o edge/build
	$(GO) run ./cmd/larder migrate bundle --statements --dir $(EDGE_MIGRATIONS) > edge/build/migrations.json.tmp
	mv edge/build/migrations.json.tmp edge/build/migrations.json
	if [ -f $(EDGE_MIGRATIONS)/sync.toml ]; then cp $(EDGE_MIGRATIONS)/sync.toml edge/build/sync.toml; \
	  else cp edge/sync.toml edge/build/sync.toml; fi
	printf '{"Replace":{"%s":"%s","%s":"%s"}}\n' "$(abspath edge/migrations.json)" "$(abspath edge/build/migrations.json)" \
	  "$(abspath edge/sync.toml)" "$(abspath edge/build/sync.toml)" > edge/build/overlay.json
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -overlay edge/build/overlay.json -o edge/build/app.wasm ./edge

## bench-sync: sync through the Worker in workerd with local D1, native
## devices on loopback: a 10,000-row push, the initial sync of those rows
## into a fresh device, and the latency of one change between two devices
## (docs/sync.md#cost).
.PHONY: bench-sync
bench-sync: edge-deps
	$(GO) test -tags workerd ./edge -run '^$$' -bench SyncThroughWorker -benchtime 1x

## edge-deps: edge/node_modules (miniflare, workerd, wrangler) from the lockfile
edge-deps: edge/node_modules/.package-lock.json
edge/node_modules/.package-lock.json: edge/package.json edge/package-lock.json
	cd edge && npm ci --no-audit --no-fund

# The edge tests run workerd from edge/node_modules; the demo's sync test
# (web, browser+workerd) runs the Worker make edge-build makes of the demo's
# migrations (the default EDGE_MIGRATIONS).
gotest: edge-deps edge-build

## browsers: Debian's Chromium, Firefox ESR, WebKitGTK (WebKitWebDriver
## with MiniBrowser) and Xvfb for the browser tests, installed when missing
## (never downloaded by a test tool)
.PHONY: browsers chromium
BROWSER_PACKAGES := chromium firefox-esr webkit2gtk-driver xvfb
browsers:
	@if test -x /usr/bin/chromium && test -x /usr/bin/firefox-esr && test -x /usr/bin/WebKitWebDriver && command -v Xvfb >/dev/null; then :; \
	else apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(BROWSER_PACKAGES); fi
chromium: browsers

# The browser tests (jsbridge, and others using internal/browsertest) run the
# real dist/ in Chromium, Firefox and WebKitGTK; `go test` alone fails,
# naming `make build`, when dist/ is missing.
gotest: build browsers

## test-stress: `make test` with two CPU burners running beside it (a
## loaded 2-core machine, as a user's laptop is); they are killed after.
.PHONY: test-stress
test-stress:
	@sh -c 'while :; do :; done' & b1=$$!; sh -c 'while :; do :; done' & b2=$$!; \
	trap 'kill $$b1 $$b2 2>/dev/null' EXIT; \
	echo "test-stress: CPU burners $$b1 $$b2 running"; \
	$(MAKE) test
