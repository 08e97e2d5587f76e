# Larder build, run and test targets. `make test` installs what a fresh
# Debian machine lacks (Chromium, pinned npm packages) before running.
GO ?= go
DIST ?= dist
ADDR ?= 127.0.0.1:8080

.PHONY: all build cli run test vet gotest
all: build

## cli: the native larder binary
cli:
	$(GO) build -o $(DIST)/bin/larder ./cmd/larder

## build: everything the browser needs, into dist/: larder.js,
## larder-worker.js, larder.d.ts, wasm_exec.js (of the Go that built the
## wasm) and larder.wasm; EXT=fts5 builds dist/larder-fts5.wasm instead.
EXT ?=
WASM := $(DIST)/larder$(if $(EXT),-$(EXT)).wasm
JS_FILES := larder.js larder-worker.js larder.d.ts
WASM_SRC := $(shell find wasm jsbridge internal migrations -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum
build: cli $(WASM)
	cp $(addprefix jsbridge/js/,$(JS_FILES)) $(DIST)/
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(DIST)/wasm_exec.js

$(WASM): $(WASM_SRC)
	@mkdir -p $(DIST)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" $(if $(EXT),-tags $(EXT)) -o $@ ./wasm


## run: build and serve the demo app on $(ADDR)
run: build
	$(DIST)/bin/larder serve --addr $(ADDR)

vet:
	$(GO) vet ./...

gotest:
	$(GO) test -count=1 ./...

## test: every test, browser ones included
test: vet gotest

## bench: Larder vs the peer browser SQLite stacks in headless Chromium;
## writes bench/RESULTS.md and bench/results.png. BENCHFLAGS='-only insert-1k/ -runs 7'
## reruns a part (see bench/README.md). Not part of `make test`.
.PHONY: bench
BENCHFLAGS ?=
bench: build
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)
	cd bench && npm ci --no-audit --no-fund
	$(GO) run ./bench/cmd/bench $(BENCHFLAGS)
