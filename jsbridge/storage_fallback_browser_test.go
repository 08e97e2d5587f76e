//go:build !js && browser

package jsbridge_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larderdb/larder/internal/browsertest"
)

// OPFS faults at the JS seam: a prefix to larder-worker.js (served in place
// of the real one) that makes OPFS fail the way some engines do, so that
// Chromium, whose OPFS works, shows what "auto" and "opfs" do there.
var opfsFaults = map[string]struct {
	prefix string
	first  string // the first error, which must be the one reported
}{
	// WebKitGTK: createSyncAccessHandle throws NotSupportedError, and every
	// later call InvalidStateError.
	"webkit-sync-handle": {
		prefix: `{
  let n = 0;
  FileSystemFileHandle.prototype.createSyncAccessHandle = function () {
    n++;
    return Promise.reject(n === 1 ? new DOMException("injected: sync access handles are not supported", "NotSupportedError")
      : new DOMException("injected: retry after NotSupportedError", "InvalidStateError"));
  };
}
`,
		first: "NotSupportedError: injected: sync access handles are not supported",
	},
	// Safari's private windows: getDirectory throws UnknownError.
	"private-window": {
		prefix: `StorageManager.prototype.getDirectory = function () {
  return Promise.reject(new DOMException("injected: the operation failed for an unknown transient reason", "UnknownError"));
};
`,
		first: "UnknownError: injected: the operation failed for an unknown transient reason",
	},
}

// newFaultEnv is newEnv whose larder-worker.js starts with prefix.
func newFaultEnv(t *testing.T, prefix string) *env {
	t.Helper()
	dist := browsertest.Dist(t)
	worker, err := os.ReadFile(filepath.Join(dist, "larder-worker.js"))
	if err != nil {
		t.Fatal(err)
	}
	srv := browsertest.Serve(t)
	srv.Mount("/dist/", dist)
	srv.SetFile("/dist/larder-worker.js", append([]byte(prefix), worker...))
	srv.SetFile("/index.html", []byte(indexHTML))
	e := &env{t: t, srv: srv, b: browsertest.NewBrowser(t)}
	e.tab = e.page()
	return e
}

type openedOn struct {
	Storage  string
	Fallback *string
	Rows     int
}

// TestBrowserStorageAutoProvesOPFS: "auto" picks OPFS only where it worked
// in this context; where OPFS fails it falls back to IndexedDB (which
// persists) and db.storageFallback names the first error; an explicit
// "opfs" rejects naming that first error, never the retry's.
func TestBrowserStorageAutoProvesOPFS(t *testing.T) {
	t.Run("works", func(t *testing.T) {
		e := newEnv(t)
		var got openedOn
		e.run(e.tab, `const db = await L.open({ name: "auto", migrations: [{ version: 1, name: "t", up: "CREATE TABLE t(x)" }] });
return { storage: db.storage, fallback: db.storageFallback, rows: 0 };`, &got)
		if got.Storage != "opfs" || got.Fallback != nil {
			t.Errorf("auto where OPFS works: storage %q, storageFallback %v; want opfs, null", got.Storage, got.Fallback)
		}
		e.noErrors(e.tab)
	})
	for name, f := range opfsFaults {
		t.Run(name, func(t *testing.T) {
			e := newFaultEnv(t, f.prefix)
			open := `await L.open({ name: "notes", migrations: [{ version: 1, name: "t", up: "CREATE TABLE note(body TEXT)" }] })`
			var got openedOn
			e.run(e.tab, `const db = `+open+`;
await db.exec("INSERT INTO note VALUES ('kept')");
return { storage: db.storage, fallback: db.storageFallback, rows: 1 };`, &got)
			if got.Storage != "idb" {
				t.Fatalf("auto with OPFS failing: storage %q, want idb", got.Storage)
			}
			if got.Fallback == nil || !strings.Contains(*got.Fallback, f.first) || strings.Contains(*got.Fallback, "InvalidStateError") {
				t.Errorf("storageFallback %v, want the first error %q", got.Fallback, f.first)
			}
			// Not a memory fallback: the data outlives the page.
			e.reload(e.tab)
			e.run(e.tab, `const db = `+open+`;
return { storage: db.storage, fallback: db.storageFallback, rows: (await db.query("SELECT count(*) AS n FROM note"))[0].n };`, &got)
			if got.Storage != "idb" || got.Rows != 1 {
				t.Errorf("after reload: storage %q with %d rows, want idb with 1", got.Storage, got.Rows)
			}
			// An explicit "opfs" fails with the first error (a fresh worker).
			e.reload(e.tab)
			jerr := e.mustFail(e.tab, `await L.open({ name: "other", storage: "opfs" })`, "LARDER_STORAGE_UNAVAILABLE")
			if !strings.Contains(jerr.Message, f.first) || strings.Contains(jerr.Message, "InvalidStateError") {
				t.Errorf("explicit opfs: %q, want the first error %q", jerr.Message, f.first)
			}
			if errs := e.tab.Errors(); len(errs) > 0 {
				t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
			}
		})
	}
}

// TestBrowserWarmupEngines: the warm-up runs only where V8's wasm code
// cache exists (jsbridge/js/larder-worker.js, v8WasmCodeCache).
func TestBrowserWarmupEngines(t *testing.T) {
	e := newEnv(t)
	var got map[string]bool
	e.run(e.tab, `const w = await import("/dist/larder-worker.js");
return {
  here: w.v8WasmCodeCache(),
  chrome: w.v8WasmCodeCache({ userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36" }),
  brands: w.v8WasmCodeCache({ userAgent: "", userAgentData: { brands: [{ brand: "Chromium", version: "156" }] } }),
  firefox: w.v8WasmCodeCache({ userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0" }),
  safari: w.v8WasmCodeCache({ userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15" }),
  webkitgtk: w.v8WasmCodeCache({ userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15" }),
};`, &got)
	want := map[string]bool{"here": true, "chrome": true, "brands": true, "firefox": false, "safari": false, "webkitgtk": false}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("v8WasmCodeCache(%s) = %v, want %v", k, got[k], w)
		}
	}
}
