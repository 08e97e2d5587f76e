package lint

import (
	"slices"
	"strings"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/schema"
)

// A step is one part (up or down) of one migration, with the schema before
// and after it and what the authorizer saw while it ran.
type step struct {
	m             *migrations.Migration
	part          string // "up" or "down"
	before, after *schema.Schema
	rec           *recorder
	targets       []Target
	d1            *d1Run // the part run the way D1 runs it; nil when d1 is not a target
	out           []Finding
}

func (s *step) add(code, object, format string, args ...any) *Finding {
	f := finding(s.m, s.part, code, object, format, args...)
	s.out = append(s.out, f)
	return &s.out[len(s.out)-1]
}

func (s *step) targeted(t Target) bool { return slices.Contains(s.targets, t) }

// check compares the schema before and after a step and returns its
// findings for the step's targets, in code order.
func check(s *step) []Finding {
	before, after, rec := s.before, s.after, s.rec
	var newTables []*schema.Table
	for _, t := range after.Tables {
		if before.Table(t.Name) == nil {
			newTables = append(newTables, t)
		}
	}
	for _, bt := range before.Tables {
		if strings.EqualFold(bt.Name, "_migrations") {
			continue
		}
		at := after.Table(bt.Name)
		if at == nil {
			if rec.altered[strings.ToLower(bt.Name)] {
				if n := sameColumns(bt, newTables); n != nil {
					s.add("L003", bt.Name, "table %s is renamed to %s", bt.Name, n.Name)
					continue
				}
			}
			s.add("L001", bt.Name, "table %s is dropped", bt.Name)
			continue
		}
		checkTable(s, bt, at)
	}
	checkForeignKeys(s)
	checkStatements(s)

	if s.part == "up" {
		var incompatible []string
		for _, f := range s.out {
			if rule(f.Code).Incompatible && !slices.Contains(incompatible, f.Code) {
				incompatible = append(incompatible, f.Code)
			}
		}
		if len(incompatible) > 0 && !s.m.Breaking {
			s.add("L010", "", "incompatible with code written for the schema before it (%s) but not marked -- migrate:breaking",
				strings.Join(incompatible, ", "))
		}
	}
	out := slices.DeleteFunc(s.out, func(f Finding) bool {
		r := rule(f.Code)
		// A down part goes back to the schema older code was written for:
		// the compatibility rules are about the other direction.
		return !applies(r, s.targets) || (s.part == "down" && (r.Incompatible || r.Code == "L010"))
	})
	slices.SortStableFunc(out, func(a, b Finding) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// checkStatements reports statements the authorizer saw that some target
// refuses or ignores.
func checkStatements(s *step) {
	rec := s.rec
	if len(rec.fkValues) > 0 {
		v := "PRAGMA foreign_keys = " + strings.Join(rec.fkValues, " … = ")
		f := s.add("L009", "", "%s: unnecessary, the engine already runs every SQL migration with foreign key enforcement off (switched outside the transaction) and runs PRAGMA foreign_key_check before commit; inside the transaction the statement does nothing", v)
		if s.m.NoTransaction {
			f.Message = v + ": unnecessary, the engine already runs every SQL migration with foreign key enforcement off and runs PRAGMA foreign_key_check at the end; this part runs without a transaction, so here the statement does take effect, changing what the engine set"
		}
		if s.m.IsCode() && !s.m.NoForeignKeys {
			f.Severity = Error
			f.Message = v + ": does nothing inside the Go migration's transaction, and foreign keys stay enforced: the migration does not set NoForeignKeys"
		}
		s.add("L017", "", "%s cannot work on D1: D1 enforces foreign keys in every migration and does not let one switch them off", v)
	}
	names := make([]string, 0, len(rec.pragmas))
	for p := range rec.pragmas {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		if !d1Pragmas[p] && !(p == "foreign_keys" && rec.pragmas[p] != "") {
			s.add("L012", "", "PRAGMA %s is refused by Cloudflare D1", p)
		}
	}
	for _, tc := range rec.txControl {
		s.add("L011", "", "%s inside a migration", strings.TrimSpace(tc))
	}
	if rec.functions["sqlite_version"] {
		s.add("L013", "", "sqlite_version() is refused by Cloudflare D1")
	}
}

// sameColumns finds the new table with exactly the columns of t: the
// target of a rename.
func sameColumns(t *schema.Table, candidates []*schema.Table) *schema.Table {
	var found *schema.Table
	for _, n := range candidates {
		if slices.EqualFunc(t.Columns, n.Columns, func(a, b schema.Column) bool {
			return strings.EqualFold(a.Name, b.Name) && strings.EqualFold(a.Type, b.Type)
		}) {
			if found != nil {
				return nil // ambiguous
			}
			found = n
		}
	}
	return found
}
