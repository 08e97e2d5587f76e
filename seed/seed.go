package seed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

// TrackingTableSQL creates the _seeds table: one row per seed applied.
// env is "" for the common seeds.
const TrackingTableSQL = `CREATE TABLE IF NOT EXISTS _seeds (
  env        TEXT    NOT NULL DEFAULT '',
  version    INTEGER NOT NULL,
  name       TEXT    NOT NULL,
  checksum   TEXT    NOT NULL,
  applied_at TEXT    NOT NULL,
  PRIMARY KEY (env, version)
)`

// Sentinel errors; test with errors.Is.
var (
	ErrNotMigrated = errors.New("database migrations are not current")
	ErrSeedChanged = errors.New("applied seed was edited")
	ErrSeedFailed  = errors.New("seed failed")
)

// NotMigratedError lists the migrations that keep a database from being
// seeded: pending, modified, missing or out of order. Nothing was seeded.
type NotMigratedError struct {
	Migrations []migrations.Status // the ones not in state "applied"
	NoTable    bool                // no migration was ever applied (no _migrations table, or an empty one)
	// Files names the migrations' files by version, so the message names
	// them as they are on disk ("003_x.sql"); a version without one is
	// named 0003_x.
	Files map[int64]string
}

func (e *NotMigratedError) Error() string {
	var b strings.Builder
	b.WriteString("seed: ")
	b.WriteString(ErrNotMigrated.Error())
	if e.NoTable {
		b.WriteString(" (the database was never migrated)")
	}
	parts := make([]string, 0, len(e.Migrations))
	for _, m := range e.Migrations {
		label := fmt.Sprintf("%04d_%s", m.Version, m.Name)
		if f := e.Files[m.Version]; f != "" {
			label = f
		}
		parts = append(parts, fmt.Sprintf("%s %s", label, m.State))
	}
	if len(parts) > 5 {
		parts = append(parts[:5], fmt.Sprintf("and %d more", len(parts)-5))
	}
	if len(parts) > 0 {
		b.WriteString(": " + strings.Join(parts, ", "))
	}
	b.WriteString("; migrate the database first, nothing was seeded")
	return b.String()
}

func (e *NotMigratedError) Unwrap() error { return ErrNotMigrated }

// ChangedError lists applied seeds whose file changed after they ran.
// Nothing was seeded.
type ChangedError struct {
	Seeds []*Seed
}

func (e *ChangedError) Error() string {
	parts := make([]string, len(e.Seeds))
	for i, s := range e.Seeds {
		parts[i] = fmt.Sprintf("%s (%s changed after it ran)", s.Label(), s.Source)
	}
	return fmt.Sprintf("seed: %v: %s; nothing was seeded (reapply to run changed seeds again)",
		ErrSeedChanged, strings.Join(parts, ", "))
}

func (e *ChangedError) Unwrap() error { return ErrSeedChanged }

// SeedError reports a seed that failed. Its transaction was rolled back:
// neither its data nor its _seeds row is in the database. Seeds before it
// stay applied.
type SeedError struct {
	Seed      *Seed
	Statement string // the failing statement
	Line      int    // its line in the seed file; 0 if unknown
	Code      string // SQLite's extended code name, when known
	Err       error
}

func (e *SeedError) Error() string {
	return migrations.DescribeFailure("seed: "+e.Seed.Label(), e.Line, e.Err, e.Code, e.Statement)
}

func (e *SeedError) Unwrap() []error { return []error{ErrSeedFailed, e.Err} }

// Options configure a Seeder.
type Options struct {
	// Migrations are the schema's migrations. Required: the database must
	// have exactly these applied, unmodified, before any seed runs.
	Migrations []*migrations.Migration
	// Reapply runs again the applied seeds whose file changed, updating
	// their checksum, instead of refusing with ErrSeedChanged. Unchanged
	// applied seeds are still skipped.
	Reapply bool
}

// State is a seed's state in Status.
type State string

const (
	StateApplied State = "applied"
	StatePending State = "pending"
	StateChanged State = "changed" // applied, but the file changed since
	StateMissing State = "missing" // applied, but no file has it (not an error)
)

// Status is one seed's state.
type Status struct {
	Env       string `json:"env"`
	Version   int64  `json:"version"`
	Name      string `json:"name"`
	Checksum  string `json:"checksum"`
	AppliedAt string `json:"applied_at"` // "" when pending
	State     State  `json:"state"`
}

// Label names the seed like Seed.Label.
func (s Status) Label() string {
	return (&Seed{Env: s.Env, Version: s.Version, Name: s.Name}).Label()
}

// Result is what Apply did with one seed.
type Result struct {
	Seed      *Seed
	Reapplied bool // it had run before and its file changed
	// Skipped is true when another runner applied it between the check
	// and this seed's transaction.
	Skipped bool
}

// A Seeder applies a fixed list of seeds to one connection. It is not
// safe for concurrent use; several Seeders on one database file are.
type Seeder struct {
	conn  *sqlite3.Conn
	seeds []*Seed
	opts  Options
	now   func() time.Time
}

// New checks the seed list (no duplicate environment and version) and
// the options, and returns a Seeder. It does not touch the database.
func New(conn *sqlite3.Conn, seeds []*Seed, opts Options) (*Seeder, error) {
	if conn == nil {
		return nil, errors.New("seed: nil connection")
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("seed: %w", ErrNoSeeds)
	}
	if len(opts.Migrations) == 0 {
		return nil, errors.New("seed: Options.Migrations is required: seeds run only on a database whose migrations are current")
	}
	if _, err := migrations.Sort(opts.Migrations); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	seen := map[string]*Seed{}
	for _, s := range seeds {
		k := fmt.Sprintf("%s/%d", s.Env, s.Version)
		if prev, dup := seen[k]; dup {
			return nil, fmt.Errorf("seed: %w %d: %s and %s", migrations.ErrDuplicateVersion, s.Version, prev.Source, s.Source)
		}
		seen[k] = s
	}
	return &Seeder{conn: conn, seeds: seeds, opts: opts, now: time.Now}, nil
}

// CheckMigrations returns a *NotMigratedError unless every migration of
// Options.Migrations is applied, unmodified, and the database has no
// other. It does not write to the database.
func (s *Seeder) CheckMigrations(ctx context.Context) error {
	p, err := migrations.NewProvider(sqlite.NewStore(s.conn), s.opts.Migrations, migrations.Options{})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	never := !slices.ContainsFunc(st, func(m migrations.Status) bool { return m.Applied })
	var bad []migrations.Status
	for _, m := range st {
		if m.State != migrations.StateApplied {
			bad = append(bad, m)
		}
	}
	if len(bad) > 0 {
		return &NotMigratedError{Migrations: bad, NoTable: never, Files: s.files()}
	}
	return nil
}

// files maps the versions of Options.Migrations to their file names.
func (s *Seeder) files() map[int64]string {
	f := map[int64]string{}
	for _, m := range s.opts.Migrations {
		if m.Source != "" {
			f[m.Version] = m.Source
		}
	}
	return f
}

// Status lists the seeds and the applied ones without a file, common
// seeds first, each group in version order. It does not write.
func (s *Seeder) Status(ctx context.Context) ([]Status, error) {
	recs, err := s.applied(ctx)
	if err != nil {
		return nil, err
	}
	type key struct {
		env string
		v   int64
	}
	byKey := make(map[key]Status, len(recs))
	for _, r := range recs {
		byKey[key{r.Env, r.Version}] = r
	}
	out := make([]Status, 0, len(s.seeds))
	for _, sd := range s.seeds {
		st := Status{Env: sd.Env, Version: sd.Version, Name: sd.Name, Checksum: sd.Checksum, State: StatePending}
		if r, ok := byKey[key{sd.Env, sd.Version}]; ok {
			st.AppliedAt, st.State = r.AppliedAt, StateApplied
			if r.Checksum != sd.Checksum {
				st.State = StateChanged
			}
			delete(byKey, key{sd.Env, sd.Version})
		}
		out = append(out, st)
	}
	for _, r := range recs { // in (env, version) order
		if _, orphan := byKey[key{r.Env, r.Version}]; orphan {
			r.State = StateMissing
			out = append(out, r)
		}
	}
	return out, nil
}

// applied reads _seeds, or nothing when the table does not exist.
func (s *Seeder) applied(ctx context.Context) ([]Status, error) {
	ok, err := sqlite.HasTable(s.conn, "_seeds")
	if err != nil || !ok {
		return nil, err
	}
	old := s.conn.SetInterrupt(ctx)
	defer s.conn.SetInterrupt(old)
	stmt, _, err := s.conn.Prepare(`SELECT env, version, name, checksum, applied_at FROM _seeds ORDER BY env, version`)
	if err != nil {
		return nil, fmt.Errorf("seed: read _seeds: %w", err)
	}
	defer stmt.Close()
	var out []Status
	for stmt.Step() {
		out = append(out, Status{Env: stmt.ColumnText(0), Version: stmt.ColumnInt64(1), Name: stmt.ColumnText(2),
			Checksum: stmt.ColumnText(3), AppliedAt: stmt.ColumnText(4)})
	}
	if err := stmt.Err(); err != nil {
		return nil, fmt.Errorf("seed: read _seeds: %w", err)
	}
	return out, nil
}

// Apply runs the pending seeds (and, with Reapply, the changed ones) in
// order, each in its own transaction with its _seeds row. It first checks
// that the migrations are current (*NotMigratedError) and that no applied
// seed changed (*ChangedError, unless Reapply); either way nothing runs.
// It stops at the first failing seed with a *SeedError, returning the
// seeds done before it.
func (s *Seeder) Apply(ctx context.Context) ([]Result, error) {
	if err := s.CheckMigrations(ctx); err != nil {
		return nil, err
	}
	st, err := s.Status(ctx)
	if err != nil {
		return nil, err
	}
	var changed []*Seed
	for i, x := range st[:len(s.seeds)] {
		if x.State == StateChanged {
			changed = append(changed, s.seeds[i])
		}
	}
	if len(changed) > 0 && !s.opts.Reapply {
		return nil, &ChangedError{Seeds: changed}
	}
	if err := sqlite.Exec(ctx, s.conn, TrackingTableSQL, 1); err != nil {
		return nil, fmt.Errorf("seed: create _seeds: %w", err)
	}
	var done []Result
	for i, x := range st[:len(s.seeds)] {
		if x.State == StateApplied {
			continue
		}
		if err := ctx.Err(); err != nil {
			return done, fmt.Errorf("seed: %w", err)
		}
		r, err := s.applyOne(ctx, s.seeds[i])
		if err != nil {
			return done, err
		}
		done = append(done, r)
	}
	return done, nil
}

// applyOne runs sd and writes its row in one BEGIN IMMEDIATE transaction,
// re-checking inside it the migrations and whether sd already ran.
func (s *Seeder) applyOne(ctx context.Context, sd *Seed) (res Result, err error) {
	c := s.conn
	res.Seed = sd
	fail := func(cause error) error {
		se := &SeedError{Seed: sd, Err: cause}
		var stErr *sqlite.StatementError
		if errors.As(cause, &stErr) {
			se.Statement, se.Line, se.Err = stErr.Statement, stErr.Line, stErr.Err
		}
		se.Code = sqlite.CodeName(se.Err)
		return se
	}
	if err := c.Exec("BEGIN IMMEDIATE"); err != nil {
		return res, fail(err)
	}
	committed := false
	defer func() {
		if !committed && !c.GetAutocommit() {
			c.Exec("ROLLBACK")
		}
	}()
	// Another process may have migrated (or rolled back) since the check.
	if err := s.CheckMigrations(ctx); err != nil {
		return res, err
	}
	prev, found, err := seedRow(c, sd)
	if err != nil {
		return res, fail(err)
	}
	switch {
	case found && prev == sd.Checksum:
		res.Skipped = true
		return res, nil
	case found && !s.opts.Reapply:
		return res, &ChangedError{Seeds: []*Seed{sd}}
	}
	res.Reapplied = found
	if err := sqlite.Exec(ctx, c, sd.SQL, sd.Line); err != nil {
		return res, fail(err)
	}
	if c.GetAutocommit() {
		return res, fail(sqlite.ErrTransactionControl)
	}
	at := s.now().UTC().Format(migrations.TimeFormat)
	err = sqlite.Exec(ctx, c, `INSERT INTO _seeds (env, version, name, checksum, applied_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (env, version) DO UPDATE SET name = excluded.name, checksum = excluded.checksum, applied_at = excluded.applied_at`,
		0, sd.Env, sd.Version, sd.Name, sd.Checksum, at)
	if err != nil {
		return res, fail(err)
	}
	if err := c.Exec("COMMIT"); err != nil {
		return res, fail(err)
	}
	committed = true
	return res, nil
}

func seedRow(c *sqlite3.Conn, sd *Seed) (checksum string, found bool, err error) {
	stmt, _, err := c.Prepare("SELECT checksum FROM _seeds WHERE env = ? AND version = ?")
	if err != nil {
		return "", false, err
	}
	defer stmt.Close()
	if err := sqlite.Bind(stmt, sd.Env, sd.Version); err != nil {
		return "", false, err
	}
	if stmt.Step() {
		return stmt.ColumnText(0), true, nil
	}
	return "", false, stmt.Err()
}

// Apply is the one call a Go program makes: it seeds conn with seeds once
// the migrations are current.
func Apply(ctx context.Context, conn *sqlite3.Conn, seeds []*Seed, opts Options) ([]Result, error) {
	s, err := New(conn, seeds, opts)
	if err != nil {
		return nil, err
	}
	return s.Apply(ctx)
}
