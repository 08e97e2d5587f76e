package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/lint"
	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

// Render writes the plan as a migration file: a header for the reviewer
// (lint's findings), "-- migrate:up" with "-- migrate:breaking" when the
// plan is breaking, the steps, and "-- migrate:down" with the steps back
// when there are some.
func (p *Plan) Render() string { return p.render(p.Breaking) }

func (p *Plan) render(breaking bool) string {
	var b strings.Builder
	b.WriteString("-- Written by `larder migrate diff` from the schema file: review it before committing.\n")
	for _, f := range p.Findings {
		fmt.Fprintf(&b, "-- lint %s %s (%s): %s\n", f.Code, f.Name, f.Severity, f.Message)
	}
	b.WriteString("-- migrate:up\n")
	if breaking {
		var why []string
		for _, f := range p.Findings {
			if incompatible(f.Code) {
				why = append(why, fmt.Sprintf("%s %s: %s", f.Code, f.Name, f.Message))
			}
		}
		fmt.Fprintf(&b, "-- migrate:breaking  (%s)\n", strings.Join(why, "; "))
	}
	writeSteps(&b, p.Up)
	if p.Down != nil {
		b.WriteString("\n-- migrate:down\n")
		if p.DownNote != "" {
			fmt.Fprintf(&b, "-- %s\n", p.DownNote)
		}
		writeSteps(&b, p.Down)
	} else if p.DownNote != "" {
		fmt.Fprintf(&b, "\n-- %s\n", p.DownNote)
	}
	return b.String()
}

func writeSteps(b *strings.Builder, steps []Step) {
	for i, s := range steps {
		if i > 0 && (s.Kind != steps[i-1].Kind || strings.Contains(s.SQL, "\n") || s.Note != "") {
			b.WriteByte('\n')
		}
		if s.Note != "" {
			for _, l := range strings.Split(s.Note, "\n") {
				fmt.Fprintf(b, "-- review: %s\n", l)
			}
		}
		b.WriteString(s.SQL)
		b.WriteByte('\n')
	}
}

func incompatible(code string) bool {
	for _, r := range lint.Rules() {
		if r.Code == code {
			return r.Incompatible
		}
	}
	return false
}

// schemaSQL is the text that creates the objects of s: tables, indexes,
// views, then triggers.
func schemaSQL(s *schema.Schema) []string {
	var stmts []string
	tables := userTables(s)
	for _, t := range tables {
		stmts = append(stmts, t.SQL)
	}
	for _, t := range tables {
		for _, ix := range explicitIndexes(t) {
			stmts = append(stmts, ix.SQL)
		}
	}
	for _, v := range views(s) {
		stmts = append(stmts, v.SQL)
	}
	for _, t := range tables {
		for _, tr := range t.Triggers {
			stmts = append(stmts, tr.SQL)
		}
	}
	for _, v := range s.Views {
		if v.Table != "" {
			stmts = append(stmts, v.SQL)
		}
	}
	return stmts
}

// baseline is a migration that creates from's objects, so that lint and
// the check of a plan can run the plan on top of it with the real engine.
func baseline(from *schema.Schema) *migrations.Migration {
	stmts := schemaSQL(from)
	if len(stmts) == 0 {
		return nil
	}
	up := strings.Join(stmts, ";\n") + ";\n"
	return &migrations.Migration{Version: 1, Name: "baseline", Up: up, UpLine: 1, Checksum: migrations.Checksum(up)}
}

// lint lints the rendered plan on top of from and marks it breaking when
// lint finds an incompatible change.
func (p *Plan) lint(ctx context.Context, from *schema.Schema) error {
	findings, err := lintText(ctx, from, p.render(false))
	if err != nil {
		return err
	}
	// Marking the file breaking changes only L010, which lintText leaves
	// out: the findings on the marked file are these.
	p.Findings = findings
	p.Breaking = slices.ContainsFunc(findings, func(f lint.Finding) bool { return incompatible(f.Code) })
	return nil
}

// lintText lints a migration file's text applied after the baseline of
// from and returns the findings on it.
func lintText(ctx context.Context, from *schema.Schema, text string) ([]lint.Finding, error) {
	m, err := migrations.Parse("0002_plan.sql", []byte(text))
	if err != nil {
		return nil, fmt.Errorf("plan: lint: %w", err)
	}
	migs := []*migrations.Migration{m}
	if b := baseline(from); b != nil {
		migs = append(migs, b)
	}
	all, err := lint.Lint(ctx, migs)
	if err != nil {
		return nil, fmt.Errorf("plan: lint: %w", err)
	}
	var out []lint.Finding
	for _, f := range all {
		if f.Version == m.Version && f.Code != "L010" {
			f.Migration = "the new migration"
			out = append(out, f)
		}
	}
	return out, nil
}

// verify applies the rendered plan with the real engine to a database
// holding from, and checks that it reaches to; then the down part, which
// must reach from again (else it is left out).
func verify(ctx context.Context, from, to *schema.Schema, p *Plan) error {
	conn, err := scratch(ctx, from)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Exec("PRAGMA foreign_keys=ON"); err != nil {
		return err
	}
	m, err := migrations.Parse("0001_plan.sql", []byte(p.render(false)))
	if err != nil {
		return fmt.Errorf("plan: the rendered migration does not parse (please report this): %w", err)
	}
	prov, err := migrations.NewProvider(sqlite.NewStore(conn), []*migrations.Migration{m}, migrations.Options{})
	if err != nil {
		return err
	}
	if _, err := prov.Up(ctx, 0); err != nil {
		return fmt.Errorf("plan: the planned migration does not apply (please report this): %w", err)
	}
	got, err := schema.Read(ctx, conn)
	if err != nil {
		return err
	}
	if d := Compare(got, to); len(d) > 0 {
		return fmt.Errorf("plan: the planned migration does not reach the new schema (please report this): %v", d)
	}
	if p.Down == nil {
		return nil
	}
	if _, err := prov.Down(ctx, migrations.DownTarget{To: 0}); err != nil {
		p.Down, p.DownNote = nil, "no down part: the steps back do not apply: "+err.Error()
		return nil
	}
	if got, err = schema.Read(ctx, conn); err != nil {
		return err
	}
	if d := Compare(got, from); len(d) > 0 {
		p.Down, p.DownNote = nil, fmt.Sprintf("no down part: the steps back do not reach the old schema: %v", d)
	}
	return nil
}
