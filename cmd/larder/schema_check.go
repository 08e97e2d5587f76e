package main

import (
	"context"
	"fmt"

	"github.com/larderdb/larder/migrations/plan"
)

func init() {
	register(&command{name: "schema check", args: "--dir DIR --schema FILE [--json]",
		short: "exit 1 when the migrations and the schema file disagree (for CI)", run: schemaCheck})
}

// checkJSON is `schema check --json`.
type checkJSON struct {
	Dir         string            `json:"dir"`
	Schema      string            `json:"schema"`
	Differences []plan.Difference `json:"differences"`
}

func schemaCheck(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "schema check")
	dir := fs.String("dir", "", "migrations `DIR`ectory")
	schemaFile := fs.String("schema", "", "the canonical schema `FILE` (schema.sql)")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if *dir == "" || *schemaFile == "" {
		return usagef("--dir and --schema are required")
	}
	diffs, err := checkSchema(ctx, *dir, *schemaFile)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := printJSON(e.stdout, checkJSON{Dir: *dir, Schema: *schemaFile, Differences: nonNilSlice(diffs)}); err != nil {
			return err
		}
	} else {
		for _, d := range diffs {
			fmt.Fprintln(e.stdout, d)
		}
		if len(diffs) == 0 {
			fmt.Fprintf(e.stdout, "%s and the migrations in %s agree\n", *schemaFile, *dir)
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%d difference(s) between the migrations in %s and %s (missing: in the schema file, not in the migrations; extra: the other way round)\nhint: run `larder migrate diff --dir %s --schema %s NAME` to write the migration, or fix %s",
			len(diffs), *dir, *schemaFile, *dir, *schemaFile, *schemaFile)
	}
	return nil
}

// checkSchema is what `larder schema check` compares: the schema the
// migrations in dir produce and the one the schema file creates, with
// every virtual table module the CLI links (FTS5).
func checkSchema(ctx context.Context, dir, schemaFile string) ([]plan.Difference, error) {
	return plan.Check(ctx, dir, schemaFile)
}
