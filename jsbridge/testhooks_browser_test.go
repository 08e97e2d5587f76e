//go:build !js && browser

package jsbridge_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/larderdb/larder/internal/browsertest"
)

// testHooksWasm returns the test build of larder.wasm, with the
// fault-injection hooks (`make build-testhooks`), or fails the test.
func testHooksWasm(t *testing.T) []byte {
	t.Helper()
	p := filepath.Join(browsertest.Dist(t), "testhooks", "larder.wasm")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%s is missing: run `make build-testhooks` first (make test does): %v", p, err)
	}
	return b
}

// newTestHooksEnv is newEnv serving the test build of larder.wasm as
// /dist/larder.wasm: the "__fault" op works there, and nowhere else.
func newTestHooksEnv(t *testing.T) *env { return newTestHooksEnvOn(t, "chromium") }

// newTestHooksEnvOn is newTestHooksEnv in a browser of engine.
func newTestHooksEnvOn(t *testing.T, engine string) *env {
	t.Helper()
	dist := browsertest.Dist(t)
	srv := browsertest.Serve(t)
	srv.Mount("/dist/", dist)
	srv.SetFile("/dist/larder.wasm", testHooksWasm(t))
	srv.SetFile("/index.html", []byte(indexHTML))
	e := &env{t: t, engine: engine, srv: srv, b: browsertest.Launch(t, engine)}
	e.tab = e.page()
	return e
}
