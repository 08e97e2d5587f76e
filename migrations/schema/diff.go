package schema

import (
	"fmt"
	"slices"
	"strings"
)

// A Difference is one way a live database differs from the schema its
// migrations produce.
type Difference struct {
	Kind   string `json:"kind"`   // "table", "column", "index", "trigger", "view", "foreign_key"
	Name   string `json:"name"`   // "note", "note.body", "note_body_idx"
	Change string `json:"change"` // "missing" (the migrations have it, the database not), "extra", or "changed"
	Detail string `json:"detail,omitempty"`
}

func (d Difference) String() string {
	s := fmt.Sprintf("%s %s %s", d.Change, d.Kind, d.Name)
	if d.Detail != "" {
		s += ": " + d.Detail
	}
	return s
}

// Diff lists how got (a live database) differs from want (the schema the
// migrations produce): missing and extra tables, columns, indexes,
// triggers, views and foreign keys, and changed ones. Names compare
// case-insensitively, as in SQLite. The order is stable. A _seeds table
// in got (Larder's record of applied seeds) is not a difference.
func Diff(want, got *Schema) []Difference {
	var out []Difference
	add := func(kind, name, change, detail string) {
		out = append(out, Difference{Kind: kind, Name: name, Change: change, Detail: detail})
	}
	for _, w := range want.Tables {
		g := got.Table(w.Name)
		if g == nil {
			add("table", w.Name, "missing", "")
			continue
		}
		diffTable(w, g, add)
	}
	for _, g := range got.Tables {
		// _seeds is Larder's own record of applied seeds (package seed),
		// which migrations never create: not drift.
		if want.Table(g.Name) == nil && !strings.EqualFold(g.Name, "_seeds") {
			add("table", g.Name, "extra", "")
		}
	}
	diffObjects("view", want.Views, got.Views, add)
	return out
}

func diffTable(w, g *Table, add func(kind, name, change, detail string)) {
	for i, wc := range w.Columns {
		gc := g.Column(wc.Name)
		name := w.Name + "." + wc.Name
		if gc == nil {
			add("column", name, "missing", "")
			continue
		}
		var d []string
		if !strings.EqualFold(wc.Type, gc.Type) {
			d = append(d, fmt.Sprintf("type %q, want %q", gc.Type, wc.Type))
		}
		if wc.NotNull != gc.NotNull {
			d = append(d, fmt.Sprintf("NOT NULL %v, want %v", gc.NotNull, wc.NotNull))
		}
		if str(wc.Default) != str(gc.Default) {
			d = append(d, fmt.Sprintf("default %s, want %s", str(gc.Default), str(wc.Default)))
		}
		if wc.PK != gc.PK {
			d = append(d, fmt.Sprintf("primary key position %d, want %d", gc.PK, wc.PK))
		}
		if wc.Hidden != gc.Hidden {
			d = append(d, fmt.Sprintf("generated %d, want %d", gc.Hidden, wc.Hidden))
		}
		if j := slices.IndexFunc(g.Columns, func(c Column) bool { return strings.EqualFold(c.Name, wc.Name) }); j != i {
			d = append(d, fmt.Sprintf("position %d, want %d", j+1, i+1))
		}
		if len(d) > 0 {
			add("column", name, "changed", strings.Join(d, ", "))
		}
	}
	for _, gc := range g.Columns {
		if w.Column(gc.Name) == nil {
			add("column", w.Name+"."+gc.Name, "extra", "")
		}
	}
	if w.WithoutRowid != g.WithoutRowid || w.Strict != g.Strict {
		add("table", w.Name, "changed", fmt.Sprintf("WITHOUT ROWID %v STRICT %v, want %v %v", g.WithoutRowid, g.Strict, w.WithoutRowid, w.Strict))
	}

	// Indexes: named ones by name; automatic ones (constraints) by shape.
	for _, wi := range w.Indexes {
		gi := findIndex(g.Indexes, wi)
		if gi == nil {
			add("index", indexName(w, wi), "missing", "")
			continue
		}
		if wi.Unique != gi.Unique || !slices.EqualFunc(wi.Columns, gi.Columns, strings.EqualFold) || normalize(wi.SQL) != normalize(gi.SQL) {
			add("index", indexName(w, wi), "changed", fmt.Sprintf("%s, want %s", describeIndex(*gi), describeIndex(wi)))
		}
	}
	for _, gi := range g.Indexes {
		if findIndex(w.Indexes, gi) == nil {
			add("index", indexName(g, gi), "extra", "")
		}
	}

	for _, wf := range w.ForeignKeys {
		if !slices.ContainsFunc(g.ForeignKeys, func(f ForeignKey) bool { return sameFK(f, wf) }) {
			add("foreign_key", w.Name+" "+describeFK(wf), "missing", "")
		}
	}
	for _, gf := range g.ForeignKeys {
		if !slices.ContainsFunc(w.ForeignKeys, func(f ForeignKey) bool { return sameFK(f, gf) }) {
			add("foreign_key", g.Name+" "+describeFK(gf), "extra", "")
		}
	}
	diffObjects("trigger", w.Triggers, g.Triggers, add)
}

func diffObjects(kind string, want, got []Object, add func(kind, name, change, detail string)) {
	find := func(list []Object, name string) *Object {
		for i := range list {
			if strings.EqualFold(list[i].Name, name) {
				return &list[i]
			}
		}
		return nil
	}
	for _, w := range want {
		k := kind
		if w.Table != "" && kind == "view" {
			k = "trigger"
		}
		g := find(got, w.Name)
		switch {
		case g == nil:
			add(k, w.Name, "missing", "")
		case normalize(g.SQL) != normalize(w.SQL):
			add(k, w.Name, "changed", "definition differs")
		}
	}
	for _, g := range got {
		k := kind
		if g.Table != "" && kind == "view" {
			k = "trigger"
		}
		if find(want, g.Name) == nil {
			add(k, g.Name, "extra", "")
		}
	}
}

func findIndex(list []Index, ix Index) *Index {
	for i := range list {
		if ix.Origin == "c" && strings.EqualFold(list[i].Name, ix.Name) {
			return &list[i]
		}
		if ix.Origin != "c" && list[i].Origin == ix.Origin && list[i].Unique == ix.Unique &&
			slices.EqualFunc(list[i].Columns, ix.Columns, strings.EqualFold) {
			return &list[i]
		}
	}
	return nil
}

func indexName(t *Table, ix Index) string {
	if ix.Origin == "c" {
		return ix.Name
	}
	kind := "UNIQUE"
	if ix.Origin == "pk" {
		kind = "PRIMARY KEY"
	}
	return fmt.Sprintf("%s %s(%s)", t.Name, kind, strings.Join(ix.Columns, ", "))
}

func describeIndex(ix Index) string {
	u := ""
	if ix.Unique {
		u = "UNIQUE "
	}
	s := fmt.Sprintf("%s(%s)", u, strings.Join(ix.Columns, ", "))
	if ix.Partial {
		s += " partial"
	}
	return s
}

func sameFK(a, b ForeignKey) bool {
	return fkKey(a) == fkKey(b) && strings.EqualFold(a.OnDelete, b.OnDelete) && strings.EqualFold(a.OnUpdate, b.OnUpdate)
}

func describeFK(f ForeignKey) string {
	return fmt.Sprintf("(%s) REFERENCES %s(%s) ON DELETE %s", strings.Join(f.From, ", "), f.Parent, strings.Join(f.To, ", "), f.OnDelete)
}

func str(p *string) string {
	if p == nil {
		return "none"
	}
	return *p
}

// normalize makes SQL text comparable across whitespace, letter case and
// identifier quoting (ALTER TABLE RENAME writes "quoted" names).
func normalize(sql string) string {
	sql = strings.NewReplacer(`"`, "", "`", "", "[", "", "]", "").Replace(sql)
	return strings.ToLower(strings.Join(strings.Fields(sql), " "))
}
