// Package compat checks that the queries one release of an app runs still
// work against the schema the next release's migrations produce
// (`larder migrate compat`): the mechanical form of "deploy the new
// migrations while the old code is still running".
//
// [Check] builds the schema at version Since in an in-memory database and
// applies the newer migrations one at a time. After each it prepares every
// query (a missing table or column fails here), and runs each write inside
// a savepoint that is rolled back, twice: on empty tables (an INSERT that
// no longer sets a new NOT NULL column fails) and with one sample row in
// every table (an UPDATE that now breaks a NOT NULL or CHECK constraint
// fails). Parameters get sample values from the declared type of the
// column whose name they carry (":email" binds like the email column);
// other parameters bind 1. Foreign keys are off while writes run: with
// empty parent tables every reference would fail. A query is reported
// broken by the first migration after which it fails while it worked on the
// base schema.
//
// With Reverse, the queries are the new release's and the direction flips:
// they must work on the newest schema, and Check reports the migration each
// one needs, the one without which it fails: what breaks if the code is
// deployed before its migrations run, or the migrations are rolled back.
package compat

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/internal/sqlutil"
	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

// Options tune Check.
type Options struct {
	// Since is the base version: the newest migration of the release the
	// queries were written for. 0 means the second newest migration, so
	// that only the newest one is checked.
	Since int64
	// Reverse checks new queries against older schemas.
	Reverse bool
}

// A Problem is a query that fails.
type Problem struct {
	Query     string `json:"query"`
	File      string `json:"file,omitempty"`
	Line      int    `json:"line"`
	Version   int64  `json:"version"`   // the migration that breaks it (Reverse: that it needs); the base version for Invalid and Unchecked
	Migration string `json:"migration"` // its label, "" for the base
	Phase     string `json:"phase"`     // "prepare", "write", or "write with sample rows"
	Error     string `json:"error"`
	Code      string `json:"code,omitempty"` // SQLite's extended code name
}

func (p Problem) String() string {
	where := p.Migration
	if where == "" {
		where = fmt.Sprintf("schema at version %d", p.Version)
	}
	return fmt.Sprintf("%s (%s:%d): %s: %s: %s", p.Query, p.File, p.Line, where, p.Phase, p.Error)
}

// A Report is the outcome of Check.
type Report struct {
	Since   int64 `json:"since"`
	Newest  int64 `json:"newest"`
	Reverse bool  `json:"reverse"`
	Queries int   `json:"queries"`
	// Broken are queries that work on the base schema and fail after a
	// migration (Reverse: fail without one).
	Broken []Problem `json:"broken"`
	// Invalid are queries that fail on the base schema itself: a wrong
	// queries file or a wrong Since.
	Invalid []Problem `json:"invalid"`
	// Unchecked are writes that fail on the base schema with the sample
	// parameters (a CHECK the samples do not satisfy, say): only their
	// preparation is checked.
	Unchecked []Problem `json:"unchecked"`
}

// OK reports whether every query passed.
func (r *Report) OK() bool { return len(r.Broken) == 0 && len(r.Invalid) == 0 }

// result is one query evaluated against one schema.
type result struct {
	prepare, write, seeded error
}

// Check runs queries against the schemas of migs after version opts.Since.
func Check(ctx context.Context, migs []*migrations.Migration, queries []Query, opts Options) (*Report, error) {
	sorted, err := migrations.Sort(migs)
	if err != nil {
		return nil, err
	}
	if len(sorted) == 0 {
		return nil, fmt.Errorf("compat: %w", migrations.ErrNoMigrations)
	}
	since := opts.Since
	if since == 0 {
		if len(sorted) < 2 {
			return nil, fmt.Errorf("compat: only one migration, so no base version before it: pass --since (Options.Since)")
		}
		since = sorted[len(sorted)-2].Version
	}
	base := slices.IndexFunc(sorted, func(m *migrations.Migration) bool { return m.Version == since })
	if base < 0 {
		return nil, fmt.Errorf("compat: since %d: %w", since, migrations.ErrUnknownVersion)
	}
	if base == len(sorted)-1 {
		return nil, fmt.Errorf("compat: since %d is the newest migration: nothing to check", since)
	}

	conn, err := sqlite.Open(":memory:")
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	p, err := migrations.NewProvider(sqlite.NewStore(conn), sorted, migrations.Options{})
	if err != nil {
		return nil, err
	}
	// results[i][q]: query q on the schema after sorted[base+i].
	var results [][]result
	for i := base; i < len(sorted); i++ {
		if _, err := p.Up(ctx, sorted[i].Version); err != nil {
			return nil, fmt.Errorf("compat: build the schema: %w", err)
		}
		rs, err := evaluate(ctx, conn, queries)
		if err != nil {
			return nil, err
		}
		results = append(results, rs)
	}

	rep := &Report{Since: since, Newest: sorted[len(sorted)-1].Version, Reverse: opts.Reverse, Queries: len(queries)}
	baseVersion := since
	if opts.Reverse {
		baseVersion = rep.Newest
	}
	problem := func(q Query, m *migrations.Migration, phase string, err error) Problem {
		pr := Problem{Query: q.Name, File: q.File, Line: q.Line, Version: baseVersion, Phase: phase, Error: oneLine(err), Code: sqlite.CodeName(err)}
		if m != nil {
			pr.Version, pr.Migration = m.Version, m.Label()
		}
		return pr
	}
	last := len(results) - 1
	for qi, q := range queries {
		// The schemas in the order the check walks them, and for each the
		// migration to blame when the query fails there.
		order, blame := make([]int, 0, len(results)), map[int]*migrations.Migration{}
		start := 0
		if opts.Reverse {
			start = last
			for i := last - 1; i >= 0; i-- {
				order = append(order, i)
				blame[i] = sorted[base+i+1] // the migration this schema lacks
			}
		} else {
			for i := 1; i <= last; i++ {
				order = append(order, i)
				blame[i] = sorted[base+i]
			}
		}
		b := results[start][qi]
		if b.prepare != nil {
			rep.Invalid = append(rep.Invalid, problem(q, nil, "prepare", b.prepare))
			continue
		}
		if b.write != nil {
			rep.Unchecked = append(rep.Unchecked, problem(q, nil, "write", b.write))
		} else if b.seeded != nil {
			rep.Unchecked = append(rep.Unchecked, problem(q, nil, "write with sample rows", b.seeded))
		}
		for _, i := range order {
			r := results[i][qi]
			switch {
			case r.prepare != nil:
				rep.Broken = append(rep.Broken, problem(q, blame[i], "prepare", r.prepare))
			case r.write != nil && b.write == nil:
				rep.Broken = append(rep.Broken, problem(q, blame[i], "write", r.write))
			case r.seeded != nil && b.seeded == nil && b.write == nil:
				rep.Broken = append(rep.Broken, problem(q, blame[i], "write with sample rows", r.seeded))
			default:
				continue
			}
			break
		}
	}
	return rep, nil
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// evaluate prepares every query on conn's current schema and exercises the
// writes.
func evaluate(ctx context.Context, conn *sqlite3.Conn, queries []Query) ([]result, error) {
	s, err := schema.Read(ctx, conn)
	if err != nil {
		return nil, err
	}
	types := columnTypes(s)
	out := make([]result, len(queries))
	for i, q := range queries {
		stmt, tail, err := conn.Prepare(q.SQL)
		if err == nil && stmt == nil {
			err = fmt.Errorf("no statement")
		}
		if err == nil && sqlutil.LeadingTrivia(tail) < len(tail) {
			err = fmt.Errorf("more than one statement (a query is one statement)")
		}
		if err != nil {
			if stmt != nil {
				stmt.Close()
			}
			out[i].prepare = err
			continue
		}
		if !stmt.ReadOnly() {
			out[i].write, err = tryWrite(conn, stmt, s, types, false)
			if err == nil {
				out[i].seeded, err = tryWrite(conn, stmt, s, types, true)
			}
		}
		stmt.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// tryWrite runs stmt once inside a savepoint that it rolls back, with
// foreign keys off. The first error is the statement's, the second one
// of the harness.
func tryWrite(conn *sqlite3.Conn, stmt *sqlite3.Stmt, s *schema.Schema, types map[string]string, seed bool) (werr, err error) {
	if err := conn.Exec("PRAGMA foreign_keys=OFF; SAVEPOINT larder_compat"); err != nil {
		return nil, err
	}
	defer func() {
		if e := conn.Exec("ROLLBACK TO larder_compat; RELEASE larder_compat; PRAGMA foreign_keys=ON"); e != nil && err == nil {
			err = e
		}
	}()
	if seed {
		seedRows(conn, s)
	}
	stmt.Reset()
	stmt.ClearBindings()
	for i := 1; i <= stmt.BindCount(); i++ {
		name := strings.TrimLeft(stmt.BindName(i), ":@$?0123456789")
		if err := sqlite.BindValue(stmt, i, sampleFor(types[strings.ToLower(name)], name)); err != nil {
			return nil, err
		}
	}
	for stmt.Step() {
	}
	werr = stmt.Err()
	stmt.Reset()
	return werr, nil
}

// seedRows inserts one row of sample values into every table, ignoring
// failures (a CHECK the samples do not meet): best effort, so that UPDATE
// and DELETE statements have a row to work on.
func seedRows(conn *sqlite3.Conn, s *schema.Schema) {
	for _, t := range s.Tables {
		if strings.EqualFold(t.Name, "_migrations") {
			continue
		}
		var cols, marks []string
		var vals []any
		for _, c := range t.Columns {
			if c.Hidden != 0 {
				continue
			}
			cols = append(cols, sqlutil.Quote(c.Name))
			marks = append(marks, "?")
			vals = append(vals, sampleFor(c.Type, c.Name))
		}
		if len(cols) == 0 {
			continue
		}
		stmt, _, err := conn.Prepare(fmt.Sprintf("INSERT OR IGNORE INTO %s (%s) VALUES (%s)",
			sqlutil.Quote(t.Name), strings.Join(cols, ", "), strings.Join(marks, ", ")))
		if err != nil {
			continue
		}
		for i, v := range vals {
			sqlite.BindValue(stmt, i+1, v)
		}
		stmt.Exec()
		stmt.Close()
	}
}

// columnTypes maps a column name to its declared type, the first one in
// table order when several tables share the name.
func columnTypes(s *schema.Schema) map[string]string {
	m := map[string]string{}
	for _, t := range s.Tables {
		for _, c := range t.Columns {
			if _, ok := m[strings.ToLower(c.Name)]; !ok {
				m[strings.ToLower(c.Name)] = c.Type
			}
		}
	}
	return m
}

// sampleFor is a value of the type SQLite's affinity rules give declType
// (https://sqlite.org/datatype3.html#determination_of_column_affinity).
func sampleFor(declType, name string) any {
	t := strings.ToUpper(declType)
	n := strings.ToLower(name)
	switch {
	case strings.Contains(t, "INT"):
		return int64(1)
	case strings.Contains(t, "CHAR"), strings.Contains(t, "CLOB"), strings.Contains(t, "TEXT"):
		if strings.HasSuffix(n, "_at") || strings.Contains(n, "date") || strings.Contains(n, "time") {
			return "2026-01-01T00:00:00.000Z"
		}
		return "x"
	case strings.Contains(t, "BLOB"):
		return []byte{1}
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"):
		return 1.5
	}
	return int64(1)
}
