package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

// A golang-migrate pair whose parts wrap themselves in BEGIN … COMMIT
// goes up, down and up again, each time with a notice and no trace of
// the wrapper; bundle --statements splits the same statements without it.
func TestTransactionWrapperUpDownAndSplit(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{
		"1_notes.up.sql":   "PRAGMA foreign_keys=OFF;\nBEGIN;\nCREATE TABLE notes (id INTEGER PRIMARY KEY);\nINSERT INTO notes VALUES (1);\nCOMMIT;\nPRAGMA foreign_keys=ON;\n",
		"1_notes.down.sql": "BEGIN TRANSACTION;\nDROP TABLE notes;\nEND TRANSACTION;\n",
	}
	dir := testdb.Dir(t, files)
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	p := provider(t, conn, dir, migrations.Options{})
	for round := range 2 {
		res, err := p.Up(ctx, 0)
		if err != nil {
			t.Fatalf("round %d: up: %v", round, err)
		}
		if n := strings.Join(res[0].Notices, "\n"); !strings.Contains(n, "1_notes.up.sql:2: BEGIN … COMMIT (line 5) around the whole part was not run") {
			t.Errorf("round %d: up notices: %s", round, n)
		}
		if testdb.Int(t, conn, "SELECT count(*) FROM notes") != 1 || conn.GetAutocommit() == false {
			t.Fatalf("round %d: up did not leave one row and no open transaction", round)
		}
		if round == 1 {
			break
		}
		res, err = p.Down(ctx, migrations.DownTarget{Steps: 1})
		if err != nil {
			t.Fatalf("down: %v", err)
		}
		if n := strings.Join(res[0].Notices, "\n"); !strings.Contains(n, "1_notes.down.sql:1: BEGIN TRANSACTION … END TRANSACTION (line 3)") {
			t.Errorf("down notices: %s", n)
		}
		if tableExists(t, conn, "notes") {
			t.Fatal("down left notes")
		}
	}
	if sum := testdb.Int(t, conn, "SELECT count(*) FROM _migrations WHERE checksum = '"+migrations.Checksum(files["1_notes.up.sql"])+"'"); sum != 1 {
		t.Error("the checksum recorded is not the one of the file's bytes")
	}

	migs, err := migrations.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	scratch := testdb.Open(t, ":memory:")
	if err := sqlite.SplitStatements(ctx, scratch, migs); err != nil {
		t.Fatal(err)
	}
	var up, down []string
	for _, s := range migs[0].UpStatements {
		up = append(up, s.SQL)
	}
	for _, s := range migs[0].DownStatements {
		down = append(down, s.SQL)
	}
	if got := strings.Join(up, " "); got != "CREATE TABLE notes (id INTEGER PRIMARY KEY); INSERT INTO notes VALUES (1);" {
		t.Errorf("up statements: %s", got)
	}
	if got := strings.Join(down, " "); got != "DROP TABLE notes;" {
		t.Errorf("down statements: %s", got)
	}
}

// Every other placement of transaction control is refused with
// ErrTransactionControl, by up and by bundle --statements alike, and
// nothing of the migration is left.
func TestTransactionControlOutsideAWrapperRefused(t *testing.T) {
	ctx := context.Background()
	for name, body := range map[string]string{
		"begin in the middle":            "CREATE TABLE a (x);\nBEGIN;\nCREATE TABLE b (x);\nCOMMIT;\n",
		"rollback at the end":            "BEGIN;\nCREATE TABLE a (x);\nROLLBACK;\n",
		"two wrappers":                   "BEGIN;\nCREATE TABLE a (x);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (x);\nCOMMIT;\n",
		"no commit":                      "BEGIN;\nCREATE TABLE a (x);\n",
		"after the commit":               "BEGIN;\nCREATE TABLE a (x);\nCOMMIT;\nCREATE TABLE b (x);\n",
		"savepoint released then commit": "SAVEPOINT s;\nCREATE TABLE a (x);\nRELEASE s;\nCOMMIT;\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := testdb.Dir(t, map[string]string{"0001_x.sql": body})
			conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
			_, err := provider(t, conn, dir, migrations.Options{}).Up(ctx, 0)
			if !errors.Is(err, sqlite.ErrTransactionControl) {
				t.Fatalf("up: %v", err)
			}
			if tableExists(t, conn, "a") || tableExists(t, conn, "b") || testdb.Int(t, conn, "SELECT count(*) FROM _migrations") != 0 {
				t.Error("the refused migration left a trace")
			}
			migs, err := migrations.LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := sqlite.SplitStatements(ctx, testdb.Open(t, ":memory:"), migs); !errors.Is(err, sqlite.ErrTransactionControl) {
				t.Errorf("split: %v", err)
			}
		})
	}
}
