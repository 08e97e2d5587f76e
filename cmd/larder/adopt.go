package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/adopt"
	"github.com/larderdb/larder/migrations/sqlite"
)

func init() {
	register(&command{name: "migrate adopt", args: "--db FILE --dir DIR --from goose|golang-migrate|dbmate|sqlx [--table NAME] [--dry-run] [--json]",
		short: "take over a database another tool migrated: write _migrations from its history",
		long: `Reads the other tool's history table (goose_db_version, golang-migrate's or
dbmate's schema_migrations, _sqlx_migrations), matches it to the files in
DIR and writes the _migrations rows that say the same, in one transaction,
so that larder migrate up continues where the other tool stopped. It runs
no migration. It refuses, writing nothing, a dirty history, an applied
version with no file, a file below the newest applied version that the
tool never applied, and a _migrations table that disagrees. The other
tool's table is left as it was.`,
		run: migrateAdopt})
}

func migrateAdopt(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "migrate adopt")
	var f dbFlags
	f.register(fs, true)
	from := fs.String("from", "", "the `TOOL` that migrated the database: goose, golang-migrate, dbmate or sqlx")
	table := fs.String("table", "", "the tool's history `TABLE`, if not its default name")
	dry := fs.Bool("dry-run", false, "print the rows it would write and change nothing")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := f.require(true); err != nil {
		return err
	}
	if *from == "" {
		return usagef("--from is required: goose, golang-migrate, dbmate or sqlx")
	}
	tool, err := adopt.ParseTool(*from)
	if err != nil {
		return usagef("--from: %v", err)
	}
	migs, err := migrations.LoadDir(f.dir)
	if err != nil {
		return err
	}
	conn, err := sqlite.OpenExisting(f.db)
	if err != nil {
		return fmt.Errorf("adopt: %w", err)
	}
	defer conn.Close()
	p, err := adopt.Adopt(ctx, conn, migs, adopt.Options{From: tool, Table: *table, DryRun: *dry,
		ReadFile: func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(f.dir, name)) }})
	if err != nil {
		var ae *adopt.Error
		if errors.As(err, &ae) {
			return fmt.Errorf("adopt %s from %s: %v: nothing was written\n  %s", f.db, tool, ae.Err, strings.Join(ae.Problems, "\n  "))
		}
		return fmt.Errorf("adopt %s from %s: %w", f.db, tool, err)
	}
	if f.json {
		return writeJSON(e.stdout, p)
	}
	printAdopt(e, f.db, p)
	return nil
}

func printAdopt(e *env, db string, p *adopt.Plan) {
	w := e.stdout
	verb := "wrote"
	if !p.Written {
		verb = "would write"
	}
	if len(p.Write) == 0 {
		fmt.Fprintf(w, "nothing to write: _migrations already records the %d migration(s) %s applied (and any Larder applied since)\n", len(p.Present), p.Table)
	} else {
		fmt.Fprintf(w, "%s %d _migrations row(s) from %s (%s):\n", verb, len(p.Write), p.Table, p.From)
	}
	for _, r := range p.Write {
		when := "time of adopting"
		if r.TimeFromTool {
			when = "from " + string(p.From)
		}
		fmt.Fprintf(w, "  %s  applied_at %s (%s)\n", r.Source, r.AppliedAt.Format(migrations.TimeFormat), when)
	}
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	if len(p.Pending) > 0 {
		fmt.Fprintf(w, "pending (larder migrate up applies them): %s\n", strings.Join(p.Pending, ", "))
	}
	if !p.Written && len(p.Write) > 0 {
		fmt.Fprintln(w, "dry run: nothing was written")
	}
	fmt.Fprintf(w, "%s is left in place; Larder does not read it. Drop it once you no longer need %s "+
		"(larder schema diff lists it as an extra table until then).\n", p.Table, p.From)
}
