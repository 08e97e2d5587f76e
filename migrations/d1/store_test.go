package d1_test

// The Store's logic runs here over real SQLite standing in for D1 at the
// JS seam: each Batch is one transaction, rolled back whole on any error,
// BEGIN and SAVEPOINT refused, errors worded like D1's. The Worker tests
// (../worker_test.go) run the same Store on D1 in workerd.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/d1"
	"github.com/larderdb/larder/migrations/sqlite"
)

type fakeD1 struct {
	mu      sync.Mutex // D1 runs batches one at a time
	conn    *sqlite3.Conn
	batches int
}

func newFakeD1(t *testing.T) *fakeD1 {
	conn, err := sqlite3.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &fakeD1{conn: conn}
}

func d1Error(err error) error {
	parts := strings.SplitN(err.Error(), ": ", 3) // "sqlite3: SQL logic error: no such table: x"
	msg := parts[len(parts)-1]
	code := sqlite.CodeName(err) // "SQLITE_CONSTRAINT_UNIQUE"
	primary := strings.Join(strings.SplitN(code, "_", 3)[:2], "_")
	return d1.ParseError(fmt.Sprintf("D1_ERROR: %s: %s (extended: %s)", msg, primary, code))
}

func (f *fakeD1) Batch(ctx context.Context, stmts []d1.Statement) (out [][]d1.Row, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches++
	c := f.conn
	if err := c.Exec("BEGIN IMMEDIATE"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.Exec("ROLLBACK")
		} else if e := c.Exec("COMMIT"); e != nil {
			err = d1Error(e)
		}
	}()
	for _, st := range stmts {
		w := strings.ToUpper(strings.Fields(st.SQL)[0])
		if w == "BEGIN" || w == "SAVEPOINT" {
			return nil, d1.ParseError("D1_ERROR: To execute a transaction, please use the state.storage.transaction() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT statements.")
		}
		stmt, _, err := c.Prepare(st.SQL)
		if err != nil {
			return nil, d1Error(err)
		}
		if err := sqlite.Bind(stmt, st.Args...); err != nil {
			stmt.Close()
			return nil, err
		}
		var rows []d1.Row
		for stmt.Step() {
			row := d1.Row{}
			for i := range stmt.ColumnCount() {
				switch stmt.ColumnType(i) {
				case sqlite3.NULL:
					row[stmt.ColumnName(i)] = nil
				case sqlite3.TEXT:
					row[stmt.ColumnName(i)] = stmt.ColumnText(i)
				default:
					row[stmt.ColumnName(i)] = stmt.ColumnFloat(i)
				}
			}
			rows = append(rows, row)
		}
		err = stmt.Err()
		stmt.Close()
		if err != nil {
			return nil, d1Error(err)
		}
		out = append(out, rows)
	}
	return out, nil
}

func (f *fakeD1) count(t *testing.T, q string) int64 {
	t.Helper()
	stmt, _, err := f.conn.Prepare(q)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	if !stmt.Step() {
		t.Fatalf("%s: no row: %v", q, stmt.Err())
	}
	return stmt.ColumnInt64(0)
}

// split parses and splits migration files the way the bundle does.
func split(t *testing.T, files ...string) []*migrations.Migration {
	t.Helper()
	migs := parseAll(t, files...)
	splitAll(t, migs)
	return migs
}

func parseAll(t *testing.T, files ...string) []*migrations.Migration {
	t.Helper()
	var migs []*migrations.Migration
	for i := 0; i < len(files); i += 2 {
		m, err := migrations.Parse(files[i], []byte(files[i+1]))
		if err != nil {
			t.Fatal(err)
		}
		migs = append(migs, m)
	}
	return migs
}

func splitAll(t *testing.T, migs []*migrations.Migration) {
	t.Helper()
	conn, err := sqlite3.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := sqlite.SplitStatements(context.Background(), conn, migs); err != nil {
		t.Fatal(err)
	}
}

var basic = []string{
	"0001_init.sql", "-- migrate:up\nCREATE TABLE a (x);\nCREATE TABLE counter (n);\n-- migrate:down\nDROP TABLE IF EXISTS a;\nDELETE FROM counter;\n",
	"0002_seed.sql", "-- migrate:up\nINSERT INTO counter VALUES (1);\n-- migrate:down\nDELETE FROM counter;\nINSERT INTO counter VALUES (-1);\n",
}

func provider(t *testing.T, f *fakeD1, migs []*migrations.Migration) *migrations.Provider {
	t.Helper()
	p, err := migrations.NewProvider(d1.NewStore(f), migs, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUpThenCurrentIsOneBatch(t *testing.T) {
	f := newFakeD1(t)
	migs := split(t, basic...)
	res, err := provider(t, f, migs).Up(context.Background(), 0)
	if err != nil || len(res) != 2 {
		t.Fatalf("up: %v, %v", res, err)
	}
	if r := res[1].Record; r.Version != 2 || r.Name != "seed" || r.Checksum != migs[1].Checksum || r.AppliedAt.IsZero() || r.DurationMS < 0 {
		t.Errorf("record %+v", r)
	}
	f.batches = 0
	res, err = provider(t, f, migs).Up(context.Background(), 0)
	if err != nil || len(res) != 0 {
		t.Fatalf("second up: %v, %v", res, err)
	}
	if f.batches != 1 {
		t.Errorf("a current database took %d batches, want 1", f.batches)
	}
	st, err := provider(t, f, migs).Status(context.Background())
	if err != nil || len(st) != 2 || st[1].State != migrations.StateApplied {
		t.Errorf("status %+v, %v", st, err)
	}
}

// Status, the plans and Down only read: on a database that was never
// migrated they create no _migrations table, in one batch.
func TestReadOnlyCallsCreateNothing(t *testing.T) {
	ctx := context.Background()
	f := newFakeD1(t)
	p := provider(t, f, split(t, basic...))
	st, err := p.Status(ctx)
	if err != nil || len(st) != 2 || st[0].State != migrations.StatePending || st[1].State != migrations.StatePending {
		t.Fatalf("status %+v, %v", st, err)
	}
	if f.batches != 1 {
		t.Errorf("status took %d batches, want 1", f.batches)
	}
	if steps, err := p.PlanUp(ctx, 0); err != nil || len(steps) != 2 {
		t.Fatalf("plan up %v, %v", steps, err)
	}
	if res, err := p.Down(ctx, migrations.DownTarget{}); err != nil || len(res) != 0 {
		t.Fatalf("down %v, %v", res, err)
	}
	if v, err := p.Version(ctx); err != nil || v != 0 {
		t.Fatalf("version %d, %v", v, err)
	}
	if n := f.count(t, "SELECT count(*) FROM sqlite_schema"); n != 0 {
		t.Errorf("read-only calls created %d schema objects", n)
	}
	if _, err := p.Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if v, err := p.Version(ctx); err != nil || v != 2 {
		t.Fatalf("version after up %d, %v", v, err)
	}
}

func TestRacingRunnersApplyAndRevertOnce(t *testing.T) {
	f := newFakeD1(t)
	migs := split(t, basic...)
	ctx := context.Background()
	// Both plan before either applies: the second one's batches hit the
	// primary key (up) or the marker row (down) and change nothing.
	a, b := provider(t, f, migs), provider(t, f, migs)
	planA, _ := a.PlanUp(ctx, 0)
	planB, _ := b.PlanUp(ctx, 0)
	if len(planA) != 2 || len(planB) != 2 {
		t.Fatalf("plans %d, %d", len(planA), len(planB))
	}
	for _, p := range []*migrations.Provider{a, b} {
		if _, err := p.Up(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	sa, sb := d1.NewStore(f), d1.NewStore(f)
	if _, err := sa.Apply(ctx, migs[1], migrations.Up); !errors.Is(err, migrations.ErrAlreadyApplied) {
		t.Errorf("second apply of 0002: %v, want ErrAlreadyApplied", err)
	}
	if n := f.count(t, "SELECT count(*) FROM counter"); n != 1 {
		t.Errorf("0002 ran %d times", n)
	}
	if _, err := sa.Apply(ctx, migs[1], migrations.Down); err != nil {
		t.Fatal(err)
	}
	// 0002's down part would succeed again; the marker row stops it.
	if _, err := sb.Apply(ctx, migs[1], migrations.Down); !errors.Is(err, migrations.ErrAlreadyApplied) {
		t.Errorf("second down of 0002: %v, want ErrAlreadyApplied", err)
	}
	if n := f.count(t, "SELECT count(*) FROM counter WHERE n = -1"); n != 1 {
		t.Errorf("0002's down ran %d times", n)
	}
	if n := f.count(t, "SELECT count(*) FROM _migrations"); n != 1 {
		t.Errorf("%d rows in _migrations after reverting 0002, want 1", n)
	}
	if _, err := a.Down(ctx, migrations.DownTarget{To: 0}); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, "SELECT count(*) FROM sqlite_schema WHERE name = 'a'"); n != 0 {
		t.Errorf("table a survived down to 0")
	}
}

func TestFailingStatementIsLocatedAndRolledBack(t *testing.T) {
	f := newFakeD1(t)
	var b strings.Builder
	b.WriteString("-- migrate:up\nCREATE TABLE t (x UNIQUE);\n")
	for i := range 20 {
		fmt.Fprintf(&b, "INSERT INTO t VALUES (%d);\n", i)
	}
	good := split(t, "0001_t.sql", b.String())
	if _, err := provider(t, f, good).Up(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	// 0002's 14th statement (line 15) breaks the UNIQUE constraint on
	// D1's data, though not where the bundle was split.
	var up strings.Builder
	up.WriteString("-- migrate:up\n")
	for i := range 30 {
		v := 100 + i
		if i == 13 {
			v = 5
		}
		fmt.Fprintf(&up, "INSERT INTO t VALUES (%d);\n", v)
	}
	m, err := migrations.Parse("0002_more.sql", []byte(up.String()))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(strings.TrimSpace(m.Up), "\n") {
		m.UpStatements = append(m.UpStatements, migrations.Statement{SQL: l, Line: m.UpLine + i})
	}
	f.batches = 0
	_, err = provider(t, f, append(good, m)).Up(context.Background(), 0)
	var me *migrations.MigrationError
	if !errors.As(err, &me) || me.Version != 2 || me.Line != 15 || me.Statement != "INSERT INTO t VALUES (5);" ||
		me.Code != "SQLITE_CONSTRAINT_UNIQUE" || migrations.Code(err) != "LARDER_MIGRATION_FAILED" {
		t.Fatalf("want a MigrationError at line 15 with SQLITE_CONSTRAINT_UNIQUE, got %#v: %v", me, err)
	}
	if !strings.Contains(err.Error(), "UNIQUE constraint failed: t.x") {
		t.Errorf("message: %v", err)
	}
	if f.batches > 10 {
		t.Errorf("locating the statement took %d batches", f.batches)
	}
	if n := f.count(t, "SELECT count(*) FROM t"); n != 20 {
		t.Errorf("%d rows after the failed migration, want 20", n)
	}
	if n := f.count(t, "SELECT max(version) FROM _migrations"); n != 1 {
		t.Errorf("at version %d, want 1", n)
	}
}

func TestRefusesWhatD1Cannot(t *testing.T) {
	f := newFakeD1(t)
	ctx := context.Background()
	s := d1.NewStore(f)
	if err := s.Init(ctx); err != nil {
		t.Fatal(err)
	}
	m, _ := migrations.Parse("0001_tx.sql", []byte("CREATE TABLE a (x);\nSAVEPOINT s;\n"))
	m.UpStatements = []migrations.Statement{{SQL: "CREATE TABLE a (x);", Line: 1}, {SQL: "SAVEPOINT s;", Line: 2}}
	_, err := s.Apply(ctx, m, migrations.Up)
	var me *migrations.MigrationError
	if !errors.Is(err, d1.ErrTransactionControl) || !errors.As(err, &me) || me.Line != 2 {
		t.Errorf("SAVEPOINT: %v", err)
	}
	m2, _ := migrations.Parse("0002_unsplit.sql", []byte("CREATE TABLE b (x);"))
	if _, err := s.Apply(ctx, m2, migrations.Up); !errors.Is(err, d1.ErrNotSplit) || migrations.Code(err) != "LARDER_MIGRATION_FAILED" {
		t.Errorf("unsplit: %v", err)
	}
	code := migrations.Go(3, "code", func(context.Context, migrations.Tx) error { return nil }, nil)
	if _, err := s.Apply(ctx, code, migrations.Up); !errors.Is(err, d1.ErrCodeMigration) {
		t.Errorf("code migration: %v", err)
	}
	if n := f.count(t, "SELECT count(*) FROM sqlite_schema WHERE name IN ('a', 'b')"); n != 0 {
		t.Errorf("refused migrations ran")
	}
}

func TestDeferredForeignKeysAndStamp(t *testing.T) {
	f := newFakeD1(t)
	ctx := context.Background()
	migs := parseAll(t,
		"0001_parent.sql", "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (p INTEGER REFERENCES p (id));\nINSERT INTO p VALUES (1);\nINSERT INTO c VALUES (1);\n",
		// A child row before its parent: only valid at the end of the batch.
		"0002_order.sql", "INSERT INTO c VALUES (2);\nINSERT INTO p VALUES (2);\n",
		// Rebuilding a parent that has children.
		"0003_rebuild_parent.sql", "CREATE TABLE p_new (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO p_new (id) SELECT id FROM p;\nDROP TABLE p;\nALTER TABLE p_new RENAME TO p;\n",
	)
	// Every SQL migration runs with the checks deferred (NoForeignKeys or not).
	splitAll(t, migs)
	if err := f.conn.Exec("PRAGMA foreign_keys = ON"); err != nil { // D1 enforces them
		t.Fatal(err)
	}
	p := provider(t, f, migs)
	if _, err := p.Up(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Batch(ctx, []d1.Statement{{SQL: "INSERT INTO c VALUES (2)"}, {SQL: "INSERT INTO p VALUES (2)"}}); err == nil {
		t.Fatal("child before parent without deferred foreign keys succeeded; the test proves nothing")
	}
	if _, err := p.Up(ctx, 2); err != nil {
		t.Fatalf("with PRAGMA defer_foreign_keys: %v", err)
	}
	// Dropping a parent that still has children counts violations that the
	// rename does not undo: it fails at commit even deferred, as on D1
	// (measured in workerd; see README.md, "Running at the edge"), and changes nothing.
	_, err := p.Up(ctx, 3)
	var me *migrations.MigrationError
	if !errors.As(err, &me) || me.Code != "SQLITE_CONSTRAINT_FOREIGNKEY" || me.Line != 0 {
		t.Errorf("parent rebuild: %v", err)
	}
	if n := f.count(t, "SELECT count(*) FROM c JOIN p ON p.id = c.p"); n != 2 {
		t.Errorf("%d child rows joined after the failed rebuild, want 2", n)
	}

	f2 := newFakeD1(t)
	recs, err := provider(t, f2, migs).Stamp(ctx, 2)
	if err != nil || len(recs) != 2 {
		t.Fatalf("stamp: %v, %v", recs, err)
	}
	if n := f2.count(t, "SELECT count(*) FROM _migrations"); n != 2 {
		t.Errorf("%d rows stamped", n)
	}
	if n := f2.count(t, "SELECT count(*) FROM sqlite_schema WHERE name = 'p'"); n != 0 {
		t.Errorf("stamp ran a migration")
	}
}

func TestParseError(t *testing.T) {
	for in, want := range map[string]d1.Error{
		"D1_ERROR: UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_PRIMARYKEY)": {Message: "UNIQUE constraint failed: t.id", Code: "SQLITE_CONSTRAINT_PRIMARYKEY"},
		"D1_ERROR: no such table: x: SQLITE_ERROR":                                                             {Message: "no such table: x", Code: "SQLITE_ERROR"},
		"Error: D1_ERROR: not authorized":                                                                      {Message: "not authorized"},
	} {
		got := d1.ParseError(in)
		if got.Message != want.Message || got.Code != want.Code || got.Raw != in {
			t.Errorf("ParseError(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestDropFiringForeignKeyActionsRefusedBeforeBatch(t *testing.T) {
	ctx := context.Background()
	f := newFakeD1(t)
	if err := f.conn.Exec("PRAGMA foreign_keys = ON"); err != nil { // D1 enforces them
		t.Fatal(err)
	}
	migs := split(t,
		"0001_init.sql", `CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors (id) ON DELETE CASCADE);
CREATE TABLE quotes (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors (id) ON DELETE SET NULL);
CREATE TABLE prizes (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors (id) ON DELETE RESTRICT);
CREATE TABLE mentors (id INTEGER PRIMARY KEY, mentor_id INTEGER REFERENCES mentors (id) ON DELETE CASCADE);
INSERT INTO authors VALUES (1, 'a'), (2, 'b');
INSERT INTO books VALUES (1, 1), (2, 1), (3, 2);
INSERT INTO quotes VALUES (1, 2), (2, NULL);
INSERT INTO mentors VALUES (1, NULL), (2, 1);
`,
		// The hand-written rebuild that loses every book on D1.
		"0002_rebuild_authors.sql", `CREATE TABLE authors_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
INSERT INTO authors_new SELECT id, coalesce(name, '') FROM authors;

DROP TABLE authors;
ALTER TABLE authors_new RENAME TO authors;
`,
	)
	p := provider(t, f, migs)
	if _, err := p.Up(ctx, 1); err != nil {
		t.Fatal(err)
	}
	before := f.batches
	_, err := p.Up(ctx, 0)
	var me *migrations.MigrationError
	if !errors.Is(err, d1.ErrDropFiresForeignKeys) || !errors.As(err, &me) || me.Line != 4 {
		t.Fatalf("rebuild of a parent on D1: %v", err)
	}
	for _, want := range []string{"3 rows of books(author_id) ON DELETE CASCADE", "1 rows of quotes(author_id) ON DELETE SET NULL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "prizes") || strings.Contains(err.Error(), "mentors") {
		t.Errorf("names a child without rows or a self reference: %v", err)
	}
	if f.batches-before > 5 {
		t.Errorf("%d batches to refuse", f.batches-before)
	}
	if n := f.count(t, "SELECT count(*) FROM books"); n != 3 {
		t.Errorf("%d books left", n)
	}
	if n := f.count(t, "SELECT count(*) FROM sqlite_schema WHERE name = 'authors_new'"); n != 0 {
		t.Error("the refused migration ran")
	}

	// Dropping the children first, in the same migration, fires nothing.
	f2 := newFakeD1(t)
	if err := f2.conn.Exec("PRAGMA foreign_keys = ON"); err != nil {
		t.Fatal(err)
	}
	migs2 := split(t, "0001_init.sql", migs[0].Up,
		"0002_drop_all.sql", "DROP TABLE books;\nDROP TABLE quotes;\nDROP TABLE prizes;\nDROP TABLE authors;\n")
	if _, err := provider(t, f2, migs2).Up(ctx, 0); err != nil {
		t.Fatalf("children dropped first: %v", err)
	}

	// A part that asks for no transaction cannot run on D1.
	nt := split(t, "0003_vacuum.sql", "CREATE TABLE v (x);\n")[0]
	nt.NoTransaction = true
	if _, err := d1.NewStore(f2).Apply(ctx, nt, migrations.Up); !errors.Is(err, d1.ErrNoTransaction) {
		t.Errorf("no-transaction part on D1: %v", err)
	}
}

// A bundle whose statements still carry a wrapper around the whole part
// (SplitStatements leaves it out; a bundle made otherwise may not) runs
// without it, with a notice; any other BEGIN or COMMIT is refused.
func TestTransactionWrapperLeftOut(t *testing.T) {
	f := newFakeD1(t)
	ctx := context.Background()
	s := d1.NewStore(f)
	if err := s.Init(ctx); err != nil {
		t.Fatal(err)
	}
	m, _ := migrations.Parse("0001_wrapped.sql", []byte("BEGIN TRANSACTION;\nCREATE TABLE a (x);\nCOMMIT;\n"))
	m.UpStatements = []migrations.Statement{{SQL: "BEGIN TRANSACTION;", Line: 1}, {SQL: "CREATE TABLE a (x);", Line: 2}, {SQL: "COMMIT;", Line: 3}}
	if _, err := s.Apply(ctx, m, migrations.Up); err != nil {
		t.Fatal(err)
	}
	if n := strings.Join(s.LastNotices(), "\n"); !strings.Contains(n, "0001_wrapped.sql:1: BEGIN TRANSACTION … COMMIT (line 3) around the whole part was not run") {
		t.Errorf("notices: %q", n)
	}
	m2, _ := migrations.Parse("0002_middle.sql", []byte("CREATE TABLE b (x);\nBEGIN;\nCOMMIT;\n"))
	m2.UpStatements = []migrations.Statement{{SQL: "CREATE TABLE b (x);", Line: 1}, {SQL: "BEGIN;", Line: 2}, {SQL: "COMMIT;", Line: 3}}
	_, err := s.Apply(ctx, m2, migrations.Up)
	var me *migrations.MigrationError
	if !errors.Is(err, d1.ErrTransactionControl) || !errors.As(err, &me) || me.Line != 2 || me.File != "0002_middle.sql" || !strings.Contains(err.Error(), "up 0002_middle: line 2") {
		t.Errorf("BEGIN in the middle: %v", err)
	}
	if n := f.count(t, "SELECT count(*) FROM sqlite_schema WHERE name IN ('a', 'b')"); n != 1 {
		t.Errorf("%d of a, b exist, want a only", n)
	}
}

// A comment-only part (a no-op migration, pocket-id's "-- No-op" down
// files) splits into no statements, which the bundle leaves out; D1 runs
// it as the no-op it is instead of calling it unsplit. It also goes
// through a bundle's JSON, as the Worker gets it.
func TestCommentOnlyPartsThroughABundle(t *testing.T) {
	f := newFakeD1(t)
	ctx := context.Background()
	migs := parseAll(t,
		"0001_users.sql", "-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY);\n-- migrate:down\n-- No-op\n",
		"0002_nothing.sql", "-- migrate:up\n-- kept for the numbering; nothing to do\n/* really */ ;\n-- migrate:down\n",
		// homebox's 20260314103000_item_quantity_decimals.sql
		"0003_no_tx_nothing.sql", "-- +goose Up\n-- +goose no transaction\n-- No table rewrite is required.\n-- +goose Down\n",
	)
	splitAll(t, migs)
	data, err := migrations.Bundle(migs)
	if err != nil {
		t.Fatal(err)
	}
	migs, err = migrations.ParseBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := migrations.NewProvider(d1.NewStore(f), migs, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !migs[2].NoTransaction {
		t.Fatal("0003 does not ask for no transaction")
	}
	if res, err := p.Up(ctx, 0); err != nil || len(res) != 3 {
		t.Fatalf("up: %d applied, %v", len(res), err)
	}
	if res, err := p.Down(ctx, migrations.DownTarget{To: 0}); err != nil || len(res) != 3 {
		t.Fatalf("down: %d reverted, %v", len(res), err)
	}
	if n := f.count(t, "SELECT count(*) FROM sqlite_schema WHERE name = 'users'"); n != 1 {
		t.Errorf("the no-op down of 0001 dropped users")
	}
	if n := f.count(t, "SELECT count(*) FROM _migrations WHERE version > 0"); n != 0 {
		t.Errorf("%d rows left in _migrations", n)
	}
}
