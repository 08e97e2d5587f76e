package main

import (
	"context"
	"fmt"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

func init() {
	register(&command{name: "schema dump", args: "(--db FILE | --dir DIR) [--json]",
		short: "print the canonical schema (stable order) of a database or of the migrations", run: schemaDump})
	register(&command{name: "schema diff", args: "--db FILE --dir DIR [--to N] [--json]",
		short: "compare a database's schema with the one its migrations produce (drift)", run: schemaDiff})
}

// schemaDump prints schema.Schema.Dump of --db, or of the schema --dir's
// migrations produce.
func schemaDump(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "schema dump")
	var f dbFlags
	f.register(fs, true)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	// Defaults from the environment or larder.toml may set both: a flag
	// given on the command line wins, else the database.
	if f.db != "" && f.dir != "" {
		switch {
		case flagSource(fs, "dir") != "flag":
			unset(fs, "dir")
		case flagSource(fs, "db") != "flag":
			unset(fs, "db")
		}
	}
	if (f.db == "") == (f.dir == "") {
		return usagef("want one of --db or --dir")
	}
	if f.dir != "" && flagSource(fs, "dir") == "found" {
		noteDir(e, f.dir)
	}
	var s *schema.Schema
	var err error
	if f.db != "" {
		s, err = readLive(ctx, f.db)
	} else {
		var migs []*migrations.Migration
		if migs, err = migrations.LoadDir(f.dir); err == nil {
			s, err = schema.Build(ctx, migs, 0)
		}
	}
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(e.stdout, s)
	}
	_, err = fmt.Fprint(e.stdout, s.Dump())
	return err
}

func readLive(ctx context.Context, path string) (*schema.Schema, error) {
	conn, err := sqlite.OpenExisting(path)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return schema.Read(ctx, conn)
}

type diffJSON struct {
	Version     int64               `json:"version"` // migrations compared up to this version
	Differences []schema.Difference `json:"differences"`
}

// schemaDiff compares --db with the schema --dir's migrations produce up
// to the newest version the database has applied (--to overrides), so
// pending migrations are not reported as drift. Exit 1 when they differ.
func schemaDiff(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "schema diff")
	var f dbFlags
	f.register(fs, true)
	to := fs.Int64("to", 0, "compare with the migrations up to `VERSION` (default: the newest the database has applied)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := f.require(true); err != nil {
		return err
	}
	if *to < 0 {
		return usagef("--to wants a migration version")
	}
	migs, err := migrations.LoadDir(f.dir)
	if err != nil {
		return err
	}
	conn, err := sqlite.OpenExisting(f.db)
	if err != nil {
		return err
	}
	defer conn.Close()
	live, err := schema.Read(ctx, conn)
	if err != nil {
		return err
	}
	version := *to
	if version == 0 {
		version = migs[len(migs)-1].Version
		recs, err := sqlite.NewStore(conn).Applied(ctx)
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			version = recs[len(recs)-1].Version
		}
	}
	want, err := schema.Build(ctx, migs, version)
	if err != nil {
		return fmt.Errorf("build the schema of the migrations up to %d: %w", version, err)
	}
	diffs := schema.Diff(want, live)
	if f.json {
		diffs = nonNil(diffs)
		if err := writeJSON(e.stdout, diffJSON{Version: version, Differences: diffs}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "%s compared with the migrations in %s up to %d\n", f.db, f.dir, version)
		for _, d := range diffs {
			fmt.Fprintln(e.stdout, d)
		}
		if len(diffs) == 0 {
			fmt.Fprintln(e.stdout, "no differences")
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%d difference(s) between %s and its migrations", len(diffs), f.db)
	}
	return nil
}
