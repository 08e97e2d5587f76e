package lint

import (
	"context"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/internal/sqlutil"
)

// A d1Drop is a DROP TABLE statement that, run the way D1 runs it (with
// foreign keys enforced), deletes or rewrites rows of other tables through
// their ON DELETE actions.
type d1Drop struct {
	table   string
	line    int
	deletes []string // child tables whose rows it deletes (CASCADE)
	updates []string // "child.column" it sets (SET NULL, SET DEFAULT)
}

// d1Run is what simulateD1 found.
type d1Run struct {
	drops []d1Drop
	err   error // the statement that fails with foreign keys enforced
	line  int
}

// probe collects what the authorizer reports while one statement compiles.
type probe struct {
	dropped     string
	deletes     []string
	updates     []string
	transaction bool
}

func (p *probe) authorize(action sqlite3.AuthorizerActionCode, a, b, _, inner string) sqlite3.AuthorizerReturnCode {
	internal := strings.EqualFold(a, "_migrations") || strings.HasPrefix(strings.ToLower(a), "sqlite_")
	switch {
	case action == sqlite3.AUTH_TRANSACTION:
		p.transaction = true
	case inner != "" || internal:
	case action == sqlite3.AUTH_DROP_TABLE:
		p.dropped = a
	case p.dropped == "" || strings.EqualFold(a, p.dropped):
	case action == sqlite3.AUTH_DELETE:
		p.deletes = append(p.deletes, a)
	case action == sqlite3.AUTH_UPDATE:
		p.updates = append(p.updates, a+"."+b)
	}
	return sqlite3.AUTH_OK
}

// simulateD1 runs an SQL part statement by statement the way D1 runs it:
// with foreign keys enforced (D1 cannot switch them off) and their checks
// deferred to the end, in a transaction that it rolls back. For every
// DROP TABLE, SQLite's authorizer reports the rows of other tables the
// drop's implicit DELETE would delete or update through ON DELETE
// actions, in the schema as it is at that statement (after a rename-aside,
// say), whether or not the scratch tables hold rows. It returns nil when
// it cannot tell: a Go migration (D1 runs SQL only), a rebuild directive
// (whose D1 form is L014's business), or transaction control.
func (r *runner) simulateD1(ctx context.Context, m *migrations.Migration, dir migrations.Direction) *d1Run {
	c := r.conn
	if m.IsCode() || m.NoForeignKeys || !c.GetAutocommit() {
		return nil
	}
	text, line := m.Up, m.UpLine
	if dir == migrations.Down {
		text, line = m.Down, m.DownLine
	}
	old := c.SetInterrupt(ctx)
	defer c.SetInterrupt(old)
	if on, err := sqlutil.PragmaInt(c, "foreign_keys"); err != nil {
		return nil
	} else if on == 0 {
		if c.Exec("PRAGMA foreign_keys=ON") != nil {
			return nil
		}
		defer c.Exec("PRAGMA foreign_keys=OFF")
	}
	p := &probe{}
	if c.SetAuthorizer(p.authorize) != nil {
		return nil
	}
	defer c.SetAuthorizer(r.rec.authorize)
	if c.Exec("BEGIN IMMEDIATE; PRAGMA defer_foreign_keys=ON") != nil {
		return nil
	}
	defer func() {
		if !c.GetAutocommit() {
			c.Exec("ROLLBACK")
		}
	}()

	run := &d1Run{}
	wrap := &migrations.TxWrapper{} // left out on D1 as everywhere
	for rest := text; ; {
		n := sqlutil.LeadingTrivia(rest)
		line += strings.Count(rest[:n], "\n")
		rest = rest[n:]
		if rest == "" {
			return run
		}
		if k := migrations.TxStatementLen(rest); k > 0 {
			if wrap.Statement(rest[:k], line) != migrations.TxSkip {
				return nil
			}
			line += strings.Count(rest[:k], "\n")
			rest = rest[k:]
			continue
		}
		*p = probe{}
		stmt, tail, err := c.Prepare(rest)
		if p.transaction {
			if stmt != nil {
				stmt.Close()
			}
			return nil
		}
		if stmt != nil && wrap.Statement(stmt.SQL(), line) != migrations.TxRun {
			stmt.Close()
			return nil
		}
		if err == nil && stmt != nil {
			err = stmt.Exec()
			stmt.Close()
		}
		if err != nil {
			run.err, run.line = err, line
			return run
		}
		if p.dropped != "" && len(p.deletes)+len(p.updates) > 0 {
			run.drops = append(run.drops, d1Drop{table: p.dropped, line: line, deletes: p.deletes, updates: p.updates})
		}
		if stmt == nil || len(tail) == len(rest) {
			return run
		}
		line += strings.Count(rest[:len(rest)-len(tail)], "\n")
		rest = tail
	}
}

// d1Findings turns a simulation into findings: L008 for a drop that
// deletes or rewrites rows of other tables (unless L015 reports the same
// drop), L020 for a statement that fails.
func d1Findings(s *step, run *d1Run, rebuilt map[string]bool) {
	if run == nil {
		return
	}
	for _, d := range run.drops {
		if rebuilt[strings.ToLower(d.table)] {
			continue
		}
		var what []string
		if len(d.deletes) > 0 {
			what = append(what, "deletes the rows of "+strings.Join(dedupe(d.deletes), ", ")+" (ON DELETE CASCADE)")
		}
		if len(d.updates) > 0 {
			what = append(what, "rewrites "+strings.Join(dedupe(d.updates), ", ")+" (ON DELETE SET NULL or SET DEFAULT)")
		}
		s.add("L008", d.table, "on D1 (always), line %d: DROP TABLE %s runs with foreign keys enforced and %s", d.line, d.table, strings.Join(what, " and "))
	}
	if run.err != nil {
		s.add("L020", "", "on D1, where foreign keys are always enforced, line %d fails: %s", run.line, oneLine(run.err.Error()))
	}
}

func dedupe(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if k := strings.ToLower(s); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}
