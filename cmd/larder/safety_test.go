package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations/sqlite"
)

func execSQL(t *testing.T, db, script string) {
	t.Helper()
	conn, err := sqlite.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(script); err != nil {
		t.Fatal(err)
	}
}

var releases = map[string]string{
	"0001_init.sql":       "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, color TEXT);\n",
	"0002_drop_color.sql": "-- migrate:breaking\nALTER TABLE notes DROP COLUMN color;\n",
	"0003_add_pinned.sql": "ALTER TABLE notes ADD COLUMN pinned INTEGER;\n",
}

func TestCompatCommand(t *testing.T) {
	dir := testdb.Dir(t, releases)
	q1 := filepath.Join(t.TempDir(), "release1.sql")
	os.WriteFile(q1, []byte("-- name: ListNotes\nSELECT id, body, color FROM notes;\n\n-- name: AddNote\nINSERT INTO notes (body) VALUES (:body);\n"), 0o644)
	q2 := filepath.Join(t.TempDir(), "release2.sql")
	os.WriteFile(q2, []byte("-- name: ListNotes\nSELECT id, body FROM notes;\n-- name: AddNote\nINSERT INTO notes (body) VALUES (:body);\n"), 0o644)

	larder(t, "migrate", "compat", "--dir", dir, "--queries", q1, "--since", "1").
		want(t, 1, "BROKEN  ListNotes (release1.sql:1): broken by 0002_drop_color: prepare:", "no such column: color", "1 broken")
	r := larder(t, "migrate", "compat", "--dir", dir, "--queries", q1, "--since", "1", "--json")
	r.want(t, 1)
	var rep struct {
		Since, Newest int64
		Broken        []map[string]any
		Invalid       []map[string]any
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	if rep.Since != 1 || rep.Newest != 3 || len(rep.Broken) != 1 || rep.Broken[0]["migration"] != "0002_drop_color" ||
		rep.Broken[0]["query"] != "ListNotes" || rep.Invalid == nil {
		t.Errorf("--json report: %+v", rep)
	}

	// Release 3 adds a nullable column: release 2's queries pass (default
	// --since: the second newest migration).
	larder(t, "migrate", "compat", "--dir", dir, "--queries", q2).want(t, 0, "schema at version 2", "ok")

	// Reverse: release 3 code on release 2's schema.
	q3 := filepath.Join(t.TempDir(), "release3.sql")
	os.WriteFile(q3, []byte("-- name: Pinned\nSELECT id FROM notes WHERE pinned = 1;\n"), 0o644)
	larder(t, "migrate", "compat", "--dir", dir, "--queries", q3, "--reverse").want(t, 1, "Pinned", "needs 0003_add_pinned")
	larder(t, "migrate", "compat", "--dir", dir, "--queries", q2, "--reverse").want(t, 0, "ok")

	larder(t, "migrate", "compat", "--dir", dir).want(t, 2, "--queries is required")
	larder(t, "migrate", "compat", "--dir", dir, "--queries", q1, "--since", "x").want(t, 2, "--since")
	larder(t, "migrate", "compat", "--dir", dir, "--queries", q1, "--since", "9").want(t, 1, "no such migration version")
	larder(t, "migrate", "compat", "--dir", dir, "--queries", filepath.Join(dir, "none.sql")).want(t, 1, "none.sql")
}

func TestSchemaCommands(t *testing.T) {
	dir := testdb.Dir(t, releases)
	db := filepath.Join(t.TempDir(), "app.db")
	larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 0)

	r := larder(t, "schema", "dump", "--db", db)
	r.want(t, 0, "CREATE TABLE notes", "_migrations")
	if strings.Contains(r.stdout, "sqlite_") {
		t.Errorf("dump has internal objects:\n%s", r.stdout)
	}
	if again := larder(t, "schema", "dump", "--db", db); again.stdout != r.stdout {
		t.Errorf("dump is not stable:\n%s\n%s", r.stdout, again.stdout)
	}
	if fromDir := larder(t, "schema", "dump", "--dir", dir); fromDir.stdout != r.stdout {
		t.Errorf("dump --dir differs from dump --db:\n%s\n%s", fromDir.stdout, r.stdout)
	}
	r = larder(t, "schema", "dump", "--db", db, "--json")
	r.want(t, 0)
	var s struct{ Tables []struct{ Name string } }
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || len(s.Tables) != 2 || s.Tables[1].Name != "notes" {
		t.Errorf("dump --json: %v %s", err, r.stdout)
	}

	larder(t, "schema", "diff", "--db", db, "--dir", dir).want(t, 0, "up to 3", "no differences")

	// Drift: someone altered the database by hand.
	execSQL(t, db, "ALTER TABLE notes ADD COLUMN color TEXT; CREATE INDEX notes_body ON notes(body); CREATE TABLE scratch (x);")
	larder(t, "schema", "diff", "--db", db, "--dir", dir).
		want(t, 1, "extra column notes.color", "extra index notes_body", "extra table scratch", "3 difference(s)")
	r = larder(t, "schema", "diff", "--db", db, "--dir", dir, "--json")
	r.want(t, 1)
	var d struct {
		Version     int64
		Differences []map[string]string
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || d.Version != 3 || len(d.Differences) != 3 ||
		d.Differences[0]["change"] != "extra" || d.Differences[0]["name"] != "notes.color" {
		t.Errorf("diff --json: %v %s", err, r.stdout)
	}
	// Against version 1 the dropped color column is expected and pinned is extra.
	larder(t, "schema", "diff", "--db", db, "--dir", dir, "--to", "1").want(t, 1, "extra column notes.pinned")

	// A database behind its migrations is compared at its own version.
	db2 := filepath.Join(t.TempDir(), "old.db")
	larder(t, "migrate", "up", "--db", db2, "--dir", dir, "--to", "2").want(t, 0)
	larder(t, "schema", "diff", "--db", db2, "--dir", dir).want(t, 0, "up to 2", "no differences")

	larder(t, "schema", "dump").want(t, 2, "--db or --dir")
	larder(t, "schema", "dump", "--db", db, "--dir", dir).want(t, 2)
	larder(t, "schema", "diff", "--db", db).want(t, 2, "--dir is required")
	larder(t, "schema", "dump", "--db", filepath.Join(dir, "missing.db")).want(t, 1)
}
