package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Table is one synced table as the database defines it.
type Table struct {
	Name    string
	PK      string   // the primary key column: TEXT, one column
	Columns []string // every synced column except PK, in table order (generated columns excluded)
	Rule    TableRule
}

// has reports whether col is one of t's synced columns (PK excluded).
func (t *Table) has(col string) bool { return slices.Contains(t.Columns, col) }

// Schema is the set of synced tables, checked against a database.
type Schema struct {
	Config *Config
	Tables map[string]*Table
}

// ErrSchema is wrapped by every error Check reports about the declaration
// not fitting the database.
var ErrSchema = errors.New("sync: declaration does not fit the schema")

// Check reads each synced table's columns from the database (the schema
// the migrations built: a device's database, or D1) and checks that it can
// sync: the table exists; it has a one-column TEXT primary key that two
// devices cannot both invent (INTEGER PRIMARY KEY and AUTOINCREMENT are
// refused: two offline devices would both make row 1); the owner column
// exists; a where rule compiles and uses :sub. Every problem is named in
// one error.
func Check(ctx context.Context, db Store, cfg *Config) (*Schema, error) {
	s := &Schema{Config: cfg, Tables: map[string]*Table{}}
	var problems []string
	for _, name := range cfg.TableNames() {
		t, err := checkTable(ctx, db, name, *cfg.Tables[name])
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		s.Tables[name] = t
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w:\n  %s", ErrSchema, strings.Join(problems, "\n  "))
	}
	return s, nil
}

func checkTable(ctx context.Context, db Store, name string, rule TableRule) (*Table, error) {
	rows, err := db.Query(ctx, "SELECT name, type, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid", name)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", name, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("table %s: no such table in the schema the migrations build", name)
	}
	t := &Table{Name: name, Rule: rule}
	var pks []string
	var pkType string
	for _, r := range rows {
		col, typ := r[0].(string), strings.ToUpper(strings.TrimSpace(r[1].(string)))
		pk, hidden := asInt(r[2]), asInt(r[3])
		switch {
		case pk > 0:
			pks, pkType = append(pks, col), typ
		case hidden == 0:
			t.Columns = append(t.Columns, col)
		}
	}
	switch {
	case len(pks) == 0:
		return nil, fmt.Errorf("table %s: no primary key; sync needs one that devices make themselves: add id TEXT PRIMARY KEY NOT NULL holding a UUIDv7 or ULID", name)
	case len(pks) > 1:
		return nil, fmt.Errorf("table %s: primary key (%s) has %d columns; sync supports one TEXT key column for now: add id TEXT PRIMARY KEY NOT NULL (a UUIDv7 or ULID) and make (%s) UNIQUE", name, strings.Join(pks, ", "), len(pks), strings.Join(pks, ", "))
	}
	t.PK = pks[0]
	if strings.Contains(pkType, "INT") {
		why := "INTEGER PRIMARY KEY"
		if auto, _ := db.Query(ctx, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ? AND sql LIKE '%AUTOINCREMENT%'", name); len(auto) > 0 {
			why = "INTEGER PRIMARY KEY AUTOINCREMENT"
		}
		return nil, fmt.Errorf("table %s: primary key %s is %s: two devices offline would both create row 1 and overwrite each other; use %s TEXT PRIMARY KEY NOT NULL with ids made on the device (UUIDv7 or ULID)", name, t.PK, why, t.PK)
	}
	if !strings.Contains(pkType, "TEXT") && !strings.Contains(pkType, "CHAR") && !strings.Contains(pkType, "CLOB") {
		return nil, fmt.Errorf("table %s: primary key %s has type %q; declare it TEXT (UUIDv7 or ULID strings)", name, t.PK, pkType)
	}
	if rule.Owner != "" && !t.has(rule.Owner) {
		return nil, fmt.Errorf("table %s: owner column %s: no such column (columns: %s)", name, rule.Owner, strings.Join(t.Columns, ", "))
	}
	if rule.Where != "" {
		if !strings.Contains(rule.Where, ":sub") {
			return nil, fmt.Errorf("table %s: where %q does not use :sub, so it cannot tell users apart", name, rule.Where)
		}
		if _, err := t.visibleWhere(ctx, db, map[string]any{}, ""); err != nil {
			return nil, fmt.Errorf("table %s: where %q: %w", name, rule.Where, err)
		}
	}
	return t, nil
}

// visible reports whether the row image (column → value, PK included)
// belongs to the user sub.
func (t *Table) visible(ctx context.Context, db Store, image map[string]any, sub string) (bool, error) {
	if t.Rule.Owner != "" {
		owner, ok := image[t.Rule.Owner].(string)
		return ok && owner == sub, nil
	}
	return t.visibleWhere(ctx, db, image, sub)
}

// visibleWhere evaluates the where rule on an image, as a derived table
// named like the table: SELECT 1 FROM (SELECT ?1 AS pk, ...) AS t WHERE rule,
// with :sub rewritten to the parameter after the image's.
func (t *Table) visibleWhere(ctx context.Context, db Store, image map[string]any, sub string) (bool, error) {
	cols := append([]string{t.PK}, t.Columns...)
	sel := make([]string, len(cols))
	args := make([]any, 0, len(cols)+1)
	for i, c := range cols {
		sel[i] = fmt.Sprintf("?%d AS %s", i+1, quote(c))
		args = append(args, image[c])
	}
	args = append(args, sub)
	q := fmt.Sprintf("SELECT 1 FROM (SELECT %s) AS %s WHERE (%s)", strings.Join(sel, ", "), quote(t.Name), numberSub(t.Rule.Where, len(cols)+1))
	rows, err := db.Query(ctx, q, args...)
	return len(rows) > 0, err
}
