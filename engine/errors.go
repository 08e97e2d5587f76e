package engine

import (
	"errors"
	"fmt"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

// Larder error codes of the JS API that the core produces itself (the
// migration codes come from [migrations.Code], SQLite's from its extended
// result code).
const (
	CodeClosed             = "LARDER_CLOSED"
	CodeInvalidDatabase    = "LARDER_INVALID_DATABASE"
	CodeStorageUnavailable = "LARDER_STORAGE_UNAVAILABLE"
	CodeOutdated           = "LARDER_OUTDATED"
	CodeInvalidArgument    = "LARDER_INVALID_ARGUMENT"
	CodeInternal           = "LARDER_INTERNAL"
)

// Error is an error with a JS API code. Migration is set when the error is
// about one migration (LARDER_MIGRATION_FAILED).
type Error struct {
	Code      string
	Message   string
	Migration *MigrationRef
	Err       error
}

// MigrationRef names a migration in an error.
type MigrationRef struct {
	Version int64
	Name    string
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Code
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *[Error] with code and a formatted message.
func Errorf(code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Classify returns err as an *Error with the code the JS API reports: a
// Larder code for engine and bridge errors, SQLite's extended code name
// ("SQLITE_CONSTRAINT_UNIQUE") for SQLite errors, LARDER_INTERNAL otherwise.
func Classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		if e.Migration == nil {
			e.Migration = migrationOf(err)
		}
		return &Error{Code: e.Code, Message: err.Error(), Migration: e.Migration, Err: err}
	}
	out := &Error{Message: err.Error(), Err: err, Migration: migrationOf(err)}
	switch {
	case migrations.Code(err) != "":
		out.Code = migrations.Code(err)
	case sqlite.CodeName(err) != "":
		out.Code = sqlite.CodeName(err)
	default:
		out.Code = CodeInternal
	}
	return out
}

func migrationOf(err error) *MigrationRef {
	var me *migrations.MigrationError
	if errors.As(err, &me) {
		return &MigrationRef{Version: me.Version, Name: me.Name}
	}
	return nil
}
