//go:build !js && browser

package jsbridge_test

import (
	"fmt"
	"strings"
	"testing"
)

// phase is one entry of larder.timings() (docs/startup.md).
type phase struct {
	Name     string
	Start    float64
	Duration float64
	DB       string
	Where    string
}

func (p phase) end() float64 { return p.Start + p.Duration }

// clockSlack is how far apart two readings of the same instant may be when
// one was taken in the worker and converted through performance.timeOrigin:
// engines coarsen both (Firefox to 1 ms). It is no bound on any duration.
const clockSlack = 2.0

// startupJS opens database "s" with two migrations on storage "auto",
// runs a first query and returns what the tests look at.
const startupJS = `
const db = await L.open({ name: "s", storage: "auto", migrations: [
  { version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT)" },
  { version: 2, name: "tag", up: "ALTER TABLE note ADD COLUMN tag TEXT" }] });
await db.exec("INSERT INTO note(body) VALUES ('x')");
const [{ n }] = await db.query("SELECT count(*) AS n FROM note");
const rt = [...L.__runtimes()][0];
await new Promise((r) => { const c = () => rt.workerWasmFetches !== undefined ? r() : setTimeout(c, 10); c(); });
const wasm = performance.getEntriesByType("resource").filter((e) => /larder\.wasm(\?|$)/.test(e.name)).length;
const measures = performance.getEntriesByType("measure").map((m) => m.name).filter((n) => n.startsWith("larder:"));
return { n, storage: db.storage, timings: L.timings(), wasm, workerWasm: rt.workerWasmFetches, measures };
`

type startup struct {
	N          int
	Storage    string
	Timings    []phase
	Wasm       int
	WorkerWasm int
	Measures   []string
}

// checkPhases asserts that every start-up phase is there once, not
// negative, and in the order causality gives them.
func checkPhases(t *testing.T, s startup, opfs bool) {
	t.Helper()
	by := map[string]phase{}
	for _, p := range s.Timings {
		name := strings.TrimPrefix(p.Name, "larder:")
		if _, dup := by[name]; dup {
			t.Errorf("phase %s recorded twice: %+v", p.Name, s.Timings)
		}
		by[name] = p
		if p.Start < 0 || p.Duration < 0 {
			t.Errorf("phase %+v: negative", p)
		}
	}
	want := []string{"fetch", "compile", "worker-start", "instantiate", "go-start", "opfs-probe", "election", "migrations-read", "storage-open", "migrate", "open", "first-query"}
	if opfs {
		want = append(want, "opfs-handles")
	}
	for _, w := range want {
		if _, ok := by[w]; !ok {
			t.Errorf("no phase larder:%s in %+v", w, s.Timings)
		}
	}
	measured := strings.Join(s.Measures, ",")
	for _, w := range want {
		if !strings.Contains(measured, "larder:"+w) {
			t.Errorf("no performance.measure larder:%s (measures: %s)", w, measured)
		}
	}
	if t.Failed() {
		return
	}
	// before: a ends before b starts (slack: the two are on different contexts' clocks).
	before := func(a, b string, aEnd bool, slack float64) {
		t.Helper()
		at := by[a].Start
		if aEnd {
			at = by[a].end()
		}
		if at > by[b].Start+slack {
			t.Errorf("larder:%s (%s %.3f) after larder:%s starts (%.3f)", a, map[bool]string{true: "ends", false: "starts"}[aEnd], at, b, by[b].Start)
		}
	}
	before("fetch", "compile", false, 0)
	if by["compile"].end() < by["fetch"].end() {
		t.Errorf("larder:compile ends (%.3f) before larder:fetch (%.3f)", by["compile"].end(), by["fetch"].end())
	}
	before("compile", "instantiate", true, clockSlack)
	before("worker-start", "instantiate", true, clockSlack)
	before("instantiate", "go-start", true, 0)
	before("go-start", "migrations-read", true, 0)
	before("opfs-probe", "election", true, 0)
	before("election", "migrations-read", true, 0)
	before("migrations-read", "storage-open", true, 0)
	before("storage-open", "migrate", true, 0)
	before("open", "migrations-read", false, clockSlack)
	if by["migrate"].end() > by["open"].end()+clockSlack {
		t.Errorf("larder:migrate ends (%.3f) after larder:open (%.3f)", by["migrate"].end(), by["open"].end())
	}
	before("open", "first-query", true, 0)
	if opfs {
		before("election", "opfs-handles", false, 0)
		if by["opfs-handles"].end() > by["storage-open"].end()+0.5 {
			t.Errorf("larder:opfs-handles ends (%.3f) after the storage was open (%.3f)", by["opfs-handles"].end(), by["storage-open"].end())
		}
	}
}

// TestBrowserStartupTimings: larder.timings() and the performance panel
// have every start-up phase of a first visit and of a reload, once each,
// in causal order; the page fetched and compiled larder.wasm once and the
// worker fetched nothing.
func TestBrowserStartupTimings(t *testing.T) {
	onEngines(t, newEnvOn, func(t *testing.T, e *env) {
		for _, visit := range []string{"first", "reload"} {
			if visit == "reload" {
				e.reload(e.tab)
			}
			var s startup
			e.run(e.tab, startupJS, &s)
			wantN := map[string]int{"first": 1, "reload": 2}[visit]
			if s.N != wantN {
				t.Errorf("%s visit: %d notes, want %d", visit, s.N, wantN)
			}
			checkPhases(t, s, e.opfsWorks())
			if s.Wasm != 1 || s.WorkerWasm != 0 {
				t.Errorf("%s visit: larder.wasm fetched %d times by the page and %d by the worker, want 1 and 0", visit, s.Wasm, s.WorkerWasm)
			}
			if wantStorage := map[bool]string{true: "opfs", false: "idb"}[e.opfsWorks()]; s.Storage != wantStorage {
				t.Errorf("%s visit: storage %s, want %s", visit, s.Storage, wantStorage)
			}
			var line []string
			for _, p := range s.Timings {
				line = append(line, fmt.Sprintf("%s %.0f+%.0f", strings.TrimPrefix(p.Name, "larder:"), p.Start, p.Duration))
			}
			t.Logf("%s %s visit: %s", e.engine, visit, strings.Join(line, ", "))
		}
		e.noErrors(e.tab)
	})
}

// TestBrowserStartupPreloadShared: preload() before open() is the same
// fetch and compile (one resource entry, one larder:compile), and its
// onProgress saw the bytes arrive.
func TestBrowserStartupPreloadShared(t *testing.T) {
	e := newEnv(t)
	var r struct {
		Same     bool
		Loaded   float64
		Calls    int
		Wasm     int
		Compiles int
	}
	e.run(e.tab, `
let calls = 0, loaded = 0;
const p1 = L.preload(undefined, { onProgress: (p) => { calls++; loaded = p.loaded; } });
const p2 = L.preload();
const m = await p1;
const db = await L.open({ name: "pre", storage: "memory" });
await db.query("SELECT 1");
const wasm = performance.getEntriesByType("resource").filter((e) => /larder\.wasm(\?|$)/.test(e.name)).length;
const compiles = L.timings().filter((p) => p.name === "larder:compile").length;
return { same: p1 === p2 && m instanceof WebAssembly.Module, loaded, calls, wasm, compiles };
`, &r)
	if !r.Same || r.Wasm != 1 || r.Compiles != 1 {
		t.Errorf("preload then open: %+v, want one promise, one resource entry, one compile", r)
	}
	if r.Calls == 0 || r.Loaded < 1e6 {
		t.Errorf("onProgress: %d calls, %v bytes at the last, want the module's bytes", r.Calls, r.Loaded)
	}
}

// TestBrowserStartupHandover: on OPFS (IndexedDB where a worker has no
// OPFS: WebKitGTK), a reload and a new tab opened right after the owner's
// tab closed open the database with its data; a request the page makes
// between pagehide and pageshow (the back/forward cache) gets
// LARDER_CLOSED and takes nothing back, and after pageshow it is served
// again.
func TestBrowserStartupHandover(t *testing.T) {
	onEngines(t, newEnvOn, func(t *testing.T, e *env) {
		storage := "opfs"
		if !e.opfsWorks() {
			storage = "idb"
		}
		open := `const db = await L.open({ name: "h", storage: "` + storage + `", migrations: [
  { version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT)" }] });`
		count := func(add string) int {
			t.Helper()
			var n int
			e.run(e.tab, open+`
await db.exec("INSERT INTO note(body) VALUES (?)", [`+add+`]);
const [{ n }] = await db.query("SELECT count(*) AS n FROM note");
window.db = db;
return n;`, &n)
			return n
		}
		if n := count(`"first"`); n != 1 {
			t.Fatalf("first visit: %d notes", n)
		}
		// pagehide without unloading: what the page asks meanwhile fails
		// clearly; pageshow brings it back.
		var hidden struct {
			Code, Message string
			N             int
		}
		e.run(e.tab, `
dispatchEvent(new PageTransitionEvent("pagehide", { persisted: true }));
const err = await T.err(db.query("SELECT 1"));
dispatchEvent(new PageTransitionEvent("pageshow", { persisted: true }));
const [{ n }] = await db.query("SELECT count(*) AS n FROM note");
return { code: err && err.code, message: err && err.message, n };`, &hidden)
		if hidden.Code != "LARDER_CLOSED" || !strings.Contains(hidden.Message, "pagehide") || hidden.N != 1 {
			t.Errorf("between pagehide and pageshow: %+v, want LARDER_CLOSED naming pagehide, then 1 note", hidden)
		}
		e.reload(e.tab)
		if n := count(`"reload"`); n != 2 {
			t.Errorf("after a reload: %d notes, want 2", n)
		}
		// A new tab opens the database right after the owner's closed
		// (loaded first: closing a session's last window ends WebKit's
		// WebDriver session).
		next := e.page()
		e.tab.Close()
		e.tab = next
		if n := count(`"new tab"`); n != 3 {
			t.Errorf("new tab after close: %d notes, want 3", n)
		}
		var owner struct {
			Prepared string
			Timings  []phase
		}
		e.run(e.tab, `return { prepared: ([...L.__runtimes()][0].prepared.h || {}).state || "", timings: L.timings() };`, &owner)
		// Chromium ends the closed tab's worker with the tab, after its
		// pagehide gave the database up: the new tab owns it. Firefox keeps
		// that worker running a while after the tab closed (it got no
		// pagehide message in time) and it serves the new tab as its owner
		// until it ends, when the new tab takes over (TestBrowserOwnerFailover).
		if e.engine == "chromium" && storage == "opfs" && owner.Prepared != "adopted" {
			t.Errorf("new tab: OPFS handles %q, want adopted (the tab owns the database); timings %+v", owner.Prepared, owner.Timings)
		}
		t.Logf("%s %s new tab: OPFS handles %q; timings %+v", e.engine, storage, owner.Prepared, owner.Timings)
		e.noErrors(e.tab)
	})
}
