package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

// TestWebSchemaFile is `larder schema check --dir web/migrations --schema
// web/schema.sql`: the demo's canonical schema must be what its migrations
// produce (FTS5 included), so that `make test` fails when one is changed
// without the other.
func TestWebSchemaFile(t *testing.T) {
	diffs, err := checkSchema(context.Background(), "../../web/migrations", "../../web/schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("web/schema.sql and web/migrations differ: %v", d)
	}
}

// larderRun runs a command in-process, as main does, with stdin given and
// whether it is a terminal.
func larderRun(t *testing.T, stdin string, terminal bool, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, isTerminal: terminal}
	code = run(context.Background(), e, args)
	return out.String(), errb.String(), code
}

// fixture copies a case of migrations/plan/testdata/declarative to a
// temporary directory and returns it.
func fixture(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("../../migrations/plan/testdata/declarative", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestMigrateDiff(t *testing.T) {
	dir := fixture(t, "topics_v1")
	migs, schemaFile := filepath.Join(dir, "migrations"), filepath.Join(dir, "schema.sql")

	// Without --rename, topics_v1 -> topics is a drop and a create: refused.
	_, stderr, code := larderRun(t, "", false, "migrate", "diff", "--dir", migs, "--schema", schemaFile, "topics")
	if code != 1 || !strings.Contains(stderr, "drop table topics_v1") || !strings.Contains(stderr, "--allow-destructive") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(migs, "0002_topics.sql")); !os.IsNotExist(err) {
		t.Fatalf("a refused diff wrote a file: %v", err)
	}
	_, _, code = larderRun(t, "", false, "schema", "check", "--dir", migs, "--schema", schemaFile)
	if code != 1 {
		t.Fatalf("schema check before the migration: exit %d, want 1", code)
	}

	stdout, stderr, code := larderRun(t, "", false, "migrate", "diff", "--dir", migs, "--schema", schemaFile, "topics",
		"--rename", "topics_v1=topics", "--rename", "topics.author=author_name")
	want := filepath.Join(migs, "0002_topics.sql")
	if code != 0 || strings.TrimSpace(stdout) != want {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	got, _ := os.ReadFile(want)
	expected, _ := os.ReadFile(filepath.Join(dir, "expected.sql"))
	if string(got) != string(expected) {
		t.Errorf("written migration:\n%s\nwant:\n%s", got, expected)
	}

	stdout, _, code = larderRun(t, "", false, "migrate", "diff", "--dir", migs, "--schema", schemaFile, "again")
	if code != 0 || strings.TrimSpace(stdout) != "no changes" {
		t.Fatalf("second diff: exit %d, stdout %q", code, stdout)
	}
	stdout, stderr, code = larderRun(t, "", false, "schema", "check", "--dir", migs, "--schema", schemaFile)
	if code != 0 {
		t.Fatalf("schema check after the migration: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestMigrateDiffAsksOnTerminal(t *testing.T) {
	dir := fixture(t, "rename_column")
	migs, schemaFile := filepath.Join(dir, "migrations"), filepath.Join(dir, "schema.sql")
	stdout, stderr, code := larderRun(t, "y\n", true, "migrate", "diff", "--dir", migs, "--schema", schemaFile, "full_name")
	if code != 0 || !strings.Contains(stderr, "Was column users.name renamed to full_name?") {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	got, _ := os.ReadFile(strings.TrimSpace(stdout))
	if !strings.Contains(string(got), "ALTER TABLE users RENAME COLUMN name TO full_name;") {
		t.Errorf("migration:\n%s", got)
	}
}

func TestMigrateDiffJSONAndNumbering(t *testing.T) {
	dir := t.TempDir()
	migs := filepath.Join(dir, "migrations")
	os.MkdirAll(migs, 0o755)
	os.WriteFile(filepath.Join(migs, "20260101120000_init.sql"), []byte("CREATE TABLE a (id INTEGER PRIMARY KEY);"), 0o644)
	schemaFile := filepath.Join(dir, "schema.sql")
	os.WriteFile(schemaFile, []byte("CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT);"), 0o644)
	stdout, stderr, code := larderRun(t, "", false, "migrate", "diff", "--dir", migs, "--schema", schemaFile, "--json", "add_b")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Path     string `json:"path"`
		Changes  bool   `json:"changes"`
		Breaking bool   `json:"breaking"`
		Steps    []struct {
			Kind string `json:"kind"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	base := filepath.Base(res.Path)
	if !res.Changes || res.Breaking || len(res.Steps) != 1 || res.Steps[0].Kind != "add column" ||
		len(base) != len("20260101120000_add_b.sql") || !strings.HasSuffix(base, "_add_b.sql") || base <= "20260101120000" {
		t.Errorf("result %+v", res)
	}
	// An empty directory gets 0001.
	empty := filepath.Join(dir, "fresh")
	stdout, stderr, code = larderRun(t, "", false, "migrate", "diff", "--dir", empty, "--schema", schemaFile, "init")
	if code != 0 || filepath.Base(strings.TrimSpace(stdout)) != "0001_init.sql" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	// Usage errors exit 2.
	if _, _, code := larderRun(t, "", false, "migrate", "diff", "--dir", migs, "name"); code != 2 {
		t.Errorf("missing --schema: exit %d, want 2", code)
	}
	if _, _, code := larderRun(t, "", false, "migrate", "diff", "--dir", migs, "--schema", schemaFile, "--rename", "bad", "x"); code != 2 {
		t.Errorf("bad --rename: exit %d, want 2", code)
	}
}

func TestSchemaApply(t *testing.T) {
	dir := fixture(t, "split_table")
	db := filepath.Join(dir, "dev.sqlite")
	ctx := context.Background()
	conn, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	migs, err := migrations.LoadDir(filepath.Join(dir, "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Migrate(ctx, conn, migs, migrations.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(`INSERT INTO users (id, name, street, city) VALUES (1, 'Ada', 'Main St', 'Paris'), (2, 'Bob', NULL, NULL)`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	schemaFile := filepath.Join(dir, "schema.sql")

	// Dropping users.street and users.city is destructive: refused.
	stdout, stderr, code := larderRun(t, "", false, "schema", "apply", "--db", db, "--schema", schemaFile)
	if code != 1 || !strings.Contains(stderr, "drop column users.street") || !strings.Contains(stdout, "CREATE TABLE addresses") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// A dry run changes nothing.
	stdout, _, code = larderRun(t, "", false, "schema", "apply", "--db", db, "--schema", schemaFile, "--dry-run", "--allow-destructive")
	if code != 0 || !strings.Contains(stdout, "dry run") {
		t.Fatalf("dry run: exit %d\n%s", code, stdout)
	}
	if n := countRows(t, db, "SELECT count(*) FROM pragma_table_info('users') WHERE name = 'city'"); n != 1 {
		t.Fatalf("dry run changed the database")
	}
	stdout, stderr, code = larderRun(t, "", false, "schema", "apply", "--db", db, "--schema", schemaFile, "--allow-destructive")
	if code != 0 || !strings.Contains(stdout, "backup: ") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	backupPath := ""
	for _, l := range strings.Split(stdout, "\n") {
		if p, ok := strings.CutPrefix(l, "backup: "); ok {
			backupPath = p
		}
	}
	if n := countRows(t, backupPath, "SELECT count(*) FROM users WHERE city = 'Paris'"); n != 1 {
		t.Errorf("the backup lacks the old rows")
	}
	if n := countRows(t, db, "SELECT count(*) FROM users"); n != 2 {
		t.Errorf("users has %d rows after apply, want 2", n)
	}
	if n := countRows(t, db, "SELECT count(*) FROM addresses"); n != 0 {
		t.Errorf("addresses has %d rows", n)
	}
	stdout, _, code = larderRun(t, "", false, "schema", "apply", "--db", db, "--schema", schemaFile)
	if code != 0 || strings.TrimSpace(stdout) != "no changes" {
		t.Errorf("second apply: exit %d, %q", code, stdout)
	}
}

func countRows(t *testing.T, db, query string) int {
	t.Helper()
	conn, err := sqlite.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stmt, _, err := conn.Prepare(query)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	stmt.Step()
	return stmt.ColumnInt(0)
}

// TestMigrateDiffAsksTablesThenColumns answers yes to the table rename,
// then is asked about the columns of the renamed table.
func TestMigrateDiffAsksTablesThenColumns(t *testing.T) {
	dir := fixture(t, "topics_v1")
	migs, schemaFile := filepath.Join(dir, "migrations"), filepath.Join(dir, "schema.sql")
	stdout, stderr, code := larderRun(t, "y\ny\n", true, "migrate", "diff", "--dir", migs, "--schema", schemaFile, "topics")
	if code != 0 || !strings.Contains(stderr, "Was table topics_v1 renamed to topics?") ||
		!strings.Contains(stderr, "Was column topics.author renamed to author_name?") {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	got, _ := os.ReadFile(strings.TrimSpace(stdout))
	expected, _ := os.ReadFile(filepath.Join(dir, "expected.sql"))
	if string(got) != string(expected) {
		t.Errorf("migration:\n%s\nwant:\n%s", got, expected)
	}
}
