package main

import (
	"context"
	"fmt"

	"github.com/larderdb/larder/backup"
	"github.com/larderdb/larder/migrations/plan"
	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

func init() {
	register(&command{name: "schema apply",
		args:  "--db FILE --schema FILE [--rename TABLE.OLD=NEW]... [--dry-run] [--allow-destructive] [--json]",
		short: "change a development database to the schema file directly (backs up first)", run: schemaApply})
}

// applyJSON is `schema apply --json`.
type applyJSON struct {
	Database string      `json:"database"`
	Changes  bool        `json:"changes"`
	Applied  bool        `json:"applied"`
	Backup   string      `json:"backup,omitempty"`
	Steps    []plan.Step `json:"steps"`
}

// schemaApply plans the steps from the database's schema to the schema
// file's, prints them, backs the database up and applies them in one
// transaction. It writes no migration and no _migrations row: it is for
// development databases, Atlas's declarative mode.
func schemaApply(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "schema apply")
	db := fs.String("db", "", "SQLite database `FILE` (created when missing)")
	schemaFile := fs.String("schema", "", "the canonical schema `FILE` (schema.sql)")
	var renames renameList
	fs.Var(&renames, "rename", "`TABLE.OLD=NEW` renames a column, OLD=NEW a table (repeatable)")
	dryRun := fs.Bool("dry-run", false, "print the plan, change nothing")
	allow := fs.Bool("allow-destructive", false, "allow dropping tables and columns")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if *db == "" || *schemaFile == "" {
		return usagef("--db and --schema are required")
	}
	to, err := plan.FromFile(ctx, *schemaFile)
	if err != nil {
		return err
	}
	conn, err := sqlite.Open(*db)
	if err != nil {
		return err
	}
	defer conn.Close()
	live, err := schema.Read(ctx, conn)
	if err != nil {
		return err
	}
	p, err := plan.Diff(ctx, live, to, plan.Options{Renames: renames, AllowDestructive: *allow, NoLint: true})
	if p != nil && !*asJSON && !p.Empty() {
		fmt.Fprintf(e.stdout, "plan for %s:\n%s", *db, p.UpSQL())
	}
	if err != nil {
		return fmt.Errorf("schema apply: %w (nothing was changed)", err)
	}
	res := applyJSON{Database: *db, Changes: !p.Empty(), Steps: nonNilSlice(p.Up)}
	if !p.Empty() && !*dryRun {
		path, err := backup.Backup(ctx, *db, "")
		if err != nil {
			return fmt.Errorf("schema apply: back up %s first: %w (nothing was changed)", *db, err)
		}
		res.Backup = path
		if !*asJSON {
			fmt.Fprintf(e.stdout, "backup: %s\n", path)
		}
		if err := plan.Apply(ctx, conn, p); err != nil {
			return fmt.Errorf("%w (the database is unchanged; the backup is %s)", err, path)
		}
		res.Applied = true
	}
	if *asJSON {
		return printJSON(e.stdout, res)
	}
	switch {
	case p.Empty():
		fmt.Fprintln(e.stdout, "no changes")
	case *dryRun:
		fmt.Fprintln(e.stdout, "dry run: nothing was changed")
	default:
		fmt.Fprintf(e.stdout, "applied %d step(s) to %s\n", len(p.Up), *db)
	}
	return nil
}
