package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/larderdb/larder/internal/testdb"
)

// larderIn runs the CLI in directory wd with the environment variables
// env added (LARDER_* from the test's own environment are removed).
func larderIn(t *testing.T, wd string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(larderBin, args...)
	cmd.Dir = wd
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LARDER_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	return exited(t, cmd.Run(), &out, &errb)
}

func TestHelpAndVersion(t *testing.T) {
	r := larder(t, "--version")
	r.want(t, 0, "larder ")
	if strings.TrimSpace(r.stdout) == "larder" {
		t.Fatalf("--version printed no version: %q", r.stdout)
	}
	larder(t).want(t, 2, "usage: larder COMMAND")
	larder(t, "help").want(t, 0, "migrate up", "migrate adopt", "migrate redo")
	larder(t, "--help").want(t, 0, "migrate up")
	// A group alone lists its commands (a usage error); -h and help answer on stdout.
	larder(t, "migrate").want(t, 2, "migrate adopt", "migrate status")
	for _, args := range [][]string{{"migrate", "--help"}, {"migrate", "-h"}, {"help", "migrate"}} {
		r := larder(t, args...)
		r.want(t, 0)
		if !strings.Contains(r.stdout, "migrate redo") || strings.Contains(r.stdout, "db seed") {
			t.Fatalf("%v: want the migrate commands on stdout, got %q", args, r.stdout)
		}
	}
	larder(t, "migrate", "frob").want(t, 2, `unknown command "migrate frob"`, "migrate up")
	larder(t, "help", "frob").want(t, 2, `no command "frob"`)
	// Every command answers -h, --help and help CMD on stdout with exit 0.
	names := regexp.MustCompile(`(?m)^  ((?:migrate|schema|db) [a-z]+|serve)\s`).FindAllStringSubmatch(larder(t, "help").stdout, -1)
	if len(names) < 10 {
		t.Fatalf("help lists %d commands", len(names))
	}
	for _, n := range names {
		words := strings.Fields(n[1])
		for _, args := range [][]string{append(words, "-h"), append(words, "--help"), append([]string{"help"}, words...)} {
			r := larder(t, args...)
			r.want(t, 0, "usage: larder "+n[1])
			if !strings.Contains(r.stdout, "usage: larder "+n[1]) {
				t.Fatalf("%v: help went to stderr", args)
			}
		}
	}
	larder(t, "migrate", "up", "--bogus").want(t, 2, "flag provided but not defined: -bogus", "usage: larder migrate up")
}

// project is a git work tree with a larder.toml, a db/migrations
// directory and a subdirectory to run the CLI from.
func project(t *testing.T, toml string) (root, sub string) {
	t.Helper()
	root = t.TempDir()
	os.Mkdir(filepath.Join(root, ".git"), 0o755)
	testdb.WriteFiles(t, filepath.Join(root, "db", "migrations"), map[string]string{
		"001_notes.sql": "-- migrate:up\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n-- migrate:down\nDROP TABLE notes;\n",
		"002_tags.sql":  "-- migrate:up\nCREATE TABLE tags (id INTEGER PRIMARY KEY);\n-- migrate:down\nDROP TABLE tags;\n",
	})
	if toml != "" {
		os.WriteFile(filepath.Join(root, "larder.toml"), []byte(toml), 0o644)
	}
	sub = filepath.Join(root, "web", "src")
	os.MkdirAll(sub, 0o755)
	os.MkdirAll(filepath.Join(root, "data"), 0o755)
	return root, sub
}

func TestProjectFile(t *testing.T) {
	root, sub := project(t, "db = \"data/app.db\"\ndir = \"db/migrations\"\n\n[migrate.status]\njson = true\n")
	// From a subdirectory: larder.toml of the git root, paths relative to it.
	larderIn(t, sub, nil, "migrate", "up").want(t, 0, "applied 001_notes.sql", "applied 002_tags.sql")
	if _, err := os.Stat(filepath.Join(root, "data", "app.db")); err != nil {
		t.Fatal("migrate up did not use db from larder.toml:", err)
	}
	larderIn(t, sub, nil, "migrate", "status").want(t, 0, `"state": "applied"`)
	// A flag beats the environment, which beats larder.toml.
	other := filepath.Join(root, "data", "other.db")
	larderIn(t, sub, []string{"LARDER_DB=" + other}, "migrate", "up", "--to", "1").want(t, 0, "applied 001_notes.sql")
	third := filepath.Join(root, "data", "third.db")
	larderIn(t, sub, []string{"LARDER_DB=" + other}, "migrate", "up", "--db", third).want(t, 0, "applied 002_tags.sql")
	if got := sqlText(t, other, "SELECT group_concat(version) FROM _migrations"); got != "1" {
		t.Fatalf("LARDER_DB database has %s applied, want 1", got)
	}
	// schema dump with db and dir both defaulted dumps the database.
	larderIn(t, sub, nil, "schema", "dump").want(t, 0, "CREATE TABLE tags")
	larderIn(t, sub, nil, "schema", "dump", "--dir", filepath.Join(root, "db", "migrations")).want(t, 0, "CREATE TABLE notes")
}

func TestProjectFileTables(t *testing.T) {
	_, sub := project(t, "db = \"data/app.db\"\n[up]\nto = 1\n[migrate]\njson = true\n")
	// [up] is migrate up's table; [migrate] keys apply to every migrate command.
	r := larderIn(t, sub, nil, "migrate", "up")
	r.want(t, 0, `"name": "notes"`, "no --dir given: using ")
	if strings.Contains(r.stdout, "tags") {
		t.Fatalf("[up] to = 1 ignored: %s", r.stdout)
	}
}

func TestProjectFileErrors(t *testing.T) {
	cases := map[string]string{
		"colour = \"red\"\n":                   `unknown key "colour": no command has a --colour flag`,
		"[lint]\nfrobs = 1\n":                  `unknown key "frobs" in [lint]: ` + "`larder migrate lint` has no --frobs flag",
		"[nosuch]\ndb = \"x\"\n":               "unknown table [nosuch]",
		"[migrate.nosuch]\ndb = \"x\"\n":       "unknown table [migrate.nosuch]",
		"[up]\nto = \"x\"\n":                   `[up] to: invalid value "x" for --to`,
		"db = [\"a.db\", \"b.db\"]\n":          "--db takes one value, not an array",
		"db = \n":                              "larder.toml: line 1",
		"[up]\nto = 1\n[migrate.up]\nto = 2\n": `key "to" of ` + "`larder migrate up` is set twice",
	}
	for toml, says := range cases {
		_, sub := project(t, toml)
		r := larderIn(t, sub, nil, "migrate", "up", "--dry-run")
		r.want(t, 2, says)
		if !strings.Contains(r.stderr, "larder.toml") {
			t.Fatalf("%q: error does not name the file: %s", toml, r.stderr)
		}
	}
	// -h still works with a broken larder.toml.
	_, sub := project(t, "colour = 1\n")
	larderIn(t, sub, nil, "migrate", "up", "-h").want(t, 0, "usage: larder migrate up")
}

func TestDefaultDir(t *testing.T) {
	root, sub := project(t, "")
	// Outside a git root's larder.toml, nothing is looked for above the
	// current directory.
	larderIn(t, sub, nil, "migrate", "status", "--db", "x.db").want(t, 2, "--dir is required")
	larderIn(t, root, nil, "migrate", "status", "--db", "x.db").want(t, 0, "no --dir given: using db/migrations", "001")
	larderIn(t, root, []string{"LARDER_DIR=" + filepath.Join(root, "db", "migrations"), "LARDER_DB=data/env.db"}, "migrate", "up").
		want(t, 0, "applied 002_tags.sql")
	if _, err := os.Stat(filepath.Join(root, "data", "env.db")); err != nil {
		t.Fatal("LARDER_DB ignored:", err)
	}
}

func TestRedo(t *testing.T) {
	dir, db := fixture(t)
	larder(t, "migrate", "redo", "--db", db, "--dir", dir).want(t, 1, "open")
	larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 0)
	larder(t, "migrate", "redo", "--db", db, "--dir", dir, "--dry-run").want(t, 0, "would revert 0003_seed.sql", "would apply 0003_seed.sql")
	larder(t, "migrate", "redo", "--db", db, "--dir", dir).want(t, 0, "reverted 0003_seed.sql", "applied 0003_seed.sql")
	if got := sqlText(t, db, "SELECT count(*) FROM note"); got != "1" {
		t.Fatalf("after redo note has %s rows, want 1 (down deleted, up inserted once)", got)
	}
	// The newest without a down part: refused, nothing changes.
	os.WriteFile(filepath.Join(dir, "0004_nodown.sql"), []byte("CREATE TABLE t (x);\n"), 0o644)
	larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 0)
	larder(t, "migrate", "redo", "--db", db, "--dir", dir).want(t, 1, "no down part", "0004_nodown")
	if got := sqlText(t, db, "SELECT max(version) FROM _migrations"); got != "4" {
		t.Fatalf("refused redo changed the database: newest %s", got)
	}
}

func TestNewFollowsTheDirectory(t *testing.T) {
	pairs := testdb.Dir(t, map[string]string{
		"000001_init.up.sql": "CREATE TABLE a (x);\n", "000001_init.down.sql": "DROP TABLE a;\n",
	})
	larder(t, "migrate", "new", "--dir", pairs, "more").want(t, 0, "000002_more.up.sql", "000002_more.down.sql")
	if _, err := os.Stat(filepath.Join(pairs, "000002_more.down.sql")); err != nil {
		t.Fatal(err)
	}
	goose := testdb.Dir(t, map[string]string{"00007_init.sql": "-- +goose Up\nCREATE TABLE a (x);\n-- +goose Down\nDROP TABLE a;\n"})
	larder(t, "migrate", "new", "--dir", goose, "more").want(t, 0, "00008_more.sql")
	if b := testdb.ReadFile(t, filepath.Join(goose, "00008_more.sql")); !strings.Contains(string(b), "-- +goose Up") {
		t.Fatalf("goose directory got %q", b)
	}
	three := testdb.Dir(t, map[string]string{"009_x.sql": "CREATE TABLE a (x);\n"})
	larder(t, "migrate", "new", "--dir", three, "y").want(t, 0, "010_y.sql")
}

// TestProjectFileSeeds: the top-level seeds and dir keys reach db seed's
// --dir and --migrations, and db reset's --seeds.
func TestProjectFileSeeds(t *testing.T) {
	root, sub := project(t, "db = \"data/app.db\"\ndir = \"db/migrations\"\nseeds = \"db/seeds\"\nenv = \"dev\"\n")
	testdb.WriteFiles(t, filepath.Join(root, "db", "seeds"), map[string]string{
		"0001_admin.sql":    "INSERT INTO notes (body) VALUES ('admin');\n",
		"dev/0001_demo.sql": "INSERT INTO notes (body) VALUES ('demo');\n",
	})
	larderIn(t, sub, nil, "migrate", "up", "--to", "1").want(t, 0)
	larderIn(t, sub, nil, "db", "seed").want(t, 1, "002_tags.sql pending",
		"hint: run `larder migrate up --db "+filepath.Join(root, "data", "app.db")+" --dir "+filepath.Join(root, "db", "migrations")+"` first")
	larderIn(t, sub, nil, "migrate", "up").want(t, 0)
	larderIn(t, sub, nil, "db", "seed").want(t, 0, "seeded 0001_admin.sql", "seeded dev/0001_demo.sql")
	larderIn(t, sub, nil, "db", "reset", "--yes").want(t, 0, "applied 2 migrations, 2 seeds")
}
