package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
)

// larderBin is the CLI built once for all tests in this package.
var larderBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "larder-cli")
	if err != nil {
		panic(err)
	}
	larderBin = filepath.Join(dir, "larder")
	build := exec.Command("go", "build", "-o", larderBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building larder:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func larder(t *testing.T, args ...string) result {
	t.Helper()
	return runLarder(t, nil, args...)
}

// runLarder runs the CLI with stdin (nil: the null device) and waits for it.
func runLarder(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	cmd := exec.Command(larderBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	return exited(t, cmd.Run(), &out, &errb)
}

// exited is the result of a command that ended with err.
func exited(t *testing.T, err error, stdout, stderr fmt.Stringer) result {
	t.Helper()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), code}
}

func (r result) want(t *testing.T, code int, contains ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	for _, s := range contains {
		if !strings.Contains(r.stdout+r.stderr, s) {
			t.Fatalf("output lacks %q\nstdout: %s\nstderr: %s", s, r.stdout, r.stderr)
		}
	}
}

func fixture(t *testing.T) (dir, db string) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, "migrations")
	os.Mkdir(dir, 0o755)
	files := map[string]string{
		"0001_init.sql": "-- migrate:up\nCREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT);\n-- migrate:down\nDROP TABLE note;\n",
		"0002_tags.sql": "-- migrate:up\nALTER TABLE note ADD COLUMN tags TEXT;\n-- migrate:down\nALTER TABLE note DROP COLUMN tags;\n",
		"0003_seed.sql": "-- migrate:up\nINSERT INTO note (body) VALUES ('hello; world');\n-- migrate:down\nDELETE FROM note;\n",
	}
	for n, b := range files {
		os.WriteFile(filepath.Join(dir, n), []byte(b), 0o644)
	}
	return dir, filepath.Join(root, "app.db")
}

func statusJSON(t *testing.T, dir, db string) []map[string]any {
	t.Helper()
	r := larder(t, "migrate", "status", "--db", db, "--dir", dir, "--json")
	r.want(t, 0)
	var st []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status --json is not JSON: %v\n%s", err, r.stdout)
	}
	return st
}

func TestUpStatusDown(t *testing.T) {
	dir, db := fixture(t)
	larder(t, "migrate", "status", "--db", db, "--dir", dir).want(t, 0, "0001", "pending", "database version: 0")
	if _, err := os.Stat(db); err == nil {
		t.Fatal("status created the database file")
	}
	larder(t, "migrate", "up", "--db", db, "--dir", dir, "--dry-run").want(t, 0, "would apply 0001_init", "would apply 0003_seed")
	if _, err := os.Stat(db); err == nil {
		t.Fatal("dry run created the database file")
	}
	larder(t, "migrate", "up", "--db", db, "--dir", dir, "--to", "2").want(t, 0, "applied 0001_init", "applied 0002_tags")
	r := larder(t, "migrate", "up", "--db", db, "--dir", dir, "--json")
	r.want(t, 0)
	var steps []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &steps); err != nil || len(steps) != 1 || steps[0]["version"] != 3.0 || steps[0]["applied"] != true {
		t.Fatalf("up --json: %v %s", err, r.stdout)
	}
	larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 0, "up to date")
	larder(t, "migrate", "down", "--db", db, "--dir", dir, "--steps", "2").want(t, 0, "reverted 0003_seed", "reverted 0002_tags")
	st := statusJSON(t, dir, db)
	if st[0]["state"] != "applied" || st[1]["state"] != "pending" || st[2]["applied"] != false {
		t.Fatalf("status after down: %v", st)
	}
	larder(t, "migrate", "down", "--db", db, "--dir", dir, "--to", "0").want(t, 0, "reverted 0001_init")
}

func TestStatusJSONShowsEveryState(t *testing.T) {
	dir, db := fixture(t)
	os.WriteFile(filepath.Join(dir, "0005_later.sql"), []byte("CREATE TABLE later (x);"), 0o644)
	os.Remove(filepath.Join(dir, "0003_seed.sql"))
	larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 0)
	// Now: 0001 edited, 0002 deleted, 0003 added below the newest applied, 0006 new.
	os.WriteFile(filepath.Join(dir, "0001_init.sql"), []byte("CREATE TABLE note (id INTEGER PRIMARY KEY);"), 0o644)
	os.Remove(filepath.Join(dir, "0002_tags.sql"))
	os.WriteFile(filepath.Join(dir, "0003_seed.sql"), []byte("SELECT 1;"), 0o644)
	os.WriteFile(filepath.Join(dir, "0006_new.sql"), []byte("SELECT 1;"), 0o644)
	st := statusJSON(t, dir, db)
	want := map[float64]string{1: "modified", 2: "missing", 3: "out_of_order", 5: "applied", 6: "pending"}
	if len(st) != len(want) {
		t.Fatalf("status: %v", st)
	}
	for _, s := range st {
		if s["state"] != want[s["version"].(float64)] {
			t.Errorf("version %v: %v, want %v", s["version"], s["state"], want[s["version"].(float64)])
		}
		for _, k := range []string{"version", "name", "applied", "applied_at", "checksum", "state"} {
			if _, ok := s[k]; !ok {
				t.Errorf("status row lacks %q: %v", k, s)
			}
		}
	}
}

func TestValidationErrorsAreDistinct(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(dir string)
		stderr string
	}{
		{"edited", func(d string) {
			os.WriteFile(filepath.Join(d, "0001_init.sql"), []byte("CREATE TABLE note (id INTEGER);"), 0o644)
		}, "applied migration was edited"},
		{"deleted", func(d string) { os.Remove(filepath.Join(d, "0001_init.sql")) }, "applied migration has no file"},
		{"newer", func(d string) { os.Remove(filepath.Join(d, "0003_seed.sql")) }, "database is newer than the code"},
		{"out of order", func(d string) {
			os.WriteFile(filepath.Join(d, "0002_tags.sql"), []byte("SELECT 1;"), 0o644)
		}, "older than the newest applied"},
		{"duplicate", func(d string) { os.WriteFile(filepath.Join(d, "03_again.sql"), []byte("SELECT 1;"), 0o644) }, "duplicate migration version"},
		{"bad name", func(d string) { os.WriteFile(filepath.Join(d, "seed.sql"), []byte("SELECT 1;"), 0o644) }, "malformed migration file name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, db := fixture(t)
			if c.name == "out of order" {
				os.Remove(filepath.Join(dir, "0002_tags.sql"))
			}
			larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 0)
			before, _ := os.ReadFile(db)
			c.edit(dir)
			larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 1, c.stderr)
			after, _ := os.ReadFile(db)
			if !bytes.Equal(before, after) {
				t.Fatal("a refused run changed the database")
			}
		})
	}
	t.Run("out of order allowed", func(t *testing.T) {
		dir, db := fixture(t)
		os.Remove(filepath.Join(dir, "0002_tags.sql"))
		larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 0)
		os.WriteFile(filepath.Join(dir, "0002_tags.sql"), []byte("SELECT 1;"), 0o644)
		larder(t, "migrate", "up", "--db", db, "--dir", dir, "--allow-out-of-order").want(t, 0, "applied 0002_tags")
	})
}

func TestFailingMigrationNamesStatementAndLine(t *testing.T) {
	dir, db := fixture(t)
	os.WriteFile(filepath.Join(dir, "0004_bad.sql"), []byte("-- migrate:up\nCREATE TABLE x (a);\n\nINSERT INTO x VALUES (1);\nINSERT INTO missing VALUES (1);\n"), 0o644)
	larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 1,
		"applied 0003_seed", "0004_bad: line 5", "no such table: missing", "INSERT INTO missing VALUES (1)")
	st := statusJSON(t, dir, db)
	if st[3]["state"] != "pending" {
		t.Fatalf("failed migration recorded: %v", st[3])
	}
}

func TestBadInput(t *testing.T) {
	dir, db := fixture(t)
	root := filepath.Dir(dir)
	notDB := filepath.Join(root, "notes.txt")
	os.WriteFile(notDB, bytes.Repeat([]byte("plain text, not SQLite\n"), 50), 0o644)
	empty := filepath.Join(root, "empty")
	os.Mkdir(empty, 0o755)
	unreadable := filepath.Join(root, "unreadable")
	os.Mkdir(unreadable, 0o755)
	os.WriteFile(filepath.Join(unreadable, "0001_a.sql"), []byte("SELECT 1;"), 0o000)

	larder(t, "migrate", "up", "--db", db, "--dir", filepath.Join(root, "nope")).want(t, 1, "does not exist")
	larder(t, "migrate", "up", "--db", notDB, "--dir", dir).want(t, 1, "not an SQLite database")
	if b, _ := os.ReadFile(notDB); !bytes.HasPrefix(b, []byte("plain text")) {
		t.Fatal("the non-SQLite file was changed")
	}
	larder(t, "migrate", "up", "--db", db, "--dir", empty).want(t, 1, "no migrations")
	larder(t, "migrate", "up", "--db", db, "--dir", dir, "--to", "42").want(t, 1, "no such migration version")
	if os.Getuid() != 0 { // root reads mode-000 files
		larder(t, "migrate", "up", "--db", db, "--dir", unreadable).want(t, 1, "permission denied")
	}
	larder(t, "migrate", "up", "--db", filepath.Join(root, "no", "such", "dir.db"), "--dir", dir).want(t, 1, "does not exist")
	if _, err := os.Stat(db); err == nil {
		t.Fatal("a failed run created the database")
	}
	// Usage errors exit 2.
	larder(t, "migrate", "up", "--dir", dir).want(t, 2, "--db is required")
	larder(t, "migrate", "down", "--db", db, "--dir", dir).want(t, 2, "exactly one of --to N or --steps K")
	larder(t, "migrate", "up", "--db", db, "--dir", dir, "--bogus").want(t, 2, "flag provided but not defined")
	larder(t, "migrate", "stamp", "--db", db, "--dir", dir, "x").want(t, 2, "not a positive integer")
	larder(t, "frobnicate").want(t, 2, "unknown command")
	larder(t, "help").want(t, 0, "migrate up")
}

func TestDownRefusesWithoutDownPart(t *testing.T) {
	dir, db := fixture(t)
	os.WriteFile(filepath.Join(dir, "0004_oneway.sql"), []byte("CREATE TABLE oneway (x);"), 0o644)
	larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 0)
	larder(t, "migrate", "down", "--db", db, "--dir", dir, "--to", "1").want(t, 1, "no down part", "0004_oneway")
	if st := statusJSON(t, dir, db); st[3]["state"] != "applied" || st[2]["state"] != "applied" {
		t.Fatal("refused down reverted something")
	}
}

func TestNewStampBundle(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "m")
	larder(t, "migrate", "new", "--dir", dir, "create notes").want(t, 0, "0001_create_notes.sql")
	larder(t, "migrate", "new", "--dir", dir, "add_tags").want(t, 0, "0002_add_tags.sql")
	larder(t, "migrate", "new", "--dir", dir, "Bad!Name").want(t, 2, "snake_case")
	b, _ := os.ReadFile(filepath.Join(dir, "0002_add_tags.sql"))
	if !strings.Contains(string(b), "-- migrate:up") || !strings.Contains(string(b), "-- migrate:down") {
		t.Fatalf("new file: %q", b)
	}
	os.WriteFile(filepath.Join(dir, "0001_create_notes.sql"), []byte("-- migrate:up\nCREATE TABLE note (id INTEGER PRIMARY KEY);\n-- migrate:down\nDROP TABLE note;\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "0002_add_tags.sql"), []byte("-- migrate:up\n-- migrate:breaking\nALTER TABLE note ADD COLUMN tags TEXT;\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "20261121093000_ts.sql"), []byte("SELECT 1;"), 0o644)
	// A timestamp-numbered directory gets the current UTC time.
	before := time.Now().UTC().Format("20060102150405")
	r := larder(t, "migrate", "new", "--dir", dir, "next")
	r.want(t, 0, "_next.sql")
	created := strings.TrimSpace(r.stdout)
	if v := strings.TrimSuffix(filepath.Base(created), "_next.sql"); len(v) != 14 || v < before {
		t.Fatalf("new in a timestamp directory wrote %s, want a UTC timestamp not before %s", created, before)
	}
	os.Remove(created)

	db := filepath.Join(root, "legacy.db")
	larder(t, "migrate", "stamp", "--db", db, "--dir", dir, "2").want(t, 0, "stamped 0001_create_notes", "stamped 0002_add_tags")
	st := statusJSON(t, dir, db)
	if st[0]["state"] != "applied" || st[1]["state"] != "applied" || st[2]["state"] != "pending" {
		t.Fatalf("after stamp: %v", st)
	}
	larder(t, "migrate", "stamp", "--db", db, "--dir", dir, "7").want(t, 1, "no such migration version")

	r = larder(t, "migrate", "bundle", "--dir", dir)
	r.want(t, 0)
	var bundle []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &bundle); err != nil || len(bundle) != 3 {
		t.Fatalf("bundle: %v\n%s", err, r.stdout)
	}
	if bundle[0]["down"] == nil || bundle[1]["down"] != nil || bundle[1]["breaking"] != true || len(bundle[0]["checksum"].(string)) != 64 {
		t.Fatalf("bundle entries: %v", bundle)
	}
}

// Several real processes migrating one file at once apply each migration
// exactly once.
func TestConcurrentProcesses(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "m")
	os.Mkdir(dir, 0o755)
	for i := 1; i <= 30; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("%04d_step.sql", i)),
			[]byte(fmt.Sprintf("CREATE TABLE IF NOT EXISTS log (v INTEGER);\nINSERT INTO log VALUES (%d);\n", i)), 0o644)
	}
	db := filepath.Join(root, "shared.db")
	var wg sync.WaitGroup
	results := make([]result, 5)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = larder(t, "migrate", "up", "--db", db, "--dir", dir, "--json")
		}()
	}
	wg.Wait()
	applied := 0
	for _, r := range results {
		r.want(t, 0)
		var steps []map[string]any
		json.Unmarshal([]byte(r.stdout), &steps)
		for _, s := range steps {
			if s["applied"] == true {
				applied++
			}
		}
	}
	if applied != 30 {
		t.Fatalf("processes applied %d migrations in total, want exactly 30", applied)
	}
	st := statusJSON(t, dir, db)
	for _, s := range st {
		if s["state"] != "applied" {
			t.Fatalf("not applied: %v", s)
		}
	}
}

// status and dry runs read an existing database without writing to it:
// not even the _migrations table is created.
func TestReadOnlyCommandsLeaveTheDatabaseAlone(t *testing.T) {
	dir, db := fixture(t)
	// A database that Larder has never touched.
	legacy := filepath.Join(filepath.Dir(db), "legacy.db")
	conn, err := sqlite3.Open(legacy)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec("CREATE TABLE legacy (x); INSERT INTO legacy VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	for _, args := range [][]string{
		{"migrate", "status"},
		{"migrate", "status", "--json"},
		{"migrate", "up", "--dry-run"},
		{"migrate", "down", "--dry-run", "--steps", "1"},
	} {
		before, _ := os.ReadFile(legacy)
		larder(t, append(args, "--db", legacy, "--dir", dir)...).want(t, 0)
		after, _ := os.ReadFile(legacy)
		if !bytes.Equal(before, after) {
			t.Fatalf("%v changed the database (%d bytes, was %d)", args, len(after), len(before))
		}
	}
	r := larder(t, "schema", "dump", "--db", legacy)
	r.want(t, 0)
	if strings.Contains(r.stdout, "_migrations") {
		t.Fatalf("a read-only command created _migrations:\n%s", r.stdout)
	}
}

// stamp with a version no migration has fails before creating the file.
func TestStampUnknownVersionCreatesNothing(t *testing.T) {
	dir, db := fixture(t)
	larder(t, "migrate", "stamp", "--db", db, "--dir", dir, "42").want(t, 1, "no such migration version")
	if _, err := os.Stat(db); err == nil {
		t.Fatal("stamp of an unknown version created the database file")
	}
}

// bundle --statements splits each part into SQLite's statements with their
// file lines, for the D1 Worker (make edge-build).
func TestBundleStatements(t *testing.T) {
	dir, _ := fixture(t)
	r := larder(t, "migrate", "bundle", "--statements", "--dir", dir)
	r.want(t, 0)
	var bundle []struct {
		Version int64 `json:"version"`
		Up      []struct {
			SQL  string `json:"sql"`
			Line int    `json:"line"`
		} `json:"up_statements"`
		Down []struct {
			SQL  string `json:"sql"`
			Line int    `json:"line"`
		} `json:"down_statements"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &bundle); err != nil || len(bundle) != 3 {
		t.Fatalf("bundle: %v\n%s", err, r.stdout)
	}
	if u := bundle[2].Up; len(u) != 1 || u[0].SQL != "INSERT INTO note (body) VALUES ('hello; world');" || u[0].Line != 2 {
		t.Fatalf("0003 up statements: %+v", u)
	}
	if d := bundle[0].Down; len(d) != 1 || d[0].SQL != "DROP TABLE note;" || d[0].Line != 4 {
		t.Fatalf("0001 down statements: %+v", d)
	}
	// Without the flag the bundle has no statements.
	r = larder(t, "migrate", "bundle", "--dir", dir)
	r.want(t, 0)
	if strings.Contains(r.stdout, "up_statements") {
		t.Fatalf("bundle without --statements: %s", r.stdout)
	}
}

// up --to N with N already applied says so, not that the database is up
// to date while newer migrations are pending.
func TestUpToAppliedVersion(t *testing.T) {
	dir, db := fixture(t)
	larder(t, "migrate", "up", "--db", db, "--dir", dir, "--to", "2").want(t, 0)
	r := larder(t, "migrate", "up", "--db", db, "--dir", dir, "--to", "1")
	r.want(t, 0, "nothing to apply up to 1")
	if strings.Contains(r.stdout, "up to date") {
		t.Fatalf("up --to 1 with 0003 pending: %s", r.stdout)
	}
	larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 0, "applied 0003_seed")
	larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 0, "database is up to date")
}

// bundle with a sync.toml beside the migrations carries its text: the
// bundle becomes {"migrations": [...], "sync": "..."}, and ParseBundleSync
// reads both back. A sync.toml that does not fit the schema fails the bundle.
func TestBundleSync(t *testing.T) {
	src := filepath.Join("..", "..", "syncer", "testdata", "app")
	r := larder(t, "migrate", "bundle", "--dir", src)
	r.want(t, 0)
	toml, err := os.ReadFile(filepath.Join(src, "sync.toml"))
	if err != nil {
		t.Fatal(err)
	}
	migs, text, err := migrations.ParseBundleSync([]byte(r.stdout))
	if err != nil || len(migs) != 3 || text != string(toml) {
		t.Fatalf("bundle: %d migrations, sync %q, %v\n%s", len(migs), text, err, r.stdout)
	}
	dir := t.TempDir()
	for _, name := range []string{"0001_init.sql", "0002_add_done.sql", "0003_breaking.sql"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "sync.toml"), []byte("[tables.nosuch]\nowner = \"owner\"\n"), 0o644)
	larder(t, "migrate", "bundle", "--dir", dir).want(t, 1, "nosuch")
}
