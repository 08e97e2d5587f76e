//go:build !js && browser

package jsbridge_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestBrowserArrayRowsAndRun: rowMode "array" keeps duplicate and
// integer-like column names in column order; run answers rows, changes and
// lastInsertRowid in one call (RETURNING), on the handle and in a
// transaction; raw transaction control outside db.transaction is refused
// naming db.transaction.
func TestBrowserArrayRowsAndRun(t *testing.T) {
	e := newEnv(t)
	var got struct {
		Arr    map[string]any
		Obj    []map[string]any
		Run    map[string]any
		RunArr map[string]any
		TxRun  map[string]any
		Begin  map[string]any
		Count  int
	}
	e.run(e.tab, `const db = await L.open({ name: "rows", storage: "memory", migrations: [
  { version: 1, name: "init", up: "CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE b(id INTEGER PRIMARY KEY, a_id INTEGER, w TEXT)" }] });
await db.exec("INSERT INTO a(v) VALUES ('x')");
await db.exec("INSERT INTO b(a_id, w) VALUES (1, 'y')");
const join = "SELECT a.id, b.id, a.v, b.w, 7 AS \"2\", 8 AS \"1\" FROM a JOIN b ON b.a_id = a.id";
const arr = await db.query(join, [], { rowMode: "array" });
const obj = await db.query(join);
const run = await db.run("INSERT INTO a(v) VALUES (?) RETURNING id, v", ["z"]);
const runArr = await db.run("UPDATE a SET v = v || '!' RETURNING id, id", [], { rowMode: "array" });
const txRun = await db.transaction(async (tx) => {
  const r = await tx.run("INSERT INTO b(a_id, w) VALUES (2, 'q') RETURNING w");
  const q = await tx.query("SELECT count(*) AS n, count(*) AS n FROM b", [], { rowMode: "array" });
  return { ...r, inside: q };
});
const begin = await T.err(db.exec("BEGIN"));
const [{ n }] = await db.query("SELECT count(*) AS n FROM b");
return T.json({ arr, obj, run, runArr, txRun, begin, count: n });`, &got)
	wantArr := map[string]any{"columns": []any{"id", "id", "v", "w", "2", "1"}, "rows": []any{[]any{1.0, 1.0, "x", "y", 7.0, 8.0}}}
	if !reflect.DeepEqual(got.Arr, wantArr) {
		t.Errorf("rowMode array: %v, want %v", got.Arr, wantArr)
	}
	if len(got.Obj) != 1 || len(got.Obj[0]) != 5 {
		t.Errorf("rowMode object (a duplicate name collapses, as before): %v", got.Obj)
	}
	wantRun := map[string]any{"rows": []any{map[string]any{"id": 2.0, "v": "z"}}, "changes": 1.0, "lastInsertRowid": 2.0}
	if !reflect.DeepEqual(got.Run, wantRun) {
		t.Errorf("run RETURNING: %v, want %v", got.Run, wantRun)
	}
	wantRunArr := map[string]any{"columns": []any{"id", "id"}, "rows": []any{[]any{1.0, 1.0}, []any{2.0, 2.0}}, "changes": 2.0, "lastInsertRowid": 2.0}
	if !reflect.DeepEqual(got.RunArr, wantRunArr) {
		t.Errorf("run array: %v, want %v", got.RunArr, wantRunArr)
	}
	if got.TxRun["changes"] != 1.0 || fmt.Sprint(got.TxRun["rows"]) != "[map[w:q]]" || fmt.Sprint(got.TxRun["inside"]) != "map[columns:[n n] rows:[[2 2]]]" {
		t.Errorf("tx.run / tx.query array: %v", got.TxRun)
	}
	if got.Begin == nil || got.Begin["code"] != "LARDER_INVALID_ARGUMENT" || !strings.Contains(fmt.Sprint(got.Begin["message"]), "db.transaction") {
		t.Errorf("raw BEGIN: %v, want LARDER_INVALID_ARGUMENT naming db.transaction", got.Begin)
	}
	if got.Count != 2 {
		t.Errorf("%d rows in b, want 2", got.Count)
	}
	e.noErrors(e.tab)
}

// watchMigrations: note is watched, other is not.
const watchMigrations = `[{ version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE other(x)" }]`

// TestBrowserWatch: a watcher in one tab re-runs its query once per commit
// that wrote a table it reads, whichever tab wrote it, never for writes to
// other tables, and keeps watching after the owner tab closes.
func TestBrowserWatch(t *testing.T) {
	e := newEnv(t)
	open := fmt.Sprintf(`window.db = await L.open({ name: "watch", storage: "idb", migrations: %s });`, watchMigrations)
	owner := e.page()
	e.run(owner, open, nil)
	watcher := e.page()
	e.run(watcher, open+`
window.seen = [];
window.errors = [];
window.waitSeen = async (n) => { while (seen.length < n) await new Promise((r) => setTimeout(r, 10)); return seen; };
window.unwatch = db.watch("SELECT count(*) AS n FROM note", [], (rows) => seen.push(rows[0].n), { onError: (e) => errors.push(e.code + ": " + e.message) });
return await waitSeen(1);`, nil)
	// An unrelated write, then a watched one, each committed in turn by
	// the owner tab; then one transaction of 50 rows: one re-run.
	e.run(owner, `await db.exec("INSERT INTO other VALUES (1)"); await db.exec("INSERT INTO note(body) VALUES ('a')");`, nil)
	e.run(watcher, `return await waitSeen(2);`, nil)
	e.run(owner, `await db.transaction(async (tx) => { for (let i = 0; i < 50; i++) await tx.exec("INSERT INTO note(body) VALUES (?)", ["t" + i]); });`, nil)
	var seen []int
	e.run(watcher, `return await waitSeen(3);`, &seen)
	if !reflect.DeepEqual(seen, []int{0, 1, 51}) {
		t.Fatalf("before the failover the watcher saw %v, want [0 1 51] (one run per commit to note, none for other)", seen)
	}
	// The owner goes; the watcher's tab takes over; a third tab writes.
	owner.Close()
	third := e.page()
	e.run(third, open+`await db.exec("INSERT INTO other VALUES (2)"); await db.exec("INSERT INTO note(body) VALUES ('after')");`, nil)
	e.run(watcher, `return await waitSeen(4);`, &seen)
	// The watcher's own write is seen too; then it stops.
	e.run(watcher, `await db.exec("INSERT INTO note(body) VALUES ('own')"); await waitSeen(5); unwatch();
await db.exec("INSERT INTO note(body) VALUES ('unwatched')");
await db.query("SELECT 1");
return seen;`, &seen)
	if !reflect.DeepEqual(seen, []int{0, 1, 51, 52, 53}) {
		t.Errorf("the watcher saw %v, want [0 1 51 52 53]", seen)
	}
	var errs []string
	e.run(watcher, `return errors;`, &errs)
	if len(errs) > 0 {
		t.Errorf("watch errors: %v", errs)
	}
	e.noErrors(watcher)
	e.noErrors(third)
}

// TestBrowserWatchCost measures 100 watchers: the time from a commit to
// the last of its 100 re-runs, against one plain query (logged, not
// asserted: the figures depend on the machine).
func TestBrowserWatchCost(t *testing.T) {
	e := newEnv(t)
	var got struct {
		Watchers, Commits         int
		PerCommitMs, PerRerunMs   float64
		QueryMs, ReadSetsAndFirst float64
	}
	e.run(e.tab, fmt.Sprintf(`const db = await L.open({ name: "watchcost", storage: "idb", migrations: %s });
for (let i = 0; i < 1000; i++) await db.exec("INSERT INTO note(body) VALUES (?)", ["n" + i]);
const W = 100, C = 20;
const counts = new Array(W).fill(0);
let t0 = performance.now();
const stops = [];
for (let i = 0; i < W; i++) stops.push(db.watch("SELECT count(*) AS n FROM note WHERE id %% 100 = ?", [i], () => counts[i]++));
const wait = async (n) => { while (counts.some((c) => c < n)) await new Promise((r) => setTimeout(r, 1)); };
await wait(1);
const readSetsAndFirst = performance.now() - t0;
t0 = performance.now();
for (let c = 0; c < C; c++) {
  await db.exec("INSERT INTO note(body) VALUES ('x')");
  await wait(c + 2);
}
const perCommitMs = (performance.now() - t0) / C;
stops.forEach((s) => s());
t0 = performance.now();
for (let i = 0; i < 200; i++) await db.query("SELECT count(*) AS n FROM note WHERE id %% 100 = ?", [i %% 100]);
const queryMs = (performance.now() - t0) / 200;
await db.close();
return { watchers: W, commits: C, perCommitMs, perRerunMs: perCommitMs / W, queryMs, readSetsAndFirst };`, watchMigrations), &got)
	if got.Watchers != 100 || got.Commits != 20 {
		t.Fatalf("ran %+v", got)
	}
	t.Logf("100 watchers: %.1f ms per commit until all re-ran (%.3f ms per re-run); one query alone %.3f ms; read sets and first runs %.0f ms",
		got.PerCommitMs, got.PerRerunMs, got.QueryMs, got.ReadSetsAndFirst)
}
