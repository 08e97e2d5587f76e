package lint_test

import (
	"context"
	"strings"
	"testing"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/lint"
	"github.com/larderdb/larder/migrations/sqlite"
)

// The shape of usememos/memos's SQLite schema before its visibility
// change: memo_organizer rows go with their memo (ON DELETE CASCADE).
const memosBase = `CREATE TABLE memo (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  creator_id INTEGER NOT NULL,
  content TEXT NOT NULL DEFAULT '',
  visibility TEXT NOT NULL CHECK (visibility IN ('PUBLIC', 'PRIVATE')) DEFAULT 'PRIVATE'
);
CREATE TABLE memo_organizer (
  memo_id INTEGER NOT NULL REFERENCES memo(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL,
  pinned INTEGER NOT NULL DEFAULT 0,
  UNIQUE(memo_id, user_id)
);
`

const memoV2 = `CREATE TABLE %s (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  creator_id INTEGER NOT NULL,
  content TEXT NOT NULL DEFAULT '',
  visibility TEXT NOT NULL CHECK (visibility IN ('PUBLIC', 'PROTECTED', 'PRIVATE')) DEFAULT 'PRIVATE'
);`

func memo(name string) string { return strings.Replace(memoV2, "%s", name, 1) }

func lintMemos(t *testing.T, targets []lint.Target, change string) []lint.Finding {
	t.Helper()
	m1, err := migrations.Parse("0001_init.sql", []byte(memosBase))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := migrations.Parse("0002_visibility.sql", []byte(change))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := lint.Check(context.Background(), []*migrations.Migration{m1, m2}, lint.Options{Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	return rep.Findings
}

func find(fs []lint.Finding, code string) *lint.Finding {
	for i := range fs {
		if fs[i].Code == code {
			return &fs[i]
		}
	}
	return nil
}

var handRebuild = "PRAGMA foreign_keys = off;\n" + memo("_memo_new") + `
INSERT INTO _memo_new (id, creator_id, content, visibility) SELECT id, creator_id, content, visibility FROM memo;
DROP TABLE memo;
ALTER TABLE _memo_new RENAME TO memo;
PRAGMA foreign_keys = on;
`

func TestHandWrittenRebuild(t *testing.T) {
	fs := lintMemos(t, nil, handRebuild)
	if got := codes(fs); got != "L009:w L015:e" {
		t.Fatalf("findings %q: %v", got, fs)
	}
	f := find(fs, "L015")
	for _, want := range []string{"hand-written rebuild of memo", "memo_organizer(memo_id) ON DELETE CASCADE", "CASCADE deletes them"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("L015 message lacks %q: %s", want, f.Message)
		}
	}
	if !strings.Contains(f.Hint, "-- migrate:rebuild") || f.Object != "memo" || f.Part != "up" || f.File != "0002_visibility.sql" {
		t.Errorf("L015: %+v", f)
	}

	// For D1: the pragma is impossible there, and the drop cascades.
	fs = lintMemos(t, everywhere, handRebuild)
	if got := codes(fs); got != "L009:w L015:e L017:e" {
		t.Fatalf("findings for every target %q: %v", got, fs)
	}
	if f := find(fs, "L015"); !strings.Contains(f.Message, "on D1, where foreign keys cannot be switched off") {
		t.Errorf("L015 for D1: %s", f.Message)
	}
}

// Without ON DELETE actions the drop of a hand-written rebuild fails on
// the children's rows where foreign keys are enforced: still an error.
func TestHandWrittenRebuildNoAction(t *testing.T) {
	fs := lintOne(t, `CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT, name TEXT);
CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users_new(id));
INSERT INTO users_new SELECT * FROM users;
DROP TABLE logs;
CREATE TABLE logs (id INTEGER PRIMARY KEY, msg TEXT, level TEXT);`)
	// logs has no children: a drop and create of it is not a rebuild finding.
	if find(fs, "L015") != nil {
		t.Errorf("L015 for a table nobody references: %v", fs)
	}
	m1, _ := migrations.Parse("0001_a.sql", []byte("CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p(id));"))
	m2, _ := migrations.Parse("0002_b.sql", []byte("CREATE TABLE p2 (id INTEGER PRIMARY KEY, x TEXT); INSERT INTO p2 (id) SELECT id FROM p; DROP TABLE p; ALTER TABLE p2 RENAME TO p;"))
	rep, err := lint.Check(context.Background(), []*migrations.Migration{m1, m2}, lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := codes(rep.Findings); got != "L015:e" || !strings.Contains(rep.Findings[0].Message, "fails on their rows") {
		t.Errorf("findings %q: %v", got, rep.Findings)
	}
}

func TestRebuildDirectiveNotFlagged(t *testing.T) {
	change := "-- migrate:rebuild memo\n" + memo("memo")
	if fs := lintMemos(t, nil, change); len(fs) != 0 {
		t.Errorf("-- migrate:rebuild for native and browser: %v", fs)
	}
	// D1 cannot switch foreign keys off: the rebuild's drop cascades there.
	fs := lintMemos(t, []lint.Target{lint.D1}, change)
	if got := codes(fs); got != "L014:e" {
		t.Errorf("-- migrate:rebuild for d1: %q %v", got, fs)
	}
}

func TestRenameAside(t *testing.T) {
	change := "ALTER TABLE memo RENAME TO _memo_old;\n" + memo("memo") + `
INSERT INTO memo (id, creator_id, content, visibility) SELECT id, creator_id, content, visibility FROM _memo_old;
DROP TABLE _memo_old;
`
	fs := lintMemos(t, nil, change)
	f := find(fs, "L016")
	if f == nil {
		t.Fatalf("no L016: %v", fs)
	}
	// An engine that checks for dangling references before commit refuses
	// the migration (L000); lint still says why.
	if got := codes(fs); got != "L016:e" {
		t.Errorf("findings %q: %v", got, fs)
	}
	for _, want := range []string{"rename-aside of memo", "ALTER TABLE memo RENAME TO _memo_old", "memo_organizer(memo_id) ON DELETE CASCADE", `no such table: main._memo_old`} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("L016 message lacks %q: %s", want, f.Message)
		}
	}
	if f.Object != "memo_organizer" || f.Severity != lint.Error {
		t.Errorf("L016: %+v", f)
	}
	// On D1 the drop of _memo_old also deletes the organizer rows.
	fs = lintMemos(t, everywhere, change)
	if f := find(fs, "L008"); f == nil || !strings.Contains(f.Message, "DROP TABLE _memo_old runs with foreign keys enforced and deletes the rows of memo_organizer (ON DELETE CASCADE)") {
		t.Errorf("L008 for D1: %v", fs)
	}
}

// A dangling foreign key made in an earlier migration is reported once,
// where it was made.
func TestDanglingOnce(t *testing.T) {
	var migs []*migrations.Migration
	for _, f := range []struct{ name, body string }{
		{"0001_a.sql", memosBase},
		{"0002_drop.sql", "-- migrate:breaking\nDROP TABLE memo;"},
		{"0003_more.sql", "ALTER TABLE memo_organizer ADD COLUMN note TEXT;"},
		{"0004_new.sql", "CREATE TABLE tag (id INTEGER PRIMARY KEY, memo_id INTEGER REFERENCES nosuch(id));"},
	} {
		m, err := migrations.Parse(f.name, []byte(f.body))
		if err != nil {
			t.Fatal(err)
		}
		migs = append(migs, m)
	}
	rep, err := lint.Check(context.Background(), migs, lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Migration+":"+f.Code)
	}
	// 0002 is refused (L000) by an engine that checks for dangling
	// references; lint stops there.
	if s := strings.Join(got, " "); s != "0002_drop:L001 0002_drop:L016 0004_new:L016" && s != "0002_drop:L001 0002_drop:L016 0002_drop:L000" {
		t.Errorf("findings %s: %v", s, rep.Findings)
	}
	if f := find(rep.Findings, "L016"); !strings.Contains(f.Message, "DROP TABLE memo leaves the foreign key memo_organizer(memo_id)") {
		t.Errorf("L016: %s", f.Message)
	}
}

// A Go migration without NoForeignKeys runs with foreign keys on: its
// drop of a parent cascades natively, and PRAGMA foreign_keys in it does
// nothing.
func TestGoMigrationForeignKeysOn(t *testing.T) {
	m1, _ := migrations.Parse("0001_base.sql", []byte(base))
	m2 := sqlite.Go(2, "drop_users", func(ctx context.Context, tx *sqlite.Tx) error {
		return tx.Exec(ctx, "PRAGMA foreign_keys = OFF; DROP TABLE users;")
	}, nil)
	m2.Breaking = true
	rep, err := lint.Check(context.Background(), []*migrations.Migration{m1, m2}, lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := codes(rep.Findings); got != "L001:w L008:e L009:e L016:e" {
		t.Fatalf("findings %q: %v", got, rep.Findings)
	}
	if f := find(rep.Findings, "L008"); !strings.Contains(f.Message, "in this Go migration") || !strings.Contains(f.Message, "posts(user_id) ON DELETE CASCADE deletes") {
		t.Errorf("L008: %s", f.Message)
	}
}

func TestUniqueIndexWithRowid(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`CREATE UNIQUE INDEX users_email_id ON users(email, id);`, ""},
		{`CREATE UNIQUE INDEX users_id ON users(id);`, ""},
		{`CREATE UNIQUE INDEX users_email ON users(email);`, "L007:w"},
		{`CREATE UNIQUE INDEX posts_user_title ON posts(user_id, title);`, "L007:w"},
		{"-- migrate:rebuild logs\nCREATE TABLE logs (id INTEGER PRIMARY KEY, msg TEXT, UNIQUE (msg, id));", ""},
	} {
		if got := codes(lintFor(t, nil, tc.body)); got != tc.want {
			t.Errorf("%s: findings %q, want %q", tc.body, got, tc.want)
		}
	}
	// Any other PRIMARY KEY proves it too (NULLs never collide).
	m1, _ := migrations.Parse("0001_a.sql", []byte("CREATE TABLE a (id INT PRIMARY KEY, x TEXT); CREATE TABLE b (id INTEGER PRIMARY KEY, x TEXT) WITHOUT ROWID;"))
	m2, _ := migrations.Parse("0002_b.sql", []byte("CREATE UNIQUE INDEX a_x ON a(x, id); CREATE UNIQUE INDEX b_x ON b(x, id);"))
	rep, err := lint.Check(context.Background(), []*migrations.Migration{m1, m2}, lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := codes(rep.Findings); got != "" {
		t.Errorf("INT PRIMARY KEY and WITHOUT ROWID: %q %v", got, rep.Findings)
	}
}

// D1's rules say nothing unless D1 is a target.
func TestD1RulesNeedD1Target(t *testing.T) {
	for _, tc := range []struct{ body, d1 string }{
		{`PRAGMA foreign_keys = OFF; INSERT INTO logs (msg) VALUES ('x');`, "L017:e"},
		{`SAVEPOINT a; INSERT INTO logs (msg) VALUES ('x'); RELEASE a;`, "L011:w L011:w"},
		{`PRAGMA user_version = 3;`, "L012:w"},
		{`INSERT INTO logs (msg) SELECT sqlite_version();`, "L013:w"},
		{"-- migrate:rebuild users\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);", "L014:e"},
		{"-- migrate:breaking\nDROP TABLE users;", "L001:w L008:e L016:e"},
	} {
		native := lintFor(t, []lint.Target{lint.Native, lint.Browser}, tc.body)
		for _, f := range native {
			if f.Code == "L011" || f.Code == "L012" || f.Code == "L013" || f.Code == "L014" || f.Code == "L017" || f.Code == "L008" {
				t.Errorf("%s: D1 finding without the d1 target: %v", tc.body, f)
			}
		}
		d1 := lintFor(t, []lint.Target{lint.D1}, tc.body)
		if got := codes(d1); got != tc.d1 {
			t.Errorf("%s: for d1 %q, want %q", tc.body, got, tc.d1)
		}
	}
}

// When the engine refuses a part in its checks before commit, lint runs
// the part again in a transaction it rolls back and says what it left
// behind. Here the engine's foreign_key_check (run for a migration with a
// rebuild) finds the organizer row whose parent table the rename-aside
// dropped.
func TestExplainsRefusal(t *testing.T) {
	change := `-- migrate:rebuild memo_organizer
CREATE TABLE memo_organizer (
  memo_id INTEGER NOT NULL REFERENCES memo(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL,
  pinned INTEGER NOT NULL DEFAULT 0,
  UNIQUE(memo_id, user_id)
);
ALTER TABLE memo RENAME TO _memo_old;
` + memo("memo") + `
DROP TABLE _memo_old;
INSERT INTO memo_organizer (memo_id, user_id) VALUES (1, 1);
`
	fs := lintMemos(t, nil, change)
	if got := codes(fs); got != "L016:e" || fs[len(fs)-1].Code != "L000" {
		t.Fatalf("findings %q: %v", got, fs)
	}
	if !strings.Contains(fs[0].Message, "rename-aside of memo") {
		t.Errorf("L016: %s", fs[0].Message)
	}
}

// A unique index over columns that an existing unique index already
// covers cannot fail, whatever the order of its columns.
func TestUniqueIndexImplied(t *testing.T) {
	m1, _ := migrations.Parse("0001_a.sql", []byte(`CREATE TABLE s (user_id INTEGER, key TEXT, value TEXT);
CREATE UNIQUE INDEX s_key_user ON s(key, user_id);
CREATE TABLE n (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, other TEXT);
CREATE UNIQUE INDEX n_name ON n(name);
CREATE TABLE p (a TEXT, b TEXT);
CREATE UNIQUE INDEX p_a ON p(a) WHERE a IS NOT NULL;`))
	for _, tc := range []struct{ body, want string }{
		{"CREATE UNIQUE INDEX s_user_key ON s(user_id, key);", ""},
		{"CREATE UNIQUE INDEX s_user_key_value ON s(value, user_id, key);", ""},
		{"CREATE UNIQUE INDEX s_user ON s(user_id);", "L007:w"},
		{"CREATE UNIQUE INDEX n_name_other ON n(other, name);", "L007:w"}, // COLLATE: not proven
		{"CREATE UNIQUE INDEX p_ab ON p(a, b);", "L007:w"},                // a partial index proves nothing
		{"ALTER TABLE s ADD COLUMN slug TEXT; UPDATE s SET slug = key || user_id; CREATE UNIQUE INDEX s_slug ON s(slug);", "L007:w"},
	} {
		m2, err := migrations.Parse("0002_b.sql", []byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := lint.Check(context.Background(), []*migrations.Migration{m1, m2}, lint.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := codes(rep.Findings); got != tc.want {
			t.Errorf("%s: %q, want %q: %v", tc.body, got, tc.want, rep.Findings)
		}
		if f := find(rep.Findings, "L007"); f != nil && strings.Contains(tc.body, "UPDATE") && !strings.Contains(f.Message, "the migration fills slug by UPDATE") {
			t.Errorf("L007 after UPDATE: %s", f.Message)
		}
	}
}

// memos's "regenerate foreign keys" shape: every table renamed aside and
// created again, children after parents, so that in the end every foreign
// key points at a table that exists. Natively that is fine. On D1 each
// drop of an old table runs with foreign keys enforced, while the tables
// not yet regenerated still reference it.
const regenerate = `ALTER TABLE memo RENAME TO _memo_old;
` + "CREATE TABLE memo (id INTEGER PRIMARY KEY AUTOINCREMENT, creator_id INTEGER NOT NULL, content TEXT NOT NULL DEFAULT '', visibility TEXT NOT NULL DEFAULT 'PRIVATE');" + `
INSERT INTO memo SELECT * FROM _memo_old;
DROP TABLE _memo_old;
ALTER TABLE memo_organizer RENAME TO _memo_organizer_old;
CREATE TABLE memo_organizer (
  memo_id INTEGER NOT NULL REFERENCES memo(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL,
  pinned INTEGER NOT NULL DEFAULT 0,
  UNIQUE(memo_id, user_id)
);
INSERT INTO memo_organizer SELECT * FROM _memo_organizer_old;
DROP TABLE _memo_organizer_old;
`

func TestD1SeesDropsAsTheyHappen(t *testing.T) {
	if fs := lintMemos(t, nil, regenerate); len(fs) != 0 {
		t.Errorf("native and browser: %v", fs)
	}
	fs := lintMemos(t, []lint.Target{lint.D1}, regenerate)
	if got := codes(fs); got != "L008:e" {
		t.Fatalf("d1: %q %v", got, fs)
	}
	if want := "on D1 (always), line 4: DROP TABLE _memo_old runs with foreign keys enforced and deletes the rows of memo_organizer (ON DELETE CASCADE)"; fs[0].Message != want {
		t.Errorf("L008:\n got %s\nwant %s", fs[0].Message, want)
	}
}

// With foreign keys enforced, a DROP TABLE whose cascade reaches a table
// with a foreign key to a table that no longer exists fails: what memos's
// rename-aside of user and then of memo does on D1.
func TestD1Fails(t *testing.T) {
	m1, _ := migrations.Parse("0001_a.sql", []byte(`CREATE TABLE user (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE memo (id INTEGER PRIMARY KEY, creator_id INTEGER REFERENCES user(id) ON DELETE CASCADE, content TEXT);
CREATE TABLE tag (memo_id INTEGER REFERENCES memo(id) ON DELETE CASCADE, user_id INTEGER REFERENCES user(id), name TEXT);`))
	m2, err := migrations.Parse("0002_b.sql", []byte(`ALTER TABLE user RENAME TO _user_old;
CREATE TABLE user (id INTEGER PRIMARY KEY, name TEXT, email TEXT);
INSERT INTO user (id, name) SELECT id, name FROM _user_old;
DROP TABLE _user_old;
ALTER TABLE memo RENAME TO _memo_old;
CREATE TABLE memo (id INTEGER PRIMARY KEY, creator_id INTEGER REFERENCES user(id) ON DELETE CASCADE, content TEXT);
INSERT INTO memo SELECT * FROM _memo_old;
DROP TABLE _memo_old;`))
	if err != nil {
		t.Fatal(err)
	}
	for _, targets := range [][]lint.Target{nil, {lint.D1}} {
		rep, err := lint.Check(context.Background(), []*migrations.Migration{m1, m2}, lint.Options{Targets: targets})
		if err != nil {
			t.Fatal(err)
		}
		f := find(rep.Findings, "L020")
		if targets == nil {
			if f != nil {
				t.Errorf("L020 without d1: %v", rep.Findings)
			}
			continue
		}
		if f == nil || !strings.Contains(f.Message, "on D1, where foreign keys are always enforced, line 8 fails:") || !strings.Contains(f.Message, "_user_old") {
			t.Errorf("d1: %v", rep.Findings)
		}
	}
}

// A migration with a rebuild directive is not run the D1 way (its rebuild
// needs foreign keys off); its other drops are still judged from the
// schema for D1.
func TestD1DropBesideRebuild(t *testing.T) {
	fs := lintFor(t, []lint.Target{lint.D1}, "-- migrate:breaking\n-- migrate:rebuild logs\nCREATE TABLE logs (id INTEGER PRIMARY KEY, msg TEXT, level TEXT);\nDROP TABLE users;")
	if got := codes(fs); got != "L001:w L008:e L016:e" {
		t.Fatalf("findings %q: %v", got, fs)
	}
	if f := find(fs, "L008"); !strings.Contains(f.Message, "on D1 (always): posts(user_id) ON DELETE CASCADE deletes") {
		t.Errorf("L008: %s", f.Message)
	}
}

// A unique index on a column that the same migration adds without a
// DEFAULT cannot fail on the rows the table had: they are all NULL there
// (homebox's add_oidc_identity). With a DEFAULT, an UPDATE of the column
// or a rebuild that may have copied values into it, it can.
func TestUniqueIndexOnColumnJustAdded(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"ALTER TABLE users ADD COLUMN oidc_issuer TEXT; ALTER TABLE users ADD COLUMN oidc_subject TEXT;\nCREATE UNIQUE INDEX users_oidc ON users(oidc_issuer, oidc_subject);", ""},
		{"ALTER TABLE users ADD COLUMN slug TEXT DEFAULT NULL; CREATE UNIQUE INDEX users_slug ON users(slug);", ""},
		{"ALTER TABLE users ADD COLUMN slug TEXT NOT NULL DEFAULT ''; CREATE UNIQUE INDEX users_slug ON users(slug);", "L007:w"},
		{"ALTER TABLE users ADD COLUMN slug TEXT; UPDATE users SET slug = name; CREATE UNIQUE INDEX users_slug ON users(slug);", "L007:w"},
		{"CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT, name TEXT, slug TEXT);\nINSERT INTO users_new SELECT id, email, name, name FROM users;\nDROP TABLE users;\nALTER TABLE users_new RENAME TO users;\nCREATE UNIQUE INDEX users_slug ON users(slug);", "L007:w"},
	} {
		got := codes(lintFor(t, nil, tc.body))
		// The rebuild case also reports what a hand-written rebuild of a
		// referenced table does (L015); only L007 is under test here.
		if has := strings.Contains(got, "L007:w"); has != (tc.want != "") {
			t.Errorf("%s: findings %q, want L007 %v", tc.body, got, tc.want != "")
		}
	}
}
