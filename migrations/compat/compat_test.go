package compat_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/compat"
)

// Three releases: 2 drops a column that a release-1 query uses, 3 adds a
// nullable column.
var releases = []string{
	"0001_init.sql", `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, color TEXT);`,
	"0002_drop_color.sql", "-- migrate:breaking\nALTER TABLE notes DROP COLUMN color;",
	"0003_add_pinned.sql", `ALTER TABLE notes ADD COLUMN pinned INTEGER;`,
}

const release1Queries = `-- Queries of release 1.

-- name: ListNotes :many
SELECT id, body, color FROM notes ORDER BY id;

-- name: AddNote :exec
INSERT INTO notes (body, color) VALUES (:body, :color);

-- name: SetBody :exec
UPDATE notes SET body = :body WHERE id = :id;
`

const release2Queries = `-- name: ListNotes
SELECT id, body FROM notes ORDER BY id;
-- name: AddNote
INSERT INTO notes (body) VALUES (?);
-- name: SetBody
UPDATE notes SET body = :body WHERE id = :id;
`

func migs(t *testing.T, n int, extra ...string) []*migrations.Migration {
	t.Helper()
	files := append(append([]string(nil), releases[:2*n]...), extra...)
	var out []*migrations.Migration
	for i := 0; i < len(files); i += 2 {
		m, err := migrations.Parse(files[i], []byte(files[i+1]))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func queries(t *testing.T, text string) []compat.Query {
	t.Helper()
	qs, err := compat.ParseQueries("queries.sql", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

func summary(ps []compat.Problem) string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s@%s/%s", p.Query, p.Migration, p.Phase))
	}
	return strings.Join(out, " ")
}

func TestRelease2BreaksRelease1(t *testing.T) {
	rep, err := compat.Check(context.Background(), migs(t, 2), queries(t, release1Queries), compat.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Since != 1 || rep.Newest != 2 || rep.Queries != 3 {
		t.Errorf("report header: %+v", rep)
	}
	if rep.OK() {
		t.Fatal("a dropped column used by release 1 was not caught")
	}
	if got := summary(rep.Broken); got != "ListNotes@0002_drop_color/prepare AddNote@0002_drop_color/prepare" {
		t.Errorf("broken: %s", got)
	}
	if p := rep.Broken[0]; !strings.Contains(p.Error, "no such column: color") || p.Line != 3 || p.Code != "SQLITE_ERROR" || p.Version != 2 {
		t.Errorf("problem: %+v", p)
	}
	if len(rep.Invalid)+len(rep.Unchecked) != 0 {
		t.Errorf("invalid %v, unchecked %v", rep.Invalid, rep.Unchecked)
	}
}

// Release 1's queries against release 3: still broken by 0002, not 0003.
func TestBlameIsTheFirstBreakingMigration(t *testing.T) {
	rep, err := compat.Check(context.Background(), migs(t, 3), queries(t, release1Queries), compat.Options{Since: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(rep.Broken); got != "ListNotes@0002_drop_color/prepare AddNote@0002_drop_color/prepare" {
		t.Errorf("broken: %s", got)
	}
}

func TestRelease3AddsNullableColumn(t *testing.T) {
	for _, opts := range []compat.Options{{}, {Since: 2}} {
		rep, err := compat.Check(context.Background(), migs(t, 3), queries(t, release2Queries), opts)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || len(rep.Unchecked) != 0 || rep.Since != 2 {
			t.Errorf("%+v: report %+v", opts, rep)
		}
	}
}

// Writes run with sample parameters: a new NOT NULL column breaks an old
// INSERT, a tighter constraint breaks an old UPDATE on an existing row.
func TestWrites(t *testing.T) {
	for _, tc := range []struct {
		name, migration, want string
	}{
		{"not null column", `-- migrate:rebuild notes
-- migrate:map author = 'anonymous'
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, author TEXT NOT NULL);`,
			"AddNote@0003_change/write"},
		{"made not null", `-- migrate:rebuild notes
-- migrate:map body = coalesce(body, '')
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);`,
			"ClearBody@0003_change/write with sample rows"},
		{"check", `-- migrate:rebuild notes
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT CHECK (body = lower(body)));`,
			"Shout@0003_change/write with sample rows"},
		{"compatible", `CREATE INDEX notes_body ON notes(body);`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			qs := queries(t, `-- name: AddNote
INSERT INTO notes (body) VALUES (:body);
-- name: ClearBody
UPDATE notes SET body = NULL WHERE id = :id;
-- name: Shout
UPDATE notes SET body = upper(body) || '!' WHERE id = :id;
`)
			ms := append(migs(t, 1), testdb.Parse(t, "0002_nullable.sql", `-- migrate:rebuild notes
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);`), testdb.Parse(t, "0003_change.sql", tc.migration))
			rep, err := compat.Check(context.Background(), ms, qs, compat.Options{Since: 2})
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(rep.Broken); got != tc.want {
				t.Errorf("broken %q, want %q: %v", got, tc.want, rep.Broken)
			}
		})
	}
}

// Reverse: release 3's queries against older schemas name the migration
// each one needs.
func TestReverse(t *testing.T) {
	qs := queries(t, `-- name: Pinned
SELECT id FROM notes WHERE pinned = 1;
-- name: AddNote
INSERT INTO notes (body) VALUES (:body);
-- name: Color
SELECT color FROM notes;
`)
	rep, err := compat.Check(context.Background(), migs(t, 3), qs, compat.Options{Since: 1, Reverse: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(rep.Broken); got != "Pinned@0003_add_pinned/prepare" {
		t.Errorf("broken: %s", got)
	}
	if got := summary(rep.Invalid); got != "Color@/prepare" || rep.Invalid[0].Version != 3 {
		t.Errorf("invalid on the newest schema: %s %+v", got, rep.Invalid)
	}
	if rep.OK() {
		t.Error("OK with problems")
	}
}

func TestInvalidAndUnchecked(t *testing.T) {
	qs := queries(t, `-- name: Nope
SELECT * FROM nowhere;
-- name: Two
SELECT 1; SELECT 2;
-- name: Picky
INSERT INTO picky (v) VALUES (:v);
`)
	ms := append(migs(t, 1), testdb.Parse(t, "0002_picky.sql", `CREATE TABLE picky (v TEXT CHECK (v = 'exactly'));`),
		testdb.Parse(t, "0003_more.sql", `CREATE TABLE more (x);`))
	rep, err := compat.Check(context.Background(), ms, qs, compat.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(rep.Invalid); got != "Nope@/prepare Two@/prepare" {
		t.Errorf("invalid: %s", got)
	}
	if got := summary(rep.Unchecked); got != "Picky@/write" || !strings.Contains(rep.Unchecked[0].Error, "CHECK constraint failed") {
		t.Errorf("unchecked: %s %v", got, rep.Unchecked)
	}
	if len(rep.Broken) != 0 {
		t.Errorf("broken: %v", rep.Broken)
	}
}

func TestCheckErrors(t *testing.T) {
	ctx := context.Background()
	qs := queries(t, release2Queries)
	if _, err := compat.Check(ctx, migs(t, 1), qs, compat.Options{}); err == nil {
		t.Error("one migration and no Since: no error")
	}
	if _, err := compat.Check(ctx, migs(t, 3), qs, compat.Options{Since: 7}); err == nil {
		t.Error("unknown Since: no error")
	}
	if _, err := compat.Check(ctx, migs(t, 3), qs, compat.Options{Since: 3}); err == nil {
		t.Error("Since = newest: no error")
	}
}

func TestParseQueries(t *testing.T) {
	for name, text := range map[string]string{
		"duplicate":        "-- name: A\nSELECT 1;\n-- name: a\nSELECT 2;",
		"statement before": "SELECT 0;\n-- name: A\nSELECT 1;",
		"empty query":      "-- name: A\n-- just a comment\n-- name: B\nSELECT 1;",
		"no name":          "-- name:\nSELECT 1;",
		"nothing":          "-- a comment only\n",
	} {
		if _, err := compat.ParseQueries("q.sql", []byte(text)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	qs := queries(t, release1Queries)
	if len(qs) != 3 || qs[1].Name != "AddNote" || qs[1].Line != 6 || qs[1].SQL != "INSERT INTO notes (body, color) VALUES (:body, :color);" {
		t.Errorf("parsed: %+v", qs)
	}
}

// Writes into child tables do not fail on their empty parents: foreign
// keys are off while writes run.
func TestWritesIgnoreForeignKeys(t *testing.T) {
	qs := queries(t, "-- name: AddTag\nINSERT INTO tag (note_id, name) VALUES (:note_id, :name);\n")
	ms := append(migs(t, 1), testdb.Parse(t, "0002_tags.sql", `CREATE TABLE tag (id INTEGER PRIMARY KEY, note_id INTEGER NOT NULL REFERENCES notes(id), name TEXT NOT NULL);`),
		testdb.Parse(t, "0003_tag_color.sql", `ALTER TABLE tag ADD COLUMN color TEXT NOT NULL DEFAULT 'red';`),
		testdb.Parse(t, "0004_tag_rank.sql", "-- migrate:rebuild tag\nCREATE TABLE tag (id INTEGER PRIMARY KEY, note_id INTEGER NOT NULL REFERENCES notes(id), name TEXT NOT NULL, color TEXT NOT NULL DEFAULT 'red', rank INTEGER NOT NULL);"))
	rep, err := compat.Check(context.Background(), ms, qs, compat.Options{Since: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unchecked) != 0 {
		t.Errorf("the write failed on the base schema: %v", rep.Unchecked)
	}
	if got := summary(rep.Broken); got != "AddTag@0004_tag_rank/write" {
		t.Errorf("broken: %q %v", got, rep.Broken)
	}
}

// A query is one statement: a second one under the same name is invalid,
// while trailing comments and semicolons are not a statement.
func TestQueryIsOneStatement(t *testing.T) {
	rep, err := compat.Check(context.Background(), migs(t, 3), queries(t, `-- name: Two
SELECT id FROM notes; SELECT body FROM notes;
-- name: One
SELECT id FROM notes; ; -- the end
/* nothing else */
`), compat.Options{Since: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Invalid) != 1 || rep.Invalid[0].Query != "Two" || !strings.Contains(rep.Invalid[0].Error, "more than one statement") {
		t.Errorf("invalid: %+v", rep.Invalid)
	}
	if len(rep.Broken) != 0 {
		t.Errorf("broken: %+v", rep.Broken)
	}
}
