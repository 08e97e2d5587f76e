package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/compat"
)

func init() {
	register(&command{name: "migrate compat", args: "--dir DIR --queries FILE [--since N] [--reverse] [--json]",
		short: "check the previous release's queries against the new migrations", run: migrateCompat})
}

// migrateCompat runs compat.Check. Exit 1 when a query is broken or
// invalid.
func migrateCompat(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "migrate compat")
	var f dbFlags
	f.register(fs, false)
	var queriesFile, since string
	var reverse bool
	fs.StringVar(&queriesFile, "queries", "", "`FILE` of named queries (-- name: X before each statement)")
	fs.StringVar(&since, "since", "", "base `VERSION`: the newest migration of the release the queries belong to (default: the second newest migration)")
	fs.BoolVar(&reverse, "reverse", false, "check new queries against older schemas (safe rollbacks), naming the migration each needs")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := f.require(false); err != nil {
		return err
	}
	if queriesFile == "" {
		return usagef("--queries is required")
	}
	var opts compat.Options
	if since != "" {
		n, err := strconv.ParseInt(since, 10, 64)
		if err != nil || n <= 0 {
			return usagef("--since wants a positive migration version, got %q", since)
		}
		opts.Since = n
	}
	opts.Reverse = reverse
	migs, err := migrations.LoadDir(f.dir)
	if err != nil {
		return err
	}
	queries, err := compat.LoadQueries(queriesFile)
	if err != nil {
		return err
	}
	rep, err := compat.Check(ctx, migs, queries, opts)
	if err != nil {
		return err
	}
	if f.json {
		rep.Broken = nonNil(rep.Broken)
		rep.Invalid = nonNil(rep.Invalid)
		rep.Unchecked = nonNil(rep.Unchecked)
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else {
		printReport(e.stdout, rep)
	}
	if !rep.OK() {
		return fmt.Errorf("%d broken, %d invalid quer(ies)", len(rep.Broken), len(rep.Invalid))
	}
	return nil
}

func printReport(w io.Writer, r *compat.Report) {
	if r.Reverse {
		fmt.Fprintf(w, "%d queries checked on the schema at version %d, then without each migration down to %d\n", r.Queries, r.Newest, r.Since+1)
	} else {
		fmt.Fprintf(w, "%d queries checked on the schema at version %d, then after each migration up to %d\n", r.Queries, r.Since, r.Newest)
	}
	verb := "broken by"
	if r.Reverse {
		verb = "needs"
	}
	for _, p := range r.Broken {
		fmt.Fprintf(w, "BROKEN  %s (%s:%d): %s %s: %s: %s\n", p.Query, p.File, p.Line, verb, p.Migration, p.Phase, p.Error)
	}
	for _, p := range r.Invalid {
		fmt.Fprintf(w, "INVALID %s (%s:%d): fails on the base schema (version %d): %s\n", p.Query, p.File, p.Line, p.Version, p.Error)
	}
	for _, p := range r.Unchecked {
		fmt.Fprintf(w, "note    %s (%s:%d): write not exercised, it fails with sample values on the base schema: %s\n", p.Query, p.File, p.Line, p.Error)
	}
	if r.OK() {
		fmt.Fprintln(w, "ok")
	}
}
