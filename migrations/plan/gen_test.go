package plan_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/larderdb/larder/migrations/plan"
)

// The generator behind TestProperty: a schema model with typed columns,
// defaults, NOT NULL, CHECK, UNIQUE, composite keys, foreign keys with
// actions, plain, partial and expression indexes, views and triggers; a
// mutation of it; and rows that satisfy the constraints of both.

type gCol struct {
	name, typ  string
	notNull    bool
	dflt       string // "" none
	check      bool
	unique     bool
	ref        string // parent table ("" none); the column references parent(id)
	onDelete   string
	origin     string // the column of the old table it continues ("" new)
	oldNotNull bool   // NOT NULL in the old table
}

type gTable struct {
	name      string
	composite bool     // PRIMARY KEY (k1, k2) instead of id INTEGER PRIMARY KEY
	check     bool     // a table CHECK constraint on the key
	unique    []string // a table UNIQUE constraint over these columns (continuing old ones)
	cols      []gCol
	origin    string // the old table it continues ("" new)
}

type gIndex struct {
	name, table, sql string
}

type gSchema struct {
	tables   []*gTable
	indexes  []gIndex
	views    []string // view names; each selects id-or-rowid and its table's first column
	viewOf   map[string]string
	triggers map[string]string // name -> table
}

var types = []string{"INTEGER", "TEXT", "REAL", "NUMERIC", ""}

func (g *gen) col(name string) gCol {
	c := gCol{name: name, typ: types[g.r.IntN(len(types))], origin: ""}
	switch g.r.IntN(4) {
	case 0:
		c.notNull, c.dflt = true, g.dflt(c.typ)
	case 1:
		c.dflt = g.dflt(c.typ)
	}
	c.check = g.r.IntN(4) == 0
	c.unique = g.r.IntN(6) == 0
	return c
}

func (g *gen) dflt(typ string) string {
	switch typ {
	case "TEXT":
		return fmt.Sprintf("'d%d'", g.r.IntN(9))
	case "REAL":
		return fmt.Sprintf("%d.5", g.r.IntN(9))
	default:
		if g.r.IntN(4) == 0 {
			return fmt.Sprintf("(%d + 1)", g.r.IntN(9)) // an expression: never ADD COLUMN
		}
		return fmt.Sprint(g.r.IntN(9))
	}
}

type gen struct {
	r *rand.Rand
	n int // name counter
}

func (g *gen) name(prefix string) string {
	g.n++
	return fmt.Sprintf("%s%d", prefix, g.n)
}

// schema makes an old schema.
func (g *gen) schema() *gSchema {
	s := &gSchema{viewOf: map[string]string{}, triggers: map[string]string{}}
	for range 1 + g.r.IntN(3) {
		t := &gTable{name: g.name("t"), composite: g.r.IntN(5) == 0}
		for range 1 + g.r.IntN(4) {
			t.cols = append(t.cols, g.col(g.name("c")))
		}
		if len(s.tables) > 0 && g.r.IntN(2) == 0 {
			g.addRef(s, t)
		}
		g.tableConstraints(t)
		s.tables = append(s.tables, t)
	}
	for range g.r.IntN(3) {
		g.addIndex(s)
	}
	for range g.r.IntN(2) {
		g.addView(s)
	}
	for range g.r.IntN(2) {
		g.addTrigger(s)
	}
	return s
}

var actions = []string{"CASCADE", "SET NULL", "RESTRICT", "NO ACTION"}

func (g *gen) addRef(s *gSchema, t *gTable) {
	var parents []*gTable
	for _, p := range s.tables {
		if !p.composite && p != t {
			parents = append(parents, p)
		}
	}
	if len(parents) == 0 {
		return
	}
	p := parents[g.r.IntN(len(parents))]
	t.cols = append(t.cols, gCol{name: g.name("ref"), typ: "INTEGER", ref: p.name, onDelete: actions[g.r.IntN(len(actions))]})
}

func (g *gen) addIndex(s *gSchema) {
	t := s.tables[g.r.IntN(len(s.tables))]
	if len(t.cols) == 0 {
		return
	}
	c := t.cols[g.r.IntN(len(t.cols))].name
	name := g.name("ix")
	var sql string
	switch g.r.IntN(3) {
	case 0:
		sql = fmt.Sprintf("CREATE INDEX %s ON %s (%s)", name, t.name, c)
	case 1:
		sql = fmt.Sprintf("CREATE INDEX %s ON %s (%s) WHERE %s IS NOT NULL", name, t.name, c, c)
	default:
		sql = fmt.Sprintf("CREATE INDEX %s ON %s (lower(%s))", name, t.name, c)
	}
	s.indexes = append(s.indexes, gIndex{name: name, table: t.name, sql: sql})
}

func (g *gen) addView(s *gSchema) {
	t := s.tables[g.r.IntN(len(s.tables))]
	v := g.name("v")
	s.views = append(s.views, v)
	s.viewOf[v] = t.name
}

func (g *gen) addTrigger(s *gSchema) {
	t := s.tables[g.r.IntN(len(s.tables))]
	s.triggers[g.name("tr")] = t.name
}

func (s *gSchema) table(name string) *gTable {
	for _, t := range s.tables {
		if t.name == name {
			return t
		}
	}
	return nil
}

// mutate returns a new schema derived from s, and the renames that lead
// from one to the other.
func (g *gen) mutate(s *gSchema) (*gSchema, []plan.Rename) {
	n := &gSchema{viewOf: map[string]string{}, triggers: map[string]string{}}
	var renames []plan.Rename
	for _, t := range s.tables {
		nt := &gTable{name: t.name, composite: t.composite, origin: t.name, check: t.check, unique: t.unique}
		for _, c := range t.cols {
			c.origin, c.oldNotNull = c.name, c.notNull
			nt.cols = append(nt.cols, c)
		}
		n.tables = append(n.tables, nt)
	}
	// Tables: drop one, rename one, add one.
	if len(n.tables) > 1 && g.r.IntN(5) == 0 {
		i := g.r.IntN(len(n.tables))
		gone := n.tables[i].name
		n.tables = slices.Delete(n.tables, i, i+1)
		for _, t := range n.tables { // references to it go too
			t.cols = slices.DeleteFunc(t.cols, func(c gCol) bool { return c.ref == gone })
		}
	}
	if g.r.IntN(6) == 0 {
		t := n.tables[g.r.IntN(len(n.tables))]
		old := t.name
		t.name = g.name("t")
		renames = append(renames, plan.Rename{Old: old, New: t.name})
		for _, o := range n.tables {
			for i := range o.cols {
				if o.cols[i].ref == old {
					o.cols[i].ref = t.name
				}
			}
		}
	}
	if g.r.IntN(4) == 0 {
		t := &gTable{name: g.name("t"), composite: g.r.IntN(4) == 0}
		for range 1 + g.r.IntN(3) {
			t.cols = append(t.cols, g.col(g.name("c")))
		}
		if g.r.IntN(2) == 0 {
			g.addRef(n, t)
		}
		g.tableConstraints(t)
		n.tables = append(n.tables, t)
	}
	// Columns.
	for _, t := range n.tables {
		if t.origin == "" || g.r.IntN(3) == 0 {
			continue // unchanged
		}
		for range 1 + g.r.IntN(2) {
			g.mutateTable(t, &renames)
		}
		if g.r.IntN(5) == 0 {
			t.check = !t.check
		}
		// The table UNIQUE goes when one of its columns goes; a new one
		// may come over old columns (their rows are distinct).
		if t.unique != nil && (g.r.IntN(5) == 0 || slices.ContainsFunc(t.unique, func(c string) bool { return t.colFrom(c) == nil })) {
			t.unique = nil
		} else if t.unique == nil && g.r.IntN(6) == 0 {
			g.tableUnique(t)
		}
	}
	// Indexes, views and triggers: kept where their table and column are.
	for _, ix := range s.indexes {
		t := n.tableFrom(ix.table)
		if t == nil || g.r.IntN(4) == 0 {
			continue
		}
		sql := strings.Replace(ix.sql, " ON "+ix.table+" ", " ON "+t.name+" ", 1)
		ok := true
		for _, c := range t.cols {
			if c.origin != "" && c.origin != c.name {
				sql = replaceWord(sql, c.origin, c.name)
			}
		}
		for _, oc := range s.table(ix.table).cols {
			if strings.Contains(ix.sql, "("+oc.name+")") && t.colFrom(oc.name) == nil {
				ok = false
			}
		}
		if ok {
			n.indexes = append(n.indexes, gIndex{name: ix.name, table: t.name, sql: sql})
		}
	}
	for range g.r.IntN(2) {
		g.addIndex(n)
	}
	for _, v := range s.views {
		if t := n.tableFrom(s.viewOf[v]); t != nil && g.r.IntN(4) != 0 {
			n.views = append(n.views, v)
			n.viewOf[v] = t.name
		}
	}
	if g.r.IntN(3) == 0 {
		g.addView(n)
	}
	for tr, tab := range s.triggers {
		if t := n.tableFrom(tab); t != nil && g.r.IntN(4) != 0 {
			n.triggers[tr] = t.name
		}
	}
	if g.r.IntN(3) == 0 {
		g.addTrigger(n)
	}
	return n, renames
}

func replaceWord(s, old, new string) string {
	for _, sep := range []string{"(", " "} {
		for _, end := range []string{")", " "} {
			s = strings.ReplaceAll(s, sep+old+end, sep+new+end)
		}
	}
	return s
}

// tableFrom is the table of n that continues old table name.
func (s *gSchema) tableFrom(old string) *gTable {
	for _, t := range s.tables {
		if t.origin == old {
			return t
		}
	}
	return nil
}

func (t *gTable) colFrom(old string) *gCol {
	for i := range t.cols {
		if t.cols[i].origin == old {
			return &t.cols[i]
		}
	}
	return nil
}

// tableConstraints gives a new table a CHECK and a UNIQUE constraint, or not.
func (g *gen) tableConstraints(t *gTable) {
	t.check = g.r.IntN(4) == 0
	if g.r.IntN(4) == 0 {
		g.tableUnique(t)
	}
}

// tableUnique makes a UNIQUE constraint over two old columns of t that
// are not made NOT NULL with a default (which could make them equal).
func (g *gen) tableUnique(t *gTable) {
	var cols []string
	for _, c := range t.cols {
		switch {
		case c.ref != "":
		case t.origin == "":
			cols = append(cols, c.name)
		case c.origin != "" && c.notNull == c.oldNotNull:
			cols = append(cols, c.origin)
		}
	}
	if len(cols) >= 2 {
		t.unique = cols[:2]
	}
}

// mutateTable changes one thing of t.
func (g *gen) mutateTable(t *gTable, renames *[]plan.Rename) {
	if len(t.cols) == 0 {
		t.cols = append(t.cols, g.col(g.name("c")))
		return
	}
	i := g.r.IntN(len(t.cols))
	c := &t.cols[i]
	switch g.r.IntN(10) {
	case 0: // drop
		if c.ref == "" {
			*renames = slices.DeleteFunc(*renames, func(r plan.Rename) bool { return r.Table == t.name && r.New == c.name })
			t.cols = slices.Delete(t.cols, i, i+1)
		}
	case 1: // add at the end (not UNIQUE: existing rows all get its default)
		nc := g.col(g.name("c"))
		nc.unique = false
		t.cols = append(t.cols, nc)
	case 2: // add in the middle
		nc := g.col(g.name("c"))
		nc.unique = false
		t.cols = slices.Insert(t.cols, i, nc)
	case 3: // type
		if c.ref == "" {
			c.typ = types[g.r.IntN(len(types))]
			if c.dflt != "" {
				c.dflt = g.dflt(c.typ)
			}
		}
	case 4: // NOT NULL on or off (on needs a default, whose value fills the NULLs)
		if c.unique || c.ref != "" {
			return
		}
		c.notNull = !c.notNull
		if c.notNull && c.dflt == "" {
			c.dflt = g.dflt(c.typ)
		}
	case 5: // default
		if !c.notNull && c.dflt != "" {
			c.dflt = ""
		} else {
			c.dflt = g.dflt(c.typ)
		}
	case 6:
		c.check = !c.check
	case 7: // UNIQUE on an old column (whose rows are distinct) or off
		if c.origin == "" || !c.unique && c.notNull && !c.oldNotNull {
			return
		}
		c.unique = !c.unique
	case 8: // rename (once)
		if c.origin != "" && c.origin == c.name {
			old := c.name
			c.name = g.name("c")
			*renames = append(*renames, plan.Rename{Table: t.name, Old: old, New: c.name})
		}
	case 9: // a foreign key on or off
		if c.ref != "" {
			c.onDelete = actions[g.r.IntN(len(actions))]
		}
	}
}

func (c gCol) sql() string {
	s := c.name
	if c.typ != "" {
		s += " " + c.typ
	}
	if c.notNull {
		s += " NOT NULL"
	}
	if c.dflt != "" {
		s += " DEFAULT " + c.dflt
	}
	if c.unique {
		s += " UNIQUE"
	}
	if c.check {
		s += fmt.Sprintf(" CHECK (%s IS NULL OR length(%s) < 40)", c.name, c.name)
	}
	if c.ref != "" {
		s += fmt.Sprintf(" REFERENCES %s (id) ON DELETE %s", c.ref, c.onDelete)
	}
	return s
}

// SQL is the schema file of s.
func (s *gSchema) SQL() string {
	var b strings.Builder
	for _, t := range s.tables {
		var items []string
		if t.composite {
			items = append(items, "k1 INTEGER NOT NULL", "k2 TEXT NOT NULL")
		} else {
			items = append(items, "id INTEGER PRIMARY KEY")
		}
		for _, c := range t.cols {
			items = append(items, c.sql())
		}
		if t.composite {
			items = append(items, "PRIMARY KEY (k1, k2)")
		}
		if t.check {
			if t.composite {
				items = append(items, "CHECK (k1 >= 0)")
			} else {
				items = append(items, "CHECK (id > 0)")
			}
		}
		if t.unique != nil {
			var names []string
			for _, c := range t.unique {
				if t.origin != "" {
					c = t.colFrom(c).name
				}
				names = append(names, c)
			}
			items = append(items, fmt.Sprintf("UNIQUE (%s)", strings.Join(names, ", ")))
		}
		fmt.Fprintf(&b, "CREATE TABLE %s (\n  %s\n);\n", t.name, strings.Join(items, ",\n  "))
	}
	for _, ix := range s.indexes {
		b.WriteString(ix.sql + ";\n")
	}
	for _, v := range s.views {
		t := s.table(s.viewOf[v])
		cols := "rowid AS r"
		if len(t.cols) > 0 {
			cols += ", " + t.cols[0].name
		}
		fmt.Fprintf(&b, "CREATE VIEW %s AS SELECT %s FROM %s;\n", v, cols, t.name)
	}
	for _, tr := range slices.Sorted(mapsKeys(s.triggers)) {
		fmt.Fprintf(&b, "CREATE TRIGGER %s AFTER UPDATE ON %s BEGIN SELECT 1; END;\n", tr, s.triggers[tr])
	}
	return b.String()
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// rows returns INSERT statements that fill the old schema: values unique
// per row, never failing a CHECK, a NULL only where both schemas allow one
// or the new schema has a default to fill it with, foreign keys pointing
// at rows that exist.
func (s *gSchema) rows(g *gen, n int) []string {
	var out []string
	for _, t := range s.tables {
		for row := 1; row <= n; row++ {
			var cols, vals []string
			if t.composite {
				cols, vals = append(cols, "k1", "k2"), append(vals, fmt.Sprint(row%2), fmt.Sprintf("'k%d'", row))
			} else {
				cols, vals = append(cols, "id"), append(vals, fmt.Sprint(row))
			}
			for _, c := range t.cols {
				cols = append(cols, c.name)
				switch {
				case c.ref != "":
					if g.r.IntN(3) == 0 {
						vals = append(vals, "NULL")
					} else {
						vals = append(vals, fmt.Sprint(row)) // unique, and a parent row
					}
				case !c.notNull && !c.unique && !slices.Contains(t.unique, c.name) && g.r.IntN(4) == 0:
					vals = append(vals, "NULL")
				case c.typ == "TEXT":
					vals = append(vals, fmt.Sprintf("'v%d_%d'", row, g.r.IntN(100)))
				case c.typ == "REAL":
					vals = append(vals, fmt.Sprintf("%d.5", row*100+g.r.IntN(100)))
				default:
					vals = append(vals, fmt.Sprint(row*100+g.r.IntN(100)))
				}
			}
			out = append(out, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s);", t.name, strings.Join(cols, ", "), strings.Join(vals, ", ")))
		}
	}
	return out
}
