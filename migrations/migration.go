package migrations

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// A Migration is one step of a schema's history.
type Migration struct {
	Version  int64  // positive, unique within a set
	Name     string // name part of the file name as written, without version and extension
	Source   string // file name it was loaded from ("" for code migrations and bundles)
	Up       string // SQL of the up part
	Down     string // SQL of the down part ("" if none)
	HasDown  bool   // whether a down part exists (a down part may be empty on purpose)
	Breaking bool   // "-- migrate:breaking": incompatible with code written for older versions
	Checksum string // hex SHA-256 of the normalised up part; "" for code migrations

	// UpLine and DownLine are the 1-based file lines where the up and down
	// parts start, so errors can name the line of a failing statement.
	UpLine, DownLine int

	// UpStatements and DownStatements, when set, are Up and Down split into
	// statements by SQLite ahead of time (see BundleEntry). Runners without
	// an SQL parser (D1) need them; the SQLite store ignores them.
	UpStatements, DownStatements []Statement

	// UpFunc and DownFunc, when set, make this a code migration: they run
	// inside the migration's transaction instead of SQL.
	UpFunc, DownFunc Func

	// NoForeignKeys asks the store to turn foreign key enforcement off
	// outside the transaction (it cannot be changed inside one) and to run
	// PRAGMA foreign_key_check before commit. Table rebuilds need it.
	NoForeignKeys bool

	// NoTransaction runs the part without a transaction, for statements
	// that cannot run inside one (VACUUM, PRAGMA journal_mode): dbmate's
	// "-- migrate:up transaction:false", goose's "-- +goose NO TRANSACTION".
	// The _migrations row is still written only after the last statement
	// succeeded, but a failure leaves the statements before it applied.
	NoTransaction bool

	// DownNoTransaction is NoTransaction for the down part: dbmate's
	// "-- migrate:down transaction:false" (goose's NO TRANSACTION sets both).
	DownNoTransaction bool

	// DownSource is the file the down part was loaded from when it is not
	// Source: the .down.sql file of a golang-migrate or sqlx pair.
	DownSource string

	// GoFile marks a goose Go migration file (NNNN_name.go) that Load
	// found: its UpFunc and DownFunc fail with ErrGoMigrationFile. A Go
	// migration of the same version given next to it replaces it (Sort).
	GoFile bool
}

// Func is a migration written in code. tx executes inside the migration's
// transaction; a returned error rolls the whole migration back.
type Func func(ctx context.Context, tx Tx) error

// Tx is what a code migration gets to run statements with. Stores pass a
// richer value (package sqlite passes a *sqlite.Tx that exposes the
// connection); type-assert to reach it.
type Tx interface {
	// Exec runs one or more statements, binding args to the first.
	Exec(ctx context.Context, query string, args ...any) error
}

// Label is how errors and output name a migration: the file it was loaded
// from as it is on disk, without ".sql" ("003_add_tags", "V3__add_tags",
// "3_add_tags.up" names 3_add_tags.up.sql), or "0003_add_tags" for code
// migrations and bundle entries, which have no file.
func (m *Migration) Label() string {
	if m.Source != "" {
		return strings.TrimSuffix(m.Source, ".sql")
	}
	return fmt.Sprintf("%04d_%s", m.Version, m.Name)
}

// PartSource is the file the part of direction d was loaded from, as it is
// on disk (the .down.sql file of a pair for Down), for messages; "" for
// code migrations and bundle entries.
func (m *Migration) PartSource(d Direction) string {
	if d == Down && m.DownSource != "" {
		return m.DownSource
	}
	return m.Source
}

// IsCode reports whether m is a code migration.
func (m *Migration) IsCode() bool { return m.UpFunc != nil }

// CanDown reports whether m can be reverted.
func (m *Migration) CanDown() bool {
	if m.IsCode() {
		return m.DownFunc != nil
	}
	return m.HasDown
}

// Go returns a code migration. down may be nil (irreversible).
func Go(version int64, name string, up, down Func) *Migration {
	return &Migration{Version: version, Name: name, UpFunc: up, DownFunc: down, HasDown: down != nil}
}

// normalize is the text a checksum is computed over: LF line endings, no
// trailing whitespace on any line, no goose annotation lines ("-- +goose
// StatementBegin": they say how goose splits, not what runs), no leading or
// trailing blank lines.
func normalize(sql string) string {
	sql = strings.ReplaceAll(sql, "\r\n", "\n")
	sql = strings.ReplaceAll(sql, "\r", "\n")
	in := strings.Split(sql, "\n")
	lines := in[:0]
	for _, l := range in {
		if _, ok := gooseAnnotation(l); !ok {
			lines = append(lines, strings.TrimRight(l, " \t\f\v"))
		}
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// Checksum is the hex SHA-256 of the up part normalised: LF line endings, no
// trailing whitespace on any line, no goose annotation lines, no leading or
// trailing blank lines. Only the up part counts, and not the markers that
// delimit it, so the same up SQL has the same checksum in a plain,
// dbmate, goose or golang-migrate file.
func Checksum(up string) string {
	sum := sha256.Sum256([]byte(normalize(up)))
	return hex.EncodeToString(sum[:])
}

func splitLines(s string) []string { return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") }
