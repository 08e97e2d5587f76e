//go:build !js && browser

package jsbridge_test

import (
	"fmt"
	"testing"
)

// When the origin's quota runs out, writes reject with SQLITE_FULL and the
// database stays intact and usable.
func TestBrowserQuota(t *testing.T) {
	for _, st := range persistent {
		t.Run(st, func(t *testing.T) {
			// A fresh origin per backend, its quota set before anything is
			// stored: Chromium fixes an origin's IndexedDB room when its
			// backing store opens.
			e := newEnv(t)
			name := "quota-" + st
			var usage float64
			e.run(e.tab, `return (await navigator.storage.estimate()).usage;`, &usage)
			if err := e.tab.OverrideQuota(e.srv.URL, usage+8e6); err != nil {
				t.Fatal(err)
			}
			defer e.tab.OverrideQuota(e.srv.URL, -1)
			e.run(e.tab, fmt.Sprintf(`
window.db = await L.open({ name: %q, storage: %q, migrations: [{ version: 1, name: "init", up: "CREATE TABLE b(id INTEGER PRIMARY KEY, data BLOB)" }] });
await db.exec("INSERT INTO b(data) VALUES (randomblob(100000))");
`, name, st), nil)
			var got struct {
				Code      string  `json:"code"`
				Message   string  `json:"message"`
				Inserted  int     `json:"inserted"`
				Rows      int     `json:"rows"`
				Integrity string  `json:"integrity"`
				After     float64 `json:"after"`
			}
			e.run(e.tab, `
let inserted = 0, err = null;
for (let i = 0; i < 100 && !err; i++) {
  try { await db.exec("INSERT INTO b(data) VALUES (randomblob(250000))"); inserted++; }
  catch (e) { err = e; }
}
const [{ n }] = await db.query("SELECT count(*) AS n FROM b");
const [ic] = await db.query("PRAGMA integrity_check");
const [{ one }] = await db.query("SELECT 1 AS one");
await db.close();
return { code: err && err.code, message: err && err.message, inserted, rows: n, integrity: ic.integrity_check, after: one };
`, &got)
			if got.Code != "SQLITE_FULL" {
				t.Fatalf("want SQLITE_FULL when the quota runs out, got %q (%s) after %d inserts", got.Code, got.Message, got.Inserted)
			}
			if got.Integrity != "ok" || got.Rows != got.Inserted+1 || got.After != 1 {
				t.Fatalf("after SQLITE_FULL: %+v", got)
			}
			// Reopen with the quota back: everything committed is there.
			e.tab.OverrideQuota(e.srv.URL, -1)
			var rows int
			e.run(e.tab, fmt.Sprintf(`const db = await L.open({ name: %q, storage: %q }); const [{ n }] = await db.query("SELECT count(*) AS n FROM b"); await db.reset(); return n;`, name, st), &rows)
			if rows != got.Rows {
				t.Fatalf("after reopen: %d rows, want %d", rows, got.Rows)
			}
			t.Logf("%s: SQLITE_FULL after %d inserts of 250 kB (%s)", st, got.Inserted, got.Message)
		})
	}
}
