package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

func provider(t *testing.T, conn *sqlite3.Conn, dir string, opts migrations.Options) *migrations.Provider {
	t.Helper()
	migs, err := migrations.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := migrations.NewProvider(sqlite.NewStore(conn), migs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func tableExists(t *testing.T, conn *sqlite3.Conn, name string) bool {
	return testdb.Int(t, conn, fmt.Sprintf("SELECT count(*) FROM sqlite_schema WHERE name = '%s'", name)) == 1
}

var basic = map[string]string{
	"0001_init.sql": "-- migrate:up\nCREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n-- migrate:down\nDROP TABLE note;\n",
	"0002_tags.sql": "-- migrate:up\nCREATE TABLE tag (id INTEGER PRIMARY KEY, note_id INTEGER REFERENCES note(id) ON DELETE CASCADE, name TEXT);\nCREATE INDEX tag_name ON tag(name);\n-- migrate:down\nDROP TABLE tag;\n",
	"0010_seed.sql": "-- migrate:up\nINSERT INTO note (body) VALUES ('a;b'), ('c');\n-- migrate:down\nDELETE FROM note;\n",
}

func TestUpAppliesAllAndRecords(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	p := provider(t, conn, testdb.Dir(t, basic), migrations.Options{})
	res, err := p.Up(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("applied %d, want 3", len(res))
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM _migrations"); n != 3 {
		t.Fatalf("_migrations has %d rows", n)
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM note WHERE body = 'a;b'"); n != 1 {
		t.Fatalf("literal with ; not inserted: %d", n)
	}
	res, err = p.Up(ctx, 0)
	if err != nil || len(res) != 0 {
		t.Fatalf("second up: %v, %d applied", err, len(res))
	}
}

func TestFailureInThirdStatementLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	dir := testdb.Dir(t, map[string]string{
		"0001_init.sql": "CREATE TABLE note (id INTEGER PRIMARY KEY);\n",
		"0002_bad.sql": "-- migrate:up\nCREATE TABLE a (x);\nINSERT INTO note VALUES (1);\n\n" +
			"INSERT INTO nope VALUES (1);\nCREATE TABLE b (y);\n",
	})
	p := provider(t, conn, dir, migrations.Options{})
	res, err := p.Up(ctx, 0)
	if len(res) != 1 {
		t.Fatalf("applied %d before the failure, want 1", len(res))
	}
	var me *migrations.MigrationError
	if !errors.As(err, &me) || !errors.Is(err, migrations.ErrMigrationFailed) {
		t.Fatalf("err = %v, want a MigrationError", err)
	}
	if me.Version != 2 || me.Name != "bad" || me.Line != 5 || me.Code != "SQLITE_ERROR" ||
		!strings.Contains(me.Statement, "INSERT INTO nope") || !strings.Contains(me.Err.Error(), "no such table: nope") {
		t.Fatalf("error does not locate the failure: %+v", me)
	}
	if !strings.Contains(err.Error(), "0002_bad: line 5") {
		t.Fatalf("message %q does not name migration and line", err)
	}
	if tableExists(t, conn, "a") || testdb.Int(t, conn, "SELECT count(*) FROM note") != 0 {
		t.Fatal("statements before the failing one left a trace")
	}
	if n := testdb.Int(t, conn, "SELECT max(version) FROM _migrations"); n != 1 {
		t.Fatalf("version %d, want 1", n)
	}
}

func TestConstraintFailureReportsExtendedCode(t *testing.T) {
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	p := provider(t, conn, testdb.Dir(t, map[string]string{
		"0001_u.sql": "CREATE TABLE u (n TEXT UNIQUE);\nINSERT INTO u VALUES ('x');\nINSERT INTO u VALUES ('x');\n",
	}), migrations.Options{})
	_, err := p.Up(context.Background(), 0)
	var me *migrations.MigrationError
	if !errors.As(err, &me) || me.Code != "SQLITE_CONSTRAINT_UNIQUE" || me.Line != 3 {
		t.Fatalf("got %v", err)
	}
	if tableExists(t, conn, "u") {
		t.Fatal("failed migration left its table")
	}
}

func TestEditedMigrationIsRefusedAndNothingRuns(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "db.sqlite")
	dir := testdb.Dir(t, basic)
	conn := testdb.Open(t, dbPath)
	if _, err := provider(t, conn, dir, migrations.Options{}).Up(ctx, 2); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "0001_init.sql"), []byte("-- migrate:up\nCREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT);\n"), 0o644)
	_, err := provider(t, conn, dir, migrations.Options{}).Up(ctx, 0)
	if !errors.Is(err, migrations.ErrChecksumMismatch) || migrations.Code(err) != "LARDER_CHECKSUM_MISMATCH" {
		t.Fatalf("err = %v", err)
	}
	if testdb.Int(t, conn, "SELECT count(*) FROM _migrations") != 2 || testdb.Int(t, conn, "SELECT count(*) FROM note") != 0 {
		t.Fatal("pending migration ran despite the edited one")
	}
}

func TestWhitespaceEditIsNotAChecksumChange(t *testing.T) {
	ctx := context.Background()
	dir := testdb.Dir(t, basic)
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	if _, err := provider(t, conn, dir, migrations.Options{}).Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	crlf := "-- migrate:up   \r\nCREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL);   \t\r\n\r\n\r\n-- migrate:down\r\nDROP TABLE note;\r\n"
	os.WriteFile(filepath.Join(dir, "0001_init.sql"), []byte(crlf), 0o644)
	if err := provider(t, conn, dir, migrations.Options{}).Validate(ctx); err != nil {
		t.Fatalf("whitespace-only edit rejected: %v", err)
	}
}

func TestDownThenUpRoundTrips(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	p := provider(t, conn, testdb.Dir(t, basic), migrations.Options{})
	if _, err := p.Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	res, err := p.Down(ctx, migrations.DownTarget{Steps: 2})
	if err != nil || len(res) != 2 || res[0].Migration.Version != 10 || res[1].Migration.Version != 2 {
		t.Fatalf("down 2 steps: %v %v", res, err)
	}
	if tableExists(t, conn, "tag") || !tableExists(t, conn, "note") {
		t.Fatal("down did not revert exactly two migrations")
	}
	if _, err := p.Down(ctx, migrations.DownTarget{To: 0}); err != nil {
		t.Fatal(err)
	}
	if tableExists(t, conn, "note") || testdb.Int(t, conn, "SELECT count(*) FROM _migrations") != 0 {
		t.Fatal("down to 0 left state")
	}
	if res, err := p.Up(ctx, 0); err != nil || len(res) != 3 {
		t.Fatalf("up again: %v", err)
	}
	if _, err := p.Down(ctx, migrations.DownTarget{To: 7}); !errors.Is(err, migrations.ErrUnknownVersion) {
		t.Fatalf("down --to unknown: %v", err)
	}
}

func TestDownRefusesWithoutDownPart(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	p := provider(t, conn, testdb.Dir(t, map[string]string{
		"0001_a.sql": "-- migrate:up\nCREATE TABLE a (x);\n-- migrate:down\nDROP TABLE a;\n",
		"0002_b.sql": "CREATE TABLE b (x);\n",
	}), migrations.Options{})
	if _, err := p.Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	_, err := p.Down(ctx, migrations.DownTarget{To: 0})
	if !errors.Is(err, migrations.ErrNoDown) || !strings.Contains(err.Error(), "0002_b") {
		t.Fatalf("err = %v", err)
	}
	if !tableExists(t, conn, "a") || !tableExists(t, conn, "b") {
		t.Fatal("down reverted something despite refusing")
	}
}

func TestConcurrentRunnersApplyOnce(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "db.sqlite")
	files := map[string]string{}
	for i := 1; i <= 20; i++ {
		// Each migration inserts a row: applying one twice would duplicate it
		// (and fail on the _migrations primary key).
		files[fmt.Sprintf("%04d_m%d.sql", i, i)] = fmt.Sprintf("CREATE TABLE IF NOT EXISTS log (v INTEGER);\nINSERT INTO log VALUES (%d);\n", i)
	}
	dir := testdb.Dir(t, files)
	const runners = 8
	var wg sync.WaitGroup
	errs := make(chan error, runners)
	applied := make(chan int, runners)
	for range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := sqlite.Open(dbPath)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			migs, _ := migrations.LoadDir(dir)
			p, _ := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
			res, err := p.Up(ctx, 0)
			if err != nil {
				errs <- err
				return
			}
			n := 0
			for _, r := range res {
				if !r.Skipped {
					n++
				}
			}
			applied <- n
		}()
	}
	wg.Wait()
	close(errs)
	close(applied)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for n := range applied {
		total += n
	}
	conn := testdb.Open(t, dbPath)
	if total != 20 || testdb.Int(t, conn, "SELECT count(*) FROM log") != 20 || testdb.Int(t, conn, "SELECT count(DISTINCT v) FROM log") != 20 {
		t.Fatalf("runners applied %d migrations in total, log has %d rows", total, testdb.Int(t, conn, "SELECT count(*) FROM log"))
	}
}

func TestTriggerBodyWithSemicolons(t *testing.T) {
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	p := provider(t, conn, testdb.Dir(t, map[string]string{
		"0001_t.sql": `CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT, updated INTEGER DEFAULT 0);
CREATE TABLE audit (note_id INTEGER, what TEXT);
CREATE TRIGGER note_audit AFTER UPDATE ON note BEGIN
  INSERT INTO audit VALUES (new.id, 'updated; really');
  UPDATE note SET updated = updated + 1 WHERE id = new.id AND 0;
END;
INSERT INTO note (body) VALUES ('x');
UPDATE note SET body = 'y';
`,
	}), migrations.Options{})
	if _, err := p.Up(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if testdb.Int(t, conn, "SELECT count(*) FROM audit WHERE what = 'updated; really'") != 1 {
		t.Fatal("trigger did not fire as written")
	}
}

func TestTenThousandInserts(t *testing.T) {
	var b strings.Builder
	b.WriteString("-- migrate:up\nCREATE TABLE big (i INTEGER, s TEXT);\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "INSERT INTO big VALUES (%d, 'row %d; with a semicolon');\n", i, i)
	}
	b.WriteString("INSERT INTO nope VALUES (1);\n")
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	p := provider(t, conn, testdb.Dir(t, map[string]string{"0001_big.sql": b.String()}), migrations.Options{})
	_, err := p.Up(context.Background(), 0)
	var me *migrations.MigrationError
	if !errors.As(err, &me) || me.Line != 10003 {
		t.Fatalf("want failure at line 10003, got %v", err)
	}
	if tableExists(t, conn, "big") {
		t.Fatal("10,000 inserts left a trace after the failure")
	}
	os.WriteFile(filepath.Join(t.TempDir(), "x"), nil, 0o644)
	ok := strings.Replace(b.String(), "INSERT INTO nope VALUES (1);\n", "", 1)
	p = provider(t, conn, testdb.Dir(t, map[string]string{"0001_big.sql": ok}), migrations.Options{})
	if _, err := p.Up(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM big"); n != 10000 {
		t.Fatalf("%d rows", n)
	}
}

// Applied reads a database that was never migrated as having applied
// nothing, without creating _migrations.
func TestAppliedWithoutTrackingTable(t *testing.T) {
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	recs, err := sqlite.NewStore(conn).Applied(context.Background())
	if err != nil || len(recs) != 0 {
		t.Fatalf("Applied on a new database: %v, %v", recs, err)
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM sqlite_schema"); n != 0 {
		t.Fatalf("Applied created %d objects", n)
	}
}

// A failing statement is named by its line in the file, whatever precedes
// it: header comments, CRLF line endings, a multi-line trigger or string,
// a block comment, a table rebuild.
func TestFailingStatementLine(t *testing.T) {
	for _, c := range []struct {
		name, body string
		line       int
	}{
		{"header comments", "-- header\n-- more\n\n-- migrate:up\nCREATE TABLE a (x);\n\nINSERT INTO nope VALUES (1);\n-- migrate:down\n", 7},
		{"CRLF", "-- header\r\n-- migrate:up\r\nCREATE TABLE a (x);\r\n\r\nINSERT INTO nope VALUES (1);\r\n", 5},
		{"after a trigger", "-- migrate:up\nCREATE TABLE a (x);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\nINSERT INTO nope VALUES (1);\n", 7},
		{"after a multi-line string", "CREATE TABLE a (x);\nINSERT INTO a VALUES ('x;\ny');\nINSERT INTO nope VALUES (1);\n", 4},
		{"after a block comment", "-- migrate:up\nCREATE TABLE a (x);\n/* c\n c */ INSERT INTO nope VALUES (1);\n", 4},
		{"two on a line", "CREATE TABLE a (x); INSERT INTO nope VALUES (1);\n", 1},
		{"syntax error", "CREATE TABLE a (x);\n\n   SELEC 1;\n", 3},
		{"after a rebuild", "CREATE TABLE a (x);\nCREATE TABLE b (y);\n-- migrate:rebuild a\n-- migrate:map z = x\nCREATE TABLE a (z);\nINSERT INTO nope VALUES (1);\n", 6},
		{"in a rebuild", "CREATE TABLE a (x);\n-- migrate:rebuild a\n-- migrate:map z = nope\nCREATE TABLE a (\n z\n);\n", 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := testdb.Open(t, ":memory:")
			m := testdb.Parse(t, "0001_a.sql", c.body)
			p, err := migrations.NewProvider(sqlite.NewStore(conn), []*migrations.Migration{m}, migrations.Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Up(context.Background(), 0)
			var me *migrations.MigrationError
			if !errors.As(err, &me) || me.Line != c.line {
				t.Fatalf("err = %v, want a failure at line %d", err, c.line)
			}
		})
	}
}
