// Package lint finds destructive and backward-incompatible changes in
// migrations before they ship (`larder migrate lint`).
//
// It does not parse SQL. It applies the migrations one at a time to an
// in-memory database with the same engine that runs them for real, and
// compares SQLite's catalog before and after each one (package
// migrations/schema: sqlite_schema, pragma_table_xinfo, pragma_index_list,
// pragma_foreign_key_list). What the catalog cannot show (a table dropped
// and created again, a PRAGMA, an UPDATE that backfills a column) it learns
// from SQLite's authorizer callback (https://sqlite.org/c3ref/set_authorizer.html),
// which SQLite calls for every action of every statement it compiles.
//
// Each [Finding] has a stable code (see [Rules]), a severity, the
// migration, and a one-line fix hint. Findings that make a migration
// incompatible with code written for the schema before it (dropped or
// renamed tables and columns, new NOT NULL columns without a default,
// columns made NOT NULL) are warnings in a migration marked
// "-- migrate:breaking" and add the error L010 in one that is not: the
// marking is the acknowledgement. Findings that lose data or do nothing
// whatever the marking (a drop that fires ON DELETE CASCADE, PRAGMA
// foreign_keys inside a migration, a NOT NULL without backfill) are
// errors. Statements Cloudflare D1 refuses are warnings.
package lint

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/rebuild"
	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

// A Finding is one problem in one migration.
type Finding struct {
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	Severity  Severity `json:"severity"`
	Version   int64    `json:"version"`
	Migration string   `json:"migration"`        // "0003_drop_tags"
	Object    string   `json:"object,omitempty"` // "note", "note.body"
	Message   string   `json:"message"`
	Hint      string   `json:"hint"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s %s [%s]: %s\n    fix: %s", f.Migration, f.Code, f.Severity, f.Name, f.Message, f.Hint)
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Severity == Error })
}

// Lint checks every migration of migs against the schema the ones before it
// produce, in version order. It stops at a migration that fails to apply
// (L000): the ones after it have no schema to be checked against. The
// error is for problems of lint itself (a malformed set of migrations).
func Lint(ctx context.Context, migs []*migrations.Migration) ([]Finding, error) {
	sorted, err := migrations.Sort(migs)
	if err != nil {
		return nil, err
	}
	if len(sorted) == 0 {
		return nil, fmt.Errorf("lint: %w", migrations.ErrNoMigrations)
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
	rec := &recorder{}
	if err := conn.SetAuthorizer(rec.authorize); err != nil {
		return nil, err
	}
	ctx = rebuild.WithObserver(ctx, rec.observe)

	if _, err := p.Status(ctx); err != nil { // creates _migrations
		return nil, err
	}
	before, err := schema.Read(ctx, conn)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, m := range sorted {
		rec.reset()
		if _, err := p.Up(ctx, m.Version); err != nil {
			out = append(out, finding(m, "L000", "", "%s", oneLine(err.Error())))
			break
		}
		after, err := schema.Read(ctx, conn)
		if err != nil {
			return nil, err
		}
		out = append(out, check(m, before, after, rec)...)
		before = after
	}
	return out, nil
}

func finding(m *migrations.Migration, code, object, format string, args ...any) Finding {
	r := rule(code)
	return Finding{Code: r.Code, Name: r.Name, Severity: r.Severity, Version: m.Version,
		Migration: m.Label(), Object: object, Message: fmt.Sprintf(format, args...), Hint: r.Hint}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// recorder collects what the authorizer reports while a migration's own
// statements compile: from the store's BEGIN to its COMMIT, leaving out the
// store's bookkeeping and the statements of rebuilds.
type recorder struct {
	active    bool
	inRebuild int
	dropped   []string          // DROP TABLE, in order
	altered   map[string]bool   // ALTER TABLE (rename, add/drop/rename column)
	updated   map[string]bool   // "table.column" written by UPDATE
	pragmas   map[string]string // PRAGMA name -> argument
	txControl []string          // BEGIN / SAVEPOINT / RELEASE inside the migration
	functions map[string]bool
	rebuilds  []rebuild.Spec
}

func (r *recorder) reset() {
	*r = recorder{altered: map[string]bool{}, updated: map[string]bool{}, pragmas: map[string]string{}, functions: map[string]bool{}}
}

func (r *recorder) observe(spec rebuild.Spec, _ error, done bool) {
	if done {
		r.inRebuild--
		return
	}
	r.inRebuild++
	if r.active {
		r.rebuilds = append(r.rebuilds, spec)
	}
}

func (r *recorder) authorize(action sqlite3.AuthorizerActionCode, a, b, _, inner string) sqlite3.AuthorizerReturnCode {
	if action == sqlite3.AUTH_TRANSACTION {
		switch {
		case !r.active && a == "BEGIN":
			r.active = true // the store's BEGIN IMMEDIATE
		case r.active && a == "BEGIN":
			r.txControl = append(r.txControl, "BEGIN")
		case r.active:
			r.active = false // the store's COMMIT or ROLLBACK
		}
		return sqlite3.AUTH_OK
	}
	if !r.active || r.inRebuild > 0 || inner != "" {
		return sqlite3.AUTH_OK
	}
	internal := func(table string) bool {
		t := strings.ToLower(table)
		return t == "_migrations" || strings.HasPrefix(t, "sqlite_")
	}
	switch action {
	case sqlite3.AUTH_DROP_TABLE:
		if !internal(a) {
			r.dropped = append(r.dropped, a)
		}
	case sqlite3.AUTH_ALTER_TABLE:
		r.altered[strings.ToLower(b)] = true
	case sqlite3.AUTH_UPDATE:
		if !internal(a) {
			r.updated[strings.ToLower(a+"."+b)] = true
		}
	case sqlite3.AUTH_PRAGMA:
		// The store's own check before COMMIT with NoForeignKeys.
		if !(a == "foreign_key_check" && b == "") {
			r.pragmas[strings.ToLower(a)] = b
		}
	case sqlite3.AUTH_SAVEPOINT:
		op := map[string]string{"BEGIN": "SAVEPOINT", "RELEASE": "RELEASE", "ROLLBACK": "ROLLBACK TO"}[a]
		r.txControl = append(r.txControl, op+" "+b)
	case sqlite3.AUTH_FUNCTION:
		r.functions[strings.ToLower(b)] = true
	}
	return sqlite3.AUTH_OK
}

// check compares the schema before and after m.
func check(m *migrations.Migration, before, after *schema.Schema, rec *recorder) []Finding {
	var out []Finding
	add := func(code, object, format string, args ...any) {
		out = append(out, finding(m, code, object, format, args...))
	}

	var newTables []*schema.Table
	for _, t := range after.Tables {
		if before.Table(t.Name) == nil {
			newTables = append(newTables, t)
		}
	}
	for _, bt := range before.Tables {
		if strings.EqualFold(bt.Name, "_migrations") {
			continue
		}
		at := after.Table(bt.Name)
		if at == nil {
			if rec.altered[strings.ToLower(bt.Name)] {
				if n := sameColumns(bt, newTables); n != nil {
					add("L003", bt.Name, "table %s is renamed to %s", bt.Name, n.Name)
					continue
				}
			}
			add("L001", bt.Name, "table %s is dropped", bt.Name)
			continue
		}
		out = append(out, checkTable(m, bt, at, rec)...)
	}

	// A DROP TABLE with foreign keys on runs an implicit DELETE: ON DELETE
	// actions of child tables that survive the migration fire.
	if !m.NoForeignKeys {
		for _, d := range rec.dropped {
			for _, child := range before.Tables {
				if strings.EqualFold(child.Name, d) || after.Table(child.Name) == nil {
					continue
				}
				for _, fk := range child.ForeignKeys {
					act := strings.ToUpper(fk.OnDelete)
					if strings.EqualFold(fk.Parent, d) && (act == "CASCADE" || act == "SET NULL" || act == "SET DEFAULT") {
						add("L008", d, "DROP TABLE %s runs with foreign keys on: ON DELETE %s on %s(%s) %s its rows",
							d, act, child.Name, strings.Join(fk.From, ", "), map[bool]string{true: "deletes", false: "rewrites"}[act == "CASCADE"])
					}
				}
			}
		}
	}

	for _, spec := range rec.rebuilds {
		for _, child := range before.Tables {
			if strings.EqualFold(child.Name, spec.Table) {
				continue
			}
			for _, fk := range child.ForeignKeys {
				act := strings.ToUpper(fk.OnDelete)
				if strings.EqualFold(fk.Parent, spec.Table) && (act == "CASCADE" || act == "SET NULL" || act == "SET DEFAULT") {
					add("L014", spec.Table, "rebuild of %s: on D1 its DROP TABLE fires ON DELETE %s on %s(%s)",
						spec.Table, act, child.Name, strings.Join(fk.From, ", "))
				}
			}
		}
	}

	if v, ok := rec.pragmas["foreign_keys"]; ok && v != "" {
		add("L009", "", "PRAGMA foreign_keys = %s inside the migration's transaction does nothing", v)
	}
	names := make([]string, 0, len(rec.pragmas))
	for p := range rec.pragmas {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		if !d1Pragmas[p] && !(p == "foreign_keys" && rec.pragmas[p] != "") {
			add("L012", "", "PRAGMA %s is refused by Cloudflare D1", p)
		}
	}
	for _, tc := range rec.txControl {
		add("L011", "", "%s inside a migration", strings.TrimSpace(tc))
	}
	if rec.functions["sqlite_version"] {
		add("L013", "", "sqlite_version() is refused by Cloudflare D1")
	}

	var incompatible []string
	for _, f := range out {
		if rule(f.Code).Incompatible && !slices.Contains(incompatible, f.Code) {
			incompatible = append(incompatible, f.Code)
		}
	}
	if len(incompatible) > 0 && !m.Breaking {
		add("L010", "", "incompatible with code written for the schema before it (%s) but not marked -- migrate:breaking",
			strings.Join(incompatible, ", "))
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// sameColumns finds the new table with exactly the columns of t: the
// target of a rename.
func sameColumns(t *schema.Table, candidates []*schema.Table) *schema.Table {
	var found *schema.Table
	for _, n := range candidates {
		if slices.EqualFunc(t.Columns, n.Columns, func(a, b schema.Column) bool {
			return strings.EqualFold(a.Name, b.Name) && strings.EqualFold(a.Type, b.Type)
		}) {
			if found != nil {
				return nil // ambiguous
			}
			found = n
		}
	}
	return found
}

func checkTable(m *migrations.Migration, bt, at *schema.Table, rec *recorder) []Finding {
	var out []Finding
	add := func(code, object, format string, args ...any) {
		out = append(out, finding(m, code, object, format, args...))
	}
	// The mapping of a rebuild of this table, if any.
	mapping := map[string]string{}
	for _, s := range rec.rebuilds {
		if strings.EqualFold(s.Table, bt.Name) {
			for k, v := range s.Columns {
				mapping[strings.ToLower(k)] = strings.TrimSpace(v)
			}
		}
	}
	var removed, added []schema.Column
	for _, c := range bt.Columns {
		if at.Column(c.Name) == nil {
			removed = append(removed, c)
		}
	}
	for _, c := range at.Columns {
		if bt.Column(c.Name) == nil {
			added = append(added, c)
		}
	}
	renamedTo := map[string]string{} // new name -> old name
	for _, r := range removed {
		var to string
		for _, a := range added {
			if bareColumn(mapping[strings.ToLower(a.Name)], r.Name) {
				to = a.Name
			}
		}
		// ALTER TABLE RENAME COLUMN keeps the column's position and type.
		if to == "" && rec.altered[strings.ToLower(bt.Name)] && len(bt.Columns) == len(at.Columns) {
			i := slices.IndexFunc(bt.Columns, func(c schema.Column) bool { return c.Name == r.Name })
			if n := at.Columns[i]; bt.Column(n.Name) == nil && strings.EqualFold(n.Type, r.Type) {
				to = n.Name
			}
		}
		if to != "" {
			renamedTo[strings.ToLower(to)] = r.Name
			add("L004", bt.Name+"."+r.Name, "column %s.%s is renamed to %s", bt.Name, r.Name, to)
		} else {
			add("L002", bt.Name+"."+r.Name, "column %s.%s is dropped", bt.Name, r.Name)
		}
	}
	for _, a := range added {
		if _, ok := renamedTo[strings.ToLower(a.Name)]; ok {
			continue
		}
		if a.NotNull && a.Default == nil && !a.Generated() && a.PK == 0 {
			add("L005", bt.Name+"."+a.Name, "column %s.%s is NOT NULL without a DEFAULT: inserts from older code fail", bt.Name, a.Name)
		}
	}
	for _, ac := range at.Columns {
		old := ac.Name
		if o, ok := renamedTo[strings.ToLower(ac.Name)]; ok {
			old = o
		}
		bc := bt.Column(old)
		if bc == nil || bc.NotNull || !ac.NotNull || ac.PK > 0 || ac.Generated() {
			continue
		}
		backfilled := rec.updated[strings.ToLower(bt.Name+"."+old)] || rec.updated[strings.ToLower(bt.Name+"."+ac.Name)]
		if e, ok := mapping[strings.ToLower(ac.Name)]; ok && !bareColumn(e, "") {
			backfilled = true
		}
		f := finding(m, "L006", bt.Name+"."+ac.Name, "column %s.%s is made NOT NULL", bt.Name, ac.Name)
		if backfilled {
			f.Severity = Warning
			f.Message += " (backfilled in the migration; older code writing NULL fails)"
		} else {
			f.Message += " without a backfill: existing NULLs make the migration fail"
		}
		out = append(out, f)
	}
	for _, ix := range at.Indexes {
		if !ix.Unique || ix.Origin == "pk" {
			continue
		}
		if !slices.ContainsFunc(bt.Indexes, func(o schema.Index) bool {
			return o.Unique && slices.EqualFunc(o.Columns, ix.Columns, func(x, y string) bool {
				return strings.EqualFold(x, y) || strings.EqualFold(renamedTo[strings.ToLower(y)], x)
			})
		}) {
			name := ix.Name
			if ix.Origin != "c" {
				name = "UNIQUE constraint"
			}
			add("L007", bt.Name, "%s on %s(%s), a table that existed before: existing duplicates make the migration fail",
				name, bt.Name, strings.Join(ix.Columns, ", "))
		}
	}
	return out
}

// bareColumn reports whether expr is just a column name (name when not
// empty): a rename in a rebuild mapping rather than a computed value.
func bareColumn(expr, name string) bool {
	e := strings.TrimSpace(expr)
	if len(e) >= 2 && (e[0] == '"' && e[len(e)-1] == '"' || e[0] == '`' && e[len(e)-1] == '`' || e[0] == '[' && e[len(e)-1] == ']') {
		e = e[1 : len(e)-1]
	} else if e == "" || strings.IndexFunc(e, func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r >= 0x80)
	}) >= 0 || e[0] >= '0' && e[0] <= '9' {
		return false
	}
	return name == "" || strings.EqualFold(e, name)
}
