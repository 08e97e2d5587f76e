//go:build !js && browser

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/larderdb/larder/internal/browsertest"
)

// The browser tests build this program to wasm and run the opfs and idb
// VFSes in headless Chromium: in a dedicated worker (both), and in a
// service worker (idb; OPFS sync access handles do not exist there).

const page = `<!doctype html><meta charset="utf-8"><script>
// A dedicated worker running probe.wasm; w.call(op, vfs, name, n).
window.worker = () => {
  const w = new Worker("/worker.js");
  let seq = 0; const pending = {};
  w.acked = 0; w.step = 0;
  w.onmessage = (e) => {
    if (e.data.acked !== undefined) { w.acked = e.data.acked; return; }
    if (e.data.step !== undefined) { w.step = e.data.step; return; }
    const p = pending[e.data.id]; delete pending[e.data.id];
    e.data.error !== undefined ? p.reject(new Error(e.data.error)) : p.resolve(e.data.value);
  };
  w.call = (...args) => new Promise((resolve, reject) => { const id = ++seq; pending[id] = { resolve, reject }; w.postMessage({ id, args }); });
  return w;
};
window.sleep = (ms) => new Promise((r) => setTimeout(r, ms));
window.swCall = async (...args) => {
  const reg = await navigator.serviceWorker.register("/sw.js");
  await navigator.serviceWorker.ready;
  const sw = reg.active;
  return await new Promise((resolve, reject) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = (e) => e.data.error !== undefined ? reject(new Error(e.data.error)) : resolve(e.data.value);
    sw.postMessage({ args }, [ch.port2]);
  });
};
window.ready = true;
</script>`

const workerJS = `importScripts("/wasm_exec.js");
const go = new Go();
const started = WebAssembly.instantiateStreaming(fetch("/probe.wasm"), go.importObject).then((r) => { go.run(r.instance); });
onmessage = async (e) => {
  await started;
  try { postMessage({ id: e.data.id, value: await probe(...e.data.args) }); }
  catch (err) { postMessage({ id: e.data.id, error: String(err && err.message || err) }); }
};`

const swJS = `importScripts("/wasm_exec.js");
const go = new Go();
const started = fetch("/probe.wasm").then((r) => r.arrayBuffer()).then((b) => WebAssembly.instantiate(b, go.importObject)).then((r) => { go.run(r.instance); });
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("message", (e) => e.waitUntil((async () => {
  const port = e.ports[0];
  try { await started; port.postMessage({ value: await probe(...e.data.args) }); }
  catch (err) { port.postMessage({ error: String(err && err.message || err) }); }
})()));`

func setup(t *testing.T) *browsertest.Tab {
	t.Helper()
	browsertest.Chromium(t)
	dir := t.TempDir()
	wasm := filepath.Join(dir, "probe.wasm")
	build := exec.Command("go", "build", "-o", wasm, ".")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building probe.wasm: %v\n%s", err, out)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	wasmExec, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	srv := browsertest.Serve(t)
	srv.Mount("/probe/", dir)
	b, _ := os.ReadFile(wasm)
	srv.SetFile("/probe.wasm", b)
	srv.SetFile("/wasm_exec.js", wasmExec)
	srv.SetFile("/index.html", []byte(page))
	srv.SetFile("/worker.js", []byte(workerJS))
	srv.SetFile("/sw.js", []byte(swJS))
	tab := browsertest.NewBrowser(t).NewTab()
	if err := tab.Navigate(srv.URL + "/index.html"); err != nil {
		t.Fatal(err)
	}
	return tab
}

func eval(t *testing.T, tab *browsertest.Tab, js string, out any) {
	t.Helper()
	if err := tab.EvalTimeout(2*time.Minute, js, out); err != nil {
		t.Fatalf("%v\nscript: %s\nconsole: %s", err, js, strings.Join(tab.Logs(), "\n"))
	}
}

type checked struct {
	Acked     int    `json:"acked"`
	Integrity string `json:"integrity"`
	Count     string `json:"count"`
}

func TestBrowserVFS(t *testing.T) {
	tab := setup(t)

	var avail map[string]bool
	eval(t, tab, `worker().call("avail", "", "", 0)`, &avail)
	if !avail["opfs"] || !avail["idb"] {
		t.Fatalf("in a dedicated worker: available %v, want both", avail)
	}

	for _, vfs := range []string{"opfs", "idb"} {
		t.Run(vfs, func(t *testing.T) {
			name := "probe-" + vfs + ".db"
			q := func(s string) string {
				return strings.NewReplacer("VFS", `"`+vfs+`"`, "NAME", `"`+name+`"`).Replace(s)
			}
			// Deleting a database that was never opened succeeds.
			eval(t, tab, q(`worker().call("delete", VFS, NAME, 0).then(() => "ok")`), nil)

			var c checked
			eval(t, tab, q(`(async () => { const w = worker(); const r = await w.call("insert", VFS, NAME, 50); w.terminate(); return r; })()`), &c)
			if c.Integrity != "ok" || c.Count != "50" {
				t.Fatalf("50 inserts: %+v", c)
			}

			// Kill the worker in the middle of a stream of commits, three
			// times: every acknowledged commit is there, integrity holds.
			for i := range 3 {
				eval(t, tab, strings.ReplaceAll(q(`(async () => {
  const w = worker();
  w.call("loop", VFS, NAME, 0).catch(() => {});
  const t0 = performance.now();
  while (w.acked < 70 + 30 * RUN && performance.now() - t0 < 60000) await sleep(10);
  await sleep(`+[]string{"0", "37", "151"}[i]+`);
  const acked = w.acked;
  w.terminate();
  const w2 = worker();
  const r = await w2.call("check", VFS, NAME, 0);
  w2.terminate();
  return { acked, ...r };
})()`), "RUN", strconv.Itoa(i)), &c)
				if c.Integrity != "ok" || c.Acked < 70+30*i || atoi(c.Count) < c.Acked {
					t.Fatalf("worker killed mid-commit (run %d): %+v: want integrity ok and at least the %d acknowledged rows", i, c, c.Acked)
				}
				t.Logf("killed after %d acknowledged commits: %s rows, integrity %s", c.Acked, c.Count, c.Integrity)
			}

			// Kill the worker in the middle of one long transaction: none of
			// it is there afterwards.
			for _, at := range []int{1, 7, 19} {
				var big checked
				eval(t, tab, q(fmt.Sprintf(`(async () => {
  const w = worker();
  await w.call("delete", VFS, NAME, 0);
  const done = w.call("longtx", VFS, NAME, 20).then(() => "committed", (e) => e.message);
  const t0 = performance.now();
  while (w.step < %d && performance.now() - t0 < 60000) await sleep(1);
  w.terminate();
  const w2 = worker();
  const r = await w2.call("bigcount", VFS, NAME, 0);
  w2.terminate();
  return r;
})()`, at)), &big)
				if big.Integrity != "ok" || big.Count != "no table" {
					t.Errorf("worker killed at step %d of a 20-step transaction: %+v, want integrity ok and no table", at, big)
				}
			}

			// reset(): after Delete the database is empty.
			eval(t, tab, q(`(async () => { const w = worker(); await w.call("delete", VFS, NAME, 0); const r = await w.call("check", VFS, NAME, 0); w.terminate(); return r; })()`), &c)
			if c.Integrity != "ok" || c.Count != "0" {
				t.Fatalf("after Delete: %+v, want an empty database", c)
			}
		})
	}

	// OPFS sync access handles are exclusive: a second owner waits while
	// the first releases, and gives up with SQLITE_BUSY after ~5 s.
	t.Run("opfs-contention", func(t *testing.T) {
		var waited float64
		eval(t, tab, `(async () => {
  const a = worker(), b = worker();
  await a.call("preopen", "opfs", "contended.db", 0);
  const pending = b.call("preopen", "opfs", "contended.db", 0);
  await sleep(800);
  await a.call("release", "opfs", "contended.db", 0);
  const ms = await pending;
  a.terminate(); b.terminate();
  return ms;
})()`, &waited)
		if waited < 700 {
			t.Errorf("second owner opened after %v ms while the first held the handles for 800 ms", waited)
		}
		var msg string
		eval(t, tab, `(async () => {
  const a = worker(), b = worker();
  await a.call("preopen", "opfs", "contended.db", 0);
  const t0 = performance.now();
  const r = await b.call("preopen", "opfs", "contended.db", 0).then(() => "opened", (e) => e.message);
  const ms = performance.now() - t0;
  a.terminate(); b.terminate();
  return r + " after " + Math.round(ms) + " ms";
})()`, &msg)
		if !strings.Contains(msg, "NoModificationAllowedError") || !strings.Contains(msg, "gave up") {
			t.Errorf("second owner while the first never releases: %q, want a NoModificationAllowedError after retries", msg)
		}
		t.Log(msg)
	})

	// IndexedDB in a service worker, where OPFS sync access handles do not
	// exist.
	t.Run("idb-service-worker", func(t *testing.T) {
		var avail map[string]bool
		eval(t, tab, `swCall("avail", "", "", 0)`, &avail)
		if avail["opfs"] || !avail["idb"] {
			t.Fatalf("in a service worker: available %v, want idb only", avail)
		}
		var c checked
		eval(t, tab, `swCall("delete", "idb", "sw.db", 0).then(() => swCall("insert", "idb", "sw.db", 20))`, &c)
		if c.Integrity != "ok" || c.Count != "20" {
			t.Fatalf("service worker: %+v", c)
		}
		// The page's worker sees what the service worker committed.
		eval(t, tab, `(async () => { const w = worker(); const r = await w.call("check", "idb", "sw.db", 0); w.terminate(); return r; })()`, &c)
		if c.Count != "20" {
			t.Fatalf("a dedicated worker after the service worker: %+v", c)
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
