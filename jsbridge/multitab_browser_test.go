//go:build !js && browser

package jsbridge_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/larderdb/larder/internal/browsertest"
)

// tabs opens n tabs on the test page.
func (e *env) tabs(n int) []*browsertest.Tab {
	out := []*browsertest.Tab{e.tab}
	for len(out) < n {
		out = append(out, e.page())
	}
	return out
}

// parallel runs body in every tab at once and returns the raw results.
func (e *env) parallel(tabs []*browsertest.Tab, body func(i int) string) []result {
	e.t.Helper()
	out := make([]result, len(tabs))
	var wg sync.WaitGroup
	for i, tab := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r result
			if err := tab.EvalTimeout(120*time.Second, fmt.Sprintf("T.run(async () => { %s })", body(i)), &r); err != nil {
				r.Error = &jsError{Code: "EVAL", Message: err.Error()}
			}
			out[i] = r
		}()
	}
	wg.Wait()
	return out
}

const multiMigrations = `[
  { version: 1, name: "init", up: "CREATE TABLE item(id INTEGER PRIMARY KEY, tab INTEGER, n INTEGER, UNIQUE(tab, n)); CREATE TABLE applied_log(v INTEGER)" },
  { version: 2, name: "log_once", up: "INSERT INTO applied_log VALUES (2)" },
]`

func TestBrowserThreeTabs(t *testing.T) {
	e := newEnv(t)
	tabs := e.tabs(3)
	for _, st := range persistent {
		t.Run(st, func(t *testing.T) {
			e.t = t
			name := "three-" + st
			start := time.Now().Add(1500 * time.Millisecond).UnixMilli()
			res := e.parallel(tabs, func(i int) string {
				return fmt.Sprintf(`
await new Promise(r => setTimeout(r, %d - Date.now()));
const db = await L.open({ name: %q, storage: %q, migrations: %s });
window.db = db;
const changes = new Set();
db.addEventListener("change", e => e.detail.tables.forEach(t => changes.add(t)));
const ps = [];
for (let n = 0; n < 300; n++) ps.push(db.exec("INSERT INTO item(tab, n) VALUES (?, ?)", [%d, n]));
const rs = await Promise.allSettled(ps);
const failed = rs.filter(r => r.status === "rejected").map(r => r.reason.code + ": " + r.reason.message);
await new Promise(r => setTimeout(r, 300));
return { failed: failed.slice(0, 5), nfailed: failed.length, version: db.version, storage: db.storage, changes: [...changes] };
`, start, name, st, multiMigrations, i)
			})
			for i, r := range res {
				if r.Error != nil {
					t.Fatalf("tab %d: %s: %s", i, r.Error.Code, r.Error.Message)
				}
				var v struct {
					Failed  []string `json:"failed"`
					Version int      `json:"version"`
					Storage string   `json:"storage"`
					Changes []string `json:"changes"`
				}
				jsonUnmarshal(r.Value, &v)
				if len(v.Failed) > 0 || v.Version != 2 || v.Storage != st {
					t.Errorf("tab %d: %+v", i, v)
				}
				if len(v.Changes) == 0 || v.Changes[0] != "item" {
					t.Errorf("tab %d saw change events %v, want item", i, v.Changes)
				}
			}
			var got struct {
				Rows, Distinct, Log, Migs int
			}
			e.run(tabs[0], `
const [a] = await db.query("SELECT count(*) AS rows, count(DISTINCT tab || ':' || n) AS d FROM item");
const [l] = await db.query("SELECT count(*) AS n FROM applied_log");
const ms = await db.migrations();
return { Rows: a.rows, Distinct: a.d, Log: l.n, Migs: ms.length };
`, &got)
			if got.Rows != 900 || got.Distinct != 900 || got.Log != 1 || got.Migs != 2 {
				t.Errorf("after 3 tabs × 300 inserts: %+v (want 900 rows, migration 2 applied once)", got)
			}
			for _, tab := range tabs {
				e.run(tab, `await db.close();`, nil)
			}
		})
	}
}

// The owner tab closes while the others keep writing: every write that
// resolved is there, and the others carry on (the takeover time is logged).
func TestBrowserOwnerFailover(t *testing.T) {
	onEngines(t, newEnvOn, func(t *testing.T, e *env) {
		for _, st := range e.persistent() {
			t.Run(st, func(t *testing.T) {
				e.t = t
				name := "failover-" + st
				owner := e.page()
				e.run(owner, fmt.Sprintf(`window.db = await L.open({ name: %q, storage: %q, migrations: %s });`, name, st, multiMigrations), nil)
				others := []*browsertest.Tab{e.page(), e.page()}
				for _, tab := range others {
					e.run(tab, fmt.Sprintf(`
window.db = await L.open({ name: %q, storage: %q, migrations: %s });
window.log = { ok: [], unknown: [], other: [], times: [] };
window.stop = false;
window.writer = (async () => {
  const tabId = Math.floor(Math.random() * 1e9);
  for (let n = 0; !window.stop; n++) {
    try { await db.exec("INSERT INTO item(tab, n) VALUES (?, ?)", [tabId, n]); log.ok.push([tabId, n]); log.times.push(performance.now()); }
    catch (e) { (e.code === "LARDER_OWNER_GONE" ? log.unknown : log.other).push(e.code + ": " + e.message); }
    await new Promise(r => setTimeout(r, 5));
  }
})();
await new Promise(r => setTimeout(r, 300));
`, name, st, multiMigrations), nil)
				}
				closedAt := time.Now()
				owner.Close()
				time.Sleep(3 * time.Second)
				var total int
				for i, tab := range others {
					var v struct {
						OK      [][2]float64 `json:"ok"`
						Unknown []string     `json:"unknown"`
						Other   []string     `json:"other"`
						MaxGap  float64      `json:"maxGap"`
						Present int          `json:"present"`
					}
					e.run(tab, `
window.stop = true; await writer;
let maxGap = 0; for (let i = 1; i < log.times.length; i++) maxGap = Math.max(maxGap, log.times[i] - log.times[i-1]);
let present = 0;
for (const [tab, n] of log.ok) { const r = await db.query("SELECT 1 FROM item WHERE tab = ? AND n = ?", [tab, n]); present += r.length; }
return { ok: log.ok, unknown: log.unknown, other: log.other, maxGap, present };
`, &v)
					if len(v.Other) > 0 {
						t.Errorf("tab %d: writes failed: %v", i, v.Other[:min(3, len(v.Other))])
					}
					if v.Present != len(v.OK) {
						t.Errorf("tab %d: %d writes resolved, %d present", i, len(v.OK), v.Present)
					}
					total += len(v.OK)
					t.Logf("tab %d: %d writes resolved (%d with unknown outcome at the takeover), longest pause %.0f ms (owner closed %v before the end)", i, len(v.OK), len(v.Unknown), v.MaxGap, time.Since(closedAt).Round(time.Millisecond))
				}
				if total == 0 {
					t.Fatal("no writes")
				}
				// Writes continue after the takeover.
				for _, tab := range others {
					var n int
					e.run(tab, `await db.exec("INSERT INTO item(tab, n) VALUES (-1, (SELECT count(*) FROM item))"); const [r] = await db.query("SELECT count(*) AS n FROM item"); await db.close(); return r.n;`, &n)
					if n == 0 {
						t.Error("no rows after the takeover")
					}
				}
				for _, tab := range others {
					tab.Close()
				}
			})
		}
	})
}

// Upgrades with an older tab open: a non-breaking migration from a newer
// tab keeps the old tab working (versionchange); a breaking one makes its
// calls reject with LARDER_OUTDATED.
func TestBrowserUpgradeWithOldTab(t *testing.T) {
	onEngines(t, newEnvOn, func(t *testing.T, e *env) {
		for _, st := range e.persistent() {
			t.Run(st, func(t *testing.T) {
				e.t = t
				name := "upgrade-" + st
				oldTab, newTab := e.page(), e.page()
				v1 := `[{ version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT)" }]`
				v2 := `[{ version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT)" },
			         { version: 2, name: "add_tag", up: "ALTER TABLE note ADD COLUMN tag TEXT" }]`
				v3 := `[{ version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT)" },
			         { version: 2, name: "add_tag", up: "ALTER TABLE note ADD COLUMN tag TEXT" },
			         { version: 3, name: "rename_body", up: "-- migrate:breaking\nALTER TABLE note RENAME COLUMN body TO text" }]`
				e.run(oldTab, fmt.Sprintf(`
window.db = await L.open({ name: %q, storage: %q, migrations: %s });
window.events = [];
db.addEventListener("versionchange", e => events.push(e.detail));
await db.exec("INSERT INTO note(body) VALUES ('old')");
`, name, st, v1), nil)
				var v struct {
					Events  []map[string]any `json:"events"`
					Version float64          `json:"version"`
					Err     *jsError         `json:"err"`
					Rows    int              `json:"rows"`
				}
				e.run(newTab, fmt.Sprintf(`const db = await L.open({ name: %q, storage: %q, migrations: %s }); window.db = db; return db.version;`, name, st, v2), nil)
				e.run(oldTab, `
await new Promise(r => setTimeout(r, 300));
await db.exec("INSERT INTO note(body) VALUES ('old again')");
const rows = (await db.query("SELECT * FROM note")).length;
return { events, version: db.version, rows };
`, &v)
				if len(v.Events) != 1 || v.Events[0]["from"] != 1.0 || v.Events[0]["to"] != 2.0 || v.Events[0]["breaking"] != false || v.Rows != 2 {
					t.Fatalf("non-breaking upgrade seen by the old tab: %+v", v)
				}
				e.run(newTab, `await db.close();`, nil)
				newer := e.page()
				e.run(newer, fmt.Sprintf(`window.db = await L.open({ name: %q, storage: %q, migrations: %s });`, name, st, v3), nil)
				e.run(oldTab, `
await new Promise(r => setTimeout(r, 300));
const err = await T.err(db.exec("INSERT INTO note(body) VALUES ('must not land')"));
return { events, version: db.version, err };
`, &v)
				if v.Err == nil || v.Err.Code != "LARDER_OUTDATED" || len(v.Events) != 2 || v.Events[1]["breaking"] != true || v.Events[1]["to"] != 3.0 {
					t.Fatalf("breaking upgrade seen by the old tab: %+v (%+v)", v, v.Err)
				}
				// A fresh tab with the old bundle: outdated too.
				late := e.page()
				e.mustFail(late, fmt.Sprintf(`await L.open({ name: %q, storage: %q, migrations: %s });`, name, st, v2), "LARDER_OUTDATED")
				var n int
				e.run(newer, `const r = await db.query("SELECT count(*) AS n FROM note WHERE text = 'must not land'"); await db.close(); return r[0].n;`, &n)
				if n != 0 {
					t.Error("the outdated tab wrote into the new schema")
				}
				e.run(oldTab, `await db.close();`, nil)
				for _, tab := range []*browsertest.Tab{oldTab, newTab, newer, late} {
					tab.Close()
				}
			})
		}
	})
}

// A tab that closes in the middle of a transaction does not keep the
// others waiting: the owner sees the tab's context lock go and rolls the
// transaction back (instead of waiting for the 15 s idle timeout).
func TestBrowserTabClosedMidTransaction(t *testing.T) {
	e := newEnv(t)
	for _, st := range persistent {
		t.Run(st, func(t *testing.T) {
			e.t = t
			name := "midtx-" + st
			owner := e.page()
			e.run(owner, fmt.Sprintf(`window.db = await L.open({ name: %q, storage: %q, migrations: %s });`, name, st, multiMigrations), nil)
			doomed := e.page()
			e.run(doomed, fmt.Sprintf(`
window.db = await L.open({ name: %q, storage: %q, migrations: %s });
window.txDone = db.transaction(async (tx) => {
  await tx.exec("INSERT INTO item(tab, n) VALUES (-7, 1)");
  await new Promise(() => {}); // never finishes: the tab closes first
});
await new Promise(r => setTimeout(r, 200));
`, name, st, multiMigrations), nil)
			doomed.Close()
			var got struct {
				Ms    float64 `json:"ms"`
				Stray int     `json:"stray"`
			}
			if err := owner.EvalTimeout(10e9, `T.run(async () => {
const t0 = performance.now();
await db.exec("INSERT INTO item(tab, n) VALUES (-8, 1)");
const ms = performance.now() - t0;
const [{ n }] = await db.query("SELECT count(*) AS n FROM item WHERE tab = -7");
await db.close();
return { ms, stray: n };
}).then(r => r.value)`, &got); err != nil {
				t.Fatalf("the owner's write waited on the closed tab's transaction: %v", err)
			}
			if got.Stray != 0 {
				t.Errorf("the closed tab's uncommitted row is there")
			}
			t.Logf("%s: the write waited %.0f ms for the dead tab's transaction to be rolled back", st, got.Ms)
			owner.Close()
		})
	}
}

// reset() from one tab closes the database for every tab: the others' calls
// reject with LARDER_CLOSED (not a fresh empty database), and their next
// open migrates from scratch.
func TestBrowserResetAcrossTabs(t *testing.T) {
	onEngines(t, newEnvOn, func(t *testing.T, e *env) {
		for _, st := range e.persistent() {
			t.Run(st, func(t *testing.T) {
				e.t = t
				name := "reset-" + st
				a, b := e.page(), e.page()
				open := fmt.Sprintf(`window.db = await L.open({ name: %q, storage: %q, migrations: %s });`, name, st, multiMigrations)
				e.run(a, open+`await db.exec("INSERT INTO item(tab, n) VALUES (1, 1)");`, nil)
				e.run(b, open, nil)
				e.run(b, `await db.reset();`, nil)
				e.mustFail(a, `await db.query("SELECT count(*) FROM item");`, "LARDER_CLOSED")
				var n float64
				e.run(a, open+`const ms = await db.migrations(); const [{ c }] = await db.query("SELECT count(*) AS c FROM item"); await db.close(); return ms.length * 10 + c;`, &n)
				if n != 20 {
					t.Errorf("after reset: %v migrations*10+rows, want 2 migrations and 0 rows", n)
				}
				a.Close()
				b.Close()
			})
		}
	})
}
