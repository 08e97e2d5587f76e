// Package rebuild changes an SQLite table into a new shape in place, with
// SQLite's generalized 12-step ALTER TABLE procedure
// (https://sqlite.org/lang_altertable.html#otheralter): for what ALTER
// TABLE cannot do (change a type or a constraint, make a column NOT NULL,
// reorder, rename and drop several columns at once) without version-suffixed
// tables that abandon data and without hand-written copy SQL.
//
// [Table] runs inside a migration's transaction, with foreign keys already
// off: set [migrations.Migration.NoForeignKeys] on a Go migration (the
// SQLite store then turns enforcement off before BEGIN, because
// PRAGMA foreign_keys is a no-op inside a transaction, and runs
// PRAGMA foreign_key_check before COMMIT). In .sql files write the
// "-- migrate:rebuild" directive ([migrations.RebuildDirective]); the
// store recognises it and calls [Statement].
//
// The steps: remember the table's indexes and triggers; create the new table
// under a temporary name; copy the rows with the column mapping (rowids are
// kept); drop the old table (no ON DELETE action fires: foreign keys are
// off); rename the new table to the old name with legacy_alter_table on, so
// that views and triggers elsewhere that name the table are left as written;
// recreate the indexes and triggers; check that every view still compiles;
// check the foreign keys that involve the table.
package rebuild

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/internal/sqlutil"
)

// A Spec describes one rebuild.
type Spec struct {
	// Table is the existing table.
	Table string
	// Definition is the CREATE TABLE statement of the new shape. It names
	// Table (the rebuild is in place; to rename, ALTER TABLE RENAME after).
	Definition string
	// Columns maps a column of the new table to an SQL expression over the
	// old table's columns: "author" to rename author to this column,
	// "coalesce(score, 0)" to backfill. New columns left out are copied
	// from the old column of the same name when there is one, else get
	// their DEFAULT. Old columns that nothing uses are dropped.
	Columns map[string]string
}

// Sentinel errors of a rebuild; the returned *Error wraps one of them or
// SQLite's error.
var (
	ErrNotInTransaction = errors.New("a rebuild must run inside the migration's transaction")
	ErrForeignKeysOn    = errors.New("foreign keys are on: dropping the old table would fire ON DELETE actions in child tables; set NoForeignKeys on the migration (PRAGMA foreign_keys is a no-op inside a transaction)")
	ErrNoTable          = errors.New("no such table")
	ErrBadDefinition    = errors.New("bad new definition")
	ErrBadMapping       = errors.New("bad column mapping")
)

// Error is a failed rebuild: which table, which step.
type Error struct {
	Table string
	Step  string // "copy rows", "recreate index tag_name", …
	Err   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("rebuild %s: %s: %v", e.Table, e.Step, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Table rebuilds spec.Table into spec.Definition on conn, which must be
// inside a transaction with foreign keys off. On error the caller rolls the
// transaction back; nothing of the rebuild stays.
func Table(ctx context.Context, conn *sqlite3.Conn, spec Spec) (err error) {
	if f, _ := ctx.Value(observerKey{}).(func(Spec, error, bool)); f != nil {
		f(spec, nil, false)
		defer func() { f(spec, err, true) }()
	}
	old := conn.SetInterrupt(ctx)
	defer conn.SetInterrupt(old)
	fail := func(step string, err error) error { return &Error{Table: spec.Table, Step: step, Err: err} }

	if conn.GetAutocommit() {
		return fail("start", ErrNotInTransaction)
	}
	if on, err := sqlutil.PragmaInt(conn, "foreign_keys"); err != nil {
		return fail("read PRAGMA foreign_keys", err)
	} else if on != 0 {
		return fail("start", ErrForeignKeysOn)
	}

	pl, err := makePlan(conn, spec)
	if err != nil {
		return err
	}
	for _, st := range pl.steps {
		if err := conn.Exec(st.sql); err != nil {
			if st.dependent {
				err = fmt.Errorf("%w (drop it before the rebuild and create it again after)", err)
			}
			return fail(st.name, err)
		}
	}
	if err := checkViews(conn); err != nil {
		return fail("check views", err)
	}
	if err := sqlutil.ForeignKeyCheck(conn, pl.table); err != nil {
		return fail("PRAGMA foreign_key_check", err)
	}
	return nil
}

// Plan returns the statements that rebuild spec.Table on conn's current
// schema, without changing it: for runners that execute statements split
// ahead of time (the D1 Worker, through migrations/sqlite.SplitStatements).
// Run them in one transaction with foreign keys off. Where enforcement
// cannot be turned off (D1), the DROP TABLE among them fires the ON DELETE
// actions of child tables, even with PRAGMA defer_foreign_keys: lint
// reports such rebuilds (L014).
func Plan(ctx context.Context, conn *sqlite3.Conn, spec Spec) ([]string, error) {
	old := conn.SetInterrupt(ctx)
	defer conn.SetInterrupt(old)
	pl, err := makePlan(conn, spec)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(pl.steps))
	for i, st := range pl.steps {
		out[i] = st.sql
	}
	return out, nil
}

type step struct {
	name, sql string
	dependent bool // an index or trigger recreated
}

type plan struct {
	table string
	steps []step
}

// makePlan reads the catalog and builds the steps of a rebuild. It
// creates the new table inside a savepoint to learn its columns, and
// rolls that back.
func makePlan(conn *sqlite3.Conn, spec Spec) (_ *plan, err error) {
	fail := func(step string, err error) error { return &Error{Table: spec.Table, Step: step, Err: err} }

	// The old table, its columns, indexes and triggers.
	table, err := tableName(conn, spec.Table)
	if err != nil {
		return nil, fail("find table", err)
	}
	oldCols, err := columns(conn, table)
	if err != nil {
		return nil, fail("read columns", err)
	}
	oldRowid, err := hasRowid(conn, table)
	if err != nil {
		return nil, fail("read table list", err)
	}
	deps, err := dependents(conn, table)
	if err != nil {
		return nil, fail("read indexes and triggers", err)
	}
	legacy, err := sqlutil.PragmaInt(conn, "legacy_alter_table")
	if err != nil {
		return nil, fail("read PRAGMA legacy_alter_table", err)
	}

	// The new table under a temporary name.
	tmp := "_larder_rebuild_" + strings.ToLower(table)
	def, named, err := renameCreate(spec.Definition, tmp)
	if err != nil {
		return nil, fail("new definition", err)
	}
	if !strings.EqualFold(named, table) {
		return nil, fail("new definition", fmt.Errorf("%w: CREATE TABLE names %q, want %q (a rebuild is in place; rename with ALTER TABLE after it)", ErrBadDefinition, named, table))
	}
	newCols, newRowid, err := probe(conn, def, tmp)
	if err != nil {
		return nil, fail("create new table", err)
	}

	// Copy with the mapping; keep rowids when both are rowid tables.
	into, from, err := mapping(oldCols, newCols, spec.Columns)
	if err != nil {
		return nil, fail("column mapping", err)
	}
	if oldRowid && newRowid && !hasRowidAlias(newCols) {
		into, from = append([]string{"rowid"}, into...), append([]string{"rowid"}, from...)
	}
	if len(into) == 0 {
		return nil, fail("column mapping", fmt.Errorf("%w: no column of the new table gets a value from the old one", ErrBadMapping))
	}
	pl := &plan{table: table}
	add := func(name, sql string) { pl.steps = append(pl.steps, step{name: name, sql: sql}) }
	add("create new table", def)
	add("copy rows", fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", sqlutil.Quote(tmp),
		strings.Join(into, ", "), strings.Join(from, ", "), sqlutil.Quote(table)))
	// Drop the old table, rename the new one. legacy_alter_table keeps the
	// rename from re-parsing (and failing on) views and triggers that name
	// the table while it does not exist, and leaves them as written.
	add("drop old table", "DROP TABLE "+sqlutil.Quote(table))
	add("rename new table", "PRAGMA legacy_alter_table=ON")
	add("rename new table", fmt.Sprintf("ALTER TABLE %s RENAME TO %s", sqlutil.Quote(tmp), sqlutil.Quote(table)))
	if legacy == 0 {
		add("rename new table", "PRAGMA legacy_alter_table=OFF")
	}
	for _, d := range deps {
		pl.steps = append(pl.steps, step{name: fmt.Sprintf("recreate %s %s", d.typ, d.name), sql: d.sql, dependent: true})
	}
	return pl, nil
}

// probe creates the new table inside a savepoint, reads its columns and
// whether it has rowids, and rolls the creation back.
func probe(conn *sqlite3.Conn, def, tmp string) (cols []column, rowid bool, err error) {
	if err := conn.Exec("SAVEPOINT larder_rebuild_probe"); err != nil {
		return nil, false, err
	}
	defer func() {
		if e := conn.Exec("ROLLBACK TO larder_rebuild_probe; RELEASE larder_rebuild_probe"); e != nil && err == nil {
			err = e
		}
	}()
	if err := conn.Exec(def); err != nil {
		return nil, false, err
	}
	if cols, err = columns(conn, tmp); err != nil {
		return nil, false, err
	}
	rowid, err = hasRowid(conn, tmp)
	return cols, rowid, err
}

type observerKey struct{}

// WithObserver returns a context that makes Table call f before a rebuild
// (done false) and after it (done true, with its error). Tools that watch
// a migration run (package migrations/lint) use it to learn the column
// mapping and to tell the rebuild's own statements from the migration's.
func WithObserver(ctx context.Context, f func(spec Spec, err error, done bool)) context.Context {
	return context.WithValue(ctx, observerKey{}, f)
}

// Statement carries out a rebuild directive whose CREATE TABLE statement
// starts text (the rest of a script). It returns how many bytes of text the
// statement covers, so that a script runner can go on after it.
func Statement(ctx context.Context, conn *sqlite3.Conn, d *migrations.RebuildDirective, text string) (int, error) {
	spec, n, err := directiveSpec(conn, d, text)
	if err != nil {
		return 0, err
	}
	return n, Table(ctx, conn, spec)
}

// PlanStatement is Statement for SplitStatements: it returns the
// statements of the rebuild (see Plan) instead of running them.
func PlanStatement(ctx context.Context, conn *sqlite3.Conn, d *migrations.RebuildDirective, text string) ([]string, int, error) {
	spec, n, err := directiveSpec(conn, d, text)
	if err != nil {
		return nil, 0, err
	}
	stmts, err := Plan(ctx, conn, spec)
	return stmts, n, err
}

// directiveSpec finds the CREATE TABLE statement at the start of text. A
// CREATE TABLE for an existing name fails to prepare: the extent of the
// statement is found by preparing it under a name that does not exist.
func directiveSpec(conn *sqlite3.Conn, d *migrations.RebuildDirective, text string) (Spec, int, error) {
	renamed, _, err := renameCreate(text, "_larder_rebuild_probe")
	if err != nil {
		return Spec{}, 0, &Error{Table: d.Table, Step: "new definition", Err: err}
	}
	stmt, tail, err := conn.Prepare(renamed)
	if stmt != nil {
		stmt.Close()
	}
	if err != nil {
		return Spec{}, 0, &Error{Table: d.Table, Step: "new definition", Err: err}
	}
	n := len(text) - len(tail)
	def := strings.TrimSuffix(strings.TrimSpace(text[:n]), ";")
	return Spec{Table: d.Table, Definition: def, Columns: d.Columns}, n, nil
}

type column struct {
	name   string
	typ    string
	pk     int
	hidden int // 0 normal, 1 hidden (virtual tables), 2 and 3 generated
}

func columns(conn *sqlite3.Conn, table string) ([]column, error) {
	stmt, _, err := conn.Prepare(`SELECT name, type, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid`)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	stmt.BindText(1, table)
	var cols []column
	for stmt.Step() {
		cols = append(cols, column{name: stmt.ColumnText(0), typ: stmt.ColumnText(1),
			pk: stmt.ColumnInt(2), hidden: stmt.ColumnInt(3)})
	}
	return cols, stmt.Err()
}

// hasRowidAlias reports whether an INTEGER PRIMARY KEY column aliases the
// rowid, so that copying it copies the rowid.
func hasRowidAlias(cols []column) bool {
	n, alias := 0, false
	for _, c := range cols {
		if c.pk > 0 {
			n++
			alias = strings.EqualFold(c.typ, "INTEGER")
		}
	}
	return n == 1 && alias
}

func hasRowid(conn *sqlite3.Conn, table string) (bool, error) {
	stmt, _, err := conn.Prepare(`SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?`)
	if err != nil {
		return false, err
	}
	defer stmt.Close()
	stmt.BindText(1, table)
	if !stmt.Step() {
		return false, stmt.Err()
	}
	return stmt.ColumnInt(0) == 0, nil
}

func tableName(conn *sqlite3.Conn, name string) (string, error) {
	stmt, _, err := conn.Prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE`)
	if err != nil {
		return "", err
	}
	defer stmt.Close()
	stmt.BindText(1, name)
	if !stmt.Step() {
		if err := stmt.Err(); err != nil {
			return "", err
		}
		return "", fmt.Errorf("%w: %s", ErrNoTable, name)
	}
	return stmt.ColumnText(0), nil
}

type object struct{ typ, name, sql string }

// dependents are the indexes and triggers of table that DROP TABLE removes,
// indexes first (a trigger body may rely on nothing of them, but keep
// creation order stable).
func dependents(conn *sqlite3.Conn, table string) ([]object, error) {
	stmt, _, err := conn.Prepare(`SELECT type, name, sql FROM sqlite_schema
		WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL
		ORDER BY type = 'trigger', rowid`)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	stmt.BindText(1, table)
	var out []object
	for stmt.Step() {
		out = append(out, object{stmt.ColumnText(0), stmt.ColumnText(1), stmt.ColumnText(2)})
	}
	return out, stmt.Err()
}

// mapping builds the INSERT column list and the SELECT expressions.
func mapping(oldCols, newCols []column, exprs map[string]string) (into, from []string, err error) {
	find := func(cols []column, name string) *column {
		for i := range cols {
			if strings.EqualFold(cols[i].name, name) {
				return &cols[i]
			}
		}
		return nil
	}
	keys := make([]string, 0, len(exprs))
	for k := range exprs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c := find(newCols, k)
		if c == nil {
			return nil, nil, fmt.Errorf("%w: the new table has no column %q", ErrBadMapping, k)
		}
		if c.hidden >= 2 {
			return nil, nil, fmt.Errorf("%w: column %q is generated and cannot be mapped", ErrBadMapping, k)
		}
	}
	for _, c := range newCols {
		if c.hidden != 0 {
			continue
		}
		var expr string
		for k, e := range exprs {
			if strings.EqualFold(k, c.name) {
				expr = "(" + e + ")"
			}
		}
		if expr == "" {
			if o := find(oldCols, c.name); o != nil && o.hidden != 1 {
				expr = sqlutil.Quote(o.name)
			}
		}
		if expr != "" {
			into = append(into, sqlutil.Quote(c.name))
			from = append(from, expr)
		}
	}
	return into, from, nil
}

// checkViews prepares every view, so that a view naming a column the
// rebuild removed fails the migration instead of the first query.
func checkViews(conn *sqlite3.Conn) error {
	stmt, _, err := conn.Prepare(`SELECT name FROM sqlite_schema WHERE type = 'view' ORDER BY name`)
	if err != nil {
		return err
	}
	var views []string
	for stmt.Step() {
		views = append(views, stmt.ColumnText(0))
	}
	err = stmt.Err()
	stmt.Close()
	if err != nil {
		return err
	}
	for _, v := range views {
		s, _, err := conn.Prepare("SELECT * FROM " + sqlutil.Quote(v))
		if err != nil {
			return fmt.Errorf("view %s: %w", v, err)
		}
		s.Close()
	}
	return nil
}

// ErrForeignKeyViolation reports rows that break a foreign key after the
// rebuild: the mapping changed a key, or dropped rows that others
// reference. It is the same error as migrations/sqlite's.
var ErrForeignKeyViolation = sqlutil.ErrForeignKeyViolation
