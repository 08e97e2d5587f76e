// Package lint finds destructive and backward-incompatible changes in
// migrations before they ship (`larder migrate lint`).
//
// It does not parse SQL. It applies the migrations one at a time to an
// in-memory database with the same engine that runs them for real, and
// compares SQLite's catalog before and after each part (package
// migrations/schema: sqlite_schema, pragma_table_xinfo, pragma_index_list,
// pragma_foreign_key_list). What the catalog cannot show (a table dropped
// and created again, a PRAGMA, an UPDATE that backfills a column) it learns
// from SQLite's authorizer callback (https://sqlite.org/c3ref/set_authorizer.html),
// which SQLite calls for every action of every statement it compiles.
// A migration with a down part is applied, reverted and applied again: the
// down part is linted against the schema the up part built, and must give
// back the schema the up part started from (L018).
//
// Each [Finding] has a stable code (see [Rules]), a severity, the
// migration and part, and a one-line fix hint. Findings that make a
// migration incompatible with code written for the schema before it
// (dropped or renamed tables and columns, new NOT NULL columns without a
// default, columns made NOT NULL) are warnings in a migration marked
// "-- migrate:breaking" and add the error L010 in one that is not: the
// marking is the acknowledgement. Findings that lose data or leave the
// schema broken whatever the marking (a drop that fires ON DELETE CASCADE,
// a hand-written rebuild of a referenced table, a foreign key left pointing
// at a dropped table, a NOT NULL without backfill) are errors.
//
// [Options] choose the targets (native, browser, d1: D1-only rules run only
// for d1), acknowledge findings of applied migrations without editing them
// ([Ignore]), and lint only migrations newer than a version (Since). For
// the d1 target each SQL part also runs a second time the way D1 runs it,
// with foreign keys enforced, in a transaction that is rolled back: the
// authorizer then shows which tables' rows each DROP TABLE's ON DELETE
// actions reach at that point of the migration.
//
// The rules, their targets and how to fix what they find are documented
// in docs/lint.md; [Rules] lists them.
package lint

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/rebuild"
	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

// A Finding is one problem in one part of one migration.
type Finding struct {
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	Severity  Severity `json:"severity"`
	Version   int64    `json:"version"`
	Migration string   `json:"migration"`      // "0003_drop_tags"
	File      string   `json:"file,omitempty"` // "0003_drop_tags.sql"; "" for Go migrations and set-wide findings
	Part      string   `json:"part,omitempty"` // "up" or "down"; "" for L019
	Object    string   `json:"object,omitempty"`
	Message   string   `json:"message"`
	Hint      string   `json:"hint"`
}

func (f Finding) String() string {
	where := f.Migration
	if f.Part == "down" {
		where += " (down)"
	}
	return fmt.Sprintf("%s %s %s [%s]: %s\n    fix: %s", where, f.Code, f.Severity, f.Name, f.Message, f.Hint)
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Severity == Error })
}

// A Report is what Check found.
type Report struct {
	Targets  []Target  `json:"targets"`         // the targets linted for
	Since    int64     `json:"since,omitempty"` // Options.Since
	Checked  int       `json:"checked"`         // migrations linted (numbered above Since, up to the first failure)
	Findings []Finding `json:"findings"`        // in migration order, up part first, then by code
	// Ignored counts the findings that an Options.Ignore entry matched;
	// IgnoredFindings are those findings.
	Ignored         int       `json:"ignored"`
	IgnoredFindings []Finding `json:"-"`
}

// Lint checks every migration of migs for DefaultTargets, with no
// ignores: Check with zero Options, returning only the findings.
func Lint(ctx context.Context, migs []*migrations.Migration) ([]Finding, error) {
	r, err := Check(ctx, migs, Options{})
	if err != nil {
		return nil, err
	}
	return r.Findings, nil
}

// Check lints migs in version order, each against the schema the ones
// before it produce. It stops at a migration whose up part fails to apply
// (L000): the ones after it have no schema to be checked against. The
// error is for bad options and problems of lint itself (a malformed set
// of migrations); findings are never errors.
func Check(ctx context.Context, migs []*migrations.Migration, opts Options) (*Report, error) {
	sorted, err := migrations.Sort(migs)
	if err != nil {
		return nil, err
	}
	if len(sorted) == 0 {
		return nil, fmt.Errorf("lint: %w", migrations.ErrNoMigrations)
	}
	targets := opts.Targets
	if len(targets) == 0 {
		targets = DefaultTargets()
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = string(t)
	}
	if targets, err = ParseTargets(names...); err != nil {
		return nil, err
	}
	if opts.Since < 0 {
		return nil, fmt.Errorf("lint: since %d: want a version, 0 or above", opts.Since)
	}
	ignores, err := resolveIgnores(opts.Ignore, sorted)
	if err != nil {
		return nil, err
	}

	r := &runner{migs: sorted, rec: &recorder{}, targets: targets}
	ctx = rebuild.WithObserver(ctx, r.rec.observe)
	if err := r.open(ctx, 0); err != nil {
		return nil, err
	}
	defer func() { r.conn.Close() }()

	rep := &Report{Targets: targets, Since: opts.Since}
	var all []Finding
	var reached int64 // the newest migration lint got to
	for _, m := range sorted {
		reached = m.Version
		linted := m.Version > opts.Since
		if linted {
			rep.Checked++
		}
		fs, stop, err := r.migration(ctx, m, linted)
		if err != nil {
			return nil, err
		}
		all = append(all, fs...)
		if stop {
			break
		}
	}
	for _, f := range all {
		if ignores.take(f) {
			rep.Ignored++
			rep.IgnoredFindings = append(rep.IgnoredFindings, f)
		} else {
			rep.Findings = append(rep.Findings, f)
		}
	}
	for i, ig := range ignores.list {
		r, _ := lookupRule(ig.Code)
		if ignores.used[i] || ignores.vers[i] <= opts.Since || ignores.vers[i] > reached || !applies(r, targets) {
			continue // a rule or a migration this run did not lint is no evidence
		}
		m := sorted[slices.IndexFunc(sorted, func(m *migrations.Migration) bool { return m.Version == ignores.vers[i] })]
		f := finding(m, "", "L019", "", "ignore %s matched no finding of %s", ig, m.Label())
		rep.Findings = append(rep.Findings, f)
	}
	return rep, nil
}

func finding(m *migrations.Migration, part, code, object, format string, args ...any) Finding {
	r := rule(code)
	return Finding{Code: r.Code, Name: r.Name, Severity: r.Severity, Version: m.Version, Migration: m.Label(),
		File: m.Source, Part: part, Object: object, Message: fmt.Sprintf(format, args...), Hint: r.Hint}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// runner applies the migrations one part at a time on the scratch
// database and checks each part.
type runner struct {
	migs    []*migrations.Migration
	conn    *sqlite3.Conn
	store   *sqlite.Store
	p       *migrations.Provider
	rec     *recorder
	targets []Target
	before  *schema.Schema // the schema before the next migration
}

// open starts a new scratch database with the migrations up to version
// applied (none for 0), closing the one before, if any.
func (r *runner) open(ctx context.Context, version int64) error {
	conn, err := sqlite.Open(":memory:")
	if err != nil {
		return err
	}
	store := sqlite.NewStore(conn)
	p, err := migrations.NewProvider(store, r.migs, migrations.Options{})
	if err == nil {
		err = conn.SetAuthorizer(r.rec.authorize)
	}
	if err == nil {
		_, err = p.Status(ctx) // creates _migrations
	}
	if err == nil && version > 0 {
		_, err = p.Up(ctx, version)
	}
	var before *schema.Schema
	if err == nil {
		before, err = schema.Read(ctx, conn)
	}
	if err != nil {
		conn.Close()
		return fmt.Errorf("lint: scratch database: %w", err)
	}
	if r.conn != nil {
		r.conn.Close()
	}
	r.conn, r.store, r.p, r.before = conn, store, p, before
	return nil
}

func (r *runner) step(m *migrations.Migration, part string, before, after *schema.Schema, d1 *d1Run) []Finding {
	return check(&step{m: m, part: part, before: before, after: after, rec: r.rec, targets: r.targets, d1: d1})
}

// wrapper reports (L021) the transaction wrapper around the whole part
// that the store left out when it applied the part just now.
func (r *runner) wrapper(m *migrations.Migration, part string) []Finding {
	w := r.store.LastWrapper()
	if w == nil {
		return nil
	}
	return []Finding{finding(m, part, "L021", "", "%s (line %d) … %s (line %d) around the whole part: not run; the part runs in the runner's own transaction (natively, in the browser and on D1)",
		w.Begin, w.BeginLine, w.Commit, w.CommitLine)}
}

// d1 runs a part the way D1 does when d1 is a target (see simulateD1).
func (r *runner) d1(ctx context.Context, m *migrations.Migration, dir migrations.Direction) *d1Run {
	if !slices.Contains(r.targets, D1) {
		return nil
	}
	return r.simulateD1(ctx, m, dir)
}

// migration applies m's up part (and, when linted, its down part and its
// up part again), returning its findings. stop is true when the up part
// cannot be applied, and later migrations cannot be checked.
func (r *runner) migration(ctx context.Context, m *migrations.Migration, linted bool) (out []Finding, stop bool, err error) {
	var sim *d1Run
	if linted {
		sim = r.d1(ctx, m, migrations.Up)
	}
	r.rec.reset()
	if _, err := r.p.Up(ctx, m.Version); err != nil {
		if linted {
			out = r.explain(ctx, m, migrations.Up, r.before, sim)
		}
		return append(out, finding(m, "up", "L000", "", "%s", oneLine(err.Error()))), true, nil
	}
	after, err := schema.Read(ctx, r.conn)
	if err != nil {
		return nil, false, err
	}
	defer func() { r.before = after }()
	if !linted {
		return nil, false, nil
	}
	out = r.step(m, "up", r.before, after, sim)
	out = append(out, r.wrapper(m, "up")...)
	if !m.CanDown() {
		return out, false, nil
	}

	sim = r.d1(ctx, m, migrations.Down)
	r.rec.reset()
	if _, err := r.p.Down(ctx, migrations.DownTarget{Steps: 1}); err != nil {
		out = append(out, r.explain(ctx, m, migrations.Down, after, sim)...)
		return append(out, finding(m, "down", "L000", "", "%s", oneLine(err.Error()))), false, nil
	}
	reverted, err := schema.Read(ctx, r.conn)
	if err != nil {
		return nil, false, err
	}
	out = append(out, r.step(m, "down", after, reverted, sim)...)
	out = append(out, r.wrapper(m, "down")...)
	if diff := revertDiff(r.before, reverted); len(diff) > 0 {
		out = append(out, finding(m, "down", "L018", "", "after the down part the schema differs from the one before the up part: %s", describeDiff(diff)))
	}
	r.rec.reset()
	if _, err := r.p.Up(ctx, m.Version); err != nil {
		f := finding(m, "down", "L018", "", "the up part fails when applied again after the down part: %s", oneLine(err.Error()))
		f.Severity = Error
		out = append(out, f)
		// Go on from a new scratch database with m applied once.
		if err := r.open(ctx, m.Version); err != nil {
			return nil, false, err
		}
		after = r.before
		return out, false, nil
	}
	if after, err = schema.Read(ctx, r.conn); err != nil {
		return nil, false, err
	}
	return out, false, nil
}

var positionRE = regexp.MustCompile(`(^|, )position \d+, want \d+`)

// revertDiff lists how the schema after a down part differs from the one
// before its up part. Column order is not compared: a down part that
// rebuilds a table with its columns in another order has reverted it for
// every statement that names its columns.
func revertDiff(want, got *schema.Schema) []schema.Difference {
	var out []schema.Difference
	for _, d := range schema.Diff(want, got) {
		if d.Kind == "column" && d.Change == "changed" {
			if d.Detail = strings.TrimPrefix(positionRE.ReplaceAllString(d.Detail, ""), ", "); d.Detail == "" {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

func describeDiff(diff []schema.Difference) string {
	const max = 3
	var s []string
	for i, d := range diff {
		if i == max {
			s = append(s, fmt.Sprintf("and %d more", len(diff)-max))
			break
		}
		s = append(s, d.String())
	}
	return strings.Join(s, "; ")
}
