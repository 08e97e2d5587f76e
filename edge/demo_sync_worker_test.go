//go:build !js && workerd

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

// TestDemoSyncThroughWorker runs the Worker with the notes demo's
// migrations and sync.toml (web/migrations, what `make run-sync` serves):
// D1 applies all of them (table rebuilds that drop tables, FTS5, triggers)
// and serves sync; two devices of alice (SQLite files with FTS5, migrated by
// the same files) exchange a note and its tags, whose local index the
// triggers rebuild; bob pulls nothing of hers.
func TestDemoSyncThroughWorker(t *testing.T) {
	const demo = "../web/migrations"
	_, syncTOML := syncFiles(t, demo)
	if syncTOML == nil {
		t.Fatalf("%s has no sync.toml", demo)
	}
	// The bundle as `make edge-build` makes it: split by SQLite with FTS5
	// (the demo's 0004 creates an FTS5 table).
	migs, err := migrations.LoadDir(demo)
	if err != nil {
		t.Fatal(err)
	}
	scratch, err := sqlite3.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer scratch.Close()
	if err := fts5.Register(scratch); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.SplitStatements(context.Background(), scratch, migs); err != nil {
		t.Fatal(err)
	}
	bundle, err := migrations.Bundle(migs)
	if err != nil {
		t.Fatal(err)
	}
	w := startWorker(t, buildSyncWorker(t, bundle, syncTOML), t.TempDir(), 1, authVars...)
	laptop, phone, bob := demoDevice(t, w.URL, "alice"), demoDevice(t, w.URL, "alice"), demoDevice(t, w.URL, "bob")

	laptop.exec(`INSERT INTO notes (id, owner_id, title, body, tags, created_at, updated_at)
		VALUES ('0193a000-0000-7000-8000-000000000001', 'alice', 'Groceries', 'milk and café', '["home","Errands"]', 1, 1)`)
	if n := laptop.sync(); n.Pushed != 1 || len(n.Rejected) != 0 {
		t.Fatalf("laptop: %+v", n)
	}
	if n := phone.sync(); n.Pulled != 1 {
		t.Fatalf("phone: %+v", n)
	}
	const note = `SELECT title || '|' || tags || '|' || (SELECT group_concat(name, ',') FROM (
		SELECT tags.name FROM note_tags JOIN tags ON tags.id = tag_id WHERE note_id = notes.id ORDER BY name COLLATE NOCASE))
		|| '|' || (SELECT group_concat(id) FROM notes_fts WHERE notes_fts MATCH 'cafe') FROM notes`
	want := `t:"Groceries|[\"home\",\"Errands\"]|Errands,home|0193a000-0000-7000-8000-000000000001"`
	if got := strings.TrimSpace(rows(t, phone.conn, note)); got != want {
		t.Errorf("phone after sync:\n%s\nwant %s", got, want)
	}

	phone.exec(`UPDATE notes SET tags = '["home"]'`)   // offline
	laptop.exec(`UPDATE notes SET title = 'Shopping'`) // offline, same note
	phone.sync()
	laptop.sync()
	phone.sync()
	for _, d := range []*syncDevice{laptop, phone} {
		if got := strings.TrimSpace(rows(t, d.conn, "SELECT title, tags FROM notes")); got != `t:"Shopping"|t:"[\"home\"]"` {
			t.Errorf("%s after concurrent edits: %s", d.sub, got)
		}
	}

	if n := bob.sync(); n.Pulled != 0 {
		t.Errorf("bob pulled %d rows of alice's", n.Pulled)
	}
	bob.exec(`INSERT INTO notes (id, owner_id, title) VALUES ('0193a000-0000-7000-8000-000000000002', 'alice', 'planted')`)
	if n := bob.sync(); len(n.Rejected) != 1 || n.Rejected[0].Code != "LARDER_FORBIDDEN" {
		t.Errorf("bob writing a note owned by alice: %+v, want one LARDER_FORBIDDEN", n)
	}
}

// demoDevice is a device of the demo: a SQLite file with FTS5 (as
// larder-fts5.wasm has it), migrated by web/migrations, sync installed.
func demoDevice(t *testing.T, url, sub string) *syncDevice {
	t.Helper()
	return openSyncDevice(t, url, sub, "../web/migrations", 0, fts5.Register)
}
