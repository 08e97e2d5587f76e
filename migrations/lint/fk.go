package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/larderdb/larder/migrations/schema"
)

// A reference is a foreign key of child pointing at a parent table.
type reference struct {
	child *schema.Table
	fk    schema.ForeignKey
}

func (r reference) String() string {
	s := fmt.Sprintf("%s(%s)", r.child.Name, strings.Join(r.fk.From, ", "))
	if a := strings.ToUpper(r.fk.OnDelete); a != "" && a != "NO ACTION" {
		s += " ON DELETE " + a
	}
	return s
}

func (r reference) acts() bool {
	a := strings.ToUpper(r.fk.OnDelete)
	return a == "CASCADE" || a == "SET NULL" || a == "SET DEFAULT"
}

// children lists the foreign keys of s's tables other than parent that
// reference parent, leaving out tables that do not survive the step and
// tables in skip.
func children(sch, after *schema.Schema, parent string, skip []string) []reference {
	var out []reference
	for _, c := range sch.Tables {
		if strings.EqualFold(c.Name, parent) || after.Table(c.Name) == nil ||
			slices.ContainsFunc(skip, func(n string) bool { return strings.EqualFold(n, c.Name) }) {
			continue
		}
		for _, fk := range c.ForeignKeys {
			if strings.EqualFold(fk.Parent, parent) {
				out = append(out, reference{c, fk})
			}
		}
	}
	return out
}

func joinRefs(refs []reference) string {
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

// checkForeignKeys reports what dropping, rebuilding and renaming tables
// does to the foreign keys that reference them (L008, L014, L015, L016).
func checkForeignKeys(s *step) {
	before, after, rec := s.before, s.after, s.rec
	rebuilt := map[string]bool{}
	for i, d := range rec.dropped {
		if before.Table(d) == nil || rebuilt[strings.ToLower(d)] {
			continue // created by this step, or seen already
		}
		// Children dropped before the parent are not there to be touched.
		refs := children(before, after, d, rec.dropped[:i])
		if after.Table(d) != nil {
			rebuilt[strings.ToLower(d)] = true
			if len(refs) > 0 {
				s.add("L015", d, "hand-written rebuild of %s (DROP TABLE %s, then a new %s) while %s %s it: %s",
					d, d, d, joinRefs(refs), plural(len(refs), "references", "reference"), dropEffect(s, refs))
			}
			continue
		}
		var acting []reference
		for _, r := range refs {
			if r.acts() {
				acting = append(acting, r)
			}
		}
		if where := enforcedOn(s); len(acting) > 0 && where != "" {
			s.add("L008", d, "DROP TABLE %s runs with foreign keys enforced %s: %s %s its rows",
				d, where, joinRefs(acting), map[bool]string{true: "deletes or rewrites", false: "rewrites"}[slices.ContainsFunc(acting, func(r reference) bool { return strings.EqualFold(r.fk.OnDelete, "CASCADE") })])
		}
	}
	d1Findings(s, s.d1, rebuilt)

	for _, spec := range rec.rebuilds {
		for _, r := range children(before, after, spec.Table, nil) {
			if r.acts() {
				s.add("L014", spec.Table, "rebuild of %s: on D1 its DROP TABLE fires ON DELETE %s on %s(%s)",
					spec.Table, strings.ToUpper(r.fk.OnDelete), r.child.Name, strings.Join(r.fk.From, ", "))
			}
		}
	}

	for _, c := range after.Tables {
		for _, fk := range c.ForeignKeys {
			if after.Table(fk.Parent) != nil {
				continue
			}
			ref := reference{c, fk}
			var old *schema.ForeignKey
			if bt := before.Table(c.Name); bt != nil {
				if i := slices.IndexFunc(bt.ForeignKeys, func(o schema.ForeignKey) bool { return slices.EqualFunc(o.From, fk.From, strings.EqualFold) }); i >= 0 {
					old = &bt.ForeignKeys[i]
				}
			}
			switch {
			case old != nil && before.Table(old.Parent) == nil:
				continue // dangling already before this step
			case old != nil && !strings.EqualFold(old.Parent, fk.Parent):
				s.add("L016", c.Name, "rename-aside of %s: ALTER TABLE %s RENAME TO %s repointed the foreign key %s to %s, which the migration drops: writes to %s fail with \"no such table: main.%s\"",
					old.Parent, old.Parent, fk.Parent, ref, fk.Parent, c.Name, fk.Parent)
			case old != nil:
				s.add("L016", c.Name, "DROP TABLE %s leaves the foreign key %s referencing a table that no longer exists: writes to %s fail with \"no such table: main.%s\"",
					fk.Parent, ref, c.Name, fk.Parent)
			default:
				s.add("L016", c.Name, "the foreign key %s references %s, a table that does not exist after the migration", ref, fk.Parent)
			}
		}
	}
}

// enforcedOn says where, among the targets linted for, a step's DROP TABLE
// statements run with foreign keys enforced and are not seen by the D1
// simulation (d1Findings): "" when nowhere.
func enforcedOn(s *step) string {
	var where []string
	if s.m.IsCode() && !s.m.NoForeignKeys && (s.targeted(Native) || s.targeted(Browser)) {
		where = append(where, "in this Go migration (it does not set NoForeignKeys)")
	}
	if s.targeted(D1) && s.d1 == nil && !s.m.IsCode() {
		where = append(where, "on D1 (always)")
	}
	return strings.Join(where, " and ")
}

// dropEffect says what the DROP TABLE of a hand-written rebuild does to
// the rows of the tables that reference it.
func dropEffect(s *step, refs []reference) string {
	what := "the DROP TABLE fails on their rows, or succeeds only with PRAGMA defer_foreign_keys"
	if slices.ContainsFunc(refs, reference.acts) {
		what = "the DROP TABLE runs those ON DELETE actions on their rows (CASCADE deletes them)"
	}
	where := "wherever foreign keys are enforced during the migration (always on D1, which is not a target here; with any runner that does not switch them off)"
	if s.targeted(D1) {
		where = "on D1, where foreign keys cannot be switched off,"
	} else if s.m.IsCode() && !s.m.NoForeignKeys {
		where = "in this Go migration, which does not set NoForeignKeys,"
	}
	return where + " " + what
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
