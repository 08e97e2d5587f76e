package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/larderdb/larder/backup"
	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations/sqlite"
)

// larderStdin runs the CLI with stdin fed from a pipe (not a terminal).
func larderStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runLarder(t, strings.NewReader(stdin), args...)
}

// dbLayout is a project: db/migrations, db/seeds (+ dev/), and app.db.
type dbLayout struct {
	root, migs, seeds, db string
}

func newDBLayout(t *testing.T) dbLayout {
	t.Helper()
	root := t.TempDir()
	l := dbLayout{root: root, migs: filepath.Join(root, "db", "migrations"), seeds: filepath.Join(root, "db", "seeds"), db: filepath.Join(root, "app.db")}
	testdb.WriteFiles(t, "", map[string]string{
		filepath.Join(l.migs, "0001_users.sql"):              "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);\n",
		filepath.Join(l.migs, "0002_notes.sql"):              "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\nCREATE TABLE total (n INTEGER);\nINSERT INTO total VALUES (0);\n",
		filepath.Join(l.seeds, "0001_admin.sql"):             "INSERT INTO users (name) VALUES ('admin');\n",
		filepath.Join(l.seeds, "dev", "0001_demo_users.sql"): "INSERT INTO users (name) VALUES ('alice'), ('bob');\n",
		filepath.Join(l.seeds, "test", "0001_fixtures.sql"):  "INSERT INTO users (name) VALUES ('fixture');\n",
		filepath.Join(l.seeds, "dev", "0002_demo_notes.sql"): "INSERT INTO notes (body) VALUES ('first; note');\n",
		filepath.Join(l.root, "README-not-a-seed-dir", "x"):  "",
	})
	return l
}

func sqlText(t *testing.T, db, q string) string {
	t.Helper()
	conn, err := sqlite.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return testdb.Text(t, conn, q)
}

var backupLine = regexp.MustCompile(`(?m)^backup: (\S+)`)

// backupPath is the path a destructive command printed; the file must exist.
func backupPath(t *testing.T, r result) string {
	t.Helper()
	m := backupLine.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no backup path printed:\n%s%s", r.stdout, r.stderr)
	}
	if _, err := os.Stat(m[1]); err != nil {
		t.Fatalf("printed backup path: %v", err)
	}
	return m[1]
}

func TestDBSeed(t *testing.T) {
	l := newDBLayout(t)
	os.WriteFile(l.db, nil, 0o644)
	// Unmigrated: refused, and the database is left as it was.
	larder(t, "db", "seed", "--db", l.db, "--dir", l.seeds).want(t, 1, "migrations are not current", "never migrated", "0001_users.sql pending",
		"hint: run `larder migrate up --db "+l.db+" --dir "+l.migs+"` first")
	if n := sqlText(t, l.db, "SELECT count(*) FROM sqlite_schema"); n != "0" {
		t.Fatalf("refused seed wrote %s schema objects", n)
	}
	larder(t, "migrate", "up", "--db", l.db, "--dir", l.migs, "--to", "1").want(t, 0)
	larder(t, "db", "seed", "--db", l.db, "--dir", l.seeds).want(t, 1, "0002_notes.sql pending", "--db "+l.db)
	larder(t, "migrate", "up", "--db", l.db, "--dir", l.migs).want(t, 0)

	// Migrations found beside the seeds by default; common seeds, then dev's.
	r := larder(t, "db", "seed", "--db", l.db, "--dir", l.seeds, "--env", "dev")
	r.want(t, 0)
	if want := "seeded 0001_admin.sql\nseeded dev/0001_demo_users.sql\nseeded dev/0002_demo_notes.sql\n"; r.stdout != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	users := sqlText(t, l.db, "SELECT name FROM users ORDER BY id")
	larder(t, "db", "seed", "--db", l.db, "--dir", l.seeds, "--env", "dev").want(t, 0, "nothing to seed")
	// _seeds is Larder's own table, not drift.
	larder(t, "schema", "diff", "--db", l.db, "--dir", l.migs).want(t, 0, "no differences")
	r = larder(t, "db", "seed", "--db", l.db, "--dir", l.seeds, "--env", "dev", "--json")
	r.want(t, 0)
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("second run --json: %s", r.stdout)
	}
	if again := sqlText(t, l.db, "SELECT name FROM users ORDER BY id"); again != users || users != "admin,alice,bob" {
		t.Fatalf("users %q then %q", users, again)
	}

	// A changed seed is reported, nothing runs; --reapply runs it.
	testdb.WriteFiles(t, "", map[string]string{filepath.Join(l.seeds, "0001_admin.sql"): "INSERT OR IGNORE INTO users (name) VALUES ('admin'), ('root');\n"})
	larder(t, "db", "seed", "--db", l.db, "--dir", l.seeds, "--env", "test").want(t, 1, "applied seed was edited", "0001_admin", "--reapply")
	if n := sqlText(t, l.db, "SELECT count(*) FROM users WHERE name IN ('root', 'fixture')"); n != "0" {
		t.Fatal("a seed ran despite the changed one")
	}
	r = larder(t, "db", "seed", "--db", l.db, "--dir", l.seeds, "--env", "test", "--reapply", "--json")
	r.want(t, 0)
	var out []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 2 ||
		out[0]["name"] != "admin" || out[0]["reapplied"] != true || out[1]["env"] != "test" || out[1]["reapplied"] != false {
		t.Fatalf("--reapply --json: %v\n%s", err, r.stdout)
	}
	if n := sqlText(t, l.db, "SELECT count(*) FROM users WHERE name IN ('root', 'fixture')"); n != "2" {
		t.Fatal("reapply did not run")
	}

	// Usage errors.
	larder(t, "db", "seed", "--db", l.db).want(t, 2, "--dir")
	larder(t, "db", "seed", "--db", l.db, "--dir", l.seeds, "--env", "nope").want(t, 1, `environment "nope"`)
	lone := filepath.Join(t.TempDir(), "seeds")
	testdb.WriteFiles(t, "", map[string]string{filepath.Join(lone, "0001_a.sql"): "SELECT 1;\n"})
	larder(t, "db", "seed", "--db", l.db, "--dir", lone).want(t, 2, "--migrations DIR is required")
	larder(t, "db", "seed", "--db", filepath.Join(l.root, "missing.db"), "--dir", l.seeds).want(t, 1, "missing.db")
	if _, err := os.Stat(filepath.Join(l.root, "missing.db")); err == nil {
		t.Fatal("seed created a database")
	}
}

func TestDBBackupWhileAnotherProcessWrites(t *testing.T) {
	l := newDBLayout(t)
	larder(t, "migrate", "up", "--db", l.db, "--dir", l.migs).want(t, 0)
	writer, err := sqlite.OpenExisting(l.db)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	var stop atomic.Bool
	var wrote atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			q := fmt.Sprintf("BEGIN IMMEDIATE; INSERT INTO notes (body) VALUES ('%d %s'); UPDATE total SET n = n + 1; COMMIT", i, strings.Repeat("y", i%2000))
			if err := writer.Exec(q); err != nil {
				t.Error(err)
				return
			}
			wrote.Add(1)
		}
	}()
	outDir := t.TempDir()
	var counts []string
	for i := range 3 {
		r := larder(t, "db", "backup", "--db", l.db, "--out", outDir)
		r.want(t, 0, "integrity_check ok")
		p := backupPath(t, r)
		if filepath.Dir(p) != outDir || !regexp.MustCompile(`^app\.db\.\d{8}T\d{6}Z(-\d+)?\.bak$`).MatchString(filepath.Base(p)) {
			t.Fatalf("backup %d at %s", i, p)
		}
		if err := backup.Verify(context.Background(), p, backup.RestoreOptions{AllowExtraSchema: true}); err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		if pair := sqlText(t, p, "SELECT (SELECT count(*) FROM notes) || '=' || (SELECT n FROM total)"); !regexp.MustCompile(`^(\d+)=(\d+)$`).MatchString(pair) ||
			strings.Split(pair, "=")[0] != strings.Split(pair, "=")[1] {
			t.Fatalf("backup %d is torn: notes=total gives %s", i, pair)
		}
		counts = append(counts, sqlText(t, p, "SELECT count(*) FROM notes"))
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("backups saw %v notes; %d written", counts, wrote.Load())
	if wrote.Load() == 0 {
		t.Fatal("the writer never wrote")
	}

	// --json, --out onto an existing file, and a non-database.
	r := larder(t, "db", "backup", "--db", l.db, "--out", filepath.Join(outDir, "x.bak"), "--json")
	r.want(t, 0)
	var js map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil || js["backup"] != filepath.Join(outDir, "x.bak") {
		t.Fatalf("--json: %v %s", err, r.stdout)
	}
	larder(t, "db", "backup", "--db", l.db, "--out", filepath.Join(outDir, "x.bak")).want(t, 1, "already exists")
	junk := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(junk, []byte("not sqlite at all, just text, long enough to be read as a header maybe\n"), 0o644)
	larder(t, "db", "backup", "--db", junk).want(t, 1, "not an SQLite database")
	larder(t, "db", "backup").want(t, 2, "--db is required")
}

func TestDBRestore(t *testing.T) {
	l := newDBLayout(t)
	larder(t, "migrate", "up", "--db", l.db, "--dir", l.migs).want(t, 0)
	larder(t, "db", "seed", "--db", l.db, "--dir", l.seeds).want(t, 0)
	saved := filepath.Join(t.TempDir(), "one-user.bak")
	larder(t, "db", "backup", "--db", l.db, "--out", saved).want(t, 0)
	larder(t, "db", "seed", "--db", l.db, "--dir", l.seeds, "--env", "dev").want(t, 0)

	// Refused: not SQLite, corrupt. The database and its directory stay as they were.
	want := testdb.ReadFile(t, l.db)
	entries, _ := os.ReadDir(l.root)
	bad := t.TempDir()
	notDB := filepath.Join(bad, "notes.txt")
	os.WriteFile(notDB, []byte("shopping list: eggs, milk\n"), 0o644)
	corrupt := testdb.ReadFile(t, saved)
	for i := 2 * 4096; i < len(corrupt); i += 5 {
		corrupt[i] = 0xff
	}
	corruptPath := filepath.Join(bad, "corrupt.bak")
	os.WriteFile(corruptPath, corrupt, 0o644)
	larder(t, "db", "restore", "--db", l.db, "--dir", l.migs, "--from", notDB).want(t, 1, "not a valid Larder database", "no SQLite header")
	larder(t, "db", "restore", "--db", l.db, "--dir", l.migs, "--from", corruptPath).want(t, 1, "not a valid Larder database")
	larder(t, "db", "restore", "--db", l.db, "--dir", l.migs, "--from", filepath.Join(bad, "missing.bak")).want(t, 1, "missing.bak")
	if !bytes.Equal(testdb.ReadFile(t, l.db), want) {
		t.Fatal("a refused restore changed the database")
	}
	if after, _ := os.ReadDir(l.root); len(after) != len(entries) {
		t.Fatalf("a refused restore left files: %d -> %d entries", len(entries), len(after))
	}

	r := larder(t, "db", "restore", "--db", l.db, "--dir", l.migs, "--from", saved)
	r.want(t, 0, "restored "+l.db)
	prev := backupPath(t, r)
	if filepath.Dir(prev) != l.root || sqlText(t, prev, "SELECT count(*) FROM users") != "3" {
		t.Fatalf("backup of the replaced database %s", prev)
	}
	if sqlText(t, l.db, "SELECT group_concat(name) FROM users") != "admin" {
		t.Fatal("not restored")
	}
	larder(t, "migrate", "status", "--db", l.db, "--dir", l.migs).want(t, 0, "database version: 2")
	larder(t, "db", "restore", "--db", l.db).want(t, 2, "--from")
}

func TestDBReset(t *testing.T) {
	l := newDBLayout(t)
	larder(t, "migrate", "up", "--db", l.db, "--dir", l.migs).want(t, 0)
	larder(t, "db", "seed", "--db", l.db, "--dir", l.seeds, "--env", "dev").want(t, 0)
	want := testdb.ReadFile(t, l.db)

	// Not on a terminal and no --yes: refused, even with "yes" piped in.
	larderStdin(t, "yes\n", "db", "reset", "--db", l.db, "--dir", l.migs).want(t, 2, "not a terminal", "--yes")
	if !bytes.Equal(testdb.ReadFile(t, l.db), want) {
		t.Fatal("refused reset changed the database")
	}
	if m, _ := filepath.Glob(filepath.Join(l.root, "*.bak")); len(m) != 0 {
		t.Fatalf("refused reset made backups: %v", m)
	}

	r := larderStdin(t, "", "db", "reset", "--db", l.db, "--dir", l.migs, "--seeds", l.seeds, "--env", "test", "--yes")
	r.want(t, 0, "applied 2 migrations, 2 seeds")
	prev := backupPath(t, r)
	if sqlText(t, prev, "SELECT group_concat(name) FROM (SELECT name FROM users ORDER BY id)") != "admin,alice,bob" {
		t.Fatal("the backup does not hold the old data")
	}
	if got := sqlText(t, l.db, "SELECT group_concat(name) FROM (SELECT name FROM users ORDER BY id)"); got != "admin,fixture" {
		t.Fatalf("reset database users = %q", got)
	}
	if n := sqlText(t, l.db, "SELECT count(*) FROM notes"); n != "0" {
		t.Fatalf("reset kept %s notes", n)
	}
	st := statusJSON(t, l.migs, l.db)
	if len(st) != 2 || st[0]["state"] != "applied" || st[1]["state"] != "applied" {
		t.Fatalf("status after reset: %v", st)
	}

	// Without seeds, --json.
	r = larderStdin(t, "", "db", "reset", "--db", l.db, "--dir", l.migs, "--yes", "--json")
	r.want(t, 0)
	var js struct {
		Backup   backup.Snapshot `json:"backup"`
		Migrated int             `json:"migrated"`
		Reset    bool            `json:"reset"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil || !js.Reset || js.Migrated != 2 || js.Backup.Path == "" || js.Backup.Path == prev {
		t.Fatalf("reset --json: %v %s", err, r.stdout)
	}
	if n := sqlText(t, l.db, "SELECT count(*) FROM users"); n != "0" {
		t.Fatalf("reset without seeds has %s users", n)
	}

	// A failing migration: the database is kept, no backup is made.
	testdb.WriteFiles(t, "", map[string]string{filepath.Join(l.migs, "0003_bad.sql"): "CREATE TABLE x (y);\nINSERT INTO nope VALUES (1);\n"})
	before, _ := filepath.Glob(filepath.Join(l.root, "*.bak"))
	kept := testdb.ReadFile(t, l.db)
	larderStdin(t, "", "db", "reset", "--db", l.db, "--dir", l.migs, "--yes").want(t, 1, "0003_bad", "no such table: nope")
	after, _ := filepath.Glob(filepath.Join(l.root, "*.bak"))
	if !bytes.Equal(testdb.ReadFile(t, l.db), kept) || len(after) != len(before) {
		t.Fatal("a failed reset touched the database or made a backup")
	}
	larder(t, "db", "reset", "--db", l.db).want(t, 2, "--dir")
}
