//go:build !js && browser

package jsbridge_test

import (
	"testing"

	"github.com/larderdb/larder/migrations"
)

// A part the file asks to run outside a transaction (dbmate's
// transaction:false) reaches the browser's engine through a bundle as it
// reaches `larder migrate up`: VACUUM, which SQLite refuses inside a
// transaction, applies, and the migration is recorded once.
func TestBrowserBundleNoTransaction(t *testing.T) {
	var migs []*migrations.Migration
	for _, f := range []struct{ name, text string }{
		{"0001_init.sql", "-- migrate:up\nCREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT);\nINSERT INTO note (body) VALUES ('kept');\n-- migrate:down\nDROP TABLE note;\n"},
		{"0002_compact.sql", "-- migrate:up transaction:false\nVACUUM;\n-- migrate:down transaction:false\nVACUUM;\n"},
	} {
		m, err := migrations.Parse(f.name, []byte(f.text))
		if err != nil {
			t.Fatal(err)
		}
		migs = append(migs, m)
	}
	if !migs[1].NoTransaction {
		t.Fatal("0002_compact.sql: the parser did not mark the up part transaction:false")
	}
	b, err := migrations.Bundle(migs)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.srv.SetFile("/notx-bundle.json", b)
	for _, st := range allStorages {
		t.Run(st, func(t *testing.T) {
			e.t = t
			var got struct {
				Version int64    `json:"version"`
				Applied []int64  `json:"applied"`
				Notes   []string `json:"notes"`
			}
			e.run(e.tab, withNames(`
const db = await L.open({ name: NAME, storage: STORAGE, migrations: "/notx-bundle.json" });
const applied = (await db.migrations()).map(m => m.version);
const notes = (await db.query("SELECT body FROM note")).map(r => r.body);
const version = db.version;
await db.reset();
return { version, applied, notes };
`, "notx-"+st, st), &got)
			if got.Version != 2 || len(got.Applied) != 2 || len(got.Notes) != 1 || got.Notes[0] != "kept" {
				t.Fatalf("after open with a transaction:false VACUUM: %+v, want version 2, 2 applied, the row kept", got)
			}
			// The page's own array says it with noTransaction.
			e.run(e.tab, withNames(`
const migrations = [
  { version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO note (body) VALUES ('kept');" },
  { version: 2, name: "compact", up: "VACUUM;", noTransaction: true },
];
const db = await L.open({ name: NAME, storage: STORAGE, migrations });
const applied = (await db.migrations()).map(m => m.version);
const notes = (await db.query("SELECT body FROM note")).map(r => r.body);
const version = db.version;
await db.reset();
return { version, applied, notes };
`, "notx-page-"+st, st), &got)
			if got.Version != 2 || len(got.Applied) != 2 || len(got.Notes) != 1 || got.Notes[0] != "kept" {
				t.Fatalf("after open with a noTransaction VACUUM in the page's array: %+v, want version 2, 2 applied, the row kept", got)
			}
		})
	}
}
