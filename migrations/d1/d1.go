// Package d1 is the migrations.Store for Cloudflare D1
// (https://developers.cloudflare.com/d1/), used by the edge Worker to apply
// the same migrations, with the same _migrations table and the same
// validation, as the native and browser runners.
//
// D1 refuses BEGIN and SAVEPOINT, and its database/sql driver has no
// transactions, so each migration runs as one call of the binding's batch()
// (https://developers.cloudflare.com/d1/worker-api/d1-database/#batch), which
// D1 executes as a single SQL transaction: if any statement fails, the whole
// batch is rolled back.
//
// Exactly once without BEGIN: the first statement of an up batch is the
// migration's INSERT into _migrations. Batches are serialised, so a second
// runner that planned the same migration fails on that row's primary key and
// its whole batch rolls back; Apply then re-reads the row and returns
// migrations.ErrAlreadyApplied. A down batch starts with an INSERT that
// violates a NOT NULL constraint when the row is already gone.
//
// D1 has no SQL parser on the Worker's side, so statements come pre-split by
// SQLite at bundle time (migrations.Statement, filled by
// migrations/sqlite.SplitStatements). When a batch fails, D1 does not say
// which statement failed: Apply finds it with a few extra batches that run
// a prefix of the statements and end in a statement that always fails, so
// they are rolled back too, and reports its line like the other runners.
//
// The JavaScript side (the D1 binding) is behind [Conn]: the edge Worker
// (edge/d1binding_js.go) implements it with the binding's batch() under
// GOOS=js; tests use any Conn. The package itself is plain Go.
package d1

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// A Statement is one SQL statement with its positional arguments (nil,
// bool, int, int64, float64, string).
type Statement struct {
	SQL  string
	Args []any
}

// A Row is one result row, column name to value: nil, float64 (D1 returns
// numbers as JavaScript numbers), string, or []byte.
type Row = map[string]any

// Conn runs statements on a D1 database.
type Conn interface {
	// Batch runs stmts as one transaction, like D1's batch(): every
	// statement or none. It returns each statement's rows. A failure is an
	// *Error.
	Batch(ctx context.Context, stmts []Statement) ([][]Row, error)
}

// Error is an error reported by D1, e.g. "D1_ERROR: UNIQUE constraint
// failed: t.id: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_PRIMARYKEY)".
type Error struct {
	Message string // SQLite's message: "UNIQUE constraint failed: t.id"
	Code    string // the extended code name when given, else the primary one; "" if none
	Raw     string // the message as D1 gave it
}

func (e *Error) Error() string { return e.Message }

var codeRE = regexp.MustCompile(`^(?s)(.*?):? (SQLITE_[A-Z_]+)(?: \(extended: (SQLITE_[A-Z_]+)\))?$`)

// ParseError turns a D1 error message into an *Error.
func ParseError(msg string) *Error {
	e := &Error{Raw: msg}
	s := strings.TrimSpace(msg)
	for _, p := range []string{"Error: ", "D1_ERROR: ", "D1_EXEC_ERROR: "} {
		s = strings.TrimPrefix(s, p)
	}
	if m := codeRE.FindStringSubmatch(s); m != nil {
		s, e.Code = m[1], m[2]
		if m[3] != "" {
			e.Code = m[3]
		}
	}
	e.Message = s
	return e
}

// ErrTransactionControl is returned for BEGIN, COMMIT, END, ROLLBACK,
// SAVEPOINT and RELEASE statements in a migration: the runner owns the
// transaction, and D1 refuses them anyway. A BEGIN … COMMIT around the
// whole part is not refused but left out, as everywhere
// ([migrations.TxWrapper]; SplitStatements leaves it out already).
var ErrTransactionControl = errors.New("transaction control statement inside a migration (D1 runs each migration as one batch() and refuses BEGIN and SAVEPOINT; remove it)")

// ErrNotSplit is returned for a migration whose statements were not split
// ahead of time: build the bundle with migrations/sqlite.SplitStatements.
var ErrNotSplit = errors.New("migration has no pre-split statements (make the bundle with `larder migrate bundle --statements`, as `make edge-build` does)")

// ErrCodeMigration is returned for Go migrations, which cannot run on D1.
var ErrCodeMigration = errors.New("Go code migrations cannot run on D1")

func isTransactionControl(sql string) bool {
	f := strings.Fields(sql)
	if len(f) == 0 {
		return false
	}
	switch w := strings.TrimRight(strings.ToUpper(f[0]), ";"); w {
	case "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE":
		return true
	}
	return false
}

func asInt64(v any) (int64, error) {
	switch n := v.(type) {
	case float64:
		return int64(n), nil
	case int64:
		return n, nil
	case int:
		return int64(n), nil
	}
	return 0, fmt.Errorf("want a number, got %T", v)
}

func asString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", fmt.Errorf("want a string, got %T", v)
}
