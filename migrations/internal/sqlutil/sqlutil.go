// Package sqlutil holds the small SQLite helpers that the migration
// packages (sqlite, rebuild, compat) share: reading SQL text up to the next
// token, quoting identifiers, reading a pragma and checking foreign keys.
package sqlutil

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ncruces/go-sqlite3"
)

// SkipTrivia returns the offset of the first byte at or after i in s that
// is not whitespace or inside an SQL comment (-- to the end of the line,
// or /* … */), or len(s).
func SkipTrivia(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v':
			i++
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return len(s)
			}
			i += j + 1
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return len(s)
			}
			i += j + 4
		default:
			return i
		}
	}
	return i
}

// LeadingTrivia returns the length of the whitespace, comments and empty
// statements (";") at the start of s: where its next statement starts.
func LeadingTrivia(s string) int {
	i := SkipTrivia(s, 0)
	for i < len(s) && s[i] == ';' {
		i = SkipTrivia(s, i+1)
	}
	return i
}

// Quote returns name as an SQL identifier in double quotes.
func Quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// PragmaInt returns the integer value of PRAGMA name.
func PragmaInt(conn *sqlite3.Conn, name string) (int64, error) {
	return QueryInt(conn, "PRAGMA "+name)
}

// QueryInt returns the first column of the first row of query as an
// integer (0 when there is no row).
func QueryInt(conn *sqlite3.Conn, query string) (int64, error) {
	stmt, _, err := conn.Prepare(query)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	if !stmt.Step() {
		return 0, stmt.Err()
	}
	return stmt.ColumnInt64(0), nil
}

// ErrForeignKeyViolation reports rows that PRAGMA foreign_key_check found.
var ErrForeignKeyViolation = errors.New("foreign key violation")

// ForeignKeyCheck runs PRAGMA foreign_key_check
// (https://sqlite.org/pragma.html#pragma_foreign_key_check) and returns an
// error wrapping ErrForeignKeyViolation that names the first few
// violations. When table is not "", only violations where table is the
// child or the parent count.
func ForeignKeyCheck(conn *sqlite3.Conn, table string) error {
	stmt, _, err := conn.Prepare("PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer stmt.Close()
	var bad []string
	for stmt.Step() {
		child, parent := stmt.ColumnText(0), stmt.ColumnText(2)
		if table != "" && !strings.EqualFold(child, table) && !strings.EqualFold(parent, table) {
			continue
		}
		if len(bad) < 5 {
			bad = append(bad, fmt.Sprintf("%s rowid %d -> %s", child, stmt.ColumnInt64(1), parent))
		}
	}
	if err := stmt.Err(); err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrForeignKeyViolation, strings.Join(bad, ", "))
	}
	return nil
}
