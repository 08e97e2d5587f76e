//go:build !js && browser

package jsbridge_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/ncruces/go-sqlite3"
)

func TestBrowserErrorsAndTransactions(t *testing.T) {
	onEngines(t, newEnvOn, func(t *testing.T, e *env) {
		for _, st := range e.all() {
			t.Run(st, func(t *testing.T) {
				e.t = t
				var got struct {
					Syntax, Unique, Closed, Range, Bogus string
					After                                float64
					Rows                                 []string
					Changes                              [][]string
					TxResult                             string
					Queued                               []string
				}
				e.run(e.tab, withNames(`
const db = await L.open({ name: NAME, storage: STORAGE, migrations: [
  { version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT UNIQUE)" }] });
const changes = [];
db.addEventListener("change", e => changes.push(e.detail.tables));
const syntax = await T.err(db.exec("SELEKT nonsense"));
const [{ n }] = await db.query("SELECT 40 + 2 AS n");
await db.exec("INSERT INTO note(body) VALUES ('a')");
const unique = await T.err(db.exec("INSERT INTO note(body) VALUES ('a')"));
const range = await T.err(db.query("SELECT ?, ?", [1]));
// A transaction commits; one that throws rolls back.
const txResult = await db.transaction(async tx => {
  await tx.exec("INSERT INTO note(body) VALUES (?)", ["b"]);
  const rows = await tx.query("SELECT count(*) AS c FROM note");
  return "count " + rows[0].c;
});
await T.err(db.transaction(async tx => {
  await tx.exec("INSERT INTO note(body) VALUES ('rolled back')");
  throw new Error("abort");
}));
// Calls on db during a transaction wait for it instead of joining it.
// (Waits are for conditions: the transaction has written before the
// outside call starts; the pause before the release only gives a wrong
// outside call the chance to finish early.)
const queued = [];
let release, wrote;
const gate = new Promise(r => release = r);
const hasWritten = new Promise(r => wrote = r);
const txp = db.transaction(async tx => {
  await tx.exec("INSERT INTO note(body) VALUES ('in tx')");
  queued.push("tx wrote");
  wrote();
  await gate;
  queued.push("tx commits");
});
await hasWritten;
const outside = db.exec("INSERT INTO note(body) VALUES ('outside')").then(() => queued.push("outside done"));
await new Promise(r => setTimeout(r, 100));
queued.push("released");
release();
await txp; await outside;
const rows = (await db.query("SELECT body FROM note ORDER BY id")).map(r => r.body);
await new Promise(r => setTimeout(r, 20));
await db.close();
const closed = await T.err(db.query("SELECT 1"));
const bogus = await T.err(L.open({ name: NAME, storage: "floppy" }));
return { Syntax: syntax.code, Unique: unique.code, Range: range.code, Closed: closed.code, Bogus: bogus.code,
         After: n, Rows: rows, Changes: changes, TxResult: txResult, Queued: queued };
`, "err-"+st, st), &got)
				if got.Syntax != "SQLITE_ERROR" || got.Unique != "SQLITE_CONSTRAINT_UNIQUE" || got.Range != "SQLITE_RANGE" ||
					got.Closed != "LARDER_CLOSED" || got.Bogus != "LARDER_STORAGE_UNAVAILABLE" || got.After != 42 {
					t.Errorf("codes: %+v", got)
				}
				if got.TxResult != "count 2" {
					t.Errorf("transaction result %q", got.TxResult)
				}
				want := []string{"a", "b", "in tx", "outside"}
				if len(got.Rows) != len(want) {
					t.Fatalf("rows %v, want %v", got.Rows, want)
				}
				for i := range want {
					if got.Rows[i] != want[i] {
						t.Fatalf("rows %v, want %v", got.Rows, want)
					}
				}
				wantQ := []string{"tx wrote", "released", "tx commits", "outside done"}
				for i := range wantQ {
					if i >= len(got.Queued) || got.Queued[i] != wantQ[i] {
						t.Fatalf("order %v, want %v", got.Queued, wantQ)
					}
				}
				// One change event per committed write: insert a, tx b, tx 'in tx', outside.
				if len(got.Changes) != 4 {
					t.Errorf("change events %v", got.Changes)
				}
				for _, c := range got.Changes {
					if len(c) != 1 || c[0] != "note" {
						t.Errorf("change event tables %v", c)
					}
				}
				e.noErrors(e.tab)
			})
		}
	})
}

func TestBrowserExportImport(t *testing.T) {
	onEngines(t, newEnvOn, func(t *testing.T, e *env) {
		for _, st := range e.all() {
			t.Run(st, func(t *testing.T) {
				e.t = t
				var got struct {
					Image   string
					Junk    string
					Corrupt string
					Before  []string
					After   []string
					Kept    []string
					Version float64
				}
				e.run(e.tab, withNames(`
const db = await L.open({ name: NAME, storage: STORAGE, migrations: [
  { version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT)" }] });
await db.exec("INSERT INTO note(body) VALUES ('one'), ('two'), ('ünï')");
const image = await db.export();
const before = (await db.query("SELECT body FROM note ORDER BY id")).map(r => r.body);
await db.exec("DELETE FROM note WHERE body = 'two'");
await db.exec("INSERT INTO note(body) VALUES ('later')");
const junk = await T.err(db.import(crypto.getRandomValues(new Uint8Array(8192))));
const corruptBytes = image.slice(); for (let i = 200; i < corruptBytes.length; i += 13) corruptBytes[i] ^= 0x5a;
const corrupt = await T.err(db.import(corruptBytes));
const kept = (await db.query("SELECT body FROM note ORDER BY id")).map(r => r.body);
await db.import(image);
const after = (await db.query("SELECT body FROM note ORDER BY id")).map(r => r.body);
await db.close();
let s = ""; for (let i = 0; i < image.length; i += 0x8000) s += String.fromCharCode(...image.subarray(i, i + 0x8000));
return { Image: btoa(s), Junk: junk && junk.code, Corrupt: corrupt && corrupt.code, Before: before, After: after, Kept: kept, Version: db.version };
`, "io-"+st, st), &got)
				if got.Junk != "LARDER_INVALID_DATABASE" || got.Corrupt != "LARDER_INVALID_DATABASE" {
					t.Errorf("bad imports: junk %q corrupt %q", got.Junk, got.Corrupt)
				}
				if len(got.Kept) != 3 || got.Kept[2] != "later" {
					t.Errorf("rejected import changed the database: %v", got.Kept)
				}
				if len(got.After) != 3 || got.After[1] != "two" || got.After[2] != "ünï" || got.Version != 1 {
					t.Errorf("after import: %v (version %v)", got.After, got.Version)
				}
				// The export is a standard SQLite file: open it natively.
				img, err := base64.StdEncoding.DecodeString(got.Image)
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(t.TempDir(), "export.db")
				if err := os.WriteFile(path, img, 0o644); err != nil {
					t.Fatal(err)
				}
				conn, err := sqlite3.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				stmt, _, err := conn.Prepare("SELECT (SELECT group_concat(body, ',') FROM (SELECT body FROM note ORDER BY id)), (SELECT integrity_check FROM pragma_integrity_check), (SELECT journal_mode FROM pragma_journal_mode), (SELECT max(version) FROM _migrations)")
				if err != nil {
					t.Fatal(err)
				}
				defer stmt.Close()
				if !stmt.Step() {
					t.Fatal(stmt.Err())
				}
				if b, ic, jm, v := stmt.ColumnText(0), stmt.ColumnText(1), stmt.ColumnText(2), stmt.ColumnInt(3); b != "one,two,ünï" || ic != "ok" || jm == "wal" || v != 1 {
					t.Errorf("native open of the export: rows %q integrity %q journal %q version %d", b, ic, jm, v)
				}
				_ = context.Background
				e.noErrors(e.tab)
			})
		}
	})
}

// Calls made without awaiting run in the order they were made.
func TestBrowserCallOrder(t *testing.T) {
	e := newEnv(t)
	for _, st := range allStorages {
		t.Run(st, func(t *testing.T) {
			e.t = t
			var got []float64
			e.run(e.tab, withNames(`
const db = await L.open({ name: NAME, storage: STORAGE });
const ps = [db.exec("CREATE TABLE o(n)")];
for (let i = 0; i < 50; i++) ps.push(db.exec("INSERT INTO o VALUES (?)", [i]));
const q = db.query("SELECT count(*) AS c FROM o");
ps.push(db.exec("DROP TABLE o"));
await Promise.all(ps);
const [{ c }] = await q;
await db.reset();
return [c];
`, "order-"+st, st), &got)
			if len(got) != 1 || got[0] != 50 {
				t.Errorf("query between the inserts and the drop saw %v rows, want 50", got)
			}
		})
	}
}

// Calls on a memory database made while IndexedDB commits are in flight:
// larder.wasm cannot answer them synchronously (a goroutine waits on
// IndexedDB), so they go the asynchronous way, and most settle before the
// call that started them has returned to the worker script. Every one
// must still resolve once, with its own result, and in order per database.
func TestBrowserInterleavedAnswers(t *testing.T) {
	e := newEnv(t)
	var got struct {
		Mem   []float64 `json:"mem"`
		Count float64   `json:"count"`
		Rows  float64   `json:"rows"`
	}
	e.run(e.tab, `
const slow = await L.open({ name: "interleave-idb", storage: "idb" });
const fast = await L.open({ name: "interleave-mem", storage: "memory" });
await slow.exec("CREATE TABLE s(n)");
await fast.exec("CREATE TABLE f(n)");
const ps = [], mem = [];
for (let i = 0; i < 60; i++) {
  ps.push(slow.exec("INSERT INTO s VALUES (?)", [i]));
  ps.push(fast.exec("INSERT INTO f VALUES (?)", [i]));
  ps.push(fast.query("SELECT max(n) AS m FROM f").then(([r]) => mem.push(r.m)));
}
await Promise.all(ps);
const [{ c }] = await slow.query("SELECT count(*) AS c FROM s");
const [{ r }] = await fast.query("SELECT count(*) AS r FROM f");
await slow.reset();
await fast.reset();
return { mem, count: c, rows: r };
`, &got)
	if got.Count != 60 || got.Rows != 60 {
		t.Errorf("rows: IndexedDB %v, memory %v, want 60 and 60", got.Count, got.Rows)
	}
	if len(got.Mem) != 60 {
		t.Fatalf("%d memory queries resolved, want 60", len(got.Mem))
	}
	for i, m := range got.Mem {
		if m != float64(i) {
			t.Fatalf("memory query %d saw max %v, want %d (answers out of order or crossed)", i, m, i)
		}
	}
	e.noErrors(e.tab)
}

// A call on db made inside a transaction waits for the transaction (it
// holds larder.wasm's runner goroutine meanwhile); the transaction's own
// calls must still be answered, with nothing else entering larder.wasm to
// run them.
func TestBrowserTransactionWithWaitingCall(t *testing.T) {
	e := newEnv(t)
	for _, st := range allStorages {
		t.Run(st, func(t *testing.T) {
			e.t = t
			var got []float64
			e.run(e.tab, withNames(`
const db = await L.open({ name: NAME, storage: STORAGE });
await db.exec("CREATE TABLE w(n)");
const timeout = (p, what) => Promise.race([p, new Promise((_, no) => setTimeout(() => no(new Error(what + " never answered")), 10000))]);
let outside;
await timeout(db.transaction(async (tx) => {
  outside = db.query("SELECT count(*) AS c FROM w"); // waits for the commit
  await new Promise((r) => setTimeout(r, 50));
  await tx.exec("INSERT INTO w VALUES (1)");
  await tx.exec("INSERT INTO w VALUES (2)");
}), "the transaction");
const [{ c }] = await timeout(outside, "the waiting query");
await db.reset();
return [c];
`, "waiting-"+st, st), &got)
			if len(got) != 1 || got[0] != 2 {
				t.Errorf("the query that waited for the commit saw %v rows, want 2", got)
			}
		})
	}
}
