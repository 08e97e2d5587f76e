package migrations

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error the engine returns wraps exactly one of these
// (test with errors.Is); [Code] maps them to the LARDER_* codes of the JS API.
var (
	ErrBadFileName      = errors.New("malformed migration file name")
	ErrBadFile          = errors.New("malformed migration file")
	ErrDuplicateVersion = errors.New("duplicate migration version")
	ErrNoMigrations     = errors.New("no migrations")
	ErrChecksumMismatch = errors.New("applied migration was edited")
	ErrMissingMigration = errors.New("applied migration has no file")
	ErrDatabaseNewer    = errors.New("database is newer than the code")
	ErrOutOfOrder       = errors.New("unapplied migration is older than the newest applied one")
	ErrUnknownVersion   = errors.New("no such migration version")
	ErrNoDown           = errors.New("migration has no down part")
	ErrMigrationFailed  = errors.New("migration failed")
	// ErrAlreadyApplied is returned by a Store when, inside the transaction,
	// it finds the migration already applied (up) or already reverted (down):
	// another runner got there first. The Provider treats it as done.
	ErrAlreadyApplied = errors.New("migration already applied by another runner")
)

// ErrGoMigrationFile is the cause of the *MigrationError for a goose Go
// migration file (NNNN_name.go) in a migrations directory: Load lists it so
// that `up` stops before it, as goose's own CLI does, instead of running the
// SQL migrations after it without it.
var ErrGoMigrationFile = errors.New("goose Go migration file: Larder cannot run it (write it as an SQL migration with the same version, or register a Go migration with migrations.Go and that version, which takes its place)")

// A FileError is a problem with one migration file.
type FileError struct {
	File   string
	Line   int // 0 when not about a line
	Err    error
	Detail string
}

func (e *FileError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Detail == "" {
		return fmt.Sprintf("%s: %v", loc, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", loc, e.Err, e.Detail)
}

func (e *FileError) Unwrap() error { return e.Err }

// A Problem is one finding of validation: which migration, which rule.
type Problem struct {
	Err     error // one of the sentinels
	Version int64
	Name    string
	Detail  string
}

func (p Problem) String() string {
	s := fmt.Sprintf("%04d_%s: %v", p.Version, p.Name, p.Err)
	if p.Detail != "" {
		s += " (" + p.Detail + ")"
	}
	return s
}

// ValidationError lists everything wrong between the applied migrations and
// the known ones. Nothing was applied. errors.Is matches each problem's
// sentinel.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "migrate: validate: " + strings.Join(parts, "; ")
}

func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p.Err
	}
	return errs
}

// MigrationError reports a migration that failed while applying or
// reverting. The database stays at the previous version.
type MigrationError struct {
	Version   int64
	Name      string
	Direction Direction
	Statement string // the failing statement, "" for code migrations
	Line      int    // 1-based line of Statement in the migration file; 0 if unknown
	Code      string // SQLite extended code name, e.g. "SQLITE_CONSTRAINT_UNIQUE", when known
	Err       error  // the underlying error (SQLite's, or a code migration's)
	// File, when set, is the file of the failing part as it is on disk
	// ([Migration.PartSource]); messages name it instead of NNNN_name.
	File string
}

func (e *MigrationError) Error() string {
	what := fmt.Sprintf("migrate: %s %04d_%s", e.Direction, e.Version, e.Name)
	if e.File != "" {
		// As Label names it: the file on disk without ".sql".
		what = fmt.Sprintf("migrate: %s %s", e.Direction, strings.TrimSuffix(e.File, ".sql"))
	}
	return DescribeFailure(what, e.Line, e.Err, e.Code, e.Statement)
}

// DescribeFailure formats a failed step of a script the way the engine
// reports it: "WHAT: line N: cause (CODE)", then the statement on its own
// line. line 0, code "" and statement "" are left out. Seeds use it too.
func DescribeFailure(what string, line int, err error, code, statement string) string {
	var b strings.Builder
	b.WriteString(what)
	if line > 0 {
		fmt.Fprintf(&b, ": line %d", line)
	}
	fmt.Fprintf(&b, ": %v", err)
	if code != "" && !strings.Contains(err.Error(), code) {
		fmt.Fprintf(&b, " (%s)", code)
	}
	if statement != "" {
		fmt.Fprintf(&b, "\n  in statement: %s", oneLine(statement, 200))
	}
	return b.String()
}

// Unwrap exposes both the sentinel and the cause.
func (e *MigrationError) Unwrap() []error { return []error{ErrMigrationFailed, e.Err} }

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// Code returns the LARDER_* code of the JS API for an engine error, or ""
// when err is not one. For a ValidationError with several problems the most
// severe wins: newer, missing, checksum, out of order.
func Code(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{ErrMigrationFailed, "LARDER_MIGRATION_FAILED"},
		{ErrDatabaseNewer, "LARDER_DATABASE_NEWER"},
		{ErrMissingMigration, "LARDER_MISSING_MIGRATION"},
		{ErrChecksumMismatch, "LARDER_CHECKSUM_MISMATCH"},
		{ErrOutOfOrder, "LARDER_OUT_OF_ORDER"},
		{ErrDuplicateVersion, "LARDER_INVALID_MIGRATIONS"},
		{ErrBadFileName, "LARDER_INVALID_MIGRATIONS"},
		{ErrBadFile, "LARDER_INVALID_MIGRATIONS"},
		{ErrNoMigrations, "LARDER_INVALID_MIGRATIONS"},
		{ErrUnknownVersion, "LARDER_UNKNOWN_VERSION"},
		{ErrNoDown, "LARDER_NO_DOWN"},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}
