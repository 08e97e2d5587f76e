//go:build !js && browser

package jsbridge_test

import (
	"encoding/json"
	"testing"

	"github.com/larderdb/larder/migrations"
)

// bundle writes a `larder migrate bundle` file from (version, name, up) triples.
func bundle(t *testing.T, migs ...migrations.BundleEntry) []byte {
	t.Helper()
	for i := range migs {
		migs[i].Checksum = migrations.Checksum(migs[i].Up)
	}
	b, err := json.Marshal(migs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	m1    = migrations.BundleEntry{Version: 1, Name: "init", Up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT);"}
	m2    = migrations.BundleEntry{Version: 2, Name: "add_tags", Up: "ALTER TABLE note ADD COLUMN tags TEXT;\nCREATE INDEX note_tags ON note(tags);"}
	m1Bad = migrations.BundleEntry{Version: 1, Name: "init", Up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT NOT NULL);"}
	m3    = migrations.BundleEntry{Version: 3, Name: "broken", Up: "CREATE TABLE t3(x);\nINSERT INTO no_such_table VALUES (1);"}
)

type state struct {
	Version   int64    `json:"version"`
	Storage   string   `json:"storage"`
	Applied   []int64  `json:"applied"`
	AppliedAt []string `json:"appliedAt"`
	Notes     []string `json:"notes"`
	HasT3     bool     `json:"hasT3"`
	Checksums []string `json:"checksums"`
}

// openState opens name from /bundle.json and reports what is there.
const openState = `
const db = await L.open({ name: NAME, storage: STORAGE, migrations: "/bundle.json" });
const ms = await db.migrations();
const notes = (await db.query("SELECT body FROM note ORDER BY id")).map(r => r.body);
const [t3] = await db.query("SELECT count(*) AS n FROM sqlite_schema WHERE name = 't3'");
await db.close();
return { version: db.version, storage: db.storage, applied: ms.map(m => m.version), appliedAt: ms.map(m => m.appliedAt),
         checksums: ms.map(m => m.checksum), notes, hasT3: t3.n > 0 };
`

func withNames(js, name, storage string) string {
	return "const NAME = " + quote(name) + ", STORAGE = " + quote(storage) + ";\n" + js
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestBrowserMigrationsOnLoad(t *testing.T) {
	onEngines(t, newEnvOn, func(t *testing.T, e *env) {
		for _, st := range e.persistent() {
			t.Run(st, func(t *testing.T) {
				e.t = t
				name := "mig-" + st
				tab := e.tab

				// Fresh open applies migration 1 and fills _migrations.
				e.srv.SetFile("/bundle.json", bundle(t, m1))
				var s state
				e.run(tab, withNames(`
const db = await L.open({ name: NAME, storage: STORAGE, migrations: "/bundle.json" });
await db.exec("INSERT INTO note(body) VALUES (?), (?)", ["first", "second"]);
await db.close();
`, name, st), nil)
				e.run(tab, withNames(openState, name, st), &s)
				if s.Version != 1 || s.Storage != st || len(s.Applied) != 1 || s.Checksums[0] != migrations.Checksum(m1.Up) {
					t.Fatalf("fresh open: %+v", s)
				}
				first := s.AppliedAt[0]

				// Reload: nothing applied again, the data is there.
				e.reload(tab)
				e.run(tab, withNames(openState, name, st), &s)
				if s.Version != 1 || len(s.Applied) != 1 || s.AppliedAt[0] != first || len(s.Notes) != 2 {
					t.Fatalf("after reload: %+v", s)
				}

				// A new migration in the bundle is applied once on the next load.
				e.srv.SetFile("/bundle.json", bundle(t, m1, m2))
				e.reload(tab)
				e.run(tab, withNames(openState, name, st), &s)
				if s.Version != 2 || len(s.Applied) != 2 || s.AppliedAt[0] != first {
					t.Fatalf("new migration: %+v", s)
				}
				second := s.AppliedAt[1]
				e.reload(tab)
				e.run(tab, withNames(openState, name, st), &s)
				if s.Version != 2 || len(s.Applied) != 2 || s.AppliedAt[1] != second || len(s.Notes) != 2 {
					t.Fatalf("second load after new migration: %+v", s)
				}

				// An applied migration edited: LARDER_CHECKSUM_MISMATCH, data intact.
				e.srv.SetFile("/bundle.json", bundle(t, m1Bad, m2))
				e.reload(tab)
				e.mustFail(tab, withNames(`await L.open({ name: NAME, storage: STORAGE, migrations: "/bundle.json" });`, name, st), "LARDER_CHECKSUM_MISMATCH")

				// A failing migration names itself and leaves version 2.
				e.srv.SetFile("/bundle.json", bundle(t, m1, m2, m3))
				e.reload(tab)
				je := e.mustFail(tab, withNames(`await L.open({ name: NAME, storage: STORAGE, migrations: "/bundle.json" });`, name, st), "LARDER_MIGRATION_FAILED")
				if je.Migration == nil || je.Migration.Version != 3 || je.Migration.Name != "broken" {
					t.Fatalf("failed migration not named: %+v", je)
				}
				e.srv.SetFile("/bundle.json", bundle(t, m1, m2))
				e.reload(tab)
				e.run(tab, withNames(openState, name, st), &s)
				if s.Version != 2 || len(s.Applied) != 2 || s.HasT3 || len(s.Notes) != 2 || s.Notes[0] != "first" {
					t.Fatalf("after the failed migration: %+v", s)
				}

				// Older code on a database migrated past it by non-breaking
				// migrations keeps working, at the database's version.
				e.srv.SetFile("/bundle.json", bundle(t, m1))
				e.run(tab, withNames(openState, name, st), &s)
				if s.Version != 2 || len(s.Notes) != 2 {
					t.Fatalf("older bundle on a newer database: %+v", s)
				}

				// reset, then open migrates from scratch.
				e.srv.SetFile("/bundle.json", bundle(t, m1, m2))
				e.run(tab, withNames(`
const db = await L.open({ name: NAME, storage: STORAGE, migrations: "/bundle.json" });
await db.reset();
const closed = await T.err(db.query("SELECT 1"));
if (closed?.code !== "LARDER_CLOSED") throw new Error("after reset: " + JSON.stringify(closed));
`, name, st), nil)
				e.reload(tab)
				e.run(tab, withNames(openState, name, st), &s)
				if s.Version != 2 || len(s.Applied) != 2 || len(s.Notes) != 0 || s.AppliedAt[0] == first {
					t.Fatalf("after reset: %+v", s)
				}
				e.noErrors(tab)
			})
		}
	})
}

func TestBrowserMigrationsMemory(t *testing.T) {
	e := newEnv(t)
	var s state
	e.run(e.tab, `
const migs = [{ version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT)" }];
let db = await L.open({ name: "m", storage: "memory", migrations: migs });
await db.exec("INSERT INTO note(body) VALUES ('x')");
await db.close();
// JS-function migration, run inside the worker inside the migration's transaction.
migs.push({ version: 2, name: "seed", up: async (tx) => {
  await tx.exec("CREATE TABLE tag(name TEXT)");
  const rows = await tx.query("SELECT body FROM note");
  for (const r of rows) await tx.exec("INSERT INTO tag VALUES (?)", [r.body + "!"]);
} });
db = await L.open({ name: "m", storage: "memory", migrations: migs });
const tags = await db.query("SELECT name FROM tag");
const ms = await db.migrations();
// A failing JS migration rolls back whole.
migs.push({ version: 3, name: "jsfail", up: async (tx) => { await tx.exec("CREATE TABLE t3(x)"); throw new Error("nope"); } });
const err = await T.err(L.open({ name: "m", storage: "memory", migrations: migs }));
const [t3] = await db.query("SELECT count(*) AS n FROM sqlite_schema WHERE name = 't3'");
return { version: db.version, applied: ms.map(m => m.version), checksums: ms.map(m => m.checksum), notes: tags.map(r => r.name), hasT3: t3.n > 0, storage: err.code + ":" + err.migration?.name };
`, &s)
	if s.Version != 2 || len(s.Applied) != 2 || s.Checksums[1] != "" || len(s.Notes) != 1 || s.Notes[0] != "x!" || s.HasT3 || s.Storage != "LARDER_MIGRATION_FAILED:jsfail" {
		t.Fatalf("%+v", s)
	}
	e.noErrors(e.tab)
}
