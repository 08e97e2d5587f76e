package main_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larderdb/larder/internal/testdb"
)

var lintBase = map[string]string{
	"0001_init.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\nCREATE TABLE logs (id INTEGER PRIMARY KEY, msg TEXT);\n",
}

func with(base map[string]string, name, body string) map[string]string {
	out := map[string]string{name: body}
	for k, v := range base {
		out[k] = v
	}
	return out
}

type lintJSON struct {
	Targets  []string         `json:"targets"`
	Since    int64            `json:"since"`
	Checked  int              `json:"checked"`
	Findings []map[string]any `json:"findings"`
	Ignored  int              `json:"ignored"`
}

func lintJSONOf(t *testing.T, r result) lintJSON {
	t.Helper()
	var out lintJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	return out
}

func TestLintCommand(t *testing.T) {
	// A drop marked breaking: a warning, exit 0.
	marked := testdb.Dir(t, with(lintBase, "0002_drop_logs.sql", "-- migrate:up\n-- migrate:breaking\nDROP TABLE logs;\n"))
	larder(t, "migrate", "lint", "--dir", marked).want(t, 0, "0002_drop_logs.sql L001 warning", "dropped-table", "fix:",
		"2 migration(s) checked for native, browser: 0 error(s), 1 warning(s)")

	r := larder(t, "migrate", "lint", "--dir", marked, "--json")
	r.want(t, 0)
	rep := lintJSONOf(t, r)
	fs := rep.Findings
	if len(fs) != 1 || fs[0]["code"] != "L001" || fs[0]["severity"] != "warning" || fs[0]["migration"] != "0002_drop_logs" ||
		fs[0]["file"] != "0002_drop_logs.sql" || fs[0]["part"] != "up" ||
		fs[0]["version"] != float64(2) || fs[0]["object"] != "logs" || fs[0]["hint"] == "" {
		t.Errorf("--json findings: %v", fs)
	}
	if strings.Join(rep.Targets, ",") != "native,browser" || rep.Checked != 2 || rep.Ignored != 0 {
		t.Errorf("--json report: %+v", rep)
	}

	// The same drop unmarked: L010, exit 1.
	unmarked := testdb.Dir(t, with(lintBase, "0002_drop_logs.sql", "DROP TABLE logs;\n"))
	larder(t, "migrate", "lint", "--dir", unmarked).want(t, 1, "L010 error", "breaking-unmarked", "1 error(s), 1 warning(s)")
	r = larder(t, "migrate", "lint", "--dir", unmarked, "--json")
	r.want(t, 1)
	if rep := lintJSONOf(t, r); len(rep.Findings) != 2 || rep.Findings[1]["code"] != "L010" {
		t.Errorf("--json: %s", r.stdout)
	}

	// Clean: an empty findings array.
	clean := testdb.Dir(t, with(lintBase, "0002_add.sql", "ALTER TABLE logs ADD COLUMN level TEXT;\n"))
	larder(t, "migrate", "lint", "--dir", clean).want(t, 0, "2 migration(s) checked for native, browser: 0 error(s), 0 warning(s)")
	r = larder(t, "migrate", "lint", "--dir", clean, "--json")
	if !strings.Contains(r.stdout, `"findings": []`) {
		t.Errorf("--json with no findings: %q", r.stdout)
	}

	larder(t, "migrate", "lint").want(t, 2, "--dir is required")
	larder(t, "migrate", "lint", "--dir", clean, "extra").want(t, 2, "unexpected argument")
	larder(t, "migrate", "lint", "--dir", filepath.Join(clean, "nope")).want(t, 1, "does not exist")
}

// A hand-written rebuild of a referenced table, applied long ago: flagged,
// then acknowledged by --ignore or skipped by --since; D1 findings only
// with --target d1.
func TestLintTargetsIgnoreSince(t *testing.T) {
	dir := testdb.Dir(t, map[string]string{
		"0001_init.sql": `CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES author(id) ON DELETE CASCADE, title TEXT);
`,
		"0002_author_bio.sql": `-- migrate:up
PRAGMA foreign_keys = OFF;
CREATE TABLE author_new (id INTEGER PRIMARY KEY, name TEXT, bio TEXT);
INSERT INTO author_new (id, name) SELECT id, name FROM author;
DROP TABLE author;
ALTER TABLE author_new RENAME TO author;
PRAGMA foreign_keys = ON;
-- migrate:down
ALTER TABLE author DROP COLUMN bio;
`,
		"0003_title_index.sql": "CREATE INDEX book_title ON book(title);\n",
	})
	larder(t, "migrate", "lint", "--dir", dir).want(t, 1, "0002_author_bio.sql L009 warning", "0002_author_bio.sql L015 error",
		"hand-written-rebuild", "book(author_id) ON DELETE CASCADE", "-- migrate:rebuild", "1 error(s), 1 warning(s)")
	r := larder(t, "migrate", "lint", "--dir", dir)
	if strings.Contains(r.stdout, "L017") {
		t.Errorf("D1 rule without --target d1:\n%s", r.stdout)
	}

	// For D1 too: repeated and comma-separated --target.
	larder(t, "migrate", "lint", "--dir", dir, "--target", "native", "--target", "browser,d1").
		want(t, 1, "L017 error", "d1-pragma-foreign-keys", "checked for native, browser, d1: 2 error(s), 1 warning(s)")
	larder(t, "migrate", "lint", "--dir", dir, "--target", "d1").want(t, 1, "checked for d1: 2 error(s), 0 warning(s)")
	larder(t, "migrate", "lint", "--dir", dir, "--target", "workers").want(t, 2, `--target: unknown target "workers"`)

	// Acknowledged without editing the applied file.
	larder(t, "migrate", "lint", "--dir", dir, "--ignore", "L015:0002_author_bio.sql", "--ignore", "L009:2").
		want(t, 0, "3 migration(s) checked for native, browser: 0 error(s), 0 warning(s), 2 ignored")
	r = larder(t, "migrate", "lint", "--dir", dir, "--ignore", "L015:2", "--json")
	r.want(t, 0)
	if rep := lintJSONOf(t, r); rep.Ignored != 1 || len(rep.Findings) != 1 || rep.Findings[0]["code"] != "L009" {
		t.Errorf("--ignore --json: %s", r.stdout)
	}
	// A stale ignore is a warning; a bad one an error.
	larder(t, "migrate", "lint", "--dir", dir, "--ignore", "L015:2", "--ignore", "L009:2", "--ignore", "L007:3").
		want(t, 0, "0003_title_index.sql L019 warning", "stale-ignore", "ignore L007:3 matched no finding of 0003_title_index")
	larder(t, "migrate", "lint", "--dir", dir, "--ignore", "L015").want(t, 2, "--ignore: ", "want CODE:MIGRATION")
	larder(t, "migrate", "lint", "--dir", dir, "--ignore", "L015:7").want(t, 1, `no migration "7"`)
	larder(t, "migrate", "lint", "--dir", dir, "--ignore", "L123:2").want(t, 1, "unknown rule L123")

	// --since: only the newer migrations.
	larder(t, "migrate", "lint", "--dir", dir, "--since", "2").want(t, 0, "1 migration(s) checked (above 2) for native, browser: 0 error(s), 0 warning(s)")
	r = larder(t, "migrate", "lint", "--dir", dir, "--since", "2", "--json")
	if rep := lintJSONOf(t, r); rep.Since != 2 || rep.Checked != 1 || len(rep.Findings) != 0 {
		t.Errorf("--since --json: %s", r.stdout)
	}
	larder(t, "migrate", "lint", "--dir", dir, "--since", "-1").want(t, 2, "--since")
}

// The down part is linted: a rename-aside in it is an error, reported as
// the file's down part.
func TestLintDownPart(t *testing.T) {
	dir := testdb.Dir(t, with(lintBase, "0002_posts.sql", `-- migrate:up
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), body TEXT);
ALTER TABLE users ADD COLUMN bio TEXT;
-- migrate:down
ALTER TABLE users RENAME TO users_old;
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
INSERT INTO users SELECT id, email FROM users_old;
DROP TABLE users_old;
DROP TABLE posts;
`))
	// Dropping posts after the rename-aside leaves no child: clean.
	larder(t, "migrate", "lint", "--dir", dir).want(t, 0, "0 error(s), 0 warning(s)")

	dir = testdb.Dir(t, with(lintBase, "0002_posts.sql", `-- migrate:up
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), body TEXT);
ALTER TABLE users ADD COLUMN bio TEXT;
-- migrate:down
ALTER TABLE users RENAME TO users_old;
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
INSERT INTO users SELECT id, email FROM users_old;
DROP TABLE users_old;
`))
	larder(t, "migrate", "lint", "--dir", dir).want(t, 1, "0002_posts.sql (down) L016 error", "rename-aside of users")
}
