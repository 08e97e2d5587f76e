package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/larderdb/larder/backup"
	"github.com/larderdb/larder/internal/imagecheck"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
	"github.com/larderdb/larder/seed"
)

func init() {
	register(&command{name: "db seed", args: "--db FILE --dir SEEDS [--migrations DIR] [--env NAME] [--reapply] [--json]",
		short: "apply seed files once each, after checking migrations are current", run: dbSeed})
	register(&command{name: "db backup", args: "--db FILE [--out PATH] [--json]",
		short: "write a consistent, checked backup (online backup API)", run: dbBackup})
	register(&command{name: "db restore", args: "--db FILE --from PATH --dir DIR [--allow-extra-schema] [--timeout D] [--json]",
		short: "validate a backup against the migrations and replace the database with it (backs up first)", run: dbRestore})
	register(&command{name: "db reset", args: "--db FILE --dir DIR [--seeds SEEDS] [--env NAME] [--yes] [--json]",
		short: "back up, then recreate, migrate and optionally seed the database", run: dbReset})
}

// seedJSON is one seed in --json output.
type seedJSON struct {
	Env       string `json:"env"`
	Version   int64  `json:"version"`
	Name      string `json:"name"`
	Reapplied bool   `json:"reapplied"`
	Skipped   bool   `json:"skipped,omitempty"`
}

func seedsJSON(res []seed.Result) []seedJSON {
	out := []seedJSON{}
	for _, r := range res {
		out = append(out, seedJSON{Env: r.Seed.Env, Version: r.Seed.Version, Name: r.Seed.Name, Reapplied: r.Reapplied, Skipped: r.Skipped})
	}
	return out
}

func printSeeds(w io.Writer, res []seed.Result) {
	for _, r := range res {
		switch {
		case r.Skipped:
			fmt.Fprintf(w, "skipped %s (done by another runner)\n", r.Seed.File())
		case r.Reapplied:
			fmt.Fprintf(w, "reapplied %s (its file changed)\n", r.Seed.File())
		default:
			fmt.Fprintf(w, "seeded %s\n", r.Seed.File())
		}
	}
}

// explainSeed adds what to do about a seed error to its message; the
// hint to migrate names the --db and migrations directory the user gave.
func explainSeed(err error, db, migDir string) error {
	switch {
	case errors.Is(err, seed.ErrNotMigrated):
		return fmt.Errorf("%w\nhint: run `larder migrate up --db %s --dir %s` first", err, shellQuote(db), shellQuote(migDir))
	case errors.Is(err, seed.ErrSeedChanged):
		return fmt.Errorf("%w\nhint: restore the seed file, or pass --reapply to run the changed seeds again", err)
	}
	return explain(err)
}

func dbSeed(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "db seed")
	db := fs.String("db", "", "SQLite database `FILE` (must exist)")
	dir := fs.String("dir", "", "seeds `DIR`ectory: common NNNN_name.sql seeds; subdirectories per environment")
	migDir := fs.String("migrations", "", "migrations `DIR` the database must be current with (default: migrations/ beside SEEDS)")
	envName := fs.String("env", "", "also run the seeds of `NAME` (SEEDS/NAME), after the common ones")
	reapply := fs.Bool("reapply", false, "run again the applied seeds whose file changed")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *db == "" || *dir == "" {
		return usagef("--db and --dir are required")
	}
	mdir, err := migrationsFor(*dir, *migDir)
	if err != nil {
		return err
	}
	migs, err := migrations.LoadDir(mdir)
	if err != nil {
		return err
	}
	seeds, err := seed.LoadDir(*dir, *envName)
	if err != nil {
		return err
	}
	conn, err := sqlite.OpenExisting(*db)
	if err != nil {
		return err
	}
	defer conn.Close()
	res, err := seed.Apply(ctx, conn, seeds, seed.Options{Migrations: migs, Reapply: *reapply})
	if err != nil && len(res) == 0 {
		return explainSeed(err, *db, mdir)
	}
	if *asJSON {
		if perr := writeJSON(e.stdout, seedsJSON(res)); perr != nil {
			return perr
		}
	} else {
		if len(res) == 0 {
			fmt.Fprintln(e.stdout, "nothing to seed: every seed is applied")
		}
		printSeeds(e.stdout, res)
	}
	return explainSeed(err, *db, mdir)
}

// shellQuote quotes s for a POSIX shell when it needs it, so a hint can
// be pasted as it is.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=+,@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// migrationsFor is --migrations, or the migrations/ directory beside the
// seeds directory when it exists.
func migrationsFor(seedsDir, flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	def := filepath.Join(filepath.Dir(filepath.Clean(seedsDir)), "migrations")
	if fi, err := os.Stat(def); err != nil || !fi.IsDir() {
		return "", usagef("--migrations DIR is required (no %s beside the seeds): seeds run only on a database whose migrations are current", def)
	}
	return def, nil
}

// printBackup reports the backup a destructive command made. It is called
// before the command's error is returned, so the path is never lost.
func printBackup(w io.Writer, db string, snap backup.Snapshot) {
	switch {
	case snap.Path == "":
		return
	case snap.Raw:
		fmt.Fprintf(w, "backup: %s (a raw copy: %s was not a readable database)\n", snap.Path, db)
	default:
		fmt.Fprintf(w, "backup: %s\n", snap.Path)
	}
}

func dbBackup(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "db backup")
	db := fs.String("db", "", "SQLite database `FILE`")
	out := fs.String("out", "", "backup `PATH`, or an existing directory for the default name (default: FILE.<UTC time>.bak beside FILE)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *db == "" {
		return usagef("--db is required")
	}
	p, err := backup.Backup(ctx, *db, *out)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"backup": p})
	}
	fmt.Fprintf(e.stdout, "backup: %s (integrity_check ok)\n", p)
	return nil
}

func dbRestore(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "db restore")
	db := fs.String("db", "", "SQLite database `FILE` to replace (created if missing)")
	from := fs.String("from", "", "backup `PATH` to restore")
	dir := fs.String("dir", "", "migrations `DIR`ectory: the backup's _migrations rows and schema must match these migrations")
	extra := fs.Bool("allow-extra-schema", false, "accept schema objects the migrations do not build (triggers, views, tables)")
	timeout := fs.Duration("timeout", imagecheck.DefaultTimeout, "time budget of the checks; a file too expensive to check is refused")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *db == "" || *from == "" {
		return usagef("--db and --from are required")
	}
	if *dir == "" && !*extra {
		return usagef("--dir is required to check the backup against its migrations (or pass --allow-extra-schema to accept any schema)")
	}
	if *timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	opts := backup.RestoreOptions{AllowExtraSchema: *extra, Timeout: *timeout}
	if *dir != "" {
		migs, err := migrations.LoadDir(*dir)
		if err != nil {
			return err
		}
		opts.Migrations = migs
	}
	snap, err := backup.Restore(ctx, *db, *from, opts)
	if *asJSON {
		if perr := writeJSON(e.stdout, map[string]any{"database": *db, "restored_from": *from, "restored": err == nil, "backup": snap}); perr != nil {
			return perr
		}
	} else {
		printBackup(e.stdout, *db, snap)
		if err == nil {
			fmt.Fprintf(e.stdout, "restored %s from %s\n", *db, *from)
		}
	}
	return err
}

func dbReset(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "db reset")
	db := fs.String("db", "", "SQLite database `FILE` to recreate")
	dir := fs.String("dir", "", "migrations `DIR`ectory")
	seedsDir := fs.String("seeds", "", "seeds `DIR`ectory to apply after migrating")
	envName := fs.String("env", "", "with --seeds: also the seeds of `NAME`")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *db == "" || *dir == "" {
		return usagef("--db and --dir are required")
	}
	if *envName != "" && *seedsDir == "" {
		return usagef("--env needs --seeds")
	}
	migs, err := migrations.LoadDir(*dir)
	if err != nil {
		return err
	}
	var seeds []*seed.Seed
	if *seedsDir != "" {
		if seeds, err = seed.LoadDir(*seedsDir, *envName); err != nil {
			return err
		}
	}
	if !*yes {
		if err := confirmReset(e, *db); err != nil {
			return err
		}
	}
	res, err := backup.Reset(ctx, *db, backup.ResetOptions{Migrations: migs, Seeds: seeds})
	if *asJSON {
		if perr := writeJSON(e.stdout, map[string]any{"database": *db, "reset": err == nil, "backup": res.Backup,
			"migrated": len(res.Migrated), "seeds": seedsJSON(res.Seeded)}); perr != nil {
			return perr
		}
	} else {
		printBackup(e.stdout, *db, res.Backup)
		if err == nil {
			if res.Backup.Path == "" {
				fmt.Fprintf(e.stdout, "no database at %s before: nothing to back up\n", *db)
			}
			fmt.Fprintf(e.stdout, "reset %s: applied %d migrations, %d seeds\n", *db, len(res.Migrated), len(res.Seeded))
		}
	}
	if err != nil {
		return explainSeed(err, *db, *dir)
	}
	return nil
}

// confirmReset asks on the terminal; without one it refuses, since a
// script that forgot --yes must not lose a database.
func confirmReset(e *env, db string) error {
	if !e.isTerminal {
		return usagef("refusing to reset %s without confirmation: stdin is not a terminal; pass --yes", db)
	}
	what := "create"
	if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
		what = "replace"
	}
	fmt.Fprintf(e.stderr, "This will %s %s with a freshly migrated database (the current one is backed up first).\nContinue? [y/N] ", what, db)
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return errors.New("reset cancelled: no answer on stdin (pass --yes to reset without asking)")
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errors.New("reset cancelled")
}
