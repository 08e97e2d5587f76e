package plan_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"

	"github.com/larderdb/larder/migrations/plan"
	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

func init() {
	// Virtual table modules are the caller's to register, as the CLI does.
	sqlite3.AutoExtension(fts5.Register)
}

func mustSchema(t *testing.T, sql string) *schema.Schema {
	t.Helper()
	s, err := plan.FromSQL(context.Background(), "test.sql", sql)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDiffCases checks which steps Diff chooses for the changes SQLite's
// ALTER TABLE can and cannot make, and what it tells the reviewer.
func TestDiffCases(t *testing.T) {
	cases := []struct {
		name, from, to string
		renames        []plan.Rename
		kinds          string // the up steps' kinds, joined by ", "
		contains       string // in the rendered file
	}{
		{"check changed", "CREATE TABLE t (a INTEGER CHECK (a > 0))", "CREATE TABLE t (a INTEGER CHECK (a >= 0))",
			nil, "rebuild table", ""},
		{"table check added", "CREATE TABLE t (a, b)", "CREATE TABLE t (a, b, CHECK (a < b))", nil, "rebuild table", ""},
		{"collation changed", "CREATE TABLE t (a TEXT)", "CREATE TABLE t (a TEXT COLLATE NOCASE)", nil, "rebuild table", ""},
		{"same modulo spelling", "CREATE TABLE t (a text not null, \"b\" INTEGER default 1)",
			"create table T (\n  A TEXT NOT NULL,\n  b integer DEFAULT 1\n)", nil, "", ""},
		{"not null without default", "CREATE TABLE t (a)", "CREATE TABLE t (a, b TEXT NOT NULL)",
			nil, "rebuild table", "-- review: t.b is new, NOT NULL and has no DEFAULT"},
		{"default current_timestamp", "CREATE TABLE t (a)", "CREATE TABLE t (a, at TEXT DEFAULT CURRENT_TIMESTAMP)",
			nil, "rebuild table", ""},
		{"expression default", "CREATE TABLE t (a)", "CREATE TABLE t (a, b INTEGER DEFAULT (1 + 1))",
			nil, "rebuild table", ""},
		{"literal defaults", "CREATE TABLE t (a)", "CREATE TABLE t (a, b INTEGER NOT NULL DEFAULT -1, c TEXT DEFAULT 'it''s', d REAL DEFAULT 1.5e3, e DEFAULT NULL)",
			nil, "add column, add column, add column, add column", ""},
		{"unique column", "CREATE TABLE t (a)", "CREATE TABLE t (a, b TEXT UNIQUE)", nil, "rebuild table", ""},
		{"reference with default", "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (a)",
			"CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (a, p INTEGER DEFAULT 1 REFERENCES p (id))",
			nil, "rebuild table", "-- review: new foreign key t(p) -> p"},
		{"reference without default", "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (a)",
			"CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (a, p INTEGER REFERENCES p (id))", nil, "add column", ""},
		{"virtual generated column", "CREATE TABLE t (a INTEGER)", "CREATE TABLE t (a INTEGER, b INTEGER AS (a * 2))",
			nil, "add column", ""},
		{"stored generated column", "CREATE TABLE t (a INTEGER)", "CREATE TABLE t (a INTEGER, b INTEGER AS (a * 2) STORED)",
			nil, "rebuild table", ""},
		{"column in the middle", "CREATE TABLE t (a, c)", "CREATE TABLE t (a, b, c)", nil, "rebuild table", ""},
		{"drop indexed column", "CREATE TABLE t (a, b); CREATE INDEX t_b ON t (b)", "CREATE TABLE t (a)",
			nil, "drop index, drop column", "-- lint L002 dropped-column"},
		{"drop unique column", "CREATE TABLE t (a, b UNIQUE)", "CREATE TABLE t (a)", nil, "rebuild table", ""},
		{"primary key changed", "CREATE TABLE t (a INTEGER PRIMARY KEY, b)", "CREATE TABLE t (a INTEGER, b, PRIMARY KEY (a, b))",
			nil, "rebuild table", ""},
		{"strict", "CREATE TABLE t (a INTEGER)", "CREATE TABLE t (a INTEGER) STRICT", nil, "rebuild table", ""},
		{"without rowid", "CREATE TABLE t (a INTEGER PRIMARY KEY, b)", "CREATE TABLE t (a INTEGER PRIMARY KEY, b) WITHOUT ROWID",
			nil, "rebuild table", ""},
		{"made not null with default", "CREATE TABLE t (a, b TEXT)", "CREATE TABLE t (a, b TEXT NOT NULL DEFAULT 'x')",
			nil, "rebuild table", "-- migrate:map b = coalesce(b, 'x')"},
		{"partial and expression indexes", "CREATE TABLE t (a TEXT); CREATE INDEX i ON t (a)",
			"CREATE TABLE t (a TEXT); CREATE INDEX i ON t (lower(a)) WHERE a IS NOT NULL; CREATE UNIQUE INDEX j ON t (a)",
			nil, "drop index, create index, create index", "-- lint L007"},
		{"views on views and INSTEAD OF", "CREATE TABLE t (a)",
			"CREATE TABLE t (a); CREATE VIEW b AS SELECT * FROM a; CREATE VIEW a AS SELECT a FROM t;" +
				"CREATE TRIGGER a_ins INSTEAD OF INSERT ON a BEGIN INSERT INTO t (a) VALUES (new.a); END",
			nil, "create view, create view, create trigger", ""},
		{"view follows a renamed column", "CREATE TABLE t (a, b); CREATE VIEW v AS SELECT a FROM t",
			"CREATE TABLE t (x, b); CREATE VIEW v AS SELECT x FROM t", []plan.Rename{{Table: "t", Old: "a", New: "x"}},
			"rename column", "-- migrate:breaking  (L004 renamed-column"},
		{"trigger changed", "CREATE TABLE t (a); CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END",
			"CREATE TABLE t (a); CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 2; END",
			nil, "drop trigger, create trigger", ""},
		{"_seeds ignored", "CREATE TABLE _seeds (version INTEGER PRIMARY KEY); CREATE TABLE t (a)", "CREATE TABLE t (a)", nil, "", ""},
		{"_migrations ignored", "CREATE TABLE t (a)",
			"CREATE TABLE _migrations (version INTEGER PRIMARY KEY); CREATE TABLE t (a)", nil, "", ""},
		{"fts5 unchanged, shadow tables ignored", "CREATE VIRTUAL TABLE f USING fts5 (a, b); CREATE TABLE t (a)",
			"CREATE VIRTUAL TABLE f USING fts5 (a, b); CREATE TABLE t (a, c)", nil, "add column", ""},
		{"fts5 changed", "CREATE VIRTUAL TABLE f USING fts5 (a)", "CREATE VIRTUAL TABLE f USING fts5 (a, b)",
			nil, "drop table, create table", "-- review: a virtual table cannot be altered"},
		{"quoted names", `CREATE TABLE "order" ("group" TEXT, "my col" INTEGER, x)`,
			`CREATE TABLE "order" ("group" TEXT NOT NULL DEFAULT '', "my col" INTEGER, "new col" TEXT); CREATE INDEX "by group" ON "order" ("group")`,
			nil, "rebuild table, create index", `-- migrate:rebuild "order"`},
		{"quoted rename", `CREATE TABLE "order" ("group" TEXT)`, `CREATE TABLE "order" ("the group" TEXT)`,
			[]plan.Rename{{Table: "order", Old: "group", New: "the group"}}, "rename column", `ALTER TABLE "order" RENAME COLUMN "group" TO "the group";`},
		{"first migration", "", "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p REFERENCES p (id)); CREATE INDEX c_p ON c (p)",
			nil, "create table, create table, create index", "DROP TABLE"},
		{"children dropped first", "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p REFERENCES p (id) ON DELETE CASCADE); CREATE TABLE z (a)",
			"CREATE TABLE z (a)", nil, "drop table, drop table", "DROP TABLE c;\nDROP TABLE p;"},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from := &schema.Schema{}
			if c.from != "" {
				from = mustSchema(t, c.from)
			}
			to := mustSchema(t, c.to)
			p, err := plan.Diff(ctx, from, to, plan.Options{Renames: c.renames, AllowDestructive: true})
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, s := range p.Up {
				kinds = append(kinds, s.Kind)
			}
			text := p.Render()
			if got := strings.Join(kinds, ", "); got != c.kinds {
				t.Errorf("steps %q, want %q\n%s", got, c.kinds, text)
			}
			if !strings.Contains(text, c.contains) {
				t.Errorf("migration lacks %q:\n%s", c.contains, text)
			}
			if c.kinds == "" && !p.Empty() {
				t.Errorf("not empty:\n%s", text)
			}
		})
	}
}

func TestDiffRefusals(t *testing.T) {
	ctx := context.Background()
	from := mustSchema(t, "CREATE TABLE t (a, b); CREATE TABLE u (x)")
	to := mustSchema(t, "CREATE TABLE t (a, c); CREATE TABLE u (x)")

	p, err := plan.Diff(ctx, from, to, plan.Options{})
	if !errors.Is(err, plan.ErrDestructive) || p == nil || !strings.Contains(err.Error(), "drop column t.b") {
		t.Fatalf("destructive without allow: %v", err)
	}
	for _, c := range []struct {
		rename plan.Rename
		want   string
	}{
		{plan.Rename{Table: "t", Old: "zz", New: "c"}, "the old schema has no column t.zz"},
		{plan.Rename{Table: "t", Old: "a", New: "c"}, "the new schema still has column t.a"},
		{plan.Rename{Table: "t", Old: "b", New: "zz"}, "the new schema has no column t.zz"},
		{plan.Rename{Table: "nope", Old: "b", New: "c"}, "no table nope in both schemas"},
		{plan.Rename{Old: "u", New: "v"}, "the new schema still has table u"},
	} {
		_, err := plan.Diff(ctx, from, to, plan.Options{Renames: []plan.Rename{c.rename}})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "plan: rename ") {
			t.Errorf("rename %v: %v, want %q", c.rename, err, c.want)
		}
	}
	if _, err := plan.FromSQL(ctx, "schema.sql", "CREATE TABLE t (a);\nCREATE TABLE t (b);"); err == nil ||
		!strings.Contains(err.Error(), "schema.sql: line 2") {
		t.Errorf("bad schema file: %v", err)
	}
}

func TestParseRename(t *testing.T) {
	for in, want := range map[string]plan.Rename{
		"t.a=b":         {Table: "t", Old: "a", New: "b"},
		"topics_v1=tps": {Old: "topics_v1", New: "tps"},
	} {
		if got, err := plan.ParseRename(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "a", "=b", "t.=b", "t.a=b.c", ".a=b"} {
		if _, err := plan.ParseRename(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNextFile(t *testing.T) {
	now := time.Date(2026, 12, 5, 18, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	write := func(name string) { mustWrite(t, filepath.Join(dir, name), "SELECT 1;") }
	check := func(want string) {
		t.Helper()
		got, err := plan.NextFile(dir, "next", now)
		if err != nil || filepath.Base(got) != want {
			t.Errorf("NextFile = %s %v, want %s", got, err, want)
		}
	}
	check("0001_next.sql")
	write("0001_a.sql")
	write("0009_b.sql")
	check("0010_next.sql")
	write("00010_c.sql")
	check("00011_next.sql")

	dir = t.TempDir()
	write("20261101120000_init.sql")
	check("20261205180000_next.sql")
	write("20261231000000_future.sql") // newer than now: one more
	check("20261231000001_next.sql")
	if _, err := plan.NextFile(dir, "bad-name", now); err == nil {
		t.Error("bad name accepted")
	}
}

// TestApplyRollsBack applies a plan that fails on the rows there (a new
// NOT NULL column without a default): the database must be unchanged.
func TestApplyRollsBack(t *testing.T) {
	ctx := context.Background()
	conn, err := sqlite.Open(filepath.Join(t.TempDir(), "dev.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec("CREATE TABLE t (a); INSERT INTO t VALUES (1), (2); CREATE INDEX t_a ON t (a)"); err != nil {
		t.Fatal(err)
	}
	live, _ := schema.Read(ctx, conn)
	p, err := plan.Diff(ctx, live, mustSchema(t, "CREATE TABLE t (a, b NOT NULL)"), plan.Options{NoLint: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(ctx, conn, p); err == nil || !strings.HasPrefix(err.Error(), "schema apply: apply: ") {
		t.Fatalf("Apply = %v, want a failure", err)
	}
	after, _ := schema.Read(ctx, conn)
	if d := plan.Compare(after, live); len(d) > 0 {
		t.Errorf("database changed: %v", d)
	}
	var n int
	stmt, _, _ := conn.Prepare("SELECT count(*) FROM t")
	stmt.Step()
	n = stmt.ColumnInt(0)
	stmt.Close()
	if n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
	if fk, _ := sqliteInt(conn, "PRAGMA foreign_keys"); fk != 1 {
		t.Errorf("foreign keys left off")
	}
}

func sqliteInt(conn *sqlite3.Conn, sql string) (int, error) {
	stmt, _, err := conn.Prepare(sql)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	stmt.Step()
	return stmt.ColumnInt(0), stmt.Err()
}

func mustWrite(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
