package sqlite_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

func TestSplitStatementsForBundles(t *testing.T) {
	m1 := testdb.Parse(t, "0001_init.sql", `-- migrate:up
CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); -- trailing comment

/* block; comment */
INSERT INTO t (v) VALUES ('a;b'), ('--c');
CREATE TRIGGER tr AFTER INSERT ON t BEGIN
  UPDATE t SET v = v || ';' WHERE id = new.id;
END;
-- migrate:down
DROP TRIGGER tr;
DROP TABLE t;
`)
	m2 := testdb.Parse(t, "0002_broken_down.sql", "-- migrate:up\nCREATE TABLE u (x);\n-- migrate:down\nDROP TABLE nope;\n")
	conn := testdb.Open(t, ":memory:")
	if err := sqlite.SplitStatements(context.Background(), conn, []*migrations.Migration{m2, m1}); err != nil {
		t.Fatal(err)
	}
	want := []migrations.Statement{
		{SQL: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);", Line: 2},
		{SQL: "INSERT INTO t (v) VALUES ('a;b'), ('--c');", Line: 5},
		{SQL: "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET v = v || ';' WHERE id = new.id;\nEND;", Line: 6},
	}
	if !reflect.DeepEqual(m1.UpStatements, want) {
		t.Errorf("up statements:\n got %#v\nwant %#v", m1.UpStatements, want)
	}
	wantDown := []migrations.Statement{{SQL: "DROP TRIGGER tr;", Line: 10}, {SQL: "DROP TABLE t;", Line: 11}}
	if !reflect.DeepEqual(m1.DownStatements, wantDown) {
		t.Errorf("down statements: got %#v, want %#v", m1.DownStatements, wantDown)
	}
	if m2.DownStatements != nil {
		t.Errorf("a down part that fails is left unsplit, got %#v", m2.DownStatements)
	}
	// The down part ran in a savepoint that was rolled back: t still exists.
	if n := testdb.Int(t, conn, "SELECT count(*) FROM sqlite_schema WHERE name IN ('t', 'tr', 'u')"); n != 3 {
		t.Errorf("scratch schema has %d of t, tr, u after split; want 3", n)
	}

	// The statements travel in the bundle and back.
	b, err := migrations.Bundle([]*migrations.Migration{m1, m2})
	if err != nil {
		t.Fatal(err)
	}
	var raw []map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw[0]["up_statements"]; !ok {
		t.Errorf("bundle has no up_statements: %s", b)
	}
	back, err := migrations.ParseBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back[0].UpStatements, want) || back[1].DownStatements != nil {
		t.Errorf("round trip lost statements: %#v / %#v", back[0].UpStatements, back[1].DownStatements)
	}
}

func TestSplitStatementsRefusesFailingUp(t *testing.T) {
	m := testdb.Parse(t, "0001_bad.sql", "CREATE TABLE a (x);\nBEGIN;\n")
	conn := testdb.Open(t, ":memory:")
	err := sqlite.SplitStatements(context.Background(), conn, []*migrations.Migration{m})
	var se *sqlite.StatementError
	if !errors.As(err, &se) || se.Line != 2 {
		t.Fatalf("want a StatementError at line 2, got %v", err)
	}
}

// The split runs each part as up does: what up refuses, the split refuses;
// what up does not run is not in the statements.
func TestSplitStatementsMatchesUp(t *testing.T) {
	ctx := context.Background()
	init := "CREATE TABLE u (id INTEGER PRIMARY KEY);\nCREATE TABLE s (u INTEGER REFERENCES u (id));\n"
	aside := testdb.Parse(t, "0002_aside.sql", "ALTER TABLE u RENAME TO u_old;\nCREATE TABLE u (id INTEGER PRIMARY KEY, n TEXT);\nDROP TABLE u_old;\n")
	err := sqlite.SplitStatements(ctx, testdb.Open(t, ":memory:"), []*migrations.Migration{testdb.Parse(t, "0001_init.sql", init), aside})
	if !errors.Is(err, sqlite.ErrDanglingForeignKey) {
		t.Fatalf("rename aside split without error: %v", err)
	}

	// A legacy_alter_table setting in one part does not reach the next.
	migs := []*migrations.Migration{
		testdb.Parse(t, "0001_init.sql", init),
		testdb.Parse(t, "0002_legacy.sql", "PRAGMA foreign_keys = OFF;\nPRAGMA legacy_alter_table = ON;\nCREATE TABLE x (a);\nPRAGMA foreign_keys = ON;\n"),
		testdb.Parse(t, "0003_rename.sql", "ALTER TABLE u RENAME TO users;\n"),
	}
	conn := testdb.Open(t, ":memory:")
	if err := sqlite.SplitStatements(ctx, conn, migs); err != nil {
		t.Fatal(err)
	}
	want := []migrations.Statement{{SQL: "PRAGMA legacy_alter_table = ON;", Line: 2}, {SQL: "CREATE TABLE x (a);", Line: 3}}
	if !reflect.DeepEqual(migs[1].UpStatements, want) {
		t.Errorf("statements %#v, want %#v", migs[1].UpStatements, want)
	}
	if got := testdb.Text(t, conn, `SELECT "table" FROM pragma_foreign_key_list('s')`); got != "users" {
		t.Errorf("s references %q after the rename: legacy_alter_table leaked", got)
	}
	if on := testdb.Int(t, conn, "PRAGMA foreign_keys"); on != 1 {
		t.Error("foreign keys left off on the scratch connection")
	}
}
