package seed_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
	"github.com/larderdb/larder/seed"
)

var schema = map[string]string{
	"0001_users.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);\n",
	"0002_notes.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), body TEXT);\n",
}

var seeds = map[string]string{
	"0001_admin.sql":          "INSERT INTO users (name) VALUES ('admin');\n",
	"0002_welcome.sql":        "-- the first note; has a ; in a literal\nINSERT INTO notes (user_id, body) VALUES (1, 'hello; world');\n",
	"dev/0001_demo_users.sql": "INSERT INTO users (name) VALUES ('alice'), ('bob');\n",
	"test/0001_fixture.sql":   "INSERT INTO users (name) VALUES ('fixture');\n",
}

type fixture struct {
	dir, db, migDir, seedDir string
	migs                     []*migrations.Migration
}

func newFixture(t *testing.T, migrate bool) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	f.db = filepath.Join(f.dir, "app.db")
	f.migDir = filepath.Join(f.dir, "migrations")
	f.seedDir = filepath.Join(f.dir, "seeds")
	testdb.WriteFiles(t, f.migDir, schema)
	testdb.WriteFiles(t, f.seedDir, seeds)
	var err error
	if f.migs, err = migrations.LoadDir(f.migDir); err != nil {
		t.Fatal(err)
	}
	if migrate {
		conn := f.open(t)
		if _, err := sqlite.Migrate(context.Background(), conn, f.migs, migrations.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) open(t *testing.T) *sqlite3.Conn {
	t.Helper()
	conn, err := sqlite.Open(f.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func (f *fixture) seeder(t *testing.T, conn *sqlite3.Conn, env string, reapply bool) *seed.Seeder {
	t.Helper()
	sds, err := seed.LoadDir(f.seedDir, env)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seed.New(conn, sds, seed.Options{Migrations: f.migs, Reapply: reapply})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func labels(res []seed.Result) string {
	var out []string
	for _, r := range res {
		l := r.Seed.Label()
		if r.Reapplied {
			l += "(re)"
		}
		if r.Skipped {
			l += "(skipped)"
		}
		out = append(out, l)
	}
	return strings.Join(out, " ")
}

func TestSeedTwiceIsNoOp(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true)
	conn := f.open(t)
	res, err := f.seeder(t, conn, "dev", false).Apply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := labels(res); got != "0001_admin 0002_welcome dev/0001_demo_users" {
		t.Fatalf("applied %q: want common seeds first, then dev's", got)
	}
	before := testdb.Text(t, conn, "SELECT group_concat(name) FROM (SELECT name FROM users ORDER BY id)")
	if before != "admin,alice,bob" {
		t.Fatalf("users = %q", before)
	}
	seedRows := testdb.Text(t, conn, "SELECT group_concat(env || ':' || version || ':' || name || ':' || applied_at, ' ') FROM _seeds")
	res, err = f.seeder(t, conn, "dev", false).Apply(ctx)
	if err != nil || len(res) != 0 {
		t.Fatalf("second run: %v, %q", err, labels(res))
	}
	if after := testdb.Text(t, conn, "SELECT group_concat(name) FROM (SELECT name FROM users ORDER BY id)"); after != before {
		t.Fatalf("second run changed data: %q -> %q", before, after)
	}
	if again := testdb.Text(t, conn, "SELECT group_concat(env || ':' || version || ':' || name || ':' || applied_at, ' ') FROM _seeds"); again != seedRows {
		t.Fatalf("second run changed _seeds: %q -> %q", seedRows, again)
	}
	if n := testdb.Text(t, conn, "SELECT count(*) FROM notes WHERE body = 'hello; world'"); n != "1" {
		t.Fatalf("notes with literal: %s", n)
	}
}

func TestEnvironmentsAreTrackedSeparately(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true)
	conn := f.open(t)
	if _, err := f.seeder(t, conn, "", false).Apply(ctx); err != nil {
		t.Fatal(err)
	}
	// dev/0001 and test/0001 share a version with the common 0001: distinct seeds.
	res, err := f.seeder(t, conn, "test", false).Apply(ctx)
	if err != nil || labels(res) != "test/0001_fixture" {
		t.Fatalf("test env: %v %q", err, labels(res))
	}
	st, err := f.seeder(t, conn, "dev", false).Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range st {
		got = append(got, s.Label()+"="+string(s.State))
	}
	want := "0001_admin=applied 0002_welcome=applied dev/0001_demo_users=pending test/0001_fixture=missing"
	if strings.Join(got, " ") != want {
		t.Fatalf("status:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if _, err := seed.LoadDir(f.seedDir, "staging"); err == nil || !strings.Contains(err.Error(), "staging") {
		t.Fatalf("unknown environment: %v", err)
	}
	if _, err := seed.LoadDir(f.seedDir, "../x"); err == nil {
		t.Fatal("environment with a path separator accepted")
	}
}

func TestChangedSeedIsReportedNotRerun(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true)
	conn := f.open(t)
	if _, err := f.seeder(t, conn, "", false).Apply(ctx); err != nil {
		t.Fatal(err)
	}
	// Edit an applied seed and add a new one: nothing at all may run.
	testdb.WriteFiles(t, f.seedDir, map[string]string{
		"0001_admin.sql": "INSERT INTO users (name) VALUES ('root');\n",
		"0003_more.sql":  "INSERT INTO users (name) VALUES ('carol');\n",
	})
	_, err := f.seeder(t, conn, "", false).Apply(ctx)
	var ce *seed.ChangedError
	if !errors.Is(err, seed.ErrSeedChanged) || !errors.As(err, &ce) || len(ce.Seeds) != 1 || ce.Seeds[0].Version != 1 {
		t.Fatalf("err = %v, want a ChangedError naming 0001", err)
	}
	if !strings.Contains(err.Error(), "0001_admin") || !strings.Contains(err.Error(), "0001_admin.sql") {
		t.Fatalf("message does not name the seed and file: %v", err)
	}
	if users := testdb.Text(t, conn, "SELECT group_concat(name) FROM users"); users != "admin" {
		t.Fatalf("a seed ran despite the changed one: users = %q", users)
	}
	// A whitespace-only edit is not a change.
	testdb.WriteFiles(t, f.seedDir, map[string]string{"0001_admin.sql": "INSERT INTO users (name) VALUES ('admin');   \r\n\r\n"})
	res, err := f.seeder(t, conn, "", false).Apply(ctx)
	if err != nil || labels(res) != "0003_more" {
		t.Fatalf("after a whitespace edit: %v %q", err, labels(res))
	}
	// Reapply runs the changed seed again, deliberately, and records it.
	testdb.WriteFiles(t, f.seedDir, map[string]string{"0001_admin.sql": "INSERT INTO users (name) VALUES ('root');\n"})
	res, err = f.seeder(t, conn, "", true).Apply(ctx)
	if err != nil || labels(res) != "0001_admin(re)" {
		t.Fatalf("reapply: %v %q", err, labels(res))
	}
	if users := testdb.Text(t, conn, "SELECT group_concat(name) FROM (SELECT name FROM users ORDER BY id)"); users != "admin,carol,root" {
		t.Fatalf("users = %q", users)
	}
	if res, err := f.seeder(t, conn, "", false).Apply(ctx); err != nil || len(res) != 0 {
		t.Fatalf("after reapply the seed is current: %v %q", err, labels(res))
	}
}

func TestUnmigratedDatabaseIsRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, false)
	conn := f.open(t)
	_, err := f.seeder(t, conn, "", false).Apply(ctx)
	var ne *seed.NotMigratedError
	if !errors.Is(err, seed.ErrNotMigrated) || !errors.As(err, &ne) || !ne.NoTable || len(ne.Migrations) != 2 {
		t.Fatalf("err = %v", err)
	}
	if tables := testdb.Text(t, conn, "SELECT count(*) FROM sqlite_schema"); tables != "0" {
		t.Fatalf("refusal wrote %s schema objects", tables)
	}

	// Partly migrated: 0002 pending.
	if _, err := sqlite.Migrate(ctx, conn, f.migs[:1], migrations.Options{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.seeder(t, conn, "", false).Apply(ctx)
	if !errors.As(err, &ne) || len(ne.Migrations) != 1 || ne.Migrations[0].State != migrations.StatePending ||
		!strings.Contains(err.Error(), "0002_notes.sql pending") {
		t.Fatalf("partly migrated: %v", err)
	}
	if n := testdb.Text(t, conn, "SELECT count(*) FROM users"); n != "0" {
		t.Fatal("seeded a partly migrated database")
	}

	// Fully migrated, but a migration file changed since: refused too.
	if _, err := sqlite.Migrate(ctx, conn, f.migs, migrations.Options{}); err != nil {
		t.Fatal(err)
	}
	edited := *f.migs[1]
	edited.Up += "\nCREATE INDEX notes_user ON notes(user_id);"
	edited.Checksum = migrations.Checksum(edited.Up)
	sds, _ := seed.LoadDir(f.seedDir, "")
	_, err = seed.Apply(ctx, conn, sds, seed.Options{Migrations: []*migrations.Migration{f.migs[0], &edited}})
	if !errors.As(err, &ne) || ne.Migrations[0].State != migrations.StateModified {
		t.Fatalf("modified migration: %v", err)
	}
	if _, err := seed.New(conn, sds, seed.Options{}); err == nil {
		t.Fatal("New accepted options without migrations")
	}
}

func TestFailingSeedRollsBackAndNamesLine(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true)
	testdb.WriteFiles(t, f.seedDir, map[string]string{
		"0003_bad.sql":   "INSERT INTO users (name) VALUES ('dave');\n\n-- duplicate\nINSERT INTO users (name) VALUES ('admin');\n",
		"0004_after.sql": "INSERT INTO users (name) VALUES ('erin');\n",
	})
	conn := f.open(t)
	res, err := f.seeder(t, conn, "", false).Apply(ctx)
	var se *seed.SeedError
	if !errors.Is(err, seed.ErrSeedFailed) || !errors.As(err, &se) {
		t.Fatalf("err = %v", err)
	}
	if se.Seed.Version != 3 || se.Line != 4 || se.Code != "SQLITE_CONSTRAINT_UNIQUE" || !strings.Contains(err.Error(), "0003_bad: line 4") {
		t.Fatalf("error does not locate the failure: %+v / %v", se, err)
	}
	if labels(res) != "0001_admin 0002_welcome" {
		t.Fatalf("done before the failure: %q", labels(res))
	}
	if users := testdb.Text(t, conn, "SELECT group_concat(name) FROM users"); users != "admin" {
		t.Fatalf("failed seed left a trace or a later one ran: %q", users)
	}
	if rows := testdb.Text(t, conn, "SELECT group_concat(version) FROM _seeds"); rows != "1,2" {
		t.Fatalf("_seeds = %q", rows)
	}
}

func TestTransactionControlInSeedIsRefused(t *testing.T) {
	f := newFixture(t, true)
	testdb.WriteFiles(t, f.seedDir, map[string]string{"0003_commit.sql": "INSERT INTO users (name) VALUES ('x');\nCOMMIT;\n"})
	conn := f.open(t)
	_, err := f.seeder(t, conn, "", false).Apply(context.Background())
	if !errors.Is(err, sqlite.ErrTransactionControl) {
		t.Fatalf("err = %v", err)
	}
	if n := testdb.Text(t, conn, "SELECT count(*) FROM users WHERE name = 'x'"); n != "0" {
		t.Fatal("seed with COMMIT left its row")
	}
}

func TestConcurrentSeedersApplyOnce(t *testing.T) {
	f := newFixture(t, true)
	files := map[string]string{}
	for i := 3; i <= 12; i++ {
		files[fmt.Sprintf("%04d_s%d.sql", i, i)] = fmt.Sprintf("INSERT INTO notes (body) VALUES ('n%d');\n", i)
	}
	testdb.WriteFiles(t, f.seedDir, files)
	sds, err := seed.LoadDir(f.seedDir, "")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := sqlite.Open(f.db)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			if _, err := seed.Apply(context.Background(), conn, sds, seed.Options{Migrations: f.migs}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	conn := f.open(t)
	if n := testdb.Text(t, conn, "SELECT count(*) || '/' || count(DISTINCT body) FROM notes"); n != "11/11" {
		t.Fatalf("notes = %s, want each seed once", n)
	}
}

func TestBadSeedFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := seed.LoadDir(dir, ""); !errors.Is(err, seed.ErrNoSeeds) {
		t.Fatalf("empty dir: %v", err)
	}
	testdb.WriteFiles(t, dir, map[string]string{"0001_a.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n"})
	if _, err := seed.LoadDir(dir, ""); !errors.Is(err, migrations.ErrBadFile) {
		t.Fatalf("seed with a down part: %v", err)
	}
	testdb.WriteFiles(t, dir, map[string]string{"0001_a.sql": "SELECT 1;\n", "1_b.sql": "SELECT 2;\n"})
	if _, err := seed.LoadDir(dir, ""); !errors.Is(err, migrations.ErrDuplicateVersion) {
		t.Fatalf("duplicate version: %v", err)
	}
	if _, err := seed.LoadDir(filepath.Join(dir, "nope"), ""); err == nil {
		t.Fatal("missing dir accepted")
	}
}
