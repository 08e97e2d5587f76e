//go:build !js && browser

package jsbridge_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/larderdb/larder/internal/browsertest"
)

// The browser tests run the real dist/ (make build) in headless Chromium;
// those that call onEngines run, one body, on every engine (Chromium,
// Firefox, WebKitGTK: browsertest.TestEngines). Each storage backend runs
// the same scenarios; memory is included where a scenario does not need
// the data to outlive the worker.

const indexHTML = `<!doctype html><meta charset="utf-8"><title>larder test</title>` + browsertest.ErrorHook + `
<script type="module">
import * as L from "/dist/larder.js";
window.L = L;
// T.run(fn): runs an async scenario, returning {ok, value} or {error}.
window.T = {
  async run(fn) {
    try { return { ok: true, value: await fn() }; }
    catch (e) { return { error: { code: e && e.code, message: String(e && e.message), migration: e && e.migration } }; }
  },
  async err(p) {
    try { await p; return null; }
    catch (e) { return { code: e && e.code, message: String(e && e.message), migration: e && e.migration }; }
  },
  json(v) { return JSON.parse(JSON.stringify(v, (k, x) => typeof x === "bigint" ? "bigint:" + x : x instanceof Uint8Array ? "bytes:" + x.length : x)); },
};
window.larderReady = true;
</script>`

// env is one browser page on a test server serving dist/ at /dist/.
type env struct {
	t      *testing.T
	engine string
	srv    *browsertest.Server
	b      *browsertest.Browser
	tab    *browsertest.Tab
}

// newEnv is an env in Chromium.
func newEnv(t *testing.T) *env { return newEnvOn(t, "chromium") }

// newEnvOn is an env in a browser of engine.
func newEnvOn(t *testing.T, engine string) *env {
	t.Helper()
	dist := browsertest.Dist(t)
	srv := browsertest.Serve(t)
	srv.Mount("/dist/", dist)
	srv.SetFile("/index.html", []byte(indexHTML))
	b := browsertest.Launch(t, engine)
	e := &env{t: t, engine: engine, srv: srv, b: b}
	e.tab = e.page()
	return e
}

// onEngines runs body on every engine of browsertest.TestEngines, each in
// a subtest named after it with an env from newEnvFn (newEnvOn or
// newTestHooksEnvOn), and logs how long each took.
func onEngines(t *testing.T, newEnvFn func(*testing.T, string) *env, body func(t *testing.T, e *env)) {
	for _, engine := range browsertest.TestEngines() {
		t.Run(engine, func(t *testing.T) {
			t0 := time.Now()
			body(t, newEnvFn(t, engine))
			t.Logf("%s: %v", engine, time.Since(t0).Round(time.Millisecond))
		})
	}
}

// opfsWorks reports whether OPFS works in the engine's dedicated workers.
// WebKitGTK's does not (docs/browsers.md), which TestBrowserEngineStorage
// asserts.
func (e *env) opfsWorks() bool { return e.engine != "webkit" }

// persistent are the persistent backends that work on e's engine.
func (e *env) persistent() []string {
	if e.opfsWorks() {
		return persistent
	}
	return []string{"idb"}
}

// all are the backends that work on e's engine.
func (e *env) all() []string {
	if e.opfsWorks() {
		return allStorages
	}
	return []string{"memory", "idb"}
}

// page opens a new tab on the test page and waits for the module to load.
func (e *env) page() *browsertest.Tab {
	e.t.Helper()
	tab := e.b.NewTab()
	if err := tab.Navigate(e.srv.URL + "/index.html"); err != nil {
		e.t.Fatal(err)
	}
	e.waitReady(tab)
	return tab
}

func (e *env) waitReady(tab *browsertest.Tab) {
	e.t.Helper()
	if err := tab.Eval(`new Promise(r => { const c = () => window.larderReady ? r(true) : setTimeout(c, 10); c(); })`, nil); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) reload(tab *browsertest.Tab) {
	e.t.Helper()
	if err := tab.Reload(); err != nil {
		e.t.Fatal(err)
	}
	e.waitReady(tab)
}

// result is what T.run returns.
type result struct {
	OK    bool            `json:"ok"`
	Value json.RawMessage `json:"value"`
	Error *jsError        `json:"error"`
}

type jsError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Migration *struct {
		Version int64  `json:"version"`
		Name    string `json:"name"`
	} `json:"migration"`
}

// run evaluates body (the inside of an async function) in tab and decodes
// its return value into out; a rejection fails the test.
func (e *env) run(tab *browsertest.Tab, body string, out any) {
	e.t.Helper()
	r := e.try(tab, body)
	if r.Error != nil {
		e.t.Fatalf("JS rejected: %s: %s\nscript:\n%s\nconsole:\n%s", r.Error.Code, r.Error.Message, body, strings.Join(tab.Logs(), "\n"))
	}
	if out != nil {
		if err := json.Unmarshal(r.Value, out); err != nil {
			e.t.Fatalf("decode %s: %v", r.Value, err)
		}
	}
}

// try evaluates body and returns its outcome, rejection included.
func (e *env) try(tab *browsertest.Tab, body string) result {
	e.t.Helper()
	var r result
	if err := tab.Eval(fmt.Sprintf("T.run(async () => { %s })", body), &r); err != nil {
		e.t.Fatalf("eval: %v\nscript:\n%s", err, body)
	}
	return r
}

// mustFail evaluates body, which must reject with code.
func (e *env) mustFail(tab *browsertest.Tab, body, code string) *jsError {
	e.t.Helper()
	r := e.try(tab, body)
	if r.Error == nil {
		e.t.Fatalf("want rejection %s, got value %s\nscript:\n%s", code, r.Value, body)
	}
	if r.Error.Code != code {
		e.t.Fatalf("want code %s, got %s: %s\nscript:\n%s", code, r.Error.Code, r.Error.Message, body)
	}
	return r.Error
}

func (e *env) noErrors(tab *browsertest.Tab) {
	e.t.Helper()
	if errs := tab.Errors(); len(errs) > 0 {
		e.t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

var persistent = []string{"opfs", "idb"}
var allStorages = []string{"memory", "opfs", "idb"}

func openJS(name, storage, migrations string) string {
	return fmt.Sprintf(`await L.open({ name: %q, storage: %q, migrations: %s })`, name, storage, migrations)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func browsertest_Dist(t *testing.T) string { return browsertest.Dist(t) }
