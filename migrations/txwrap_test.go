package migrations_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/larderdb/larder/migrations"
)

// Statements are given one per line here; the verdict is the last action
// that is not TxRun, or "ok"/"refused" at the end.
func TestTxWrapperShapes(t *testing.T) {
	cases := []struct {
		name  string
		stmts []string
		want  string // "wrapper", "none" or "refused: <part of Why>"
	}{
		{"plain", []string{"CREATE TABLE a (x)", "INSERT INTO a VALUES (1)"}, "none"},
		{"golang-migrate with pragmas", []string{"PRAGMA foreign_keys=OFF;", "BEGIN;", "CREATE TABLE a (x);", "COMMIT;", "PRAGMA foreign_keys=ON;"}, "wrapper"},
		{"begin transaction end transaction", []string{"BEGIN TRANSACTION;", "CREATE TABLE a (x);", "END TRANSACTION;"}, "wrapper"},
		{"immediate, lower case, comments", []string{"begin /* ours */ immediate transaction", "CREATE TABLE a (x)", "commit -- done"}, "wrapper"},
		{"schema-qualified pragma", []string{`PRAGMA "main".foreign_keys = 0`, "BEGIN EXCLUSIVE", "CREATE TABLE a (x)", "COMMIT TRANSACTION"}, "wrapper"},
		{"rollback to a savepoint inside", []string{"BEGIN", "SAVEPOINT s", "CREATE TABLE a (x)", "ROLLBACK TO s", "RELEASE s", "COMMIT"}, "wrapper"},
		{"empty wrapper", []string{"BEGIN", "COMMIT"}, "wrapper"},
		{"begin in the middle", []string{"CREATE TABLE a (x)", "BEGIN", "CREATE TABLE b (x)", "COMMIT"}, "refused: BEGIN after other statements"},
		{"commit without begin", []string{"CREATE TABLE a (x)", "COMMIT"}, "refused: COMMIT after other statements"},
		{"commit first", []string{"COMMIT", "CREATE TABLE a (x)"}, "refused: COMMIT without a BEGIN"},
		{"ends in rollback", []string{"BEGIN", "CREATE TABLE a (x)", "ROLLBACK"}, "refused: ROLLBACK inside the BEGIN of line 1"},
		{"two wrappers", []string{"BEGIN", "CREATE TABLE a (x)", "COMMIT", "BEGIN", "CREATE TABLE b (x)", "COMMIT"}, "refused: BEGIN after the COMMIT of line 3"},
		{"statement after commit", []string{"BEGIN", "CREATE TABLE a (x)", "COMMIT", "CREATE TABLE b (x)"}, "refused: CREATE TABLE b (x) after the COMMIT of line 3"},
		{"nested begin", []string{"BEGIN", "BEGIN", "COMMIT", "COMMIT"}, "refused: BEGIN inside the BEGIN of line 1"},
		{"never committed", []string{"BEGIN", "CREATE TABLE a (x)"}, "refused: BEGIN is never committed"},
		{"begin with a name", []string{"BEGIN TRANSACTION t1", "CREATE TABLE a (x)", "COMMIT"}, "refused: BEGIN TRANSACTION t1 without a BEGIN"},
		{"other pragma before begin", []string{"PRAGMA legacy_alter_table=ON", "BEGIN", "CREATE TABLE a (x)", "COMMIT"}, "refused: BEGIN after other statements"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w migrations.TxWrapper
			got := ""
			skipped := 0
			for i, s := range c.stmts {
				switch w.Statement(s, i+1) {
				case migrations.TxSkip:
					skipped++
				case migrations.TxRefuse:
					got = "refused: " + w.Why()
				}
				if got != "" {
					break
				}
			}
			if got == "" && !w.End() {
				got = "refused: " + w.Why()
			}
			if got == "" {
				got = "none"
				if w.Found() {
					got = "wrapper"
					if skipped != 2 {
						t.Errorf("skipped %d statements, want 2", skipped)
					}
				}
			}
			if got != c.want && !(strings.HasPrefix(c.want, "refused: ") && strings.HasPrefix(got, "refused: ") && strings.Contains(got, strings.TrimPrefix(c.want, "refused: "))) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestTxStatementLen(t *testing.T) {
	for s, want := range map[string]int{
		"BEGIN;\nCREATE TABLE a (x);":   6,
		"begin transaction -- x\n;rest": 24,
		"COMMIT":                        6,
		"END /* c */ TRANSACTION;":      24,
		"ROLLBACK;":                     9,
		"ROLLBACK TO s;":                0, // not transaction control
		"CREATE TABLE a (x);":           0,
		"BEGIN 'x';":                    0, // not words only: left to SQLite
		"beginning_of_time TEXT;":       0,
	} {
		if got := migrations.TxStatementLen(s); got != want {
			t.Errorf("TxStatementLen(%q) = %d, want %d", s, got, want)
		}
	}
}

// A runner asks a TxWrapper about each statement of a part, in order.
func ExampleTxWrapper() {
	var w migrations.TxWrapper
	for i, stmt := range []string{"PRAGMA foreign_keys=OFF;", "BEGIN;", "ALTER TABLE users ADD COLUMN locale TEXT;", "COMMIT;", "PRAGMA foreign_keys=ON;"} {
		switch w.Statement(stmt, i+1) {
		case migrations.TxSkip:
			fmt.Println("leave out:", stmt)
		case migrations.TxRefuse:
			fmt.Println("refuse:", w.Why())
		}
	}
	if w.End() && w.Found() {
		fmt.Println(w.Notice("20250320171311_user_locale.up.sql"))
	}
	// Output:
	// leave out: BEGIN;
	// leave out: COMMIT;
	// 20250320171311_user_locale.up.sql:2: BEGIN … COMMIT (line 4) around the whole part was not run: the engine runs every migration in its own transaction, and the part ran in it
}
