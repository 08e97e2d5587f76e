package rebuild_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/rebuild"
	"github.com/larderdb/larder/migrations/sqlite"
)

const v1 = `-- migrate:up
CREATE TABLE topics (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  author TEXT
);
CREATE INDEX topics_title ON topics(title);
CREATE TABLE comments (
  id INTEGER PRIMARY KEY,
  topic_id INTEGER NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  body TEXT
);
CREATE TABLE audit (what TEXT);
CREATE TRIGGER topics_audit AFTER INSERT ON topics BEGIN
  INSERT INTO audit VALUES ('topic ' || new.title);
END;
CREATE VIEW topic_titles AS SELECT id, title FROM topics;
INSERT INTO topics (id, title, author) VALUES (1, 'hello', 'ann'), (2, 'world', 'bob'), (3, 'x;y', NULL);
INSERT INTO comments (topic_id, body) VALUES (1, 'c1'), (1, 'c2'), (2, 'c3');
DELETE FROM audit;
`

// The classic case: topics_v1's shape into a new one in place, with author
// renamed author_name and two new columns with defaults.
const v2 = `-- migrate:up
-- migrate:rebuild topics
-- migrate:map author_name = coalesce(author, 'anonymous')
CREATE TABLE topics (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  author_name TEXT NOT NULL,
  views INTEGER NOT NULL DEFAULT 0,
  pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1))
);
INSERT INTO topics (title, author_name) VALUES ('after', 'cy');
`

func open(t *testing.T) *sqlite3.Conn {
	t.Helper()
	conn, err := sqlite.Open(filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func up(t *testing.T, conn *sqlite3.Conn, migs ...*migrations.Migration) error {
	t.Helper()
	p, err := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Up(context.Background(), 0)
	return err
}

func rows(t *testing.T, conn *sqlite3.Conn, q string) string {
	t.Helper()
	stmt, _, err := conn.Prepare(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer stmt.Close()
	var out []string
	for stmt.Step() {
		var cols []string
		for i := range stmt.ColumnCount() {
			cols = append(cols, stmt.ColumnText(i))
		}
		out = append(out, strings.Join(cols, "|"))
	}
	if err := stmt.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return strings.Join(out, "\n")
}

func TestDirectiveClassicRebuild(t *testing.T) {
	conn := open(t)
	m2 := testdb.Parse(t, "0002_topics_v2.sql", v2)
	if !m2.NoForeignKeys {
		t.Fatal("a migration with -- migrate:rebuild must run with NoForeignKeys")
	}
	if err := up(t, conn, testdb.Parse(t, "0001_topics.sql", v1), m2); err != nil {
		t.Fatal(err)
	}
	if got, want := rows(t, conn, "SELECT id, title, author_name, views, pinned FROM topics ORDER BY id"),
		"1|hello|ann|0|0\n2|world|bob|0|0\n3|x;y|anonymous|0|0\n4|after|cy|0|0"; got != want {
		t.Errorf("topics:\n%s\nwant:\n%s", got, want)
	}
	// Children keep their rows: the DROP ran with foreign keys off.
	if got := rows(t, conn, "SELECT topic_id, body FROM comments ORDER BY id"); got != "1|c1\n1|c2\n2|c3" {
		t.Errorf("comments: %q", got)
	}
	// Index, trigger and view survive; no version suffix or temp table is left.
	if got := rows(t, conn, "SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name"); got !=
		"table|_migrations\ntable|audit\ntable|comments\nview|topic_titles\ntable|topics\ntrigger|topics_audit\nindex|topics_title" {
		t.Errorf("schema:\n%s", got)
	}
	if got := rows(t, conn, "SELECT what FROM audit"); got != "topic after" {
		t.Errorf("trigger did not fire after the rebuild: audit = %q", got)
	}
	if got := rows(t, conn, "SELECT title FROM topic_titles WHERE id = 2"); got != "world" {
		t.Errorf("view: %q", got)
	}
	if got := rows(t, conn, "PRAGMA foreign_keys"); got != "1" {
		t.Errorf("foreign keys left %s", got)
	}
	if got := rows(t, conn, "PRAGMA integrity_check"); got != "ok" {
		t.Errorf("integrity_check: %s", got)
	}
	// The cascade still works on the rebuilt table.
	if err := conn.Exec("DELETE FROM topics WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, conn, "SELECT count(*) FROM comments"); got != "1" {
		t.Errorf("cascade after rebuild: %s comments left, want 1", got)
	}
}

func TestGoRebuild(t *testing.T) {
	conn := open(t)
	m2 := sqlite.Go(2, "topics_v2", func(ctx context.Context, tx *sqlite.Tx) error {
		return rebuild.Table(ctx, tx.Conn(), rebuild.Spec{
			Table: "topics",
			Definition: `CREATE TABLE topics (id INTEGER PRIMARY KEY, title TEXT NOT NULL,
				author_name TEXT, views INTEGER NOT NULL DEFAULT 0, pinned INTEGER NOT NULL DEFAULT 0)`,
			Columns: map[string]string{"author_name": "author", "views": "length(title)"},
		})
	}, nil)
	m2.NoForeignKeys = true
	if err := up(t, conn, testdb.Parse(t, "0001_topics.sql", v1), m2); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, conn, "SELECT id, author_name, views FROM topics ORDER BY id"); got != "1|ann|5\n2|bob|5\n3||3" {
		t.Errorf("topics: %q", got)
	}
	if got := rows(t, conn, "SELECT count(*) FROM comments"); got != "3" {
		t.Errorf("comments: %s", got)
	}
}

// A rebuild with foreign keys on would let DROP TABLE cascade into the
// children: it refuses, and nothing changes.
func TestRebuildRefusesForeignKeysOn(t *testing.T) {
	conn := open(t)
	m2 := sqlite.Go(2, "topics_v2", func(ctx context.Context, tx *sqlite.Tx) error {
		return rebuild.Table(ctx, tx.Conn(), rebuild.Spec{Table: "topics",
			Definition: `CREATE TABLE topics (id INTEGER PRIMARY KEY, title TEXT)`})
	}, nil)
	err := up(t, conn, testdb.Parse(t, "0001_topics.sql", v1), m2)
	if !errors.Is(err, rebuild.ErrForeignKeysOn) {
		t.Fatalf("err = %v, want ErrForeignKeysOn", err)
	}
	if got := rows(t, conn, "SELECT count(*) FROM comments"); got != "3" {
		t.Errorf("comments: %s", got)
	}
	if got := rows(t, conn, "SELECT max(version) FROM _migrations"); got != "1" {
		t.Errorf("version %s", got)
	}
}

// A mapping that breaks a reference aborts the migration with nothing
// changed: not the parent's rows, not the children's.
func TestRebuildForeignKeyViolationAborts(t *testing.T) {
	conn := open(t)
	m2 := testdb.Parse(t, "0002_renumber.sql", `-- migrate:rebuild topics
-- migrate:map id = id + 100
CREATE TABLE topics (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author TEXT);
`)
	err := up(t, conn, testdb.Parse(t, "0001_topics.sql", v1), m2)
	if !errors.Is(err, rebuild.ErrForeignKeyViolation) || !errors.Is(err, migrations.ErrMigrationFailed) {
		t.Fatalf("err = %v, want a failed migration with a foreign key violation", err)
	}
	// One violation, one sentinel: the store's check and the rebuild's
	// report the same error.
	if !errors.Is(err, sqlite.ErrForeignKeyViolation) {
		t.Errorf("err = %v, want sqlite.ErrForeignKeyViolation too", err)
	}
	if !strings.Contains(err.Error(), "0002_renumber") || !strings.Contains(err.Error(), "comments") {
		t.Errorf("error should name the migration and the child table: %v", err)
	}
	if got := rows(t, conn, "SELECT id FROM topics ORDER BY id"); got != "1\n2\n3" {
		t.Errorf("topics changed: %q", got)
	}
	if got := rows(t, conn, "SELECT count(*) FROM comments"); got != "3" {
		t.Errorf("comments: %s", got)
	}
	if got := rows(t, conn, "SELECT group_concat(name) FROM pragma_table_info('topics')"); got != "id,title,author" {
		t.Errorf("columns changed: %s", got)
	}
	if got := rows(t, conn, "SELECT count(*) FROM sqlite_schema WHERE name LIKE '_larder%'"); got != "0" {
		t.Errorf("temp table left")
	}
}

func TestRebuildFailures(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"broken view", `DROP INDEX topics_title;
-- migrate:rebuild topics
CREATE TABLE topics (id INTEGER PRIMARY KEY, name TEXT, author TEXT);`, "view topic_titles"},
		{"index on a dropped column", `CREATE INDEX topics_author ON topics(author);
-- migrate:rebuild topics
CREATE TABLE topics (id INTEGER PRIMARY KEY, title TEXT NOT NULL);`, "recreate index topics_author"},
		{"other table", `-- migrate:rebuild topics
CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL);`, `names "posts"`},
		{"unknown column in map", `-- migrate:rebuild topics
-- migrate:map nope = 1
CREATE TABLE topics (id INTEGER PRIMARY KEY, title TEXT NOT NULL);`, `no column "nope"`},
		{"not null without value", `-- migrate:rebuild topics
CREATE TABLE topics (id INTEGER PRIMARY KEY, title TEXT NOT NULL, score INTEGER NOT NULL);`, "NOT NULL constraint failed"},
		{"no table", `-- migrate:rebuild nothere
CREATE TABLE nothere (id INTEGER PRIMARY KEY);`, "no such table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := open(t)
			err := up(t, conn, testdb.Parse(t, "0001_topics.sql", v1), testdb.Parse(t, "0002_change.sql", tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if got := rows(t, conn, "SELECT group_concat(name) FROM pragma_table_info('topics')"); got != "id,title,author" {
				t.Errorf("columns changed: %s", got)
			}
			if got := rows(t, conn, "SELECT count(*) FROM comments"); got != "3" {
				t.Errorf("comments: %s", got)
			}
		})
	}
}

// A table without an INTEGER PRIMARY KEY keeps its rowids.
func TestRebuildKeepsRowids(t *testing.T) {
	conn := open(t)
	m1 := testdb.Parse(t, "0001_kv.sql", `CREATE TABLE kv (k TEXT, v TEXT);
INSERT INTO kv (rowid, k, v) VALUES (10, 'a', '1'), (20, 'b', '2');`)
	if err := up(t, conn, m1, testdb.Parse(t, "0002_kv.sql", `-- migrate:rebuild kv
-- migrate:map value = v
CREATE TABLE kv (k TEXT NOT NULL, value TEXT, at TEXT DEFAULT 'now');`)); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, conn, "SELECT rowid, k, value, at FROM kv ORDER BY rowid"); got != "10|a|1|now\n20|b|2|now" {
		t.Errorf("kv: %q", got)
	}
}

func TestDirectiveParseErrors(t *testing.T) {
	for name, body := range map[string]string{
		"map without rebuild": "-- migrate:map a = b\nCREATE TABLE t (a);",
		"no statement after":  "CREATE TABLE t (a);\n-- migrate:rebuild t\n",
		"no table":            "-- migrate:rebuild\nCREATE TABLE t (a);",
		"bad map":             "-- migrate:rebuild t\n-- migrate:map a b\nCREATE TABLE t (a);",
		"map twice":           "-- migrate:rebuild t\n-- migrate:map a = 1\n-- migrate:map A = 2\nCREATE TABLE t (a);",
	} {
		if _, err := migrations.Parse("0001_x.sql", []byte(body)); !errors.Is(err, migrations.ErrBadFile) {
			t.Errorf("%s: err = %v, want ErrBadFile", name, err)
		}
	}
	m, err := migrations.Parse("0001_x.sql", []byte("CREATE TABLE t (a);\n"))
	if err != nil || m.NoForeignKeys {
		t.Errorf("a plain migration: NoForeignKeys = %v, err = %v", m.NoForeignKeys, err)
	}
}

func TestBundleKeepsNoForeignKeys(t *testing.T) {
	m := testdb.Parse(t, "0002_topics_v2.sql", v2)
	b, err := migrations.Bundle([]*migrations.Migration{m})
	if err != nil {
		t.Fatal(err)
	}
	back, err := migrations.ParseBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	if !back[0].NoForeignKeys {
		t.Error("a bundled rebuild migration lost NoForeignKeys")
	}
}

// SplitStatements expands a rebuild directive into the rebuild's own
// statements (for the D1 Worker); replaying them gives what the directive
// gives.
func TestSplitStatementsExpandsRebuild(t *testing.T) {
	ctx := context.Background()
	m1, m2 := testdb.Parse(t, "0001_topics.sql", v1), testdb.Parse(t, "0002_topics_v2.sql", v2)
	scratch := open(t)
	if err := sqlite.SplitStatements(ctx, scratch, []*migrations.Migration{m1, m2}); err != nil {
		t.Fatal(err)
	}
	var sqls []string
	for _, s := range m2.UpStatements {
		sqls = append(sqls, s.SQL)
		if s.Line != 4 && !strings.HasPrefix(s.SQL, "INSERT INTO topics (title") {
			t.Errorf("statement %q on line %d, want the CREATE TABLE's line 4", s.SQL, s.Line)
		}
	}
	joined := strings.Join(sqls, "\n")
	for _, want := range []string{`CREATE TABLE "_larder_rebuild_topics"`, `INSERT INTO "_larder_rebuild_topics" ("id", "title", "author_name") SELECT "id", "title", (coalesce(author, 'anonymous')) FROM "topics"`,
		`DROP TABLE "topics"`, `ALTER TABLE "_larder_rebuild_topics" RENAME TO "topics"`, "CREATE INDEX topics_title", "CREATE TRIGGER topics_audit"} {
		if !strings.Contains(joined, want) {
			t.Errorf("split statements lack %q:\n%s", want, joined)
		}
	}

	// Replay the statements as a runner without SQLite's parser would.
	replayed := open(t)
	if err := sqlite.Exec(ctx, replayed, m1.Up, 1); err != nil {
		t.Fatal(err)
	}
	if err := replayed.Exec("PRAGMA foreign_keys=OFF; BEGIN"); err != nil {
		t.Fatal(err)
	}
	for _, s := range sqls {
		if err := replayed.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := replayed.Exec("COMMIT; PRAGMA foreign_keys=ON"); err != nil {
		t.Fatal(err)
	}
	direct := open(t)
	if err := up(t, direct, m1, m2); err != nil {
		t.Fatal(err)
	}
	q := "SELECT group_concat(id || title || author_name || views || pinned, ';') FROM topics"
	if a, b := rows(t, replayed, q), rows(t, direct, q); a != b {
		t.Errorf("replayed %q, directive %q", a, b)
	}
	q = "SELECT group_concat(type || ' ' || name || ' ' || sql, ';') FROM (SELECT * FROM sqlite_schema WHERE name NOT IN ('_migrations') ORDER BY name)"
	if a, b := rows(t, replayed, q), rows(t, direct, q); a != b {
		t.Errorf("schemas differ:\n%s\n%s", a, b)
	}
}

func TestPlanChangesNothing(t *testing.T) {
	ctx := context.Background()
	conn := open(t)
	if err := up(t, conn, testdb.Parse(t, "0001_topics.sql", v1)); err != nil {
		t.Fatal(err)
	}
	before := rows(t, conn, "SELECT group_concat(name) FROM sqlite_schema")
	stmts, err := rebuild.Plan(ctx, conn, rebuild.Spec{Table: "topics",
		Definition: "CREATE TABLE topics (id INTEGER PRIMARY KEY, title TEXT)"})
	if err != nil || len(stmts) < 5 {
		t.Fatalf("plan %v, err %v", stmts, err)
	}
	if after := rows(t, conn, "SELECT group_concat(name) FROM sqlite_schema"); after != before {
		t.Errorf("Plan changed the schema: %s -> %s", before, after)
	}
	_, err = rebuild.Plan(ctx, conn, rebuild.Spec{Table: "topics",
		Definition: "CREATE TABLE topics (uid INTEGER PRIMARY KEY, label TEXT)"})
	if !errors.Is(err, rebuild.ErrBadMapping) {
		t.Errorf("nothing copied: err = %v, want ErrBadMapping", err)
	}
}

// A self-referencing tree with ON DELETE CASCADE and an AUTOINCREMENT key:
// no row is lost, and the sequence goes on from where it was.
func TestRebuildSelfReferenceAndAutoincrement(t *testing.T) {
	conn := open(t)
	m1 := testdb.Parse(t, "0001_tree.sql", `CREATE TABLE node (id INTEGER PRIMARY KEY AUTOINCREMENT, parent INTEGER REFERENCES node(id) ON DELETE CASCADE, label TEXT);
INSERT INTO node (label) VALUES ('root');
INSERT INTO node (parent, label) VALUES (1, 'a'), (1, 'b'), (2, 'a1');
DELETE FROM node WHERE id = 4;
INSERT INTO node (parent, label) VALUES (2, 'a2');`)
	m2 := testdb.Parse(t, "0002_tree.sql", `-- migrate:rebuild node
-- migrate:map name = coalesce(label, '')
CREATE TABLE node (id INTEGER PRIMARY KEY AUTOINCREMENT, parent INTEGER REFERENCES node(id) ON DELETE CASCADE, name TEXT NOT NULL);
INSERT INTO node (parent, name) VALUES (1, 'c');`)
	if err := up(t, conn, m1, m2); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, conn, "SELECT id, coalesce(parent, '-'), name FROM node ORDER BY id"); got != "1|-|root\n2|1|a\n3|1|b\n5|2|a2\n6|1|c" {
		t.Errorf("node:\n%s", got)
	}
	if got := rows(t, conn, "SELECT name, seq FROM sqlite_sequence"); got != "node|6" {
		t.Errorf("sqlite_sequence: %q", got)
	}
	if err := conn.Exec("DELETE FROM node WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, conn, "SELECT group_concat(id) FROM node"); got != "1,3,6" {
		t.Errorf("self cascade after rebuild: %s", got)
	}
}

// A map line may end in an SQL comment, as any SQL line may: the comment is
// not part of the expression (it used to comment out the rest of the copy),
// while "--" inside a string literal is kept.
func TestMapLineComment(t *testing.T) {
	d, err := migrations.ParseRebuildDirective("-- migrate:rebuild kv\n-- migrate:map value = v || '--' -- keep the dashes\n-- migrate:map n = \"a--b\" --x\n")
	if err != nil {
		t.Fatal(err)
	}
	if d.Columns["value"] != "v || '--'" || d.Columns["n"] != `"a--b"` {
		t.Errorf("columns: %q", d.Columns)
	}
	conn := open(t)
	m1 := testdb.Parse(t, "0001_kv.sql", `CREATE TABLE kv (k TEXT NOT NULL, v TEXT);
INSERT INTO kv VALUES ('a', '1');`)
	if err := up(t, conn, m1, testdb.Parse(t, "0002_kv.sql", `-- migrate:rebuild kv
-- migrate:map value = v || '--' -- a comment
-- migrate:map key = k -- renamed
CREATE TABLE kv (key TEXT NOT NULL, value TEXT);`)); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, conn, "SELECT key, value FROM kv"); got != "a|1--" {
		t.Errorf("kv: %q", got)
	}
}
