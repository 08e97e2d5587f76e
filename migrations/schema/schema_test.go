package schema_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

var migs = []string{
	`CREATE TABLE note (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, created_at TEXT DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX note_created ON note(created_at);`,
	`CREATE TABLE tag (id INTEGER PRIMARY KEY, note_id INTEGER REFERENCES note(id) ON DELETE CASCADE, name TEXT UNIQUE);
CREATE VIEW tagged AS SELECT note.body, tag.name FROM note JOIN tag ON tag.note_id = note.id;
CREATE TRIGGER note_touch AFTER UPDATE ON note BEGIN SELECT 1; END;
INSERT INTO note (body) VALUES ('x');`,
}

func load(t testing.TB) []*migrations.Migration {
	var out []*migrations.Migration
	for i, body := range migs {
		m, err := migrations.Parse(fmt.Sprintf("%04d_m.sql", i+1), []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func migrated(t testing.TB) *sqlite3.Conn {
	conn, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := sqlite.Migrate(context.Background(), conn, load(t), migrations.Options{}); err != nil {
		t.Fatal(err)
	}
	return conn
}

func TestDumpCanonical(t *testing.T) {
	ctx := context.Background()
	s, err := schema.Read(ctx, migrated(t))
	if err != nil {
		t.Fatal(err)
	}
	dump := s.Dump()
	if strings.Contains(dump, "sqlite_sequence") || strings.Contains(dump, "sqlite_autoindex") {
		t.Errorf("dump has SQLite's internal objects:\n%s", dump)
	}
	if !strings.Contains(dump, "CREATE TABLE IF NOT EXISTS _migrations") && !strings.Contains(dump, "CREATE TABLE _migrations") {
		t.Errorf("dump lacks _migrations:\n%s", dump)
	}
	// Order: tables by name, each with its indexes and triggers, then views.
	order := []string{"TABLE _migrations", "TABLE note", "INDEX note_created", "TRIGGER note_touch", "TABLE tag", "VIEW tagged"}
	last := -1
	for _, o := range order {
		i := strings.Index(dump, o)
		if i < 0 || i < last {
			t.Fatalf("%q missing or out of order in:\n%s", o, dump)
		}
		last = i
	}
	// Replaying the dump gives the same dump: it is a fixed point.
	conn, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := sqlite.Exec(ctx, conn, dump, 1); err != nil {
		t.Fatal(err)
	}
	s2, err := schema.Read(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Dump() != dump {
		t.Errorf("replayed dump differs:\n%s\nwant:\n%s", s2.Dump(), dump)
	}
	if d := schema.Diff(s, s2); len(d) != 0 {
		t.Errorf("diff of a replayed dump: %v", d)
	}
}

func TestBuildEqualsLive(t *testing.T) {
	ctx := context.Background()
	want, err := schema.Build(ctx, load(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := schema.Read(ctx, migrated(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := schema.Diff(want, got); len(d) != 0 {
		t.Errorf("diff: %v", d)
	}
	at1, err := schema.Build(ctx, load(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if at1.Table("tag") != nil {
		t.Error("Build(to 1) applied migration 2")
	}
}

func TestDiffFindsDrift(t *testing.T) {
	ctx := context.Background()
	want, err := schema.Build(ctx, load(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := migrated(t)
	drift := `CREATE TABLE scratch (x);
ALTER TABLE note ADD COLUMN color TEXT;
DROP INDEX note_created;
CREATE INDEX note_body ON note(body);
DROP TRIGGER note_touch;
CREATE TRIGGER tag_touch AFTER UPDATE ON tag BEGIN SELECT 2; END;
DROP VIEW tagged;
CREATE VIEW tagged AS SELECT 1;`
	if err := sqlite.Exec(ctx, conn, drift, 1); err != nil {
		t.Fatal(err)
	}
	got, err := schema.Read(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range schema.Diff(want, got) {
		lines = append(lines, d.String())
	}
	have := strings.Join(lines, "\n")
	for _, w := range []string{
		"extra column note.color", "missing index note_created", "extra index note_body",
		"missing trigger note_touch", "extra trigger tag_touch", "extra table scratch",
		"changed view tagged",
	} {
		if !strings.Contains(have, w) {
			t.Errorf("diff lacks %q:\n%s", w, have)
		}
	}
	if len(lines) != 7 {
		t.Errorf("want 7 differences, got %d:\n%s", len(lines), have)
	}
	// The reverse direction: what the database lacks.
	var rev []string
	for _, d := range schema.Diff(got, want) {
		rev = append(rev, d.String())
	}
	if r := strings.Join(rev, "\n"); !strings.Contains(r, "missing table scratch") || !strings.Contains(r, "missing column note.color") {
		t.Errorf("reverse diff:\n%s", r)
	}
}

func TestDiffColumnChange(t *testing.T) {
	ctx := context.Background()
	read := func(sql string) *schema.Schema {
		conn, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.Exec(sql); err != nil {
			t.Fatal(err)
		}
		s, err := schema.Read(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := read("CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT NOT NULL DEFAULT 'a', p INTEGER REFERENCES t(id) ON DELETE CASCADE)")
	b := read("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, p INTEGER REFERENCES t(id))")
	d := schema.Diff(a, b)
	got := fmt.Sprint(d)
	for _, w := range []string{`changed column t.n: type "INTEGER", want "TEXT", NOT NULL false, want true, default none, want 'a'`,
		"missing foreign_key t (p) REFERENCES t(id) ON DELETE CASCADE", "extra foreign_key t (p) REFERENCES t(id) ON DELETE NO ACTION"} {
		if !strings.Contains(got, w) {
			t.Errorf("diff lacks %q: %s", w, got)
		}
	}
	if len(schema.Diff(a, a)) != 0 {
		t.Error("a schema differs from itself")
	}
}
