package adopt_test

import (
	"context"
	"crypto/sha512"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/adopt"
	"github.com/larderdb/larder/migrations/sqlite"
)

// files are four migrations in dbmate format; the tests pretend another
// tool applied some of them.
var files = []struct{ name, body string }{
	{"001_users.sql", "-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n-- migrate:down\nDROP TABLE users;\n"},
	{"002_posts.sql", "-- migrate:up\nCREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id) ON DELETE CASCADE, body TEXT);\n-- migrate:down\nDROP TABLE posts;\n"},
	{"003_posts_title.sql", "-- migrate:up\nALTER TABLE posts ADD COLUMN title TEXT;\n-- migrate:down\nALTER TABLE posts DROP COLUMN title;\n"},
	{"004_tags.sql", "-- migrate:up\nCREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT);\n-- migrate:down\nDROP TABLE tags;\n"},
}

func load(t *testing.T, n int) []*migrations.Migration {
	t.Helper()
	var migs []*migrations.Migration
	for _, f := range files[:n] {
		m, err := migrations.Parse(f.name, []byte(f.body))
		if err != nil {
			t.Fatal(err)
		}
		migs = append(migs, m)
	}
	return migs
}

// database returns a database where another tool applied the first
// applied files (their up parts run, rows in the tables), and history
// holds the statements that create and fill the tool's table.
func database(t *testing.T, applied int, history string) *sqlite3.Conn {
	t.Helper()
	conn, err := sqlite.Open(filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for _, m := range load(t, applied) {
		exec(t, conn, m.Up)
	}
	exec(t, conn, "INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob')")
	if applied >= 2 {
		exec(t, conn, "INSERT INTO posts (user_id, body) VALUES (1, 'hello'), (2, 'hi')")
	}
	exec(t, conn, history)
	return conn
}

func exec(t *testing.T, conn *sqlite3.Conn, sql string) {
	t.Helper()
	if err := conn.Exec(sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func text(t *testing.T, conn *sqlite3.Conn, sql string) string {
	t.Helper()
	st, _, err := conn.Prepare(sql)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !st.Step() {
		t.Fatalf("%s: no row (%v)", sql, st.Err())
	}
	return st.ColumnText(0)
}

const gooseTable = `CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL,
	is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));`

// upRest runs Larder's up after adopting and returns the versions it applied.
func upRest(t *testing.T, conn *sqlite3.Conn, migs []*migrations.Migration) string {
	t.Helper()
	p, err := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Up(context.Background(), 0)
	if err != nil {
		t.Fatalf("up after adopt: %v", err)
	}
	var got []string
	for _, r := range res {
		got = append(got, fmt.Sprint(r.Migration.Version))
	}
	return strings.Join(got, ",")
}

func TestGoose(t *testing.T) {
	// goose applied 1, 2 and 3, then rolled 3 back; version 0 is its baseline.
	conn := database(t, 2, gooseTable+`
		INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES
		(0, 1, '2024-01-01 09:00:00'), (1, 1, '2024-01-01 09:00:01'), (2, 1, '2024-02-03 10:11:12'),
		(3, 1, '2024-03-01 00:00:00'), (3, 0, '2024-03-02 00:00:00');`)
	migs := load(t, 4)
	p, err := adopt.Adopt(context.Background(), conn, migs, adopt.Options{From: adopt.Goose})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Write) != 2 || !p.Written || strings.Join(p.Pending, ",") != "003_posts_title.sql,004_tags.sql" {
		t.Fatalf("plan = %+v", p)
	}
	if got := text(t, conn, "SELECT group_concat(version || '=' || applied_at || '=' || checksum, ' ') FROM _migrations"); got !=
		"1=2024-01-01T09:00:01.000Z="+migs[0].Checksum+" 2=2024-02-03T10:11:12.000Z="+migs[1].Checksum {
		t.Fatalf("_migrations = %s", got)
	}
	if got := upRest(t, conn, migs); got != "3,4" {
		t.Fatalf("up applied %s, want 3,4", got)
	}
	if got := text(t, conn, "SELECT count(*) FROM posts"); got != "2" {
		t.Fatalf("posts has %s rows after up, want 2", got)
	}
	if got := text(t, conn, "SELECT count(*) FROM goose_db_version"); got != "5" {
		t.Fatalf("goose_db_version has %s rows, want them left alone (5)", got)
	}
}

func TestGolangMigrate(t *testing.T) {
	conn := database(t, 3, `CREATE TABLE schema_migrations (version uint64, dirty bool);
		CREATE UNIQUE INDEX version_unique ON schema_migrations (version);
		INSERT INTO schema_migrations VALUES (3, 0);`)
	migs := load(t, 4)
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	p, err := adopt.Adopt(context.Background(), conn, migs, adopt.Options{From: adopt.GolangMigrate, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Write) != 3 || p.Write[0].TimeFromTool {
		t.Fatalf("plan = %+v", p)
	}
	if got := text(t, conn, "SELECT group_concat(DISTINCT applied_at) FROM _migrations"); got != "2026-12-05T12:00:00.000Z" {
		t.Fatalf("applied_at = %s, want the time of adopting", got)
	}
	if got := upRest(t, conn, migs); got != "4" {
		t.Fatalf("up applied %s, want 4", got)
	}
}

func TestDbmate(t *testing.T) {
	conn := database(t, 2, `CREATE TABLE schema_migrations (version varchar(128) primary key);
		INSERT INTO schema_migrations VALUES ('001'), ('002');`)
	migs := load(t, 4)
	if _, err := adopt.Adopt(context.Background(), conn, migs, adopt.Options{From: adopt.Dbmate}); err != nil {
		t.Fatal(err)
	}
	if got := upRest(t, conn, migs); got != "3,4" {
		t.Fatalf("up applied %s, want 3,4", got)
	}
}

func sqlxTable(rows ...string) string {
	return `CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
		installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, checksum BLOB NOT NULL,
		execution_time BIGINT NOT NULL);
		INSERT INTO _sqlx_migrations VALUES ` + strings.Join(rows, ", ") + ";"
}

func sha384(s string) string {
	sum := sha512.Sum384([]byte(s))
	return fmt.Sprintf("x'%x'", sum)
}

func TestSqlx(t *testing.T) {
	conn := database(t, 2, sqlxTable(
		"(1, 'users', '2025-05-06 07:08:09', 1, "+sha384(files[0].body)+", 2500000)",
		"(2, 'posts', '2025-05-06 07:08:10', 1, "+sha384("edited")+", 1000000)"))
	migs := load(t, 4)
	read := func(name string) ([]byte, error) {
		for _, f := range files {
			if f.name == name {
				return []byte(f.body), nil
			}
		}
		return nil, errors.New("no file")
	}
	p, err := adopt.Adopt(context.Background(), conn, migs, adopt.Options{From: adopt.Sqlx, ReadFile: read})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "002_posts.sql differs") {
		t.Fatalf("warnings = %q, want one about 002_posts.sql", p.Warnings)
	}
	if got := text(t, conn, "SELECT group_concat(version || '=' || applied_at || '=' || duration_ms, ' ') FROM _migrations"); got !=
		"1=2025-05-06T07:08:09.000Z=2 2=2025-05-06T07:08:10.000Z=1" {
		t.Fatalf("_migrations = %s", got)
	}
	if got := upRest(t, conn, migs); got != "3,4" {
		t.Fatalf("up applied %s, want 3,4", got)
	}
}

// TestRefusals checks that each refusal names the problem and writes
// nothing (no _migrations table appears).
func TestRefusals(t *testing.T) {
	cases := []struct {
		name    string
		tool    adopt.Tool
		applied int
		history string
		files   int
		err     error
		says    string
	}{
		{"golang-migrate dirty", adopt.GolangMigrate, 2, `CREATE TABLE schema_migrations (version uint64, dirty bool);
			INSERT INTO schema_migrations VALUES (2, 1);`, 4, adopt.ErrDirty, "force VERSION"},
		{"sqlx failed", adopt.Sqlx, 2, sqlxTable("(1, 'users', '2025-05-06 07:08:09', 1, x'00', 1)",
			"(2, 'posts', '2025-05-06 07:08:10', 0, x'00', 1)"), 4, adopt.ErrDirty, "2 (posts) with success = false"},
		{"version with no file", adopt.Dbmate, 2, `CREATE TABLE schema_migrations (version varchar(128) primary key);
			INSERT INTO schema_migrations VALUES ('1'), ('2'), ('7');`, 4, adopt.ErrNoFile, "version(s) 7"},
		{"golang-migrate version with no file", adopt.GolangMigrate, 4, `CREATE TABLE schema_migrations (version uint64, dirty bool);
			INSERT INTO schema_migrations VALUES (9, 0);`, 4, adopt.ErrNoFile, "version(s) 9"},
		{"gap", adopt.Goose, 2, gooseTable + `INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1), (3, 1);`,
			4, adopt.ErrGap, "never applied 002_posts.sql"},
		{"no history table", adopt.Goose, 2, `CREATE TABLE schema_migrations (version uint64, dirty bool);`, 4, adopt.ErrNoHistory,
			"no goose_db_version table"},
		{"golang-migrate table read as dbmate", adopt.Dbmate, 2, `CREATE TABLE schema_migrations (version uint64, dirty bool);
			INSERT INTO schema_migrations VALUES (2, 0);`, 4, adopt.ErrWrongTool, "--from golang-migrate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn := database(t, c.applied, c.history)
			_, err := adopt.Adopt(context.Background(), conn, load(t, c.files), adopt.Options{From: c.tool})
			if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), "nothing was written") {
				t.Fatalf("err = %v, want %v saying %q", err, c.err, c.says)
			}
			if ok, _ := sqlite.HasTable(conn, "_migrations"); ok {
				t.Fatal("a refused adopt created _migrations")
			}
		})
	}
}

func TestExistingMigrations(t *testing.T) {
	history := `CREATE TABLE schema_migrations (version varchar(128) primary key); INSERT INTO schema_migrations VALUES ('1'), ('2');`
	migs := load(t, 4)
	ctx := context.Background()

	t.Run("agrees", func(t *testing.T) {
		conn := database(t, 2, history)
		if _, err := adopt.Adopt(ctx, conn, migs, adopt.Options{From: adopt.Dbmate}); err != nil {
			t.Fatal(err)
		}
		p, err := adopt.Adopt(ctx, conn, migs, adopt.Options{From: adopt.Dbmate})
		if err != nil || len(p.Write) != 0 || len(p.Present) != 2 {
			t.Fatalf("second adopt: %+v, %v", p, err)
		}
		// After Larder applied the rest, adopting again still agrees.
		if got := upRest(t, conn, migs); got != "3,4" {
			t.Fatalf("up applied %s", got)
		}
		p, err = adopt.Adopt(ctx, conn, migs, adopt.Options{From: adopt.Dbmate})
		if err != nil || len(p.Write) != 0 || len(p.Present) != 4 {
			t.Fatalf("adopt after up: %+v, %v", p, err)
		}
	})
	t.Run("disagrees", func(t *testing.T) {
		conn := database(t, 2, history)
		exec(t, conn, migrations.TrackingTableSQL)
		exec(t, conn, `INSERT INTO _migrations VALUES (1, 'users', 'abc', '2024-01-01T00:00:00.000Z', 0, 0),
			(10, 'later', 'def', '2024-01-01T00:00:00.000Z', 0, 0)`)
		_, err := adopt.Adopt(ctx, conn, migs, adopt.Options{From: adopt.Dbmate})
		if !errors.Is(err, adopt.ErrDisagree) || !strings.Contains(err.Error(), "version 10 (later), which has no file") ||
			!strings.Contains(err.Error(), "version 1 with checksum abc") {
			t.Fatalf("err = %v", err)
		}
		if got := text(t, conn, "SELECT count(*) FROM _migrations"); got != "2" {
			t.Fatalf("_migrations has %s rows, want the 2 it had", got)
		}
	})
}

func TestDryRun(t *testing.T) {
	conn := database(t, 2, `CREATE TABLE schema_migrations (version varchar(128) primary key); INSERT INTO schema_migrations VALUES ('1'), ('2');`)
	p, err := adopt.Adopt(context.Background(), conn, load(t, 4), adopt.Options{From: adopt.Dbmate, DryRun: true})
	if err != nil || len(p.Write) != 2 || p.Written {
		t.Fatalf("dry run: %+v, %v", p, err)
	}
	if ok, _ := sqlite.HasTable(conn, "_migrations"); ok {
		t.Fatal("a dry run created _migrations")
	}
}

func TestRenamedTable(t *testing.T) {
	conn := database(t, 2, strings.Replace(gooseTable, "goose_db_version", "app_versions", 1)+
		`INSERT INTO app_versions (version_id, is_applied) VALUES (0, 1), (1, 1), (2, 1);`)
	migs := load(t, 4)
	if _, err := adopt.Adopt(context.Background(), conn, migs, adopt.Options{From: adopt.Goose}); !errors.Is(err, adopt.ErrNoHistory) {
		t.Fatalf("default table name: err = %v, want ErrNoHistory", err)
	}
	p, err := adopt.Adopt(context.Background(), conn, migs, adopt.Options{From: adopt.Goose, Table: "app_versions"})
	if err != nil || len(p.Write) != 2 || p.Table != "app_versions" {
		t.Fatalf("--table app_versions: %+v, %v", p, err)
	}
	// goose stamps rows with datetime('now') when it gives no time: a
	// time from the tool all the same.
	if !p.Write[0].TimeFromTool {
		t.Fatalf("tstamp from datetime('now') not used: %+v", p.Write[0])
	}
}

// A goose Go migration that goose (in the project's own binary) applied is
// adopted from its .go file like any other version; up then continues with
// the SQL files after it and stops at a Go file goose has not applied.
func TestGooseGoFiles(t *testing.T) {
	conn := database(t, 2, gooseTable+`
		INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1), (2, 1), (3, 1);`)
	migs, err := migrations.Load(fstest.MapFS{
		files[0].name:           {Data: []byte(files[0].body)},
		files[1].name:           {Data: []byte(files[1].body)},
		"003_backfill_names.go": {Data: []byte("package migrations\n")},
		files[3].name:           {Data: []byte(files[3].body)},
		"005_merge_entities.go": {Data: []byte("package migrations\n")},
	}, ".")
	if err != nil {
		t.Fatal(err)
	}
	p, err := adopt.Adopt(context.Background(), conn, migs, adopt.Options{From: adopt.Goose})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Write) != 3 || strings.Join(p.Pending, ",") != "004_tags.sql,005_merge_entities.go" {
		t.Fatalf("plan = %+v", p)
	}
	if got := text(t, conn, "SELECT checksum FROM _migrations WHERE version = 3"); got != "" {
		t.Fatalf("checksum of the Go file's version %q, want empty", got)
	}
	pr, err := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := pr.Up(context.Background(), 0)
	if len(res) != 1 || res[0].Migration.Version != 4 || !errors.Is(err, migrations.ErrGoMigrationFile) {
		t.Fatalf("up after adopt: %d applied, %v", len(res), err)
	}
}
