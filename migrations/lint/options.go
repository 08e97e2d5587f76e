package lint

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/larderdb/larder/migrations"
)

// A Target is a place the migrations run: it chooses which rules apply.
type Target string

const (
	Native  Target = "native"  // the larder CLI and Go programs (migrations/sqlite)
	Browser Target = "browser" // larder.wasm in a Web Worker: the same engine as Native
	D1      Target = "d1"      // Cloudflare D1 through the edge Worker
)

// AllTargets lists every target, in the order reports name them.
func AllTargets() []Target { return []Target{Native, Browser, D1} }

// DefaultTargets are the targets linted for when Options.Targets is empty:
// native and browser. D1 rules run only when D1 is asked for.
func DefaultTargets() []Target { return []Target{Native, Browser} }

// ParseTargets reads target names, each value one name or several
// separated by commas ("native,d1"), as --target gives them. The result is
// in AllTargets order without repeats.
func ParseTargets(values ...string) ([]Target, error) {
	seen := map[Target]bool{}
	for _, v := range values {
		for _, name := range strings.Split(v, ",") {
			t := Target(strings.ToLower(strings.TrimSpace(name)))
			if !slices.Contains(AllTargets(), t) {
				return nil, fmt.Errorf("lint: unknown target %q (want native, browser or d1)", strings.TrimSpace(name))
			}
			seen[t] = true
		}
	}
	var out []Target
	for _, t := range AllTargets() {
		if seen[t] {
			out = append(out, t)
		}
	}
	return out, nil
}

// An Ignore acknowledges the findings of one rule in one migration, so that
// an applied migration (whose file must not change: its checksum would) can
// stay as it is. An Ignore that matches no finding is reported as L019.
type Ignore struct {
	Code string // "L008"
	// Migration is the migration's version ("3" or "0003"), its file name
	// ("0003_rebuild_users.sql") or its label ("0003_rebuild_users").
	Migration string
}

func (ig Ignore) String() string { return ig.Code + ":" + ig.Migration }

// ParseIgnore reads "CODE:MIGRATION", the form of --ignore.
func ParseIgnore(s string) (Ignore, error) {
	code, mig, ok := strings.Cut(strings.TrimSpace(s), ":")
	ig := Ignore{Code: strings.ToUpper(strings.TrimSpace(code)), Migration: strings.TrimSpace(mig)}
	if !ok || ig.Code == "" || ig.Migration == "" {
		return Ignore{}, fmt.Errorf("lint: ignore %q: want CODE:MIGRATION, e.g. L015:3 or L015:0003_rebuild_users.sql", s)
	}
	return ig, nil
}

// Options choose what Check lints and reports. The zero value lints every
// migration for DefaultTargets and ignores nothing.
type Options struct {
	// Targets choose the rule sets (see Rule.Targets). Empty: DefaultTargets.
	Targets []Target
	// Ignore acknowledges findings: they are left out of Report.Findings
	// and counted in Report.Ignored.
	Ignore []Ignore
	// Since lints only migrations with a version above it; the ones up to
	// it are still applied, to build the schema the later ones change.
	Since int64
}

// ignoreSet is Options.Ignore resolved against the migrations.
type ignoreSet struct {
	list []Ignore
	vers []int64 // version of each entry of list
	used []bool
}

func resolveIgnores(list []Ignore, migs []*migrations.Migration) (*ignoreSet, error) {
	s := &ignoreSet{list: list, vers: make([]int64, len(list)), used: make([]bool, len(list))}
	for i, ig := range list {
		r, ok := lookupRule(ig.Code)
		switch {
		case !ok:
			return nil, fmt.Errorf("lint: ignore %s: unknown rule %s", ig, ig.Code)
		case r.Code == "L000" || r.Code == "L019":
			return nil, fmt.Errorf("lint: ignore %s: %s (%s) cannot be ignored", ig, r.Code, r.Name)
		}
		idx := slices.IndexFunc(migs, func(m *migrations.Migration) bool { return matchMigration(ig.Migration, m) })
		if idx < 0 {
			return nil, fmt.Errorf("lint: ignore %s: no migration %q (give its version, file name or label)", ig, ig.Migration)
		}
		s.vers[i] = migs[idx].Version
	}
	return s, nil
}

func matchMigration(ref string, m *migrations.Migration) bool {
	if v, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return v == m.Version
	}
	return ref == m.Label() || (m.Source != "" && ref == m.Source)
}

// take reports whether f is ignored, marking the ignores that match it.
func (s *ignoreSet) take(f Finding) bool {
	hit := false
	for i, ig := range s.list {
		if ig.Code == f.Code && s.vers[i] == f.Version {
			s.used[i], hit = true, true
		}
	}
	return hit
}

func lookupRule(code string) (Rule, bool) {
	for _, r := range rules {
		if r.Code == code {
			return r, true
		}
	}
	return Rule{}, false
}

// applies reports whether r runs for any of targets.
func applies(r Rule, targets []Target) bool {
	return len(r.Targets) == 0 || slices.ContainsFunc(r.Targets, func(t Target) bool { return slices.Contains(targets, t) })
}
