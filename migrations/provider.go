package migrations

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Options tune a Provider. The zero value is the strict default.
type Options struct {
	// AllowOutOfOrder applies unapplied migrations numbered below the
	// newest applied one (e.g. from a merged branch) instead of refusing.
	AllowOutOfOrder bool
	// AllowNewerNonBreaking accepts a database that newer code migrated
	// past the newest known migration as long as every migration applied
	// above it is non-breaking: code written for the older schema still
	// works with it (the browser's rule, where an old tab may open a
	// database a new tab upgraded). Validation then reports only the
	// breaking ones as ErrDatabaseNewer (see also [NewerBreaking]), and Up
	// applies the known pending migrations and nothing above them. Without
	// it any newer applied migration is ErrDatabaseNewer.
	AllowNewerNonBreaking bool
}

// A Provider applies a fixed set of migrations to one Store.
type Provider struct {
	store Store
	migs  []*Migration
	opts  Options
}

// NewProvider validates the migration set (ordering, duplicates) and returns
// a Provider for store. It does not touch the database.
//
// Status, Validate, Version, PlanUp, PlanDown and Down only read the
// tracking table and never create it (a database without one has applied
// nothing); Up and Stamp create it ([Store.Init]) before they read it.
func NewProvider(store Store, migs []*Migration, opts Options) (*Provider, error) {
	if store == nil {
		return nil, errors.New("migrate: nil store")
	}
	if len(migs) == 0 {
		return nil, fmt.Errorf("migrate: %w", ErrNoMigrations)
	}
	sorted, err := Sort(migs)
	if err != nil {
		return nil, err
	}
	return &Provider{store: store, migs: sorted, opts: opts}, nil
}

// Migrations returns the known migrations in version order.
func (p *Provider) Migrations() []*Migration { return slices.Clone(p.migs) }

func (p *Provider) find(v int64) *Migration {
	i, ok := slices.BinarySearchFunc(p.migs, v, func(m *Migration, v int64) int {
		return cmp.Compare(m.Version, v)
	})
	if !ok {
		return nil
	}
	return p.migs[i]
}

// State is a migration's state in Status.
type State string

const (
	StateApplied    State = "applied"
	StatePending    State = "pending"
	StateModified   State = "modified"     // applied, but the file changed since
	StateMissing    State = "missing"      // applied, but no file has its version
	StateOutOfOrder State = "out_of_order" // pending, but older than the newest applied
)

// Status is one line of `larder migrate status`.
type Status struct {
	Version   int64  `json:"version"`
	Name      string `json:"name"`
	Applied   bool   `json:"applied"`
	AppliedAt string `json:"applied_at"` // "" when pending
	Checksum  string `json:"checksum"`   // the file's; the applied one for missing
	State     State  `json:"state"`
	Breaking  bool   `json:"breaking"`
}

// Status lists the known migrations and the applied ones without a file,
// in version order, with their state. It does not write.
func (p *Provider) Status(ctx context.Context) ([]Status, error) {
	applied, err := p.applied(ctx)
	if err != nil {
		return nil, err
	}
	return status(p.migs, applied), nil
}

func status(migs []*Migration, applied []Record) []Status {
	byVersion := make(map[int64]Record, len(applied))
	var newest int64
	for _, r := range applied {
		byVersion[r.Version] = r
		newest = max(newest, r.Version)
	}
	var out []Status
	for _, m := range migs {
		s := Status{Version: m.Version, Name: m.Name, Checksum: m.Checksum, Breaking: m.Breaking}
		if r, ok := byVersion[m.Version]; ok {
			s.Applied, s.AppliedAt, s.State = true, r.AppliedAt.Format(TimeFormat), StateApplied
			if r.Checksum != m.Checksum {
				s.State = StateModified
			}
			delete(byVersion, m.Version)
		} else if m.Version < newest {
			s.State = StateOutOfOrder
		} else {
			s.State = StatePending
		}
		out = append(out, s)
	}
	for _, r := range applied {
		if _, orphan := byVersion[r.Version]; orphan {
			out = append(out, Status{Version: r.Version, Name: r.Name, Applied: true,
				AppliedAt: r.AppliedAt.Format(TimeFormat), Checksum: r.Checksum, State: StateMissing, Breaking: r.Breaking})
		}
	}
	slices.SortFunc(out, func(a, b Status) int { return cmp.Compare(a.Version, b.Version) })
	return out
}

// applied reads the tracking table; it never creates it.
func (p *Provider) applied(ctx context.Context) ([]Record, error) {
	recs, err := p.store.Applied(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: read _migrations: %w", err)
	}
	return recs, nil
}

// initApplied creates the tracking table if needed, then reads it: for the
// calls that write. A Store may send both in one round trip (D1 does).
func (p *Provider) initApplied(ctx context.Context) ([]Record, error) {
	if err := p.store.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrate: create _migrations: %w", err)
	}
	return p.applied(ctx)
}

// Version returns the newest applied migration's version, 0 when none is
// (or the database has no tracking table). It does not write, and reads
// only that number when the store can ([Versioner]).
func (p *Provider) Version(ctx context.Context) (int64, error) {
	return StoreVersion(ctx, p.store)
}

// StoreVersion is [Provider.Version] for a store without a Provider (a
// caller with no migrations of its own).
func StoreVersion(ctx context.Context, s Store) (int64, error) {
	if v, ok := s.(Versioner); ok {
		n, err := v.Version(ctx)
		if err != nil {
			return 0, fmt.Errorf("migrate: read _migrations: %w", err)
		}
		return n, nil
	}
	recs, err := s.Applied(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: read _migrations: %w", err)
	}
	var n int64
	for _, r := range recs {
		n = max(n, r.Version)
	}
	return n, nil
}

// NewerBreaking returns the first applied migration above version known
// that is breaking: code that knows migrations up to known only must not
// use the database. ok is false when there is none.
func NewerBreaking(applied []Record, known int64) (first Record, ok bool) {
	for _, r := range applied {
		if r.Version > known && r.Breaking && (!ok || r.Version < first.Version) {
			first, ok = r, true
		}
	}
	return first, ok
}

// Validate checks the applied migrations against the known ones and returns
// a *ValidationError listing every problem, or nil. It does not write.
func (p *Provider) Validate(ctx context.Context) error {
	applied, err := p.applied(ctx)
	if err != nil {
		return err
	}
	return p.validate(applied)
}

func (p *Provider) validate(applied []Record) error {
	var probs []Problem
	newestKnown := p.migs[len(p.migs)-1].Version
	for _, s := range status(p.migs, applied) {
		switch s.State {
		case StateModified:
			m := p.find(s.Version)
			rec := recordFor(applied, s.Version)
			probs = append(probs, Problem{Err: ErrChecksumMismatch, Version: s.Version, Name: s.Name,
				Detail: fmt.Sprintf("%s changed after it was applied: checksum %.12s…, applied %.12s…", source(m), m.Checksum, rec.Checksum)})
		case StateMissing:
			switch {
			case s.Version > newestKnown && p.opts.AllowNewerNonBreaking && !s.Breaking:
				// Newer code's compatible change: accepted.
			case s.Version > newestKnown && p.opts.AllowNewerNonBreaking:
				probs = append(probs, Problem{Err: ErrDatabaseNewer, Version: s.Version, Name: s.Name,
					Detail: fmt.Sprintf("breaking, applied by newer code; the newest migration known here is %d", newestKnown)})
			case s.Version > newestKnown:
				probs = append(probs, Problem{Err: ErrDatabaseNewer, Version: s.Version, Name: s.Name,
					Detail: fmt.Sprintf("applied by newer code; the newest migration known here is %d", newestKnown)})
			default:
				probs = append(probs, Problem{Err: ErrMissingMigration, Version: s.Version, Name: s.Name,
					Detail: "applied, but no migration file has this version"})
			}
		case StateOutOfOrder:
			if !p.opts.AllowOutOfOrder {
				probs = append(probs, Problem{Err: ErrOutOfOrder, Version: s.Version, Name: s.Name,
					Detail: "numbered below the newest applied migration; allow out-of-order to apply it"})
			}
		}
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

func recordFor(recs []Record, v int64) Record {
	for _, r := range recs {
		if r.Version == v {
			return r
		}
	}
	return Record{}
}

// A Step is one migration of a plan.
type Step struct {
	Migration *Migration
	Direction Direction
}

// Result is a step that was carried out.
type Result struct {
	Step
	Record Record // for Up: the row written
	// Skipped is true when another runner applied (or reverted) it first.
	Skipped bool
	// Notices are the store's remarks on it (see NoticeStore), e.g. that a
	// PRAGMA foreign_keys statement was recognised and not run.
	Notices []string
}

// PlanUp validates and returns the migrations Up would apply: every pending
// one when to is 0, else those up to and including version to, which must
// be a known version. It does not write.
func (p *Provider) PlanUp(ctx context.Context, to int64) ([]Step, error) {
	applied, err := p.applied(ctx)
	if err != nil {
		return nil, err
	}
	return p.planUp(applied, to)
}

func (p *Provider) planUp(applied []Record, to int64) ([]Step, error) {
	if to != 0 && p.find(to) == nil {
		return nil, fmt.Errorf("migrate: up --to %d: %w", to, ErrUnknownVersion)
	}
	if err := p.validate(applied); err != nil {
		return nil, err
	}
	done := make(map[int64]bool, len(applied))
	for _, r := range applied {
		done[r.Version] = true
	}
	var steps []Step
	for _, m := range p.migs {
		if to != 0 && m.Version > to {
			break
		}
		if !done[m.Version] {
			steps = append(steps, Step{Migration: m, Direction: Up})
		}
	}
	return steps, nil
}

// Up applies pending migrations in order (all when to is 0, else up to and
// including version to), each atomically with its tracking row. It stops at
// the first failure, returning the steps done and a *MigrationError; the
// database stays at the last migration that succeeded.
func (p *Provider) Up(ctx context.Context, to int64) ([]Result, error) {
	applied, err := p.initApplied(ctx)
	if err != nil {
		return nil, err
	}
	steps, err := p.planUp(applied, to)
	if err != nil {
		return nil, err
	}
	return p.run(ctx, steps)
}

func (p *Provider) run(ctx context.Context, steps []Step) ([]Result, error) {
	var done []Result
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return done, fmt.Errorf("migrate: %w", err)
		}
		rec, err := p.store.Apply(ctx, s.Migration, s.Direction)
		if errors.Is(err, ErrAlreadyApplied) {
			done = append(done, Result{Step: s, Skipped: true})
			continue
		}
		if err != nil {
			return done, err
		}
		res := Result{Step: s, Record: rec}
		if ns, ok := p.store.(NoticeStore); ok {
			res.Notices = ns.LastNotices()
		}
		done = append(done, res)
	}
	return done, nil
}

// DownTarget says how far Down goes: to a version (0 = revert everything),
// or a number of steps.
type DownTarget struct {
	To    int64 // keep migrations <= To applied
	Steps int   // revert this many, newest first (used when > 0)
}

// PlanDown validates and returns the migrations Down would revert, newest
// first. It refuses, naming them, when any of them has no down part. It
// does not write.
func (p *Provider) PlanDown(ctx context.Context, t DownTarget) ([]Step, error) {
	applied, err := p.applied(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.validate(applied); err != nil {
		return nil, err
	}
	if t.Steps < 0 {
		return nil, fmt.Errorf("migrate: down: steps must be positive, got %d", t.Steps)
	}
	if t.Steps == 0 && t.To != 0 && p.find(t.To) == nil {
		return nil, fmt.Errorf("migrate: down --to %d: %w", t.To, ErrUnknownVersion)
	}
	var steps []Step
	var noDown []string
	for i := len(applied) - 1; i >= 0; i-- {
		r := applied[i]
		if t.Steps > 0 && len(steps) == t.Steps {
			break
		}
		if t.Steps == 0 && r.Version <= t.To {
			break
		}
		m := p.find(r.Version)
		if !m.CanDown() {
			noDown = append(noDown, m.Label())
		}
		steps = append(steps, Step{Migration: m, Direction: Down})
	}
	if len(noDown) > 0 {
		return nil, fmt.Errorf("migrate: down: %w: %v; nothing was reverted", ErrNoDown, noDown)
	}
	return steps, nil
}

// Down reverts applied migrations newest first, each atomically. It never
// creates the tracking table: without one there is nothing to revert.
func (p *Provider) Down(ctx context.Context, t DownTarget) ([]Result, error) {
	steps, err := p.PlanDown(ctx, t)
	if err != nil {
		return nil, err
	}
	return p.run(ctx, steps)
}

// Stamp marks every known migration up to and including version to as
// applied without running it: the baseline for a database whose schema was
// created before Larder managed it. Already-applied rows are kept.
func (p *Provider) Stamp(ctx context.Context, to int64) ([]Record, error) {
	if p.find(to) == nil {
		return nil, fmt.Errorf("migrate: stamp %d: %w", to, ErrUnknownVersion)
	}
	applied, err := p.initApplied(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.validate(applied); err != nil {
		var ve *ValidationError
		// Stamping is how out-of-order files get baselined; other problems stay fatal.
		if !errors.As(err, &ve) || slices.ContainsFunc(ve.Problems, func(pr Problem) bool { return pr.Err != ErrOutOfOrder }) {
			return nil, err
		}
	}
	done := make(map[int64]bool, len(applied))
	for _, r := range applied {
		done[r.Version] = true
	}
	var recs []Record
	now := time.Now()
	for _, m := range p.migs {
		if m.Version > to {
			break
		}
		if !done[m.Version] {
			recs = append(recs, NewRecord(m, now, 0))
		}
	}
	if len(recs) == 0 {
		return nil, nil
	}
	if err := p.store.Stamp(ctx, recs); err != nil {
		return nil, fmt.Errorf("migrate: stamp: %w", err)
	}
	return recs, nil
}
