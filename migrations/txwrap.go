package migrations

import (
	"fmt"
	"strings"

	"github.com/larderdb/larder/migrations/internal/sqlutil"
)

// Files written for golang-migrate (and many hand-rolled runners) wrap
// their whole content in a transaction of their own, because those tools
// do not open one:
//
//	PRAGMA foreign_keys = OFF;
//	BEGIN TRANSACTION;
//	…
//	COMMIT;
//	PRAGMA foreign_keys = ON;
//
// Larder runs every migration part in its own transaction, so such a
// wrapper would commit half-way (or fail with "cannot start a transaction
// within a transaction"). A TxWrapper recognises exactly an outer wrapper
// of a whole part, so that runners leave its BEGIN and COMMIT out and run
// the body in their transaction. Everything else that controls the
// transaction stays refused.

// TxAction is what a runner does with one statement of a part, as a
// TxWrapper decides it.
type TxAction int

const (
	// TxRun: an ordinary statement; run it as usual.
	TxRun TxAction = iota
	// TxSkip: the wrapper's BEGIN or COMMIT; do not run it.
	TxSkip
	// TxRefuse: transaction control that is not a whole-part wrapper (or
	// a statement after the wrapper's COMMIT): refuse the migration.
	TxRefuse
)

// A TxWrapper follows the statements of one migration part, in order, and
// recognises an outer transaction wrapper: the first statement BEGIN
// [DEFERRED|IMMEDIATE|EXCLUSIVE] [TRANSACTION], the last COMMIT or END
// [TRANSACTION], with only PRAGMA foreign_keys statements (and comments)
// allowed before the BEGIN and after the COMMIT. The zero value is ready
// to use; call Statement for each statement and End after the last.
type TxWrapper struct {
	state         int    // wrapNone, wrapBefore, wrapOpen, wrapClosed
	BeginLine     int    // file line of the wrapper's BEGIN (0: none)
	CommitLine    int    // file line of its COMMIT or END (0: none yet)
	Begin, Commit string // their text, on one line
	refusedWhy    string
}

const (
	wrapBefore = iota // only PRAGMA foreign_keys so far
	wrapNone          // another statement came first: no wrapper possible
	wrapOpen          // after the wrapper's BEGIN
	wrapClosed        // after its COMMIT
)

// Statement returns what to do with stmt (its text, comments before it
// removed), which starts on the given file line. A rebuild directive's
// statement counts as an ordinary one.
func (w *TxWrapper) Statement(stmt string, line int) TxAction {
	words := sqlWords(stmt)
	kind := txKind(words)
	fk := len(words) >= 2 && words[0] == "PRAGMA" && isForeignKeysPragma(words[1:])
	switch w.state {
	case wrapBefore:
		switch {
		case fk:
			return TxRun
		case kind == "begin":
			w.state, w.BeginLine, w.Begin = wrapOpen, line, oneLineSQL(stmt)
			return TxSkip
		case kind != "":
			w.refusedWhy = fmt.Sprintf("%s without a BEGIN that opens the part", oneLineSQL(stmt))
			return TxRefuse
		}
		w.state = wrapNone
		return TxRun
	case wrapNone:
		if kind != "" {
			w.refusedWhy = fmt.Sprintf("%s after other statements", oneLineSQL(stmt))
			return TxRefuse
		}
		return TxRun
	case wrapOpen:
		switch kind {
		case "":
			return TxRun
		case "commit":
			w.state, w.CommitLine, w.Commit = wrapClosed, line, oneLineSQL(stmt)
			return TxSkip
		}
		w.refusedWhy = fmt.Sprintf("%s inside the BEGIN of line %d", oneLineSQL(stmt), w.BeginLine)
		return TxRefuse
	default: // wrapClosed
		if fk {
			return TxRun
		}
		w.refusedWhy = fmt.Sprintf("%s after the COMMIT of line %d (only PRAGMA foreign_keys statements may follow it)", oneLineSQL(stmt), w.CommitLine)
		return TxRefuse
	}
}

// Other records a statement that is not given to Statement (the table
// rebuild of a "-- migrate:rebuild" directive) and returns what to do.
func (w *TxWrapper) Other(line int) TxAction {
	return w.Statement("CREATE TABLE x", line)
}

// End reports, after the last statement, whether the part is acceptable:
// false when a wrapper's BEGIN has no COMMIT.
func (w *TxWrapper) End() bool {
	if w.state == wrapOpen {
		w.refusedWhy = fmt.Sprintf("%s is never committed (a wrapper ends with COMMIT as the last statement)", w.Begin)
		return false
	}
	return true
}

// Found reports whether a complete wrapper was recognised.
func (w *TxWrapper) Found() bool { return w.state == wrapClosed }

// Why says why the last TxRefuse (or a false End) refused the part.
func (w *TxWrapper) Why() string { return w.refusedWhy }

// Notice is the remark a runner makes about a recognised wrapper in file.
func (w *TxWrapper) Notice(file string) string {
	return fmt.Sprintf("%s:%d: %s … %s (line %d) around the whole part was not run: the engine runs every migration in its own transaction, and the part ran in it",
		file, w.BeginLine, w.Begin, w.Commit, w.CommitLine)
}

// TxControlWords reports whether stmt starts like a statement that
// controls the transaction: BEGIN, COMMIT, END, or ROLLBACK other than
// ROLLBACK TO a savepoint.
func TxControlWords(stmt string) bool { return txKind(sqlWords(stmt)) != "" }

// TxStatementLen returns the length of the statement that s starts with
// when it is a BEGIN, COMMIT, END or ROLLBACK made of words, whitespace
// and comments only, up to and including its ";" (or the end of s); else 0.
func TxStatementLen(s string) int {
	if !TxControlWords(s) {
		return 0
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ';':
			return i + 1
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == '_' ||
			c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
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
				return 0
			}
			i += j + 4
		default:
			return 0
		}
	}
	return len(s)
}

// txKind classifies a statement by its words: "begin" for BEGIN
// [DEFERRED|IMMEDIATE|EXCLUSIVE] [TRANSACTION], "commit" for COMMIT|END
// [TRANSACTION], "other" for any other transaction control (a BEGIN or
// COMMIT with more words, ROLLBACK not TO a savepoint), "" otherwise.
func txKind(words []string) string {
	if len(words) == 0 {
		return ""
	}
	rest := words[1:]
	switch words[0] {
	case "BEGIN":
		if len(rest) > 0 && (rest[0] == "DEFERRED" || rest[0] == "IMMEDIATE" || rest[0] == "EXCLUSIVE") {
			rest = rest[1:]
		}
		if len(rest) > 0 && rest[0] == "TRANSACTION" {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return "begin"
		}
		return "other"
	case "COMMIT", "END":
		if len(rest) > 0 && rest[0] == "TRANSACTION" {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return "commit"
		}
		return "other"
	case "ROLLBACK":
		for _, w := range rest {
			if w == "TO" {
				return ""
			}
		}
		return "other"
	}
	return ""
}

// isForeignKeysPragma reports whether words (after PRAGMA) name
// foreign_keys, optionally schema-qualified.
func isForeignKeysPragma(words []string) bool {
	if len(words) >= 3 && words[1] == "." {
		words = words[2:]
	}
	return len(words) > 0 && strings.Trim(words[0], `"`) == "FOREIGN_KEYS"
}

// sqlWords splits the start of a statement into upper-cased words and
// single punctuation characters, skipping whitespace and comments, up to
// its first ";". Quoted identifiers stay one word with their quotes;
// string literals end the scan (no transaction statement has one).
func sqlWords(s string) []string {
	var out []string
	for i := sqlutil.SkipTrivia(s, 0); i < len(s); i = sqlutil.SkipTrivia(s, i) {
		c := s[i]
		switch {
		case c == ';':
			return out
		case c == '"' || c == '`' || c == '[':
			end := map[byte]byte{'"': '"', '`': '`', '[': ']'}[c]
			j := strings.IndexByte(s[i+1:], end)
			if j < 0 {
				return append(out, strings.ToUpper(s[i:]))
			}
			out = append(out, `"`+strings.ToUpper(s[i+1:i+1+j])+`"`)
			i += j + 2
		case c == '\'':
			return append(out, "'")
		case c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= 0x80:
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '$' || s[j] >= '0' && s[j] <= '9' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 0x80) {
				j++
			}
			out = append(out, strings.ToUpper(s[i:j]))
			i = j
		default:
			out = append(out, string(c))
			i++
		}
	}
	return out
}

// oneLineSQL is stmt on one line, for messages.
func oneLineSQL(stmt string) string {
	return strings.TrimSpace(strings.TrimSuffix(strings.Join(strings.Fields(stmt), " "), ";"))
}
