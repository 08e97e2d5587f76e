// Package adopt takes over an SQLite database that another migration tool
// (goose, golang-migrate, dbmate, sqlx) migrated: it reads that tool's
// history table, matches it to the migration files, and writes the rows of
// Larder's _migrations table that say the same thing, in one transaction,
// so that Larder's `up` continues where the other tool stopped.
//
// What each tool's table means:
//
//   - goose: goose_db_version(id, version_id, is_applied, tstamp) gets a row
//     per up; goose 3 deletes it on down, older goose added a row with
//     is_applied = 0. The newest row (highest id) of a version_id says
//     whether it is applied. Version 0 is goose's own baseline row.
//   - golang-migrate: schema_migrations(version, dirty) holds one row; every
//     file numbered up to and including version is applied. dirty = 1 means
//     a migration failed half-way, and is refused.
//   - dbmate: schema_migrations(version) holds one row per applied version.
//   - sqlx: _sqlx_migrations(version, description, installed_on, success,
//     checksum, execution_time) holds one row per applied version; a row
//     with success = 0 is a failed migration, and is refused.
//
// Adopt refuses, writing nothing, when the history cannot be trusted or does
// not fit the files: a dirty history, an applied version with no file, a
// file numbered below the newest applied version that the tool never
// applied (a gap), and an existing _migrations table that disagrees. The
// other tool's table is left as it was.
package adopt

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

// Tool is a migration tool whose history Adopt reads.
type Tool string

// The tools Adopt knows.
const (
	Goose         Tool = "goose"
	GolangMigrate Tool = "golang-migrate"
	Dbmate        Tool = "dbmate"
	Sqlx          Tool = "sqlx"
)

// Tools lists the known tools, in the order help text names them.
var Tools = []Tool{Goose, GolangMigrate, Dbmate, Sqlx}

// DefaultTable is the history table tool creates unless told otherwise.
func DefaultTable(tool Tool) string {
	switch tool {
	case Goose:
		return "goose_db_version"
	case Sqlx:
		return "_sqlx_migrations"
	}
	return "schema_migrations"
}

// ParseTool returns the Tool called name.
func ParseTool(name string) (Tool, error) {
	for _, t := range Tools {
		if string(t) == name {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown tool %q (want goose, golang-migrate, dbmate or sqlx)", name)
}

// Errors Adopt wraps in an *Error.
var (
	ErrNoHistory = errors.New("no history table")
	ErrWrongTool = errors.New("history table of another tool")
	ErrDirty     = errors.New("dirty history")
	ErrNoFile    = errors.New("applied version has no file")
	ErrGap       = errors.New("file older than the newest applied version was never applied")
	ErrDisagree  = errors.New("_migrations disagrees with the history")
)

// Error is a refusal: nothing was written. Problems say what is wrong and
// what to fix, one per line.
type Error struct {
	Err      error
	Problems []string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%v: %s; nothing was written", e.Err, strings.Join(e.Problems, "; "))
}

func (e *Error) Unwrap() error { return e.Err }

// Options tune Adopt.
type Options struct {
	From  Tool
	Table string // the tool's history table; "" means DefaultTable(From)
	// DryRun plans and writes nothing.
	DryRun bool
	// ReadFile, when set, returns a migration file's bytes by its Source
	// name; sqlx checksums are then compared (a difference is a warning).
	ReadFile func(name string) ([]byte, error)
	// Now is the clock for rows whose tool keeps no time (default time.Now).
	Now func() time.Time
}

// A Row is one _migrations row Adopt writes (or would write).
type Row struct {
	migrations.Record
	Source string `json:"file"`
	// TimeFromTool says whether applied_at is the tool's own time (false:
	// the tool keeps none, and it is the time of adopting).
	TimeFromTool bool `json:"time_from_tool"`
}

// A Plan is what Adopt found and did.
type Plan struct {
	From    Tool     `json:"from"`
	Table   string   `json:"table"`
	Write   []Row    `json:"write"`   // rows written (or, on a dry run, to write)
	Present []int64  `json:"present"` // versions _migrations already has, agreeing (also those Larder applied since)
	Pending []string `json:"pending"` // files the tool never applied, newer than its newest: `up` applies them
	// Warnings are findings that do not stop adopting.
	Warnings []string `json:"warnings"`
	Written  bool     `json:"written"`
}

// Adopt reads the history of opts.From on conn, matches it to migs (all of
// the directory's migrations) and, unless opts.DryRun, writes the
// _migrations rows in one BEGIN IMMEDIATE transaction, re-reading the
// history inside it. A refusal is an *Error, and nothing is written.
func Adopt(ctx context.Context, conn *sqlite3.Conn, migs []*migrations.Migration, opts Options) (*Plan, error) {
	if opts.Table == "" {
		opts.Table = DefaultTable(opts.From)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	old := conn.SetInterrupt(ctx)
	defer conn.SetInterrupt(old)
	if opts.DryRun {
		return plan(conn, migs, opts)
	}
	if err := conn.Exec("BEGIN IMMEDIATE"); err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed && !conn.GetAutocommit() {
			conn.Exec("ROLLBACK")
		}
	}()
	p, err := plan(conn, migs, opts)
	if err != nil || len(p.Write) == 0 {
		return p, err
	}
	if err := sqlite.Exec(ctx, conn, migrations.TrackingTableSQL, 1); err != nil {
		return nil, fmt.Errorf("create _migrations: %w", err)
	}
	for _, r := range p.Write {
		err := sqlite.Exec(ctx, conn, `INSERT INTO _migrations (version, name, checksum, applied_at, duration_ms, breaking)
			VALUES (?, ?, ?, ?, ?, ?)`, 1, r.Version, r.Name, r.Checksum, r.AppliedAt.UTC().Format(migrations.TimeFormat), r.DurationMS, r.Breaking)
		if err != nil {
			return nil, fmt.Errorf("write _migrations row %d: %w", r.Version, err)
		}
	}
	if err := conn.Exec("COMMIT"); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	committed = true
	p.Written = true
	return p, nil
}

// plan reads both histories and decides the rows to write.
func plan(conn *sqlite3.Conn, migs []*migrations.Migration, opts Options) (*Plan, error) {
	h, err := readHistory(conn, opts.From, opts.Table)
	if err != nil {
		return nil, err
	}
	existing, err := sqlite.NewStore(conn).Applied(context.Background())
	if err != nil {
		return nil, fmt.Errorf("read _migrations: %w", err)
	}
	p := &Plan{From: opts.From, Table: opts.Table, Write: []Row{}, Present: []int64{}, Pending: []string{}, Warnings: []string{}}
	byVersion := map[int64]*migrations.Migration{}
	for _, m := range migs {
		byVersion[m.Version] = m
	}
	applied := map[int64]entry{}
	var newest int64
	var noFile []string
	for _, e := range h.entries {
		applied[e.version] = e
		newest = max(newest, e.version)
		if byVersion[e.version] == nil {
			noFile = append(noFile, fmt.Sprint(e.version))
		}
	}
	if h.upTo >= 0 {
		newest = h.upTo
		if h.upTo > 0 && byVersion[h.upTo] == nil {
			noFile = append(noFile, fmt.Sprint(h.upTo))
		}
		for _, m := range migs {
			if m.Version <= h.upTo {
				applied[m.Version] = entry{version: m.Version}
			}
		}
	}
	if len(noFile) > 0 {
		return nil, &Error{Err: ErrNoFile, Problems: []string{fmt.Sprintf(
			"%s records version(s) %s as applied, but the directory has no migration file with that number; "+
				"restore the file(s) from the project that ran %s (or point --dir at its migrations directory)",
			opts.Table, strings.Join(noFile, ", "), opts.From)}}
	}
	var gaps []string
	for _, m := range migs {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		if m.Version < newest {
			gaps = append(gaps, m.Source)
		} else {
			p.Pending = append(p.Pending, m.Source)
		}
	}
	if len(gaps) > 0 {
		return nil, &Error{Err: ErrGap, Problems: []string{fmt.Sprintf(
			"%s never applied %s, numbered below its newest applied version %d; "+
				"apply them with %s first, or renumber them above %d if they are meant to run after it",
			opts.Table, strings.Join(gaps, ", "), newest, opts.From, newest)}}
	}
	if err := agree(p, existing, applied, newest, byVersion); err != nil {
		return nil, err
	}
	for _, m := range migs {
		e, ok := applied[m.Version]
		if !ok || slices.Contains(p.Present, m.Version) {
			continue
		}
		row := Row{Source: m.Source, TimeFromTool: !e.appliedAt.IsZero()}
		at := e.appliedAt
		if at.IsZero() {
			at = opts.Now()
		}
		row.Record = migrations.NewRecord(m, at, e.duration)
		p.Write = append(p.Write, row)
		if e.checksum != nil && opts.ReadFile != nil {
			if w := checkSqlx(m, e.checksum, opts.ReadFile); w != "" {
				p.Warnings = append(p.Warnings, w)
			}
		}
	}
	return p, nil
}

// agree checks an existing _migrations table against the tool's history:
// every row must be a version the tool applied or, newer than the tool's
// newest, one Larder applied after taking over; and it must have the
// file's checksum. Agreeing rows go to p.Present.
func agree(p *Plan, existing []migrations.Record, applied map[int64]entry, newest int64, byVersion map[int64]*migrations.Migration) error {
	var probs []string
	for _, r := range existing {
		m := byVersion[r.Version]
		_, ok := applied[r.Version]
		switch {
		case !ok && r.Version <= newest:
			probs = append(probs, fmt.Sprintf("_migrations has version %d (%s), which %s does not record as applied", r.Version, r.Name, p.Table))
		case m == nil:
			probs = append(probs, fmt.Sprintf("_migrations has version %d (%s), which has no file", r.Version, r.Name))
		case m.Checksum != r.Checksum:
			probs = append(probs, fmt.Sprintf("_migrations has version %d with checksum %.12s…, but %s has %.12s…", r.Version, r.Checksum, m.Source, m.Checksum))
		default:
			p.Present = append(p.Present, r.Version)
		}
	}
	if len(probs) > 0 {
		probs = append(probs, "this database was already (partly) migrated by Larder; check `larder migrate status`, "+
			"and delete the _migrations table only if you are sure "+p.Table+" is the truth")
		return &Error{Err: ErrDisagree, Problems: probs}
	}
	return nil
}
