package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

// planner carries out each step it plans on a scratch copy of the old
// schema, so that later steps are planned against the state earlier ones
// leave, and every step is known to apply.
type planner struct {
	ctx   context.Context
	conn  *sqlite3.Conn
	want  *schema.Schema
	steps []Step
}

// plan returns the steps from one schema to the other.
func plan(ctx context.Context, from, to *schema.Schema, renames []Rename) ([]Step, error) {
	conn, err := scratch(ctx, from)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.Exec("BEGIN"); err != nil {
		return nil, err
	}
	p := &planner{ctx: ctx, conn: conn, want: to}
	for _, phase := range []func() error{
		func() error { return p.renames(renames) },
		p.dropObjects, p.createTables, p.columns, p.dropTables, p.createObjects,
	} {
		if err := phase(); err != nil {
			return nil, err
		}
	}
	cur, err := p.cur()
	if err != nil {
		return nil, err
	}
	if d := Compare(cur, to); len(d) > 0 {
		return nil, fmt.Errorf("plan: the planned steps do not reach the new schema (please report this): %v", d)
	}
	return p.steps, nil
}

// scratch opens an in-memory database holding the tables, indexes, views
// and triggers of s (not its data), with foreign keys off.
func scratch(ctx context.Context, s *schema.Schema) (*sqlite3.Conn, error) {
	conn, err := sqlite.Open(":memory:")
	if err != nil {
		return nil, err
	}
	if err := load(ctx, conn, s); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// load creates the objects of s on conn, foreign keys off.
func load(ctx context.Context, conn *sqlite3.Conn, s *schema.Schema) error {
	if err := conn.Exec("PRAGMA foreign_keys=OFF"); err != nil {
		return err
	}
	stmts := schemaSQL(s)
	for _, st := range stmts {
		if err := sqlite.Exec(ctx, conn, st, 1); err != nil {
			return fmt.Errorf("plan: load schema: %s: %w", firstLine(st), err)
		}
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func (p *planner) cur() (*schema.Schema, error) { return schema.Read(p.ctx, p.conn) }

// run carries out st on the scratch database and records it.
func (p *planner) run(st Step) error {
	if err := sqlite.Exec(p.ctx, p.conn, st.SQL, 1); err != nil {
		return fmt.Errorf("plan: %s %s: %w", st.Kind, st.Object, err)
	}
	p.steps = append(p.steps, st)
	return nil
}

// renames carries out the renames the caller named, after checking that
// each names something gone and something new.
func (p *planner) renames(renames []Rename) error {
	for _, r := range renames {
		if r.Table != "" {
			continue
		}
		cur, err := p.cur()
		if err != nil {
			return err
		}
		ct, wt := userTables(cur), userTables(p.want)
		switch {
		case findTable(ct, r.Old) == nil:
			return fmt.Errorf("plan: rename %s: the old schema has no table %s", r, r.Old)
		case findTable(wt, r.Old) != nil:
			return fmt.Errorf("plan: rename %s: the new schema still has table %s", r, r.Old)
		case findTable(wt, r.New) == nil:
			return fmt.Errorf("plan: rename %s: the new schema has no table %s", r, r.New)
		case findTable(ct, r.New) != nil:
			return fmt.Errorf("plan: rename %s: the old schema already has table %s", r, r.New)
		}
		if err := p.run(Step{Kind: "rename table", Object: r.Old + " -> " + r.New,
			SQL: fmt.Sprintf("ALTER TABLE %s RENAME TO %s;", ident(findTable(ct, r.Old).Name), ident(findTable(wt, r.New).Name))}); err != nil {
			return err
		}
	}
	for _, r := range renames {
		if r.Table == "" {
			continue
		}
		cur, err := p.cur()
		if err != nil {
			return err
		}
		t := findTable(userTables(cur), r.Table)
		if t == nil {
			t = findTable(userTables(cur), renamedTable(renames, r.Table))
		}
		var w *schema.Table
		if t != nil {
			w = findTable(userTables(p.want), t.Name)
		}
		switch {
		case t == nil || w == nil:
			return fmt.Errorf("plan: rename %s: no table %s in both schemas", r, r.Table)
		case t.Column(r.Old) == nil:
			return fmt.Errorf("plan: rename %s: the old schema has no column %s.%s", r, t.Name, r.Old)
		case w.Column(r.Old) != nil:
			return fmt.Errorf("plan: rename %s: the new schema still has column %s.%s", r, w.Name, r.Old)
		case w.Column(r.New) == nil:
			return fmt.Errorf("plan: rename %s: the new schema has no column %s.%s", r, w.Name, r.New)
		case t.Column(r.New) != nil:
			return fmt.Errorf("plan: rename %s: the old schema already has column %s.%s", r, t.Name, r.New)
		}
		if err := p.run(Step{Kind: "rename column", Object: t.Name + "." + r.Old + " -> " + r.New,
			SQL: fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO %s;", ident(t.Name), ident(t.Column(r.Old).Name), ident(w.Column(r.New).Name))}); err != nil {
			return err
		}
	}
	return nil
}

// dropObjects drops the triggers, views and indexes that are gone or
// changed, before any table changes under them.
func (p *planner) dropObjects() error {
	cur, err := p.cur()
	if err != nil {
		return err
	}
	ct, wt := userTables(cur), userTables(p.want)
	gone := func(table string) bool { return findTable(wt, table) == nil }
	var wantTriggers []schema.Object
	for _, t := range wt {
		wantTriggers = append(wantTriggers, t.Triggers...)
	}
	for _, v := range p.want.Views {
		if v.Table != "" {
			wantTriggers = append(wantTriggers, v)
		}
	}
	var curTriggers []schema.Object
	for _, t := range ct {
		curTriggers = append(curTriggers, t.Triggers...)
	}
	for _, v := range cur.Views {
		if v.Table != "" {
			curTriggers = append(curTriggers, v)
		}
	}
	for _, tr := range curTriggers {
		if w := findObject(wantTriggers, tr.Name); w != nil && canonSQL(w.SQL) == canonSQL(tr.SQL) {
			continue
		}
		if findTable(ct, tr.Table) != nil && gone(tr.Table) {
			continue // goes with its table
		}
		if err := p.run(Step{Kind: "drop trigger", Object: tr.Name, SQL: "DROP TRIGGER " + ident(tr.Name) + ";"}); err != nil {
			return err
		}
	}
	for _, v := range views(cur) {
		if w := findObject(views(p.want), v.Name); w != nil && canonSQL(w.SQL) == canonSQL(v.SQL) {
			continue
		}
		if err := p.run(Step{Kind: "drop view", Object: v.Name, SQL: "DROP VIEW " + ident(v.Name) + ";"}); err != nil {
			return err
		}
	}
	for _, t := range ct {
		w := findTable(wt, t.Name)
		if w == nil {
			continue
		}
		for _, ix := range explicitIndexes(t) {
			wi := slices.IndexFunc(explicitIndexes(w), func(o schema.Index) bool { return strings.EqualFold(o.Name, ix.Name) })
			if wi >= 0 && canonSQL(explicitIndexes(w)[wi].SQL) == canonSQL(ix.SQL) {
				continue
			}
			if err := p.run(Step{Kind: "drop index", Object: ix.Name, SQL: "DROP INDEX " + ident(ix.Name) + ";"}); err != nil {
				return err
			}
		}
	}
	return nil
}

// createTables creates the new tables.
func (p *planner) createTables() error {
	cur, err := p.cur()
	if err != nil {
		return err
	}
	ct := userTables(cur)
	for _, t := range userTables(p.want) {
		if findTable(ct, t.Name) != nil || isShadow(cur, t.Name) {
			continue
		}
		if err := p.run(Step{Kind: "create table", Object: t.Name, SQL: strings.TrimSpace(t.SQL) + ";"}); err != nil {
			return err
		}
	}
	return nil
}

// dropTables drops the tables that are gone, a child before its parent,
// after the columns of the tables that stay no longer reference them (a
// DROP TABLE with foreign keys on deletes the rows first: children's ON
// DELETE actions fire, RESTRICT fails).
func (p *planner) dropTables() error {
	cur, err := p.cur()
	if err != nil {
		return err
	}
	wt := userTables(p.want)
	var gone []*schema.Table
	for _, t := range userTables(cur) {
		if findTable(wt, t.Name) == nil {
			gone = append(gone, t)
		}
	}
	for _, t := range childrenFirst(gone) {
		if err := p.run(Step{Kind: "drop table", Object: t.Name, SQL: "DROP TABLE " + ident(t.Name) + ";", Destructive: true}); err != nil {
			return err
		}
	}
	return nil
}

// childrenFirst orders tables so that one referencing another through a
// foreign key comes before it (cycles keep their order).
func childrenFirst(tables []*schema.Table) []*schema.Table {
	var out []*schema.Table
	done := map[string]bool{}
	var visit func(t *schema.Table, depth int)
	visit = func(t *schema.Table, depth int) {
		if done[strings.ToLower(t.Name)] || depth > len(tables) {
			return
		}
		// Children of t among tables go first.
		for _, c := range tables {
			if c != t && slices.ContainsFunc(c.ForeignKeys, func(f schema.ForeignKey) bool { return strings.EqualFold(f.Parent, t.Name) }) {
				visit(c, depth+1)
			}
		}
		if !done[strings.ToLower(t.Name)] {
			done[strings.ToLower(t.Name)] = true
			out = append(out, t)
		}
	}
	for _, t := range tables {
		visit(t, 0)
	}
	return out
}
