package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/larderdb/larder/migrations/schema"
)

// larderTables are Larder's own bookkeeping tables: the migrations'
// _migrations and the seeds' _seeds (package seed). A schema file does not
// declare them and a plan never touches them.
var larderTables = map[string]bool{"_migrations": true, "_seeds": true}

// userTables are the tables of s that a plan manages: not SQLite's own,
// not Larder's, not the shadow tables of a virtual table.
func userTables(s *schema.Schema) []*schema.Table {
	var virtual []string
	for _, t := range s.Tables {
		if parseTable(t.SQL).virtual {
			virtual = append(virtual, strings.ToLower(t.Name)+"_")
		}
	}
	var out []*schema.Table
	for _, t := range s.Tables {
		n := strings.ToLower(t.Name)
		if larderTables[n] || strings.HasPrefix(n, "sqlite_") ||
			slices.ContainsFunc(virtual, func(p string) bool { return strings.HasPrefix(n, p) }) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// isShadow reports whether table name is left out of s's user tables
// although s has it (a shadow table, _migrations, sqlite_*).
func isShadow(s *schema.Schema, name string) bool {
	return s.Table(name) != nil && findTable(userTables(s), name) == nil
}

func findTable(list []*schema.Table, name string) *schema.Table {
	for _, t := range list {
		if strings.EqualFold(t.Name, name) {
			return t
		}
	}
	return nil
}

// explicitIndexes are the CREATE INDEX indexes of t.
func explicitIndexes(t *schema.Table) []schema.Index {
	var out []schema.Index
	for _, ix := range t.Indexes {
		if ix.SQL != "" {
			out = append(out, ix)
		}
	}
	return out
}

// sameTable reports whether two tables have the same definition: the same
// columns in the same order with the same text, the same table
// constraints and options. Names compare case-insensitively, identifiers
// without their quotes, keywords without their case.
func sameTable(a, b *schema.Table) bool {
	return tableDifference(a, b) == ""
}

// tableDifference says how b's definition differs from a's ("" when it
// does not).
func tableDifference(a, b *schema.Table) string {
	da, db := parseTable(a.SQL), parseTable(b.SQL)
	if da.virtual || db.virtual {
		if da.virtual != db.virtual || da.whole != db.whole {
			return "definition differs"
		}
		return ""
	}
	var d []string
	for i, c := range db.columns {
		o := da.column(c.name)
		switch {
		case o == nil:
			d = append(d, fmt.Sprintf("column %s is new", c.name))
		case o.canon != c.canon:
			d = append(d, fmt.Sprintf("column %s: %q, want %q", c.name, o.canon, c.canon))
		case i >= len(da.columns) || !strings.EqualFold(da.columns[i].name, c.name):
			d = append(d, fmt.Sprintf("column %s moved", c.name))
		}
	}
	for _, c := range da.columns {
		if db.column(c.name) == nil {
			d = append(d, fmt.Sprintf("column %s is gone", c.name))
		}
	}
	ca, cb := slices.Sorted(slices.Values(da.constraints)), slices.Sorted(slices.Values(db.constraints))
	if !slices.Equal(ca, cb) {
		d = append(d, fmt.Sprintf("table constraints %q, want %q", strings.Join(ca, ", "), strings.Join(cb, ", ")))
	}
	if da.options != db.options {
		d = append(d, fmt.Sprintf("options %q, want %q", da.options, db.options))
	}
	return strings.Join(d, "; ")
}

// A Difference is one way two schemas differ, as [Check] reports it.
type Difference struct {
	Kind   string `json:"kind"`   // "table", "column", "index", "view", "trigger"
	Name   string `json:"name"`   // "note", "note.body", "note_body_idx"
	Change string `json:"change"` // "missing" (schema.sql has it, the migrations not), "extra", "changed"
	Detail string `json:"detail,omitempty"`
}

func (d Difference) String() string {
	s := fmt.Sprintf("%s %s %s", d.Change, d.Kind, d.Name)
	if d.Detail != "" {
		s += ": " + d.Detail
	}
	return s
}

// Compare lists how have (the migrations' schema) differs from want (the
// schema file's): every table, column, index, view and trigger, with
// CHECK constraints, collations, defaults and options compared as SQLite
// stores their text (whitespace, keyword case and identifier quoting do
// not count). Nil means equal.
func Compare(have, want *schema.Schema) []Difference {
	var out []Difference
	add := func(kind, name, change, detail string) {
		out = append(out, Difference{Kind: kind, Name: name, Change: change, Detail: detail})
	}
	ht, wt := userTables(have), userTables(want)
	for _, w := range wt {
		h := findTable(ht, w.Name)
		if h == nil {
			add("table", w.Name, "missing", "")
			continue
		}
		if d := tableDifference(h, w); d != "" {
			add("table", w.Name, "changed", d)
		}
	}
	for _, h := range ht {
		if findTable(wt, h.Name) == nil {
			add("table", h.Name, "extra", "")
		}
	}
	objs := func(s *schema.Schema, tables []*schema.Table) (ix, tr []schema.Object) {
		for _, t := range tables {
			for _, i := range explicitIndexes(t) {
				ix = append(ix, schema.Object{Name: i.Name, Table: t.Name, SQL: i.SQL})
			}
			tr = append(tr, t.Triggers...)
		}
		for _, v := range s.Views {
			if v.Table != "" {
				tr = append(tr, v)
			}
		}
		return ix, tr
	}
	hi, htr := objs(have, ht)
	wi, wtr := objs(want, wt)
	compareObjects("index", hi, wi, add)
	compareObjects("view", views(have), views(want), add)
	compareObjects("trigger", htr, wtr, add)
	return out
}

// views are the views of s (without INSTEAD OF triggers).
func views(s *schema.Schema) []schema.Object {
	var out []schema.Object
	for _, v := range s.Views {
		if v.Table == "" {
			out = append(out, v)
		}
	}
	return out
}

func compareObjects(kind string, have, want []schema.Object, add func(kind, name, change, detail string)) {
	for _, w := range want {
		h := findObject(have, w.Name)
		switch {
		case h == nil:
			add(kind, w.Name, "missing", "")
		case canonSQL(h.SQL) != canonSQL(w.SQL):
			add(kind, w.Name, "changed", "definition differs")
		}
	}
	for _, h := range have {
		if findObject(want, h.Name) == nil {
			add(kind, h.Name, "extra", "")
		}
	}
}

func findObject(list []schema.Object, name string) *schema.Object {
	for i := range list {
		if strings.EqualFold(list[i].Name, name) {
			return &list[i]
		}
	}
	return nil
}
