//go:build !js && browser

package jsbridge_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// A Go panic or a fatal error of the Go runtime reaches the page as
// rejected promises with LARDER_CRASHED and a dead handle — never a hang —
// and a new open() starts a fresh worker.
func TestBrowserCrash(t *testing.T) {
	e := newTestHooksEnv(t)
	for _, kind := range []string{"panic", "fatal"} {
		t.Run(kind, func(t *testing.T) {
			e.t = t
			var got struct {
				First, Later, Message string
				Again                 float64
			}
			r := e.try(e.tab, fmt.Sprintf(`
const db = await L.open({ name: "crash", storage: "memory" });
const first = await T.err(db._call("__fault", { kind: %q }));
const later = await T.err(db.query("SELECT 1"));
const db2 = await L.open({ name: "crash", storage: "memory" });
const [{ n }] = await db2.query("SELECT 7 AS n");
await db2.close();
return { First: first && first.code, Later: later && later.code, Message: first && first.message, Again: n };
`, kind))
			if r.Error != nil {
				t.Fatalf("rejected: %+v", r.Error)
			}
			if err := jsonUnmarshal(r.Value, &got); err != nil {
				t.Fatal(err)
			}
			if got.First != "LARDER_CRASHED" || got.Later != "LARDER_CRASHED" || got.Again != 7 {
				t.Errorf("%+v", got)
			}
			if !strings.Contains(got.Message, "injected") {
				t.Errorf("crash message does not say what happened: %q", got.Message)
			}
		})
	}
}

// A larder.wasm that cannot be loaded rejects open() with LARDER_CRASHED
// naming it, and a later open with the right one works.
func TestBrowserMissingWasm(t *testing.T) {
	e := newEnv(t)
	je := e.mustFail(e.tab, `await L.open({ name: "nowasm", storage: "memory", wasm: "/dist/nope.wasm" });`, "LARDER_CRASHED")
	if !strings.Contains(je.Message, "nope.wasm") {
		t.Errorf("message does not name the module: %q", je.Message)
	}
	var n float64
	e.run(e.tab, `const db = await L.open({ name: "nowasm", storage: "memory" }); const [{ n }] = await db.query("SELECT 1 AS n"); return n + (typeof db.persisted === "boolean" || db.persisted === null ? 1 : 100);`, &n)
	if n != 2 {
		t.Errorf("open after a failed one, persisted: %v", n)
	}
}

// The IndexedDB backend where sync access handles do not exist: a module
// service worker runs Larder in-process; "auto" picks IndexedDB there and
// "opfs" is refused.
func TestBrowserServiceWorkerIDB(t *testing.T) {
	onEngines(t, newEnvOn, func(t *testing.T, e *env) {
		e.srv.SetFile("/sw.js", []byte(`
import { open } from "/dist/larder.js";
import "/dist/larder-worker.js";
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("message", (e) => {
  const port = e.ports[0];
  e.waitUntil((async () => {
    try {
      const db = await open({ name: "sw", storage: e.data.storage, migrations: [
        { version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT)" }] });
      await db.exec("INSERT INTO note(body) VALUES (?)", [e.data.body]);
      const rows = (await db.query("SELECT body FROM note ORDER BY id")).map(r => r.body);
      await db.close();
      port.postMessage({ storage: db.storage, rows, hasSyncHandles: typeof FileSystemSyncAccessHandle !== "undefined" });
    } catch (err) {
      port.postMessage({ error: { code: err.code, message: String(err.message) } });
    }
  })());
});
`))
		const ask = `
const reg = await navigator.serviceWorker.register("/sw.js", { type: "module", scope: "/" });
await navigator.serviceWorker.ready;
const sw = reg.active;
const ask = (data) => new Promise((resolve) => { const ch = new MessageChannel(); ch.port1.onmessage = (e) => resolve(e.data); sw.postMessage(data, [ch.port2]); });
`
		var got struct {
			Auto, Again, OPFS struct {
				Storage        string   `json:"storage"`
				Rows           []string `json:"rows"`
				HasSyncHandles bool     `json:"hasSyncHandles"`
				Error          *jsError `json:"error"`
			}
		}
		e.run(e.tab, ask+`
const auto = await ask({ storage: "auto", body: "from sw" });
const again = await ask({ storage: "idb", body: "again" });
const opfs = await ask({ storage: "opfs", body: "x" });
return { Auto: auto, Again: again, OPFS: opfs };
`, &got)
		if got.Auto.Error != nil || got.Auto.Storage != "idb" || got.Auto.HasSyncHandles || len(got.Auto.Rows) != 1 {
			t.Errorf("auto in a service worker: %+v (%+v)", got.Auto, got.Auto.Error)
		}
		if got.Again.Error != nil || len(got.Again.Rows) != 2 || got.Again.Rows[0] != "from sw" {
			t.Errorf("idb in a service worker, second open: %+v (%+v)", got.Again, got.Again.Error)
		}
		if got.OPFS.Error == nil || got.OPFS.Error.Code != "LARDER_STORAGE_UNAVAILABLE" {
			t.Errorf("opfs in a service worker: %+v", got.OPFS)
		}
	})
}

// TestBrowserStartupTiming measures (does not assert) the time from
// importing larder.js (which starts compiling larder.wasm and, on open, the
// worker) to the first query result, cold (fresh profile, empty caches)
// and warm (reload: HTTP and compiled-code caches), and logs it with the
// size of larder.wasm.
func TestBrowserStartupTiming(t *testing.T) {
	onEngines(t, newEnvOn, func(t *testing.T, e *env) {
		e.srv.SetFile("/timing.html", []byte(`<!doctype html><script type="module">
window.measure = async (storage) => {
  const t0 = performance.now();
  const L = await import("/dist/larder.js");
  const db = await L.open({ name: "timing", storage, migrations: [{ version: 1, name: "init", up: "CREATE TABLE IF NOT EXISTS t(x)" }] });
  await db.query("SELECT count(*) FROM t");
  const ms = performance.now() - t0;
  await db.close();
  return ms;
};
window.larderReady = true;
</script>`))
		tab := e.b.NewTab()
		type run struct{ cold, warm []float64 }
		runs := map[string]*run{}
		storages := []string{"memory", "opfs"}
		if !e.opfsWorks() {
			storages = []string{"memory", "idb"}
		}
		for _, st := range storages {
			r := &run{}
			runs[st] = r
			// Outside Chromium each load compiles larder.wasm anew (no
			// code cache): fewer reloads.
			loads := 6
			if e.engine != "chromium" {
				loads = 3
			}
			for i := 0; i < loads; i++ {
				if err := tab.Navigate(e.srv.URL + "/timing.html?" + st); err != nil {
					t.Fatal(err)
				}
				e.waitReady(tab)
				var ms float64
				if err := tab.Eval(fmt.Sprintf(`measure(%q)`, st), &ms); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					r.cold = append(r.cold, ms)
				} else {
					r.warm = append(r.warm, ms)
				}
			}
		}
		raw, err := os.ReadFile(filepath.Join(browsertest_Dist(t), "larder.wasm"))
		if err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		w.Write(raw)
		w.Close()
		t.Logf("larder.wasm: %.1f MB raw, %.1f MB gzip -9", float64(len(raw))/1e6, float64(gz.Len())/1e6)
		for _, st := range storages {
			r := runs[st]
			sort.Float64s(r.warm)
			t.Logf("%s %s: import larder.js → open (schema current) → first query: first load %.0f ms (fresh profile: compile, no code cache), reloads median %.0f ms, min %.0f ms (runs %.0f)",
				e.engine, st, r.cold[0], r.warm[len(r.warm)/2], r.warm[0], r.warm)
		}
	})
}
