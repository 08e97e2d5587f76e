package lint_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/lint"
	"github.com/larderdb/larder/migrations/rebuild"
	"github.com/larderdb/larder/migrations/sqlite"
)

const base = `CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id) ON DELETE CASCADE, title TEXT);
CREATE TABLE logs (id INTEGER PRIMARY KEY, msg TEXT);
`

var everywhere = lint.AllTargets()

func lintOne(t *testing.T, body string) []lint.Finding {
	t.Helper()
	return lintFor(t, everywhere, body)
}

// lintFor lints base and body (0002_change) for targets.
func lintFor(t *testing.T, targets []lint.Target, body string) []lint.Finding {
	t.Helper()
	m1, err := migrations.Parse("0001_base.sql", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := migrations.Parse("0002_change.sql", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := lint.Check(context.Background(), []*migrations.Migration{m1, m2}, lint.Options{Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	fs := rep.Findings
	for _, f := range fs {
		if f.Version == 1 {
			t.Fatalf("the base migration has a finding: %v", f)
		}
	}
	return fs
}

// codes lists the findings as "CODE:e|w ...". An engine that checks for
// foreign keys left dangling before commit refuses a part with L016 (an
// L000 after the findings lint's own run gives): that L000 is left out, so
// the tests hold with and without that check.
func codes(fs []lint.Finding) string {
	var c []string
	for _, f := range fs {
		c = append(c, f.Code+":"+string(f.Severity)[:1])
	}
	if n := len(c); n > 1 && c[n-1] == "L000:e" && slices.Contains(c, "L016:e") {
		c = c[:n-1]
	}
	return strings.Join(c, " ")
}

// Every rule has a migration that triggers it and one that does not.
func TestRules(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string // want: "CODE:e|w ...", in code order
	}{
		{"L000 fails", `INSERT INTO nosuch VALUES (1);`, "L000:e"},
		{"L000 applies", `INSERT INTO logs (msg) VALUES ('x');`, ""},

		{"L001 dropped table", `DROP TABLE logs;`, "L001:w L010:e"},
		{"L001 marked breaking", "-- migrate:breaking\nDROP TABLE logs;", "L001:w"},
		{"L001 new table dropped", `CREATE TABLE tmp (x); DROP TABLE tmp;`, ""},

		{"L002 dropped column", `ALTER TABLE logs DROP COLUMN msg;`, "L002:w L010:e"},
		{"L002 added column", `ALTER TABLE logs ADD COLUMN level TEXT;`, ""},
		{"L002 dropped by a rebuild", "-- migrate:rebuild users\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);", "L002:w L010:e L014:e"},

		{"L003 renamed table", `ALTER TABLE logs RENAME TO events;`, "L003:w L010:e"},
		{"L003 new table", `CREATE TABLE events (id INTEGER PRIMARY KEY, msg TEXT);`, ""},

		{"L004 renamed column", `ALTER TABLE users RENAME COLUMN name TO full_name;`, "L004:w L010:e"},
		{"L004 renamed by a rebuild map", "-- migrate:rebuild users\n-- migrate:map full_name = name\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT);", "L004:w L010:e L014:e"},
		{"L004 marked breaking", "-- migrate:breaking\nALTER TABLE users RENAME COLUMN name TO full_name;", "L004:w"},

		{"L005 not null without default", "-- migrate:rebuild logs\n-- migrate:map level = 'info'\nCREATE TABLE logs (id INTEGER PRIMARY KEY, msg TEXT, level TEXT NOT NULL);", "L005:w L010:e"},
		{"L005 with default", `ALTER TABLE logs ADD COLUMN level TEXT NOT NULL DEFAULT 'info';`, ""},
		{"L005 new table", `CREATE TABLE events (id INTEGER PRIMARY KEY, level TEXT NOT NULL);`, ""},

		{"L006 made not null", "-- migrate:rebuild users\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);", "L006:e L010:e L014:e"},
		{"L006 backfilled by UPDATE", "-- migrate:breaking\nUPDATE users SET email = '' WHERE email IS NULL;\n-- migrate:rebuild users\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);", "L006:w L014:e"},
		{"L006 backfilled by map", "-- migrate:breaking\n-- migrate:rebuild users\n-- migrate:map email = coalesce(email, '')\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);", "L006:w L014:e"},
		{"L006 stays nullable", "-- migrate:rebuild users\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT CHECK (email LIKE '%@%'), name TEXT);", "L014:e"},

		{"L007 unique index", `CREATE UNIQUE INDEX users_email ON users(email);`, "L007:w"},
		{"L007 unique constraint by rebuild", "-- migrate:rebuild users\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT);", "L007:w L014:e"},
		{"L007 plain index", `CREATE INDEX users_email ON users(email);`, ""},
		{"L007 new table", `CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT); CREATE UNIQUE INDEX tags_name ON tags(name);`, ""},

		{"L008 drop of a parent", "-- migrate:breaking\nDROP TABLE users;", "L001:w L008:e L016:e"},
		{"L008 drop of a child first", "-- migrate:breaking\nDROP TABLE posts; DROP TABLE users;", "L001:w L001:w"},

		{"L009 pragma foreign_keys", `PRAGMA foreign_keys = OFF; INSERT INTO logs (msg) VALUES ('x');`, "L009:w L017:e"},
		{"L009 defer_foreign_keys", `PRAGMA defer_foreign_keys = ON; INSERT INTO logs (msg) VALUES ('x');`, ""},
		// A read is not reported: the store may read it for its own checks.
		{"L009 read foreign_keys", `PRAGMA foreign_keys;`, ""},

		{"L011 savepoint", `SAVEPOINT a; INSERT INTO logs (msg) VALUES ('x'); RELEASE a;`, "L011:w L011:w"},
		{"L011 plain", `INSERT INTO logs (msg) VALUES ('x');`, ""},

		{"L012 pragma", `PRAGMA user_version = 3;`, "L012:w"},
		{"L012 allowed pragma", `PRAGMA optimize;`, ""},

		{"L013 sqlite_version", `INSERT INTO logs (msg) SELECT sqlite_version();`, "L013:w"},
		{"L013 other function", `INSERT INTO logs (msg) SELECT upper('x');`, ""},

		{"L014 rebuild of a parent with cascades", "-- migrate:rebuild users\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);", "L014:e"},
		{"L014 rebuild of a table without children", "-- migrate:rebuild logs\nCREATE TABLE logs (id INTEGER PRIMARY KEY, msg TEXT CHECK (length(msg) < 1000));", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := lintOne(t, tc.body)
			if got := codes(fs); got != tc.want {
				t.Errorf("findings %q, want %q:\n%v", got, tc.want, fs)
			}
			for _, f := range fs {
				if f.Migration != "0002_change" || f.Hint == "" || f.Message == "" || f.Name == "" {
					t.Errorf("incomplete finding: %+v", f)
				}
			}
		})
	}
}

// BEGIN inside a migration makes it fail (the engine refuses it) and is a
// D1 warning as well.
func TestSavepointMessage(t *testing.T) {
	fs := lintOne(t, `SAVEPOINT a; INSERT INTO logs (msg) VALUES ('x'); ROLLBACK TO a; RELEASE a;`)
	var msgs []string
	for _, f := range fs {
		msgs = append(msgs, f.Message)
	}
	if got := strings.Join(msgs, "; "); got != "SAVEPOINT a inside a migration; ROLLBACK TO a inside a migration; RELEASE a inside a migration" {
		t.Errorf("messages: %s", got)
	}
}

// A BEGIN … COMMIT around the whole part (golang-migrate files bring their
// own) is left out by the engine: a warning, L021, and nothing else. A
// BEGIN anywhere else fails the migration.
func TestTransactionWrapper(t *testing.T) {
	fs := lintOne(t, "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nINSERT INTO logs (msg) VALUES ('x');\nCOMMIT;\nPRAGMA foreign_keys=ON;")
	if got := codes(fs); got != "L009:w L017:e L021:w" {
		t.Errorf("wrapper: findings %q: %v", got, fs)
	} else if m := fs[2].Message; !strings.Contains(m, "BEGIN TRANSACTION (line 2) … COMMIT (line 4)") {
		t.Errorf("wrapper: message: %s", m)
	}
	fs = lintOne(t, `INSERT INTO logs (msg) VALUES ('x'); BEGIN; INSERT INTO logs (msg) VALUES ('y'); COMMIT;`)
	if got := codes(fs); got != "L000:e" {
		t.Errorf("BEGIN in the middle: findings %q: %v", got, fs)
	} else if !strings.Contains(fs[0].Message, "transaction control") || !strings.Contains(fs[0].Message, "BEGIN after other statements") {
		t.Errorf("BEGIN in the middle: message: %s", fs[0].Message)
	}
}

// A Go migration rebuilding with NoForeignKeys is safe; lint sees the
// mapping through the rebuild observer.
func TestGoMigration(t *testing.T) {
	m1, _ := migrations.Parse("0001_base.sql", []byte(base))
	m2 := sqlite.Go(2, "rename_name", func(ctx context.Context, tx *sqlite.Tx) error {
		return rebuild.Table(ctx, tx.Conn(), rebuild.Spec{Table: "users",
			Definition: "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT)",
			Columns:    map[string]string{"full_name": "name"}})
	}, nil)
	m2.NoForeignKeys = true
	m2.Breaking = true
	fs, err := lint.Lint(context.Background(), []*migrations.Migration{m1, m2})
	if err != nil {
		t.Fatal(err)
	}
	if got := codes(fs); got != "L004:w" {
		t.Errorf("findings %q: %v", got, fs)
	}
	if lint.HasErrors(fs) {
		t.Error("HasErrors with only warnings")
	}
}

// Lint stops at a failing migration; later ones are not checked.
func TestStopsAtFailure(t *testing.T) {
	var migs []*migrations.Migration
	for i, body := range []string{base, "SELECT * FROM nosuch;", "DROP TABLE logs;"} {
		m, err := migrations.Parse([]string{"0001_a.sql", "0002_b.sql", "0003_c.sql"}[i], []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		migs = append(migs, m)
	}
	fs, err := lint.Lint(context.Background(), migs)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Code != "L000" || fs[0].Version != 2 || !strings.Contains(fs[0].Message, "no such table: nosuch") {
		t.Errorf("findings: %v", fs)
	}
	if !lint.HasErrors(fs) {
		t.Error("HasErrors false with L000")
	}
}

func TestRulesTable(t *testing.T) {
	rs := lint.Rules()
	if len(rs) != 22 {
		t.Errorf("%d rules", len(rs))
	}
	for i, r := range rs {
		if r.Code == "" || r.Name == "" || r.Hint == "" || r.Summary == "" || (i > 0 && r.Code <= rs[i-1].Code) {
			t.Errorf("rule %d: %+v", i, r)
		}
	}
	var inc []string
	for _, r := range rs {
		if r.Incompatible {
			inc = append(inc, r.Code)
		}
	}
	if !slices.Equal(inc, []string{"L001", "L002", "L003", "L004", "L005", "L006"}) {
		t.Errorf("incompatible rules: %v", inc)
	}
}
