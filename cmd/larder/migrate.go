package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
	"github.com/larderdb/larder/syncer"
)

func init() {
	register(&command{name: "migrate up", args: "--db FILE --dir DIR [--to N] [--dry-run] [--allow-out-of-order] [--json]",
		short: "apply pending migrations, each in its own transaction", run: migrateUp})
	register(&command{name: "migrate down", args: "--db FILE --dir DIR (--to N | --steps K) [--dry-run] [--json]",
		short: "revert applied migrations, newest first", run: migrateDown})
	register(&command{name: "migrate status", args: "--db FILE --dir DIR [--json]",
		short: "list migrations and their state", run: migrateStatus})
	register(&command{name: "migrate stamp", args: "--db FILE --dir DIR N [--json]",
		short: "mark migrations 1..N applied without running them (baseline)", run: migrateStamp})
	register(&command{name: "migrate bundle", args: "--dir DIR [--statements]",
		short: "print the JSON bundle of migrations for the JS API", run: migrateBundle})
}

// dbFlags are the flags most migrate commands share.
type dbFlags struct {
	db, dir string
	json    bool
}

func (f *dbFlags) register(fs *flag.FlagSet, withDB bool) {
	if withDB {
		fs.StringVar(&f.db, "db", "", "SQLite database `FILE`")
	}
	fs.StringVar(&f.dir, "dir", "", "migrations `DIR`ectory")
	fs.BoolVar(&f.json, "json", false, "print JSON")
}

func (f *dbFlags) require(withDB bool) error {
	if withDB && f.db == "" {
		return usagef("--db is required (or LARDER_DB, or db in larder.toml)")
	}
	if f.dir == "" {
		return usagef("--dir is required (or LARDER_DIR, or dir in larder.toml; the default is migrations or db/migrations when one exists)")
	}
	return nil
}

// openProvider opens the database and returns a provider for migs. With
// create, a missing database file is created; without, it is not (see
// openDatabase). The provider's read-only calls (Status, PlanUp, PlanDown,
// Down) never create _migrations; Up and Stamp do. Close the connection
// when done.
func openProvider(f *dbFlags, migs []*migrations.Migration, create bool, opts migrations.Options) (p *migrations.Provider, conn *sqlite3.Conn, err error) {
	conn, err = openDatabase(f.db, create)
	if err != nil {
		return nil, nil, err
	}
	p, err = migrations.NewProvider(sqlite.NewStore(conn), migs, opts)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return p, conn, nil
}

// openExisting loads f.dir and opens the existing database f.db for a
// command that reverts (down, redo): a missing file is an error there,
// not an empty database.
func openExisting(f *dbFlags) (*migrations.Provider, *sqlite3.Conn, error) {
	if _, err := os.Stat(f.db); err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", f.db, err)
	}
	migs, err := migrations.LoadDir(f.dir)
	if err != nil {
		return nil, nil, err
	}
	return openProvider(f, migs, false, migrations.Options{})
}

// openDatabase opens path. When create is false and the file does not
// exist, it returns an empty in-memory database instead, so that read-only
// commands (status, dry runs) never create files.
func openDatabase(path string, create bool) (*sqlite3.Conn, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if create {
			if dir := filepath.Dir(path); dir != "" {
				if _, err := os.Stat(dir); err != nil {
					return nil, fmt.Errorf("open %s: directory %s does not exist", path, dir)
				}
			}
			return sqlite.Open(path)
		}
		return sqlite.Open(":memory:")
	} else if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return sqlite.OpenExisting(path)
}

// explain adds what to do about an engine error to its message.
func explain(err error) error {
	hints := []struct {
		err  error
		hint string
	}{
		{migrations.ErrChecksumMismatch, "never edit an applied migration: restore the file and add a new migration"},
		{migrations.ErrMissingMigration, "restore the deleted migration file (or use the code that has it)"},
		{migrations.ErrDatabaseNewer, "this database was migrated by newer code; run a newer larder/app version"},
		{migrations.ErrOutOfOrder, "renumber the file above the newest applied version, or pass --allow-out-of-order"},
	}
	var lines []string
	for _, h := range hints {
		if errors.Is(err, h.err) {
			lines = append(lines, "hint: "+h.hint)
		}
	}
	if len(lines) == 0 {
		return err
	}
	return fmt.Errorf("%w\n%s", err, strings.Join(lines, "\n"))
}

// nonNil is s, or an empty slice for nil, so that JSON output has [] for
// "none" rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// stepJSON is one migration of a plan or result in --json output.
type stepJSON struct {
	Version    int64  `json:"version"`
	Name       string `json:"name"`
	File       string `json:"file,omitempty"`
	Direction  string `json:"direction"`
	Applied    bool   `json:"applied"` // false for a dry run or a step another runner did
	Skipped    bool   `json:"skipped,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Breaking   bool   `json:"breaking"`
	// Notices are the engine's remarks on the step (a PRAGMA foreign_keys
	// or a transaction wrapper it recognised and did not run).
	Notices []string `json:"notices,omitempty"`
}

func migrateUp(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "migrate up")
	var f dbFlags
	f.register(fs, true)
	to := fs.Int64("to", 0, "apply up to and including version `N` (default: all)")
	dry := fs.Bool("dry-run", false, "print the plan and change nothing")
	ooo := fs.Bool("allow-out-of-order", false, "apply unapplied migrations older than the newest applied one")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := f.require(true); err != nil {
		return err
	}
	if *to < 0 {
		return usagef("--to must be a positive version")
	}
	// A --to that names no migration is refused before the database file
	// is created.
	migs, err := migrations.LoadDir(f.dir)
	if err != nil {
		return err
	}
	create := !*dry && (*to == 0 || knownVersion(migs, *to))
	p, conn, err := openProvider(&f, migs, create, migrations.Options{AllowOutOfOrder: *ooo})
	if err != nil {
		return err
	}
	defer conn.Close()

	if *dry || !create {
		steps, err := p.PlanUp(ctx, *to)
		if err != nil {
			return explain(err)
		}
		return printSteps(e.stdout, f.json, steps, nil, "would apply", "dry run: nothing to apply")
	}
	res, err := p.Up(ctx, *to)
	if err != nil && len(res) == 0 {
		return explain(err)
	}
	none := "nothing to apply: database is up to date"
	if *to != 0 {
		none = fmt.Sprintf("nothing to apply up to %d", *to)
	}
	if perr := printSteps(e.stdout, f.json, nil, res, "applied", none); perr != nil {
		return perr
	}
	return explain(err)
}

func migrateDown(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "migrate down")
	var f dbFlags
	f.register(fs, true)
	to := fs.Int64("to", -1, "revert migrations newer than version `N` (0: all)")
	steps := fs.Int("steps", 0, "revert the newest `K` migrations")
	dry := fs.Bool("dry-run", false, "print the plan and change nothing")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := f.require(true); err != nil {
		return err
	}
	if (*to >= 0) == (*steps > 0) {
		return usagef("give exactly one of --to N or --steps K")
	}
	if *steps < 0 {
		return usagef("--steps must be positive")
	}
	p, conn, err := openExisting(&f)
	if err != nil {
		return err
	}
	defer conn.Close()
	target := migrations.DownTarget{To: max(*to, 0), Steps: *steps}
	if *dry {
		plan, err := p.PlanDown(ctx, target)
		if err != nil {
			return explain(err)
		}
		return printSteps(e.stdout, f.json, plan, nil, "would revert", "dry run: nothing to revert")
	}
	res, err := p.Down(ctx, target)
	if err != nil && len(res) == 0 {
		return explain(err)
	}
	if perr := printSteps(e.stdout, f.json, nil, res, "reverted", "nothing to revert"); perr != nil {
		return perr
	}
	return explain(err)
}

func printSteps(w io.Writer, asJSON bool, plan []migrations.Step, res []migrations.Result, verb, none string) error {
	var out []stepJSON
	for _, s := range plan {
		out = append(out, stepJSON{Version: s.Migration.Version, Name: s.Migration.Name, File: s.Migration.Source,
			Direction: s.Direction.String(), Breaking: s.Migration.Breaking})
	}
	for _, r := range res {
		out = append(out, stepJSON{Version: r.Migration.Version, Name: r.Migration.Name, File: r.Migration.Source, Direction: r.Direction.String(),
			Applied: !r.Skipped, Skipped: r.Skipped, DurationMS: r.Record.DurationMS, Breaking: r.Migration.Breaking, Notices: r.Notices})
	}
	if asJSON {
		out = nonNil(out)
		return writeJSON(w, out)
	}
	if len(out) == 0 {
		fmt.Fprintln(w, none)
	}
	for _, s := range out {
		switch {
		case s.Skipped:
			fmt.Fprintf(w, "skipped %s (done by another runner)\n", s.label())
		case plan != nil:
			fmt.Fprintf(w, "%s %s\n", verb, s.label())
		default:
			fmt.Fprintf(w, "%s %s (%d ms)\n", verb, s.label(), s.DurationMS)
		}
		for _, n := range s.Notices {
			fmt.Fprintf(w, "  notice: %s\n", n)
		}
	}
	return nil
}

// label names a migration in output the way its file is called on disk
// ("003_x.sql"); a code migration as "0003_x".
func (s stepJSON) label() string {
	if s.File != "" {
		return s.File
	}
	return fmt.Sprintf("%04d_%s", s.Version, s.Name)
}

func migrateStatus(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "migrate status")
	var f dbFlags
	f.register(fs, true)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := f.require(true); err != nil {
		return err
	}
	migs, err := migrations.LoadDir(f.dir)
	if err != nil {
		return err
	}
	p, conn, err := openProvider(&f, migs, false, migrations.Options{})
	if err != nil {
		return err
	}
	defer conn.Close()
	st, err := p.Status(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(e.stdout, st)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tSTATE\tAPPLIED AT")
	var current int64
	for _, s := range st {
		at := s.AppliedAt
		if at == "" {
			at = "-"
		}
		name := s.Name
		if s.Breaking {
			name += " (breaking)"
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\t%s\n", s.Version, name, s.State, at)
		if s.Applied {
			current = max(current, s.Version)
		}
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "database version: %d\n", current)
	return nil
}

func migrateStamp(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "migrate stamp")
	var f dbFlags
	f.register(fs, true)
	rest, err := parse(fs, args, "version N")
	if err != nil {
		return err
	}
	if err := f.require(true); err != nil {
		return err
	}
	n, err := strconv.ParseInt(rest[0], 10, 64)
	if err != nil || n <= 0 {
		return usagef("version %q is not a positive integer", rest[0])
	}
	// A version that names no migration is refused before the database
	// file is created.
	migs, err := migrations.LoadDir(f.dir)
	if err != nil {
		return err
	}
	p, conn, err := openProvider(&f, migs, knownVersion(migs, n), migrations.Options{})
	if err != nil {
		return err
	}
	defer conn.Close()
	recs, err := p.Stamp(ctx, n)
	if err != nil {
		return explain(err)
	}
	if f.json {
		recs = nonNil(recs)
		return writeJSON(e.stdout, recs)
	}
	if len(recs) == 0 {
		fmt.Fprintf(e.stdout, "nothing to stamp: migrations up to %d are already applied\n", n)
	}
	files := map[int64]string{}
	for _, m := range p.Migrations() {
		files[m.Version] = m.Source
	}
	for _, r := range recs {
		fmt.Fprintf(e.stdout, "stamped %s (not run)\n", stepJSON{Version: r.Version, Name: r.Name, File: files[r.Version]}.label())
	}
	return nil
}

func migrateBundle(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "migrate bundle")
	dir := fs.String("dir", "", "migrations `DIR`ectory")
	split := fs.Bool("statements", false, "also split every part into statements with SQLite, running the migrations on a scratch in-memory database (for the D1 Worker)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--dir is required")
	}
	migs, err := migrations.LoadDir(*dir)
	if err != nil {
		return err
	}
	if *split {
		scratch, err := sqlite.Open(":memory:")
		if err != nil {
			return err
		}
		err = sqlite.SplitStatements(ctx, scratch, migs)
		scratch.Close()
		if err != nil {
			return err
		}
	}
	syncText, err := bundleSync(ctx, *dir)
	if err != nil {
		return err
	}
	b, err := migrations.BundleWithSync(migs, syncText)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", b)
	return err
}

// knownVersion reports whether v is the version of one of migs.
func knownVersion(migs []*migrations.Migration, v int64) bool {
	for _, m := range migs {
		if m.Version == v {
			return true
		}
	}
	return false
}

// bundleSync returns the text of the sync.toml beside the migrations in
// dir, checked against the schema they build ("" when there is none): the
// bundle carries it so the browser can sync without a separate config.
func bundleSync(ctx context.Context, dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, syncer.FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if _, err := syncer.CheckDir(ctx, dir); err != nil {
		return "", fmt.Errorf("migrate bundle: %w", err)
	}
	return string(b), nil
}
