package main

import (
	"context"
	"fmt"
	"io"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/lint"
)

func init() {
	register(&command{name: "migrate lint", args: "--dir DIR [--json]",
		short: "find destructive and backward-incompatible changes in migrations", run: migrateLint})
}

// migrateLint applies DIR's migrations to an in-memory database one at a
// time and reports what each changes unsafely. Exit 1 when a finding is an
// error; warnings alone exit 0.
func migrateLint(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "migrate lint")
	var f dbFlags
	f.register(fs, false)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := f.require(false); err != nil {
		return err
	}
	migs, err := migrations.LoadDir(f.dir)
	if err != nil {
		return err
	}
	findings, err := lint.Lint(ctx, migs)
	if err != nil {
		return err
	}
	if f.json {
		findings = nonNil(findings)
		if err := writeJSON(e.stdout, findings); err != nil {
			return err
		}
	} else {
		printFindings(e.stdout, findings, len(migs))
	}
	if lint.HasErrors(findings) {
		errs, warns := count(findings)
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

func printFindings(w io.Writer, fs []lint.Finding, checked int) {
	for _, f := range fs {
		fmt.Fprintf(w, "%s %s %-7s %s: %s\n    fix: %s\n", f.Migration, f.Code, f.Severity, f.Name, f.Message, f.Hint)
	}
	errs, warns := count(fs)
	if len(fs) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d migration(s) checked: %d error(s), %d warning(s)\n", checked, errs, warns)
}
