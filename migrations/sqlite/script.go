package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/internal/sqlutil"
	"github.com/larderdb/larder/migrations/rebuild"
)

// A StatementError is a statement of a script that failed.
type StatementError struct {
	Statement string // the statement's text, trimmed
	Line      int    // line of its first token, counted from the script's first line
	Err       error  // SQLite's error
}

func (e *StatementError) Error() string {
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *StatementError) Unwrap() error { return e.Err }

// ErrTransactionControl is returned for BEGIN, COMMIT, END and ROLLBACK
// statements inside a migration: the engine owns the transaction, and a
// COMMIT in the middle would make the migration non-atomic. The one
// exception is a wrapper around the whole part (see
// [migrations.TxWrapper]), which a migration runs without it.
var ErrTransactionControl = errors.New("transaction control statement inside a migration (the engine runs each migration in its own transaction; remove it: only a BEGIN … COMMIT around the whole part is accepted, and left out)")

// window bounds how much of a long script is copied into SQLite per
// statement. Without it, preparing 10,000 statements one at a time from the
// remaining text copies the whole rest of the script each time.
const window = 4 << 10

// prepareNext prepares the first statement of rest, returning it and the
// number of bytes of rest it covers (statement, leading comments and
// whitespace). stmt is nil when rest holds only whitespace and comments.
//
// It hands SQLite a window of rest that ends after a ";" and accepts the
// result only when SQLite stopped before the window's end (a non-empty
// tail): then the statement ended at a real ";" token, not one inside a
// literal, comment or trigger body cut by the window. Otherwise it doubles
// the window, up to all of rest.
func prepareNext(conn *sqlite3.Conn, rest string) (stmt *sqlite3.Stmt, n int, err error) {
	for size := window; ; size *= 2 {
		text := rest
		if size < len(rest) {
			if i := strings.IndexByte(rest[size:], ';'); i >= 0 {
				text = rest[:size+i+1]
			}
		}
		stmt, tail, err := conn.Prepare(text)
		if len(text) == len(rest) || (err == nil && tail != "") {
			return stmt, len(text) - len(tail), err
		}
		if stmt != nil {
			stmt.Close()
		}
	}
}

// Exec runs every statement of script on conn. firstLine is the line number
// of the script's first line in its file, so errors name the file's line.
// args, if any, are bound to the first statement. A failing statement
// returns a *StatementError; statements before it have run (wrap Exec in a
// transaction for atomicity).
func Exec(ctx context.Context, conn *sqlite3.Conn, script string, firstLine int, args ...any) error {
	return execScript(ctx, conn, script, firstLine, nil, nil, args...)
}

// ExecPart is Exec for a migration part run inside a transaction the
// caller opened: the BEGIN and COMMIT of a wrapper around the whole part
// are left out, as Store.Apply leaves them out, and other transaction
// control is refused with ErrTransactionControl.
func ExecPart(ctx context.Context, conn *sqlite3.Conn, script string, firstLine int) error {
	return execScript(ctx, conn, script, firstLine, nil, &migrations.TxWrapper{})
}

// execScript is Exec. With a non-nil onPragma, a statement that sets
// PRAGMA foreign_keys is not run: onPragma gets its line and text (a
// migration runs with enforcement off already, see Store.Apply). With a
// non-nil wrap and a transaction open, the BEGIN and COMMIT of a wrapper
// around the whole script are not run (wrap.Found() says so afterwards).
func execScript(ctx context.Context, conn *sqlite3.Conn, script string, firstLine int, onPragma func(line int, text string), wrap *migrations.TxWrapper, args ...any) error {
	old := conn.SetInterrupt(ctx)
	defer conn.SetInterrupt(old)
	inTx := !conn.GetAutocommit()
	if !inTx {
		wrap = nil
	}
	first := true
	return walk(conn, script, firstLine, visitor{
		wrap: wrap,
		rebuild: func(d *migrations.RebuildDirective, text string, line int) (int, error) {
			first = false
			return rebuild.Statement(ctx, conn, d, text)
		},
		statement: func(stmt *sqlite3.Stmt, text string, line int) error {
			if inTx && isTransactionControl(text) {
				return ErrTransactionControl
			}
			if onPragma != nil {
				if _, ok := setsForeignKeys(text); ok {
					onPragma(line, text)
					return nil
				}
			}
			if first && len(args) > 0 {
				if err := Bind(stmt, args...); err != nil {
					return err
				}
			}
			first = false
			for stmt.Step() {
			}
			return stmt.Err()
		},
	})
}

// A visitor says what walk does with each statement of a migration part.
type visitor struct {
	// rebuild carries out the table rebuild of a "-- migrate:rebuild"
	// directive d, whose CREATE TABLE statement starts text on the given
	// file line, and returns the length of that statement in text.
	rebuild func(d *migrations.RebuildDirective, text string, line int) (int, error)
	// statement runs one prepared statement (text, trimmed) that starts on
	// the given file line; walk closes stmt.
	statement func(stmt *sqlite3.Stmt, text string, line int) error
	// wrap, if not nil, recognises an outer BEGIN … COMMIT of the whole
	// part: walk leaves those two statements out (without preparing them)
	// and refuses any other transaction control with ErrTransactionControl.
	wrap *migrations.TxWrapper
}

// walk prepares the statements of src one at a time with SQLite and hands
// each to do, keeping count of the file line each starts on (firstLine is
// the line of src's first line). Errors come back as *StatementError.
func walk(conn *sqlite3.Conn, src string, firstLine int, do visitor) error {
	offset, line := 0, firstLine
	for offset < len(src) {
		rest := src[offset:]
		lead := sqlutil.LeadingTrivia(rest)
		if d, err := migrations.ParseRebuildDirective(rest[:lead]); d != nil || err != nil {
			stmtLine := line + strings.Count(rest[:lead], "\n")
			n := 0
			if err == nil && do.wrap != nil && do.wrap.Other(stmtLine) == migrations.TxRefuse {
				err = wrapRefused(do.wrap)
			}
			if err == nil {
				n, err = do.rebuild(d, rest[lead:], stmtLine)
			}
			if err != nil {
				return &StatementError{Statement: firstStatement(strings.TrimSpace(rest[lead:])), Line: stmtLine, Err: err}
			}
			line += strings.Count(rest[:lead+n], "\n")
			offset += lead + n
			continue
		}
		if do.wrap != nil {
			// BEGIN and COMMIT are left out or refused before SQLite
			// prepares them: an authorizer (lint's) must not take them
			// for the runner's own.
			if k := migrations.TxStatementLen(rest[lead:]); k > 0 {
				text := strings.TrimSpace(rest[lead : lead+k])
				stmtLine := line + strings.Count(rest[:lead], "\n")
				if do.wrap.Statement(text, stmtLine) == migrations.TxRefuse {
					return &StatementError{Statement: text, Line: stmtLine, Err: wrapRefused(do.wrap)}
				}
				line += strings.Count(rest[:lead+k], "\n")
				offset += lead + k
				continue
			}
		}
		stmt, n, err := prepareNext(conn, rest)
		lead = sqlutil.LeadingTrivia(rest[:n])
		stmtLine := line + strings.Count(rest[:lead], "\n")
		text := strings.TrimSpace(rest[lead:n])
		line += strings.Count(rest[:n], "\n")
		offset += n
		if err != nil {
			if text == "" {
				text = strings.TrimSpace(rest[lead:])
			}
			return &StatementError{Statement: firstStatement(text), Line: stmtLine, Err: err}
		}
		if stmt == nil {
			if n == 0 {
				break
			}
			continue
		}
		if do.wrap != nil {
			switch do.wrap.Statement(text, stmtLine) {
			case migrations.TxRefuse:
				stmt.Close()
				return &StatementError{Statement: text, Line: stmtLine, Err: wrapRefused(do.wrap)}
			case migrations.TxSkip:
				stmt.Close()
				continue
			}
		}
		err = do.statement(stmt, text, stmtLine)
		stmt.Close()
		if err != nil {
			return &StatementError{Statement: text, Line: stmtLine, Err: err}
		}
	}
	if do.wrap != nil && !do.wrap.End() {
		return &StatementError{Statement: do.wrap.Begin, Line: do.wrap.BeginLine, Err: wrapRefused(do.wrap)}
	}
	return nil
}

// wrapRefused is ErrTransactionControl with the reason wrap gave.
func wrapRefused(wrap *migrations.TxWrapper) error {
	return fmt.Errorf("%w: %s", ErrTransactionControl, wrap.Why())
}

// firstStatement shortens the text of an unparsable rest of a script to
// its first line or so, for error messages.
func firstStatement(s string) string {
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i+1]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func isTransactionControl(stmt string) bool {
	words := strings.Fields(strings.ToUpper(strings.ReplaceAll(stmt, ";", " ")))
	if len(words) == 0 {
		return false
	}
	switch words[0] {
	case "BEGIN", "COMMIT", "END":
		return true
	case "ROLLBACK":
		// ROLLBACK [TRANSACTION] TO [SAVEPOINT] name is fine.
		return !slices.Contains(words, "TO")
	}
	return false
}

// Bind binds args positionally (1-based) to stmt, each as BindValue does.
func Bind(stmt *sqlite3.Stmt, args ...any) error {
	for i, a := range args {
		if err := BindValue(stmt, i+1, a); err != nil {
			return fmt.Errorf("bind parameter %d: %w", i+1, err)
		}
	}
	return nil
}

// ErrUnsupportedType is returned by BindValue for a Go type it cannot bind.
var ErrUnsupportedType = errors.New("unsupported parameter type")

// BindValue binds v to parameter i (1-based) of stmt: nil as NULL, bool as
// 0/1, int and int64 as INTEGER, float64 as REAL, string as TEXT, []byte as
// BLOB. Any other type is ErrUnsupportedType.
func BindValue(stmt *sqlite3.Stmt, i int, v any) error {
	switch v := v.(type) {
	case nil:
		return stmt.BindNull(i)
	case bool:
		return stmt.BindBool(i, v)
	case int:
		return stmt.BindInt64(i, int64(v))
	case int64:
		return stmt.BindInt64(i, v)
	case float64:
		return stmt.BindFloat(i, v)
	case string:
		return stmt.BindText(i, v)
	case []byte:
		return stmt.BindBlob(i, v)
	}
	return fmt.Errorf("%w %T", ErrUnsupportedType, v)
}

// CodeName returns SQLite's extended result code name for err
// ("SQLITE_CONSTRAINT_UNIQUE"), or "" if err carries no SQLite code.
func CodeName(err error) string {
	var xc sqlite3.ExtendedErrorCode
	if !errors.As(err, &xc) {
		var c sqlite3.ErrorCode
		if !errors.As(err, &c) {
			return ""
		}
		xc = sqlite3.ExtendedErrorCode(c)
	}
	if n, ok := codeNames[xc]; ok {
		return n
	}
	if n, ok := codeNames[sqlite3.ExtendedErrorCode(sqlite3.ErrorCode(xc&0xff))]; ok {
		return n
	}
	return fmt.Sprintf("SQLITE_%d", int(xc))
}
