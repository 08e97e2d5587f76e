package engine

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/larderdb/larder/migrations"
)

func openApp(t *testing.T, migs ...*migrations.Migration) (*Database, *[]Event) {
	t.Helper()
	h, evs := newHost(t)
	d, _, err := h.Open(context.Background(), OpenOptions{Name: "app", Storage: "memory", Migrations: migs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close("app") })
	return d, evs
}

func exec(t *testing.T, d *Database, tx uint64, sql string, args ...any) ExecResult {
	t.Helper()
	x, err := d.Exec(context.Background(), tx, sql, Params{Positional: args})
	if err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
	return x
}

func run(t *testing.T, d *Database, tx uint64, sql string, args ...any) (ExecResult, []string, [][]any) {
	t.Helper()
	b, err := d.Run(context.Background(), tx, sql, Params{Positional: args})
	if err != nil {
		t.Fatalf("run %q: %v", sql, err)
	}
	x, cols, rows, err := DecodeRun(b)
	if err != nil {
		t.Fatal(err)
	}
	return x, cols, rows
}

func TestRunReturning(t *testing.T) {
	d, evs := openApp(t, mig(1, "init", "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT)"))
	x, cols, rows := run(t, d, 0, "INSERT INTO note(body) VALUES (?), (?) RETURNING id, body", "a", "b")
	if x.Changes != 2 || x.LastInsertRowID != 2 {
		t.Errorf("changes %d, lastInsertRowid %d; want 2, 2", x.Changes, x.LastInsertRowID)
	}
	if !reflect.DeepEqual(cols, []string{"id", "body"}) || !reflect.DeepEqual(rows, [][]any{{1.0, "a"}, {2.0, "b"}}) {
		t.Errorf("RETURNING: %v %v", cols, rows)
	}
	// A statement without result columns answers no rows, and its counts.
	x, cols, rows = run(t, d, 0, "UPDATE note SET body = upper(body)")
	if x.Changes != 2 || len(cols) != 0 || len(rows) != 0 {
		t.Errorf("run UPDATE: %+v %v %v", x, cols, rows)
	}
	// A run in a transaction, and its change event at commit.
	tx, err := d.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	x, _, rows = run(t, d, tx, "DELETE FROM note WHERE id = ? RETURNING body", 1)
	if x.Changes != 1 || !reflect.DeepEqual(rows, [][]any{{"A"}}) {
		t.Errorf("run DELETE in tx: %+v %v", x, rows)
	}
	*evs = nil
	if err := d.Commit(tx); err != nil {
		t.Fatal(err)
	}
	if len(*evs) != 1 || !slices.Equal((*evs)[0].Tables, []string{"note"}) {
		t.Errorf("events after commit: %+v", *evs)
	}
	// Errors are the statement's.
	if _, err := d.Run(context.Background(), 0, "INSERT INTO note(id) VALUES (2) RETURNING id", Params{}); Classify(err).Code != "SQLITE_CONSTRAINT_PRIMARYKEY" {
		t.Errorf("duplicate key through run: %v (%s)", err, Classify(err).Code)
	}
}

// The row encoding keeps every column in statement order, duplicate and
// integer-like names included (rowMode "array" and Drizzle depend on it).
func TestRowsKeepColumnOrderAndDuplicates(t *testing.T) {
	d, _ := openApp(t, mig(1, "init", "CREATE TABLE a(id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE b(id INTEGER PRIMARY KEY, a_id INTEGER, name TEXT)"))
	exec(t, d, 0, "INSERT INTO a VALUES (1, 'x'); INSERT INTO b VALUES (10, 1, 'y')")
	sql := `SELECT a.id, b.id, a.name, b.name, 7 AS "2", 8 AS "1" FROM a JOIN b ON b.a_id = a.id`
	want := []string{"id", "id", "name", "name", "2", "1"}
	wantRows := [][]any{{1.0, 10.0, "x", "y", 7.0, 8.0}}
	cols, rows := query(t, d, 0, sql, Params{})
	if !reflect.DeepEqual(cols, want) || !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("query: %q %v", cols, rows)
	}
	_, cols, rows = run(t, d, 0, sql)
	if !reflect.DeepEqual(cols, want) || !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("run: %q %v", cols, rows)
	}
}

// refused checks that err is the refusal of verb, naming db.transaction.
func refused(t *testing.T, err error, verb string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want it refused naming db.transaction", verb)
		return
	}
	e := Classify(err)
	if e.Code != CodeInvalidArgument || !strings.Contains(e.Message, "db.transaction") ||
		!strings.HasPrefix(e.Message, "larder: "+verb+" is not allowed") {
		t.Errorf("%s: got %v (code %s), want %s refused naming db.transaction", verb, err, e.Code, CodeInvalidArgument)
	}
}

func TestTransactionControlRefusedOutsideTransaction(t *testing.T) {
	ctx := context.Background()
	d, evs := openApp(t, mig(1, "init", "CREATE TABLE t(x)"))
	calls := map[string]func(string) error{
		"exec":  func(sql string) error { _, err := d.Exec(ctx, 0, sql, Params{}); return err },
		"query": func(sql string) error { _, err := d.Query(ctx, 0, sql, Params{}); return err },
		"run":   func(sql string) error { _, err := d.Run(ctx, 0, sql, Params{}); return err },
	}
	for _, c := range []struct{ sql, verb string }{
		{"BEGIN", "BEGIN"},
		{"BEGIN IMMEDIATE", "BEGIN"},
		{"begin exclusive transaction", "BEGIN"},
		{"BEGIN DEFERRED", "BEGIN"},
		{"COMMIT", "COMMIT"},
		{"END", "END"},
		{"/* x */ -- y\n end transaction", "END"},
		{"ROLLBACK", "ROLLBACK"},
		{"SAVEPOINT a", "SAVEPOINT"},
		{"RELEASE a", "RELEASE"},
		{"RELEASE SAVEPOINT a", "RELEASE"},
		{"ROLLBACK TO a", "ROLLBACK TO"},
		{"INSERT INTO t VALUES (1); BEGIN", "BEGIN"},
	} {
		for name, call := range calls {
			refused(t, call(c.sql), c.verb)
			if !d.conn.GetAutocommit() {
				t.Fatalf("%s %q left a transaction open", name, c.sql)
			}
		}
	}
	// Nothing is left half-done: no transaction, and the other calls work.
	*evs = nil
	exec(t, d, 0, "INSERT INTO t VALUES (2)")
	if _, rows := query(t, d, 0, "SELECT count(*) FROM t", Params{}); rows[0][0] != 4.0 { // 3 × the INSERT before BEGIN, then 2
		t.Errorf("rows in t: %v, want 4", rows[0][0])
	}
	if len(*evs) != 1 {
		t.Errorf("events: %+v", *evs)
	}
}

func TestTransactionControlInsideTransaction(t *testing.T) {
	ctx := context.Background()
	d, _ := openApp(t, mig(1, "init", "CREATE TABLE t(x)"))
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ sql, verb string }{
		{"BEGIN", "BEGIN"}, {"COMMIT", "COMMIT"}, {"END", "END"}, {"ROLLBACK", "ROLLBACK"},
	} {
		_, err := d.Exec(ctx, tx, c.sql, Params{})
		refused(t, err, c.verb)
		if d.conn.GetAutocommit() {
			t.Fatalf("%q ended the transaction", c.sql)
		}
	}
	// Savepoints work inside db.transaction.
	exec(t, d, tx, "INSERT INTO t VALUES (1)")
	exec(t, d, tx, "SAVEPOINT s")
	exec(t, d, tx, "INSERT INTO t VALUES (2)")
	exec(t, d, tx, "ROLLBACK TO s")
	exec(t, d, tx, "RELEASE s")
	exec(t, d, tx, "SAVEPOINT s; INSERT INTO t VALUES (3); RELEASE SAVEPOINT s")
	if err := d.Commit(tx); err != nil {
		t.Fatal(err)
	}
	if _, rows := query(t, d, 0, "SELECT group_concat(x) FROM t", Params{}); rows[0][0] != "1,3" {
		t.Errorf("t after commit: %v, want 1,3", rows[0][0])
	}
	// A savepoint allowed in a transaction is not cached into a later call.
	_, err = d.Exec(ctx, 0, "SAVEPOINT s", Params{})
	refused(t, err, "SAVEPOINT")
}

// Migrations bring their own transaction control: a wrapper the engine
// recognises, and a noTransaction migration's raw BEGIN/COMMIT.
func TestMigrationsKeepTheirTransactionControl(t *testing.T) {
	wrapped := mig(1, "wrapped", "BEGIN;\nCREATE TABLE a(x);\nCOMMIT;\n")
	notx := mig(2, "notx", "BEGIN IMMEDIATE;\nCREATE TABLE b(x);\nSAVEPOINT s;\nINSERT INTO b VALUES (1);\nRELEASE s;\nCOMMIT;\n")
	notx.NoTransaction = true
	d, _ := openApp(t, wrapped, notx)
	if v := d.Version(); v != 2 {
		t.Fatalf("version %d, want 2", v)
	}
	if _, rows := query(t, d, 0, "SELECT count(*) FROM a, b", Params{}); rows[0][0] != 0.0 {
		t.Errorf("count: %v", rows)
	}
	if _, rows := query(t, d, 0, "SELECT count(*) FROM b", Params{}); rows[0][0] != 1.0 {
		t.Errorf("count b: %v", rows)
	}
	_, err := d.Exec(context.Background(), 0, "BEGIN", Params{})
	refused(t, err, "BEGIN")
}

func TestReadSet(t *testing.T) {
	ctx := context.Background()
	d, evs := openApp(t, mig(1, "init", `
CREATE TABLE Users(id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER, title TEXT);
CREATE TABLE tags(post_id INTEGER, tag TEXT);
CREATE TABLE audit(n INTEGER);
CREATE TABLE archive(id INTEGER, title TEXT);
CREATE VIEW user_posts AS SELECT u.name, p.title FROM users u JOIN posts p ON p.user_id = u.id;
`))
	for _, c := range []struct {
		sql  string
		want []string
	}{
		{"SELECT * FROM users", []string{"users"}},
		{"SELECT count(*) FROM posts", []string{"posts"}},
		{"SELECT u.name, p.title FROM users u JOIN posts p ON p.user_id = u.id", []string{"posts", "users"}},
		{"SELECT title FROM posts WHERE user_id IN (SELECT id FROM users WHERE name = ?)", []string{"posts", "users"}},
		{"SELECT (SELECT count(*) FROM tags WHERE post_id = posts.id) AS n FROM posts", []string{"posts", "tags"}},
		{"WITH recent AS (SELECT * FROM posts ORDER BY id DESC LIMIT 5) SELECT title FROM recent", []string{"posts"}},
		{"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT i FROM n", []string{}},
		{"SELECT * FROM user_posts", []string{"posts", "users"}},
		{"INSERT INTO archive SELECT id, title FROM posts", []string{"posts"}},
		{"UPDATE posts SET title = ? WHERE user_id = ?", []string{"posts"}},
		{"DELETE FROM tags WHERE tag = 'x'", []string{"tags"}},
		{"INSERT INTO audit VALUES (1)", []string{}},
		{"SELECT * FROM _migrations", []string{}},
		{"SELECT name FROM sqlite_schema", []string{}},
		{"SELECT 1; SELECT * FROM tags", []string{"tags"}},
	} {
		got, err := d.ReadSet(ctx, 0, c.sql)
		if err != nil {
			t.Errorf("ReadSet(%q): %v", c.sql, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("ReadSet(%q) = %q, want %q", c.sql, got, c.want)
		}
	}
	// Nothing was run: no rows, no change event, no transaction.
	if _, rows := query(t, d, 0, "SELECT (SELECT count(*) FROM archive) + (SELECT count(*) FROM audit)", Params{}); rows[0][0] != 0.0 {
		t.Errorf("ReadSet ran a statement: %v rows", rows[0][0])
	}
	for _, ev := range *evs {
		if ev.Type == "change" {
			t.Errorf("ReadSet reported a change: %+v", ev)
		}
	}
	// Writes after a ReadSet are still tracked, and a bad statement is an
	// SQLite error.
	*evs = nil
	exec(t, d, 0, "INSERT INTO audit VALUES (2)")
	if len(*evs) != 1 || !slices.Equal((*evs)[0].Tables, []string{"audit"}) {
		t.Errorf("events after ReadSet: %+v", *evs)
	}
	if _, err := d.ReadSet(ctx, 0, "SELECT * FROM nope"); Classify(err).Code != "SQLITE_ERROR" {
		t.Errorf("ReadSet of a missing table: %v", err)
	}
	// Inside a transaction, with the transaction's id; refused verbs are
	// not user statements here (nothing runs).
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.ReadSet(ctx, tx, "SELECT name FROM users"); err != nil || !slices.Equal(got, []string{"users"}) {
		t.Errorf("ReadSet in tx: %q %v", got, err)
	}
	if err := d.Rollback(tx); err != nil {
		t.Fatal(err)
	}
}
