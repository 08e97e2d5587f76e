package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/larderdb/larder/migrations/lint"
	"github.com/larderdb/larder/migrations/schema"
)

// A Rename says that an object of the old schema is one of the new schema
// under another name. Table "" renames the table Old to New; otherwise
// Old and New are columns of Table (named as in either schema).
type Rename struct {
	Table    string `json:"table,omitempty"`
	Old, New string
}

func (r Rename) String() string {
	if r.Table == "" {
		return r.Old + "=" + r.New
	}
	return r.Table + "." + r.Old + "=" + r.New
}

// ParseRename reads the argument of --rename: "TABLE.OLD=NEW" renames a
// column of TABLE, "OLD=NEW" renames a table.
func ParseRename(s string) (Rename, error) {
	lhs, rhs, ok := strings.Cut(s, "=")
	lhs, rhs = strings.TrimSpace(lhs), strings.TrimSpace(rhs)
	if !ok || lhs == "" || rhs == "" || strings.Contains(rhs, ".") {
		return Rename{}, fmt.Errorf("plan: rename %q: want TABLE.OLD=NEW (a column) or OLD=NEW (a table)", s)
	}
	t, col, isCol := strings.Cut(lhs, ".")
	if isCol {
		if t == "" || col == "" {
			return Rename{}, fmt.Errorf("plan: rename %q: want TABLE.OLD=NEW", s)
		}
		return Rename{Table: t, Old: col, New: rhs}, nil
	}
	return Rename{Old: lhs, New: rhs}, nil
}

// Options change what [Diff] plans.
type Options struct {
	// Renames are the tables and columns that were renamed. Without one,
	// a column or table that is gone while another is new is a drop and
	// an add: renames are never guessed.
	Renames []Rename
	// AllowDestructive lets the plan drop tables and columns (and re-create
	// virtual tables, which empties them). Without it Diff returns the plan
	// with an error wrapping ErrDestructive.
	AllowDestructive bool
	// NoLint skips linting the plan (Plan.Breaking stays false, Findings
	// empty): for `schema apply` on a development database.
	NoLint bool
}

// ErrDestructive is wrapped by the error Diff returns for a plan that
// drops data without Options.AllowDestructive.
var ErrDestructive = errors.New("the change drops data")

// A Step is one change of a plan.
type Step struct {
	Kind        string `json:"kind"`   // "rename table", "drop column", "rebuild table", "create index", …
	Object      string `json:"object"` // "note", "note.body", "note_body_idx"
	SQL         string `json:"sql"`    // as written in the migration file (a rebuild with its directive lines)
	Destructive bool   `json:"destructive,omitempty"`
	Note        string `json:"note,omitempty"` // for the reviewer, written as a comment above the step
}

// A Plan is the steps that turn one schema into another, and the steps
// back.
type Plan struct {
	Up []Step `json:"up"`
	// Down turns the new schema back into the old; nil when it cannot be
	// derived (DownNote says why).
	Down     []Step `json:"down"`
	DownNote string `json:"down_note,omitempty"`
	// Breaking is set when lint finds a change incompatible with code
	// written for the old schema; the rendered file is then marked
	// "-- migrate:breaking".
	Breaking bool `json:"breaking"`
	// Findings are lint's findings on the rendered migration.
	Findings []lint.Finding `json:"findings"`
}

// Empty reports whether the schemas were equal.
func (p *Plan) Empty() bool { return len(p.Up) == 0 }

// Destructive lists the steps that drop data.
func (p *Plan) Destructive() []Step {
	var out []Step
	for _, s := range p.Up {
		if s.Destructive {
			out = append(out, s)
		}
	}
	return out
}

// Diff plans the steps that turn from (the schema the migrations produce)
// into to (the schema file's), checks that they get there, derives the
// steps back, and lints the result. See the package documentation for
// the order of the steps and the rules. A plan that drops data without
// opts.AllowDestructive comes back with an error wrapping ErrDestructive.
func Diff(ctx context.Context, from, to *schema.Schema, opts Options) (*Plan, error) {
	up, err := plan(ctx, from, to, opts.Renames)
	if err != nil {
		return nil, err
	}
	p := &Plan{Up: up}
	if p.Empty() {
		return p, nil
	}
	noteMovedData(p.Up)
	back := make([]Rename, len(opts.Renames))
	for i, r := range opts.Renames {
		back[i] = Rename{Table: r.Table, Old: r.New, New: r.Old}
	}
	if down, err := plan(ctx, to, from, back); err != nil {
		p.DownNote = "no down part: " + err.Error()
	} else {
		p.Down = down
		if len(p.Destructive()) > 0 {
			p.DownNote = "the down part brings dropped tables and columns back empty"
		}
	}
	if err := verify(ctx, from, to, p); err != nil {
		return nil, err
	}
	if !opts.NoLint {
		if err := p.lint(ctx, from); err != nil {
			return nil, err
		}
	}
	if d := p.Destructive(); len(d) > 0 && !opts.AllowDestructive {
		names := make([]string, len(d))
		for i, s := range d {
			names[i] = s.Kind + " " + s.Object
		}
		return p, fmt.Errorf("plan: %w: %s (allow it with --allow-destructive, or say what was renamed with --rename)",
			ErrDestructive, strings.Join(names, ", "))
	}
	return p, nil
}

// renamedTable is the name a table has in the new schema, given table
// renames: r.Table may name a column's table by its old or new name.
func renamedTable(renames []Rename, name string) string {
	for _, r := range renames {
		if r.Table == "" && strings.EqualFold(r.Old, name) {
			return r.New
		}
	}
	return name
}

// noteMovedData adds a note for the reviewer to the first step that drops
// data when the plan also creates tables: a table split or a move, where
// the rows should be copied before the drop.
func noteMovedData(steps []Step) {
	var created []string
	for _, s := range steps {
		if s.Kind == "create table" {
			created = append(created, s.Object)
		}
	}
	for i, s := range steps {
		if len(created) > 0 && s.Destructive && s.Kind != "create table" {
			n := fmt.Sprintf("this drops data; if it moves to %s, copy it first, here: INSERT INTO %s (…) SELECT … FROM …;",
				strings.Join(created, ", "), created[0])
			if steps[i].Note != "" {
				n = steps[i].Note + "\n" + n
			}
			steps[i].Note = n
			return
		}
	}
}

// RenameCandidates lists the renames that could explain how from became
// to, beyond those already given: each table that is gone paired with
// each table that is new, and within a table both schemas have, each
// column that is gone paired with each column that is new. Diff never
// takes them on its own; the CLI asks about them on a terminal.
func RenameCandidates(from, to *schema.Schema, given []Rename) []Rename {
	ft, tt := userTables(from), userTables(to)
	taken := func(table, name string) bool {
		return slices.ContainsFunc(given, func(r Rename) bool {
			return (r.Table == "") == (table == "") && (table == "" || strings.EqualFold(renamedTable(given, r.Table), table)) &&
				(strings.EqualFold(r.Old, name) || strings.EqualFold(r.New, name))
		})
	}
	var out []Rename
	for _, o := range ft {
		if findTable(tt, o.Name) != nil || taken("", o.Name) {
			continue
		}
		for _, n := range tt {
			if findTable(ft, n.Name) == nil && !taken("", n.Name) {
				out = append(out, Rename{Old: o.Name, New: n.Name})
			}
		}
	}
	for _, n := range tt {
		o := findTable(ft, n.Name)
		for _, r := range given {
			if r.Table == "" && strings.EqualFold(r.New, n.Name) {
				o = findTable(ft, r.Old)
			}
		}
		if o == nil {
			continue
		}
		for _, oc := range o.Columns {
			if n.Column(oc.Name) != nil || taken(n.Name, oc.Name) {
				continue
			}
			for _, nc := range n.Columns {
				if o.Column(nc.Name) == nil && !taken(n.Name, nc.Name) {
					out = append(out, Rename{Table: n.Name, Old: oc.Name, New: nc.Name})
				}
			}
		}
	}
	return out
}
