//go:build !js && browser

package jsbridge_test

import (
	"strings"
	"testing"
)

// waitWarmup is JS: awaits the end of the runtime's warm-up (rt.warmup set
// by the worker's reports) for at most ms, calling tick() every 100 ms
// meanwhile.
const waitWarmup = `
async function waitWarmup(rt, ms, tick) {
  const t0 = performance.now();
  while (!(rt.warmup && rt.warmup.state !== "running" && rt.warmup.state !== "claiming")) {
    if (performance.now() - t0 > ms) return rt.warmup || { state: "none" };
    if (tick) await tick();
    await new Promise((r) => setTimeout(r, 100));
  }
  return rt.warmup;
}
`

func TestBrowserWarmupRunsOnceAndGivesWay(t *testing.T) {
	e := newEnv(t)
	var first struct {
		Warmup struct {
			State  string
			Rounds int
			MS     float64
		}
		Calls   int
		During  int
		Keys    []string
		Changes [][]string
		Tables  []string
	}
	// A first visit: calls keep coming while the worker warms up; each is
	// answered, and right.
	e.run(e.tab, waitWarmup+`
const db = await L.open({ name: "app", storage: "memory", migrations: [
  { version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT)" }] });
const changes = [];
db.addEventListener("change", (e) => changes.push(e.detail.tables));
const rt = [...L.__runtimes()][0];
let calls = 0, during = 0;
const warmup = await waitWarmup(rt, 60000, async () => {
  const running = rt.warmup && rt.warmup.state === "running";
  const { lastInsertRowid } = await db.exec("INSERT INTO note(body) VALUES (?)", ["n" + calls]);
  const [row] = await db.query("SELECT body FROM note WHERE id = ?", [lastInsertRowid]);
  if (row.body !== "n" + calls) throw new Error("call " + calls + " answered " + JSON.stringify(row));
  calls++;
  if (running) during++;
});
const [{ n }] = await db.query("SELECT count(*) AS n FROM note");
if (n !== calls) throw new Error(calls + " inserts, " + n + " rows");
const tables = (await db.query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")).map((r) => r.name);
const keys = await new Promise((resolve, reject) => {
  const r = indexedDB.open("larder-warmup");
  r.onsuccess = () => {
    const g = r.result.transaction("builds").objectStore("builds").getAllKeys();
    g.onsuccess = () => { r.result.close(); resolve(g.result); };
    g.onerror = () => reject(g.error);
  };
  r.onerror = () => reject(r.error);
});
return { warmup, calls, during, keys, changes: changes.slice(0, 3), tables };
`, &first)
	if first.Warmup.State != "done" || first.Warmup.Rounds != 50 {
		t.Fatalf("first visit: warm-up %+v, want done after 50 rounds", first.Warmup)
	}
	if first.During == 0 {
		t.Errorf("no call was made while the warm-up ran (%d calls): the test did not test giving way", first.Calls)
	}
	if len(first.Keys) != 1 || !strings.Contains(first.Keys[0], "/dist/larder.wasm") {
		t.Errorf("warm-up records %q, want one for /dist/larder.wasm", first.Keys)
	}
	if strings.Join(first.Tables, ",") != "_migrations,note" {
		t.Errorf("the app's database has tables %v", first.Tables)
	}
	for _, c := range first.Changes {
		if strings.Join(c, ",") != "note" {
			t.Errorf("change event for %v: the warm-up's writes reached the app", c)
		}
	}
	t.Logf("warm-up: %d rounds, %.0f ms of worker time; %d calls made meanwhile, %d of them while it ran", first.Warmup.Rounds, first.Warmup.MS, first.Calls, first.During)
	e.noErrors(e.tab)

	// A later visit of the same build skips it.
	e.reload(e.tab)
	var later struct{ State string }
	e.run(e.tab, waitWarmup+`
await L.open({ name: "app", storage: "memory" });
return await waitWarmup([...L.__runtimes()][0], 10000);
`, &later)
	if later.State != "skipped" {
		t.Errorf("second visit: warm-up %q, want skipped", later.State)
	}
	e.noErrors(e.tab)
}

func TestBrowserWarmupOff(t *testing.T) {
	e := newEnv(t)
	var got struct {
		Warmup any
		DBs    []string
	}
	e.run(e.tab, waitWarmup+`
const db = await L.open({ name: "app", storage: "memory", warmup: false });
await db.query("SELECT 1");
const warmup = await waitWarmup([...L.__runtimes()][0], 1500);
return { warmup, dbs: (await indexedDB.databases()).map((d) => d.name) };
`, &got)
	if m, _ := got.Warmup.(map[string]any); m == nil || m["state"] != "none" {
		t.Errorf("warmup: false: the runtime reported %v", got.Warmup)
	}
	for _, n := range got.DBs {
		if n == "larder-warmup" {
			t.Errorf("warmup: false created IndexedDB %q", n)
		}
	}
}
