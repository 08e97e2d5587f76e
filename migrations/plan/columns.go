package plan

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/larderdb/larder/migrations/rebuild"
	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

// columns changes every table whose definition differs: with ALTER TABLE
// where SQLite allows it, else with a rebuild.
func (p *planner) columns() error {
	cur, err := p.cur()
	if err != nil {
		return err
	}
	wt := userTables(p.want)
	for _, t := range userTables(cur) {
		w := findTable(wt, t.Name)
		if w == nil || sameTable(t, w) {
			continue
		}
		if parseTable(t.SQL).virtual || parseTable(w.SQL).virtual {
			note := "a virtual table cannot be altered: it is created again, empty; fill it again after this migration"
			if err := p.run(Step{Kind: "drop table", Object: t.Name, SQL: "DROP TABLE " + ident(t.Name) + ";", Destructive: true, Note: note}); err != nil {
				return err
			}
			if err := p.run(Step{Kind: "create table", Object: w.Name, SQL: strings.TrimSpace(w.SQL) + ";"}); err != nil {
				return err
			}
			continue
		}
		ok, err := p.alter(t, w)
		if err != nil {
			return err
		}
		if !ok {
			if err := p.rebuild(t, w); err != nil {
				return err
			}
		}
	}
	return nil
}

// alter changes t into w with ALTER TABLE DROP COLUMN and ADD COLUMN when
// that is all it takes and SQLite allows it. It tries the statements in a
// savepoint on the scratch database and keeps them only when the table
// comes out equal to w.
func (p *planner) alter(t, w *schema.Table) (bool, error) {
	dt, dw := parseTable(t.SQL), parseTable(w.SQL)
	if dt.options != dw.options || !slices.Equal(slices.Sorted(slices.Values(dt.constraints)), slices.Sorted(slices.Values(dw.constraints))) {
		return false, nil
	}
	var kept []columnDef
	var steps []Step
	for _, c := range dt.columns {
		if dw.column(c.name) == nil {
			steps = append(steps, Step{Kind: "drop column", Object: t.Name + "." + c.name, Destructive: true,
				SQL: fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s;", ident(t.Name), ident(c.name))})
			continue
		}
		kept = append(kept, c)
	}
	// Kept columns stay first and unchanged; new ones are appended.
	if len(dw.columns) < len(kept) {
		return false, nil
	}
	for i, c := range kept {
		if !strings.EqualFold(dw.columns[i].name, c.name) || dw.columns[i].canon != c.canon {
			return false, nil
		}
	}
	for _, c := range dw.columns[len(kept):] {
		if dt.column(c.name) != nil || !addable(c, w.Column(c.name)) {
			return false, nil
		}
		steps = append(steps, Step{Kind: "add column", Object: t.Name + "." + c.name,
			SQL: fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s;", ident(t.Name), c.raw)})
	}
	if err := p.conn.Exec("SAVEPOINT larder_plan_alter"); err != nil {
		return false, err
	}
	ok := true
	for _, st := range steps {
		if err := sqlite.Exec(p.ctx, p.conn, st.SQL, 1); err != nil {
			ok = false
			break
		}
	}
	if ok {
		cur, err := p.cur()
		if err != nil {
			return false, err
		}
		ok = cur.Table(t.Name) != nil && sameTable(cur.Table(t.Name), w)
	}
	if !ok {
		if err := p.conn.Exec("ROLLBACK TO larder_plan_alter"); err != nil {
			return false, err
		}
	}
	if err := p.conn.Exec("RELEASE larder_plan_alter"); err != nil {
		return false, err
	}
	if ok {
		p.steps = append(p.steps, steps...)
	}
	return ok, nil
}

var literalDefault = regexp.MustCompile(`(?i)^([-+]?[0-9.][0-9a-fx.e+-]*|'(?:[^']|'')*'|x'[0-9a-f]*'|null|true|false)$`)

// addable reports whether ALTER TABLE ADD COLUMN can add column c (col is
// what SQLite reports of it in the new schema) to a table that has rows,
// following https://sqlite.org/lang_altertable.html#altertabaddcol: no
// PRIMARY KEY or UNIQUE, a literal default (not CURRENT_TIMESTAMP or an
// expression in parentheses), a non-NULL default when NOT NULL, a NULL
// default when it REFERENCES a table, not a STORED generated column. Some
// of these SQLite checks only on a table with rows, so the scratch
// database (empty) would not catch them.
func addable(c columnDef, col *schema.Column) bool {
	if col == nil || col.PK > 0 || col.Hidden == 3 || hasWord(c.canon, "primary") || hasWord(c.canon, "unique") {
		return false
	}
	dflt := ""
	if col.Default != nil {
		dflt = strings.TrimSpace(*col.Default)
	}
	isNull := dflt == "" || strings.EqualFold(dflt, "null")
	switch {
	case col.NotNull && isNull && !col.Generated():
		return false
	case hasWord(c.canon, "references") && !isNull:
		return false
	case dflt != "" && !literalDefault.MatchString(dflt):
		return false
	}
	return true
}

// rebuild changes t into w with a table rebuild.
func (p *planner) rebuild(t, w *schema.Table) error {
	maps := map[string]string{}
	var notes []string
	destructive := false
	for _, c := range t.Columns {
		if w.Column(c.Name) == nil && c.Hidden == 0 {
			destructive = true
		}
	}
	for _, c := range w.Columns {
		if c.Generated() || c.PK > 0 {
			continue
		}
		old := t.Column(c.Name)
		switch {
		case old != nil && c.NotNull && !old.NotNull && c.Default != nil:
			maps[c.Name] = fmt.Sprintf("coalesce(%s, %s)", ident(old.Name), *c.Default)
		case old != nil && c.NotNull && !old.NotNull:
			notes = append(notes, fmt.Sprintf("%s.%s becomes NOT NULL without a DEFAULT: rows where it is NULL fail the copy; add -- migrate:map %s = coalesce(%s, …)", w.Name, c.Name, ident(c.Name), ident(c.Name)))
		case old == nil && c.NotNull && c.Default == nil:
			notes = append(notes, fmt.Sprintf("%s.%s is new, NOT NULL and has no DEFAULT: existing rows fail the copy; add -- migrate:map %s = … to give them a value", w.Name, c.Name, ident(c.Name)))
		}
	}
	for _, f := range w.ForeignKeys {
		if !slices.ContainsFunc(t.ForeignKeys, func(o schema.ForeignKey) bool {
			return slices.EqualFunc(o.From, f.From, strings.EqualFold) && strings.EqualFold(o.Parent, f.Parent)
		}) {
			notes = append(notes, fmt.Sprintf("new foreign key %s(%s) -> %s: existing rows that reference no %s row fail the migration (PRAGMA foreign_key_check)",
				w.Name, strings.Join(f.From, ", "), f.Parent, f.Parent))
		}
	}
	spec := rebuild.Spec{Table: t.Name, Definition: strings.TrimSpace(w.SQL), Columns: maps}
	if err := rebuild.Table(p.ctx, p.conn, spec); err != nil {
		return fmt.Errorf("plan: rebuild %s: %w", t.Name, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- migrate:rebuild %s\n", ident(t.Name))
	keys := make([]string, 0, len(maps))
	for k := range maps {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "-- migrate:map %s = %s\n", ident(k), maps[k])
	}
	b.WriteString(strings.TrimSpace(w.SQL) + ";")
	p.steps = append(p.steps, Step{Kind: "rebuild table", Object: t.Name, SQL: b.String(),
		Destructive: destructive, Note: strings.Join(notes, "\n")})
	return nil
}

// createObjects creates the indexes, views and triggers that are new or
// were dropped because they changed.
func (p *planner) createObjects() error {
	cur, err := p.cur()
	if err != nil {
		return err
	}
	ct := userTables(cur)
	for _, w := range userTables(p.want) {
		t := findTable(ct, w.Name)
		for _, ix := range explicitIndexes(w) {
			if t != nil && slices.ContainsFunc(explicitIndexes(t), func(o schema.Index) bool {
				return strings.EqualFold(o.Name, ix.Name) && canonSQL(o.SQL) == canonSQL(ix.SQL)
			}) {
				continue
			}
			if err := p.run(Step{Kind: "create index", Object: ix.Name, SQL: strings.TrimSpace(ix.SQL) + ";"}); err != nil {
				return err
			}
		}
	}
	for _, v := range views(p.want) {
		if o := findObject(views(cur), v.Name); o != nil && canonSQL(o.SQL) == canonSQL(v.SQL) {
			continue
		}
		if err := p.run(Step{Kind: "create view", Object: v.Name, SQL: strings.TrimSpace(v.SQL) + ";"}); err != nil {
			return err
		}
	}
	var have, want []schema.Object
	for _, t := range ct {
		have = append(have, t.Triggers...)
	}
	for _, t := range userTables(p.want) {
		want = append(want, t.Triggers...)
	}
	for _, v := range cur.Views {
		if v.Table != "" {
			have = append(have, v)
		}
	}
	for _, v := range p.want.Views {
		if v.Table != "" {
			want = append(want, v)
		}
	}
	for _, tr := range want {
		if o := findObject(have, tr.Name); o != nil && canonSQL(o.SQL) == canonSQL(tr.SQL) {
			continue
		}
		if err := p.run(Step{Kind: "create trigger", Object: tr.Name, SQL: strings.TrimSpace(tr.SQL) + ";"}); err != nil {
			return err
		}
	}
	return nil
}

var bareIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// keywords are SQLite's keywords (https://sqlite.org/lang_keywords.html):
// an identifier spelled like one is quoted.
var keywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT
	BEFORE BEGIN BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE CROSS CURRENT
	CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE DEFERRED DELETE DESC DETACH DISTINCT DO
	DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM
	FULL GENERATED GLOB GROUP GROUPS HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD
	INTERSECT INTO IS ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL NULL
	NULLS OF OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE RANGE
	RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT ROLLBACK ROW ROWS SAVEPOINT
	SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER UNBOUNDED UNION UNIQUE UPDATE USING VACUUM
	VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT`) {
		keywords[k] = true
	}
}

// ident writes name as an SQL identifier: bare when it can be, else in
// double quotes.
func ident(name string) string {
	if bareIdent.MatchString(name) && !keywords[strings.ToUpper(name)] {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
