package main_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larderdb/larder/internal/testdb"
)

// adoptFiles are a project's migrations, in dbmate format; the tests
// below pretend another tool applied the first two.
var adoptFiles = map[string]string{
	"20240101090000_users.sql": "-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n-- migrate:down\nDROP TABLE users;\n",
	"20240102090000_posts.sql": "-- migrate:up\nCREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, body TEXT);\n-- migrate:down\nDROP TABLE posts;\n",
	"20240103090000_title.sql": "-- migrate:up\nALTER TABLE posts ADD COLUMN title TEXT NOT NULL DEFAULT '';\n-- migrate:down\nALTER TABLE posts DROP COLUMN title;\n",
}

// otherToolDB is a database the way another tool leaves it after applying
// the first two migrations, with rows, and its history table.
func otherToolDB(t *testing.T, history string) (dir, db string) {
	t.Helper()
	dir = testdb.Dir(t, adoptFiles)
	db = filepath.Join(t.TempDir(), "app.db")
	testdb.Open(t, db).Close()
	execSQL(t, db, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
		CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, body TEXT);
		INSERT INTO users VALUES (1, 'ann'), (2, 'bob');
		INSERT INTO posts (user_id, body) VALUES (1, 'hello'), (2, 'hi'), (2, 'again');`+history)
	return dir, db
}

var histories = map[string]string{
	"goose": `CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL,
		is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));
		INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES (0, 1, '2024-01-01 09:00:00'),
		(20240101090000, 1, '2024-01-01 09:00:01'), (20240102090000, 1, '2024-01-02 09:00:01');`,
	"golang-migrate": `CREATE TABLE schema_migrations (version uint64, dirty bool);
		CREATE UNIQUE INDEX version_unique ON schema_migrations (version);
		INSERT INTO schema_migrations VALUES (20240102090000, 0);`,
	"dbmate": `CREATE TABLE schema_migrations (version varchar(128) primary key);
		INSERT INTO schema_migrations VALUES ('20240101090000'), ('20240102090000');`,
	"sqlx": `CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
		installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, checksum BLOB NOT NULL,
		execution_time BIGINT NOT NULL);
		INSERT INTO _sqlx_migrations VALUES (20240101090000, 'users', '2024-01-01 09:00:01', 1, x'00', 1000000),
		(20240102090000, 'posts', '2024-01-02 09:00:01', 1, x'00', 1000000);`,
}

// TestAdoptThenUp takes over a database from each tool: adopt writes the
// two applied migrations, up applies only the third, and no row is lost.
func TestAdoptThenUp(t *testing.T) {
	for tool, history := range histories {
		t.Run(tool, func(t *testing.T) {
			dir, db := otherToolDB(t, history)
			larder(t, "migrate", "adopt", "--db", db, "--dir", dir, "--from", tool, "--dry-run").
				want(t, 0, "would write 2 _migrations row(s)", "20240102090000_posts.sql", "dry run: nothing was written")
			if got := sqlText(t, db, "SELECT count(*) FROM sqlite_schema WHERE name = '_migrations'"); got != "0" {
				t.Fatal("--dry-run created _migrations")
			}
			larder(t, "migrate", "adopt", "--db", db, "--dir", dir, "--from", tool).
				want(t, 0, "wrote 2 _migrations row(s)", "pending (larder migrate up applies them): 20240103090000_title.sql", "left in place")
			larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 0, "applied 20240103090000_title")
			if got := sqlText(t, db, "SELECT group_concat(version) FROM _migrations"); got != "20240101090000,20240102090000,20240103090000" {
				t.Fatalf("_migrations = %s", got)
			}
			if got := sqlText(t, db, "SELECT count(*) || ' ' || group_concat(title, '') FROM posts"); got != "3 " {
				t.Fatalf("posts after up: %q, want 3 rows with empty titles", got)
			}
			larder(t, "migrate", "status", "--db", db, "--dir", dir).want(t, 0, "database version: 20240103090000")
			// A second adopt finds everything recorded and writes nothing.
			larder(t, "migrate", "adopt", "--db", db, "--dir", dir, "--from", tool).want(t, 0, "nothing to write: _migrations already records")
		})
	}
}

func TestAdoptKeepsToolTimes(t *testing.T) {
	dir, db := otherToolDB(t, histories["goose"])
	r := larder(t, "migrate", "adopt", "--db", db, "--dir", dir, "--from", "goose", "--json")
	r.want(t, 0)
	var p struct {
		From    string `json:"from"`
		Table   string `json:"table"`
		Written bool   `json:"written"`
		Write   []struct {
			Version      int64  `json:"version"`
			AppliedAt    string `json:"applied_at"`
			File         string `json:"file"`
			TimeFromTool bool   `json:"time_from_tool"`
		} `json:"write"`
		Pending []string `json:"pending"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if p.From != "goose" || p.Table != "goose_db_version" || !p.Written || len(p.Write) != 2 || !p.Write[1].TimeFromTool ||
		p.Write[1].File != "20240102090000_posts.sql" || len(p.Pending) != 1 {
		t.Fatalf("json = %+v", p)
	}
	if got := sqlText(t, db, "SELECT applied_at FROM _migrations WHERE version = 20240102090000"); got != "2024-01-02T09:00:01.000Z" {
		t.Fatalf("applied_at = %s, want goose's tstamp", got)
	}
}

// TestAdoptRefusals: each refusal exits 1, says what to fix, and writes
// nothing.
func TestAdoptRefusals(t *testing.T) {
	cases := []struct {
		name, tool, history string
		says                []string
	}{
		{"golang-migrate dirty", "golang-migrate", strings.Replace(histories["golang-migrate"], "20240102090000, 0", "20240102090000, 1", 1),
			[]string{"dirty history", "version 20240102090000 is dirty", "force VERSION"}},
		{"sqlx failed", "sqlx", strings.Replace(histories["sqlx"], "'posts', '2024-01-02 09:00:01', 1", "'posts', '2024-01-02 09:00:01', 0", 1),
			[]string{"dirty history", "20240102090000 (posts) with success = false"}},
		{"version with no file", "dbmate", histories["dbmate"] + "INSERT INTO schema_migrations VALUES ('20231231000000');",
			[]string{"applied version has no file", "version(s) 20231231000000", "restore the file"}},
		{"gap", "goose", histories["goose"] + "INSERT INTO goose_db_version (version_id, is_applied) VALUES (20240102090000, 0), (20240103090000, 1);",
			[]string{"never applied 20240102090000_posts.sql", "renumber"}},
		{"other tool's table", "dbmate", histories["golang-migrate"],
			[]string{"golang-migrate wrote it", "--from golang-migrate"}},
		{"disagreeing _migrations", "dbmate", histories["dbmate"] + `CREATE TABLE _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
			checksum TEXT NOT NULL, applied_at TEXT NOT NULL, duration_ms INTEGER NOT NULL, breaking INTEGER NOT NULL DEFAULT 0);
			INSERT INTO _migrations VALUES (20240101090000, 'users', 'abcdef', '2024-01-01T00:00:00.000Z', 0, 0);`,
			[]string{"_migrations disagrees", "version 20240101090000 with checksum abcdef"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, db := otherToolDB(t, c.history)
			before := sqlText(t, db, "SELECT count(*) FROM sqlite_schema WHERE name = '_migrations'") + "/" +
				sqlText(t, db, "SELECT total_changes()")
			larder(t, "migrate", "adopt", "--db", db, "--dir", dir, "--from", c.tool).want(t, 1, append(c.says, "nothing was written")...)
			after := sqlText(t, db, "SELECT count(*) FROM sqlite_schema WHERE name = '_migrations'") + "/" +
				sqlText(t, db, "SELECT total_changes()")
			if before != after {
				t.Fatalf("_migrations presence changed: %s -> %s", before, after)
			}
		})
	}
}

func TestAdoptUsage(t *testing.T) {
	dir, db := otherToolDB(t, histories["dbmate"])
	larder(t, "migrate", "adopt", "--db", db, "--dir", dir).want(t, 2, "--from is required")
	larder(t, "migrate", "adopt", "--db", db, "--dir", dir, "--from", "flyway").want(t, 2, `unknown tool "flyway"`)
	larder(t, "migrate", "adopt", "--db", filepath.Join(dir, "nope.db"), "--dir", dir, "--from", "dbmate").want(t, 1, "nope.db")
}
