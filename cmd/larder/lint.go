package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/lint"
)

func init() {
	register(&command{name: "migrate lint", args: "--dir DIR [--target native|browser|d1]... [--ignore CODE:MIGRATION]... [--since N] [--json]",
		short: "find destructive and backward-incompatible changes in migrations (up and down parts)", run: migrateLint})
}

// listFlag is a flag that may be given several times; each value is kept.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// migrateLint applies DIR's migrations to an in-memory database one at a
// time (up, down and up again) and reports what each changes unsafely.
// Exit 1 when a finding is an error; warnings alone exit 0.
func migrateLint(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "migrate lint")
	var f dbFlags
	f.register(fs, false)
	var targets, ignores listFlag
	var opts lint.Options
	fs.Var(&targets, "target", "where the migrations run: native, browser or d1 (`TARGET`); repeat it or separate with commas; D1 rules run only for d1 (default: [lint] target in larder.toml, else native,browser)")
	fs.Var(&ignores, "ignore", "acknowledge the findings of a rule in a migration given by version or file name, e.g. L015:3 (`CODE:MIGRATION`); repeatable")
	fs.Int64Var(&opts.Since, "since", 0, "lint only migrations numbered above `N` (the ones up to N are still applied to build the schema)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := f.require(false); err != nil {
		return err
	}
	if len(targets) > 0 {
		t, err := lint.ParseTargets(targets...)
		if err != nil {
			return usagef("--target: %s", strings.TrimPrefix(err.Error(), "lint: "))
		}
		opts.Targets = t
	}
	for _, s := range ignores {
		ig, err := lint.ParseIgnore(s)
		if err != nil {
			return usagef("--ignore: %s", strings.TrimPrefix(err.Error(), "lint: "))
		}
		opts.Ignore = append(opts.Ignore, ig)
	}
	if opts.Since < 0 {
		return usagef("--since wants a migration version, 0 or above, got %d", opts.Since)
	}
	migs, err := migrations.LoadDir(f.dir)
	if err != nil {
		return err
	}
	rep, err := lint.Check(ctx, migs, opts)
	if err != nil {
		return err
	}
	if f.json {
		rep.Findings = nonNil(rep.Findings)
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else {
		printLint(e.stdout, rep)
	}
	if lint.HasErrors(rep.Findings) {
		errs, warns := count(rep.Findings)
		return fmt.Errorf("%d error(s), %d warning(s)", errs, warns)
	}
	return nil
}

func count(fs []lint.Finding) (errs, warns int) {
	for _, f := range fs {
		if f.Severity == lint.Error {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

func printLint(w io.Writer, rep *lint.Report) {
	for _, f := range rep.Findings {
		where := f.Migration
		if f.File != "" {
			where = f.File
		}
		if f.Part == "down" {
			where += " (down)"
		}
		fmt.Fprintf(w, "%s %s %-7s %s: %s\n    fix: %s\n", where, f.Code, f.Severity, f.Name, f.Message, f.Hint)
	}
	if len(rep.Findings) > 0 {
		fmt.Fprintln(w)
	}
	targets := make([]string, len(rep.Targets))
	for i, t := range rep.Targets {
		targets[i] = string(t)
	}
	since := ""
	if rep.Since > 0 {
		since = fmt.Sprintf(" (above %d)", rep.Since)
	}
	errs, warns := count(rep.Findings)
	fmt.Fprintf(w, "%d migration(s) checked%s for %s: %d error(s), %d warning(s)", rep.Checked, since, strings.Join(targets, ", "), errs, warns)
	if rep.Ignored > 0 {
		fmt.Fprintf(w, ", %d ignored", rep.Ignored)
	}
	fmt.Fprintln(w)
}
