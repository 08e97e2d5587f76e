package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/larderdb/larder/migrations/schema"
)

// checkTable compares a table that exists before and after a step: its
// columns (L002, L004, L005, L006) and its unique indexes (L007).
func checkTable(s *step, bt, at *schema.Table) {
	rec := s.rec
	// The mapping of a rebuild of this table, if any.
	mapping := map[string]string{}
	for _, sp := range rec.rebuilds {
		if strings.EqualFold(sp.Table, bt.Name) {
			for k, v := range sp.Columns {
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
			s.add("L004", bt.Name+"."+r.Name, "column %s.%s is renamed to %s", bt.Name, r.Name, to)
		} else {
			s.add("L002", bt.Name+"."+r.Name, "column %s.%s is dropped", bt.Name, r.Name)
		}
	}
	for _, a := range added {
		if _, ok := renamedTo[strings.ToLower(a.Name)]; ok {
			continue
		}
		if a.NotNull && a.Default == nil && !a.Generated() && a.PK == 0 {
			s.add("L005", bt.Name+"."+a.Name, "column %s.%s is NOT NULL without a DEFAULT: inserts from older code fail", bt.Name, a.Name)
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
		f := s.add("L006", bt.Name+"."+ac.Name, "column %s.%s is made NOT NULL", bt.Name, ac.Name)
		if backfilled {
			f.Severity = Warning
			f.Message += " (backfilled in the migration; older code writing NULL fails)"
		} else {
			f.Message += " without a backfill: existing NULLs make the migration fail"
		}
	}
	rowid := rowidAlias(at)
	for _, ix := range at.Indexes {
		if !ix.Unique || ix.Origin == "pk" {
			continue
		}
		// The INTEGER PRIMARY KEY is never NULL and never repeats, so a
		// unique index that contains it cannot fail on existing rows.
		if rowid != "" && slices.ContainsFunc(ix.Columns, func(c string) bool { return strings.EqualFold(c, rowid) }) {
			continue
		}
		if slices.ContainsFunc(bt.Indexes, func(o schema.Index) bool { return implies(o, ix, bt, at, renamedTo) }) {
			continue
		}
		// A column ALTER TABLE ADD COLUMN just added without a DEFAULT is
		// NULL in every existing row, and NULLs never repeat in a UNIQUE
		// index (homebox: ADD COLUMN oidc_issuer, oidc_subject, then a
		// unique index on both).
		if slices.ContainsFunc(ix.Columns, func(c string) bool { return nullWhereAdded(s, bt, at, added, renamedTo, c) }) {
			continue
		}
		name := ix.Name
		if ix.Origin != "c" {
			name = "UNIQUE constraint"
		}
		f := s.add("L007", bt.Name, "%s on %s(%s), a table that existed before: existing duplicates make the migration fail",
			name, bt.Name, strings.Join(ix.Columns, ", "))
		var filled []string
		for _, c := range ix.Columns {
			if rec.updated[strings.ToLower(bt.Name+"."+c)] {
				filled = append(filled, c)
			}
		}
		if len(filled) > 0 {
			f.Message = fmt.Sprintf("%s on %s(%s), a table that existed before: the migration fills %s by UPDATE, and a value it writes twice makes the migration fail",
				name, bt.Name, strings.Join(ix.Columns, ", "), strings.Join(filled, ", "))
		}
	}
}

// nullWhereAdded reports whether column c of table at was added to bt by
// ALTER TABLE ADD COLUMN in this step with no DEFAULT (or DEFAULT NULL) and
// is written by no UPDATE of the step, so that it is NULL in every row the
// table had. A table the step dropped or rebuilt does not count: its copy
// may have filled the column.
func nullWhereAdded(s *step, bt, at *schema.Table, added []schema.Column, renamedTo map[string]string, c string) bool {
	rec := s.rec
	if _, renamed := renamedTo[strings.ToLower(c)]; renamed || !rec.altered[strings.ToLower(bt.Name)] ||
		rec.updated[strings.ToLower(bt.Name+"."+c)] || len(rec.rebuilds) > 0 ||
		slices.ContainsFunc(rec.dropped, func(d string) bool { return strings.EqualFold(d, bt.Name) }) {
		return false
	}
	i := slices.IndexFunc(added, func(a schema.Column) bool { return strings.EqualFold(a.Name, c) })
	if i < 0 || added[i].Generated() {
		return false
	}
	d := added[i].Default
	return d == nil || strings.EqualFold(strings.TrimSpace(*d), "NULL")
}

// implies reports whether the unique index o of the table before a step
// guarantees that the unique index ix after it holds on the existing rows:
// the same columns in the same order (and partial only if ix is), or a subset of ix's columns (in any
// order) where no COLLATE clause could make ix compare more loosely than o.
// renamedTo maps new column names to old ones.
func implies(o, ix schema.Index, bt, at *schema.Table, renamedTo map[string]string) bool {
	same := func(old, new string) bool {
		return strings.EqualFold(old, new) || strings.EqualFold(renamedTo[strings.ToLower(new)], old)
	}
	if !o.Unique || (o.Partial && !ix.Partial) {
		return false
	}
	if slices.EqualFunc(o.Columns, ix.Columns, same) {
		return true // the index that was there (or its twin)
	}
	if o.Partial {
		return false
	}
	for _, sql := range []string{o.SQL, ix.SQL, bt.SQL, at.SQL} {
		if strings.Contains(strings.ToUpper(sql), "COLLATE") {
			return false
		}
	}
	for _, c := range o.Columns {
		if c == "<expr>" || !slices.ContainsFunc(ix.Columns, func(n string) bool { return same(c, n) }) {
			return false
		}
	}
	return true
}

// rowidAlias returns the column of t that is an alias of the rowid (a
// single-column INTEGER PRIMARY KEY of a rowid table), or "".
func rowidAlias(t *schema.Table) string {
	if t.WithoutRowid {
		return ""
	}
	var pk []schema.Column
	for _, c := range t.Columns {
		if c.PK > 0 {
			pk = append(pk, c)
		}
	}
	if len(pk) != 1 || !strings.EqualFold(strings.TrimSpace(pk[0].Type), "INTEGER") {
		return ""
	}
	// "INTEGER PRIMARY KEY DESC" in the column definition is the one
	// spelling that does not alias the rowid: SQLite then makes an index.
	for _, ix := range t.Indexes {
		if ix.Origin == "pk" {
			return ""
		}
	}
	return pk[0].Name
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
