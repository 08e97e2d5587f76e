package sqlite

import (
	"fmt"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations/internal/sqlutil"
)

// sessionPragmas are the per-connection settings a migration may change
// and the next one must not inherit (https://sqlite.org/pragma.html). Each
// is read before a migration and set back after it if it changed.
// journal_mode is not among them: it is a property of the database file
// that a migration sets on purpose (see Migration.NoTransaction).
var sessionPragmas = []string{
	"legacy_alter_table",
	"defer_foreign_keys",
	"recursive_triggers",
	"reverse_unordered_selects",
	"ignore_check_constraints",
	"automatic_index",
	"query_only",
	"trusted_schema",
	"writable_schema",
	"cell_size_check",
	"secure_delete",
	"synchronous",
	"temp_store",
}

// connState is the connection state saved before a migration and put back
// after it, so that every migration starts from the same state whether it
// runs in one `up` with others or on its own.
type connState struct {
	pragmas       map[string]int64
	likeSensitive bool
	temp          map[string]bool // "type name" of temp objects that existed
	fkOff         bool            // enforcement was on and was switched off
}

// saveState reads the state to restore. With foreignKeysOff it also
// switches foreign key enforcement off, which only works outside a
// transaction, remembering to switch it back on.
func saveState(c *sqlite3.Conn, foreignKeysOff bool) (*connState, error) {
	st := &connState{pragmas: make(map[string]int64, len(sessionPragmas))}
	for _, p := range sessionPragmas {
		v, err := sqlutil.PragmaInt(c, p)
		if err != nil {
			return nil, fmt.Errorf("read PRAGMA %s: %w", p, err)
		}
		st.pragmas[p] = v
	}
	var err error
	if st.likeSensitive, err = likeIsCaseSensitive(c); err != nil {
		return nil, err
	}
	if st.temp, err = tempObjects(c); err != nil {
		return nil, err
	}
	if foreignKeysOff {
		on, err := sqlutil.PragmaInt(c, "foreign_keys")
		if err != nil {
			return nil, fmt.Errorf("read PRAGMA foreign_keys: %w", err)
		}
		if on == 1 {
			if err := c.Exec("PRAGMA foreign_keys = OFF"); err != nil {
				return nil, fmt.Errorf("PRAGMA foreign_keys = OFF: %w", err)
			}
			st.fkOff = true
		}
	}
	return st, nil
}

// restore drops the temp objects created since saveState, sets back the
// pragmas that changed and switches foreign keys back on. It runs after
// the migration's transaction ended (committed or rolled back), and keeps
// going after an error, returning the first.
func (st *connState) restore(c *sqlite3.Conn) error {
	var first error
	note := func(what string, err error) {
		if err != nil && first == nil {
			first = fmt.Errorf("restore connection state: %s: %w", what, err)
		}
	}
	if !c.GetAutocommit() {
		note("ROLLBACK", c.Exec("ROLLBACK"))
	}
	now, err := tempObjects(c)
	note("list temp objects", err)
	// Triggers and views first: dropping a table drops its own triggers.
	for _, kind := range []string{"trigger", "view", "table"} {
		for key := range now {
			typ, name, _ := strings.Cut(key, " ")
			if typ != kind || st.temp[key] {
				continue
			}
			stmt := fmt.Sprintf("DROP %s IF EXISTS temp.%s", strings.ToUpper(typ), sqlutil.Quote(name))
			note(stmt, c.Exec(stmt))
		}
	}
	for _, p := range sessionPragmas {
		v, err := sqlutil.PragmaInt(c, p)
		if err != nil {
			note("read PRAGMA "+p, err)
			continue
		}
		if v != st.pragmas[p] {
			stmt := fmt.Sprintf("PRAGMA %s = %d", p, st.pragmas[p])
			note(stmt, c.Exec(stmt))
		}
	}
	if sens, err := likeIsCaseSensitive(c); err != nil {
		note("LIKE", err)
	} else if sens != st.likeSensitive {
		stmt := "PRAGMA case_sensitive_like = " + map[bool]string{true: "ON", false: "OFF"}[st.likeSensitive]
		note(stmt, c.Exec(stmt))
	}
	if st.fkOff {
		note("PRAGMA foreign_keys = ON", c.Exec("PRAGMA foreign_keys = ON"))
	}
	return first
}

// likeIsCaseSensitive reads PRAGMA case_sensitive_like, which cannot be
// queried, from LIKE's behaviour.
func likeIsCaseSensitive(c *sqlite3.Conn) (bool, error) {
	stmt, _, err := c.Prepare("SELECT 'a' LIKE 'A'")
	if err != nil {
		return false, err
	}
	defer stmt.Close()
	if !stmt.Step() {
		return false, stmt.Err()
	}
	return stmt.ColumnInt64(0) == 0, nil
}

func tempObjects(c *sqlite3.Conn) (map[string]bool, error) {
	stmt, _, err := c.Prepare("SELECT type, name FROM temp.sqlite_schema WHERE type IN ('table', 'view', 'trigger')")
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	out := map[string]bool{}
	for stmt.Step() {
		out[stmt.ColumnText(0)+" "+stmt.ColumnText(1)] = true
	}
	return out, stmt.Err()
}

// setsForeignKeys reports whether stmt (trimmed, comments before it
// removed) is PRAGMA foreign_keys = VALUE (or (VALUE)), not one that only
// reads it, and returns VALUE. It matches by hand what the regular
// expression
//
//	(?is)^PRAGMA\s+(?:(?:"?main"?|"?temp"?)\s*\.\s*)?"?foreign_keys"?\s*(?:=|\()\s*(.*?)\s*\)?\s*;?$
//
// matches, with ASCII case folding (package regexp would add about 0.5 MB
// to larder.wasm; state_test.go checks the two agree).
func setsForeignKeys(stmt string) (string, bool) {
	p := pragmaScanner{s: stmt}
	if !p.word("PRAGMA") || p.space() == 0 {
		return "", false
	}
	if at := p.i; !p.schema() {
		p.i = at
	}
	p.quote()
	if !p.word("foreign_keys") {
		return "", false
	}
	p.quote()
	p.space()
	if !p.byte('=') && !p.byte('(') {
		return "", false
	}
	p.space()
	v := p.s[p.i:]
	// The value ends before [space] [)] [space] [;] at the end.
	v = strings.TrimSuffix(v, ";")
	v = strings.TrimRight(v, pragmaSpace)
	v = strings.TrimSuffix(v, ")")
	v = strings.TrimRight(v, pragmaSpace)
	return strings.Trim(v, `'"`), true
}

// pragmaSpace is \s of package regexp (RE2): no vertical tab.
const pragmaSpace = "\t\n\f\r "

type pragmaScanner struct {
	s string
	i int
}

// word consumes w, ASCII case-insensitively.
func (p *pragmaScanner) word(w string) bool {
	if len(p.s)-p.i < len(w) || !strings.EqualFold(p.s[p.i:p.i+len(w)], w) {
		return false
	}
	p.i += len(w)
	return true
}

func (p *pragmaScanner) byte(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pragmaScanner) quote() { p.byte('"') }

func (p *pragmaScanner) space() int {
	n := 0
	for p.i < len(p.s) && strings.IndexByte(pragmaSpace, p.s[p.i]) >= 0 {
		p.i++
		n++
	}
	return n
}

// schema consumes ["]main["] or ["]temp["], space, a dot and space.
func (p *pragmaScanner) schema() bool {
	p.quote()
	if !p.word("main") && !p.word("temp") {
		return false
	}
	p.quote()
	p.space()
	if !p.byte('.') {
		return false
	}
	p.space()
	return true
}
