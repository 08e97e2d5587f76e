package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/larderdb/larder/migrations"
)

func init() {
	register(&command{name: "migrate redo", args: "--db FILE --dir DIR [--dry-run] [--json]",
		short: "revert the newest applied migration and apply it again",
		long: `Runs the down part of the newest applied migration, then its up part, each
in its own transaction: for iterating on a migration during development.
It refuses, changing nothing, when that migration has no down part or the
migrations do not match the database (an edited applied file is refused
as it is by up; revert with the old file, then edit it).`,
		run: migrateRedo})
}

func migrateRedo(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "migrate redo")
	var f dbFlags
	f.register(fs, true)
	dry := fs.Bool("dry-run", false, "print what would be reverted and applied, and change nothing")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := f.require(true); err != nil {
		return err
	}
	p, conn, err := openExisting(&f)
	if err != nil {
		return err
	}
	defer conn.Close()
	plan, err := p.PlanDown(ctx, migrations.DownTarget{Steps: 1})
	if errors.Is(err, migrations.ErrNoDown) {
		return fmt.Errorf("redo: %w\nhint: redo needs the newest migration to have a -- migrate:down part", err)
	}
	if err != nil {
		return explain(err)
	}
	if len(plan) == 0 {
		return errors.New("redo: nothing to redo: no migration is applied")
	}
	m := plan[0].Migration
	if *dry {
		plan = append(plan, migrations.Step{Migration: m, Direction: migrations.Up})
		if f.json {
			return printSteps(e.stdout, true, plan, nil, "", "")
		}
		fmt.Fprintf(e.stdout, "would revert %s\nwould apply %s\n", stepOf(m).label(), stepOf(m).label())
		return nil
	}
	down, err := p.Down(ctx, migrations.DownTarget{Steps: 1})
	if err != nil {
		return explain(err)
	}
	up, err := p.Up(ctx, m.Version)
	res := append(down, up...)
	if perr := printResults(e, f.json, res); perr != nil {
		return perr
	}
	if err != nil {
		return fmt.Errorf("redo: %s was reverted, but applying it again failed (the database is now at the version before it; fix the file and run larder migrate up): %w",
			stepOf(m).label(), explain(err))
	}
	return nil
}

func stepOf(m *migrations.Migration) stepJSON {
	return stepJSON{Version: m.Version, Name: m.Name, File: m.Source}
}

// printResults prints results of both directions.
func printResults(e *env, asJSON bool, res []migrations.Result) error {
	if asJSON {
		return printSteps(e.stdout, true, nil, res, "", "")
	}
	for _, r := range res {
		verb := "applied"
		if r.Direction == migrations.Down {
			verb = "reverted"
		}
		if err := printSteps(e.stdout, false, nil, []migrations.Result{r}, verb, ""); err != nil {
			return err
		}
	}
	return nil
}
