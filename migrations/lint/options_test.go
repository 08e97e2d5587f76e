package lint_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/lint"
)

func parseAll(t *testing.T, files ...string) []*migrations.Migration {
	t.Helper()
	var migs []*migrations.Migration
	for i := 0; i < len(files); i += 2 {
		m, err := migrations.Parse(files[i], []byte(files[i+1]))
		if err != nil {
			t.Fatal(err)
		}
		migs = append(migs, m)
	}
	return migs
}

// A set whose applied migrations have findings: 0002 rebuilds users by
// hand, 0003 drops a column without the breaking mark.
func history(t *testing.T) []*migrations.Migration {
	return parseAll(t,
		"0001_base.sql", base,
		"0002_rebuild_users.sql", `CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT, name TEXT, bio TEXT);
INSERT INTO users_new (id, email, name) SELECT id, email, name FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;`,
		"0003_drop_msg.sql", "ALTER TABLE logs DROP COLUMN msg;",
		"0004_add_level.sql", "ALTER TABLE logs ADD COLUMN level TEXT;",
	)
}

func labels(fs []lint.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Migration+":"+f.Code)
	}
	return strings.Join(s, " ")
}

func TestIgnore(t *testing.T) {
	ctx := context.Background()
	rep, err := lint.Check(ctx, history(t), lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := labels(rep.Findings); got != "0002_rebuild_users:L015 0003_drop_msg:L002 0003_drop_msg:L010" {
		t.Fatalf("without ignores: %s", got)
	}
	// By version, by file name, by label.
	for _, refs := range [][]string{{"L015:2", "L010:3"}, {"L015:0002_rebuild_users.sql", "L010:0003_drop_msg.sql"}, {"l015:0002_rebuild_users", "L010:0003"}} {
		var ig []lint.Ignore
		for _, r := range refs {
			i, err := lint.ParseIgnore(r)
			if err != nil {
				t.Fatal(err)
			}
			ig = append(ig, i)
		}
		rep, err := lint.Check(ctx, history(t), lint.Options{Ignore: ig})
		if err != nil {
			t.Fatal(err)
		}
		if got := labels(rep.Findings); got != "0003_drop_msg:L002" || rep.Ignored != 2 || lint.HasErrors(rep.Findings) {
			t.Errorf("%v: findings %s, %d ignored", refs, got, rep.Ignored)
		}
		if labels(rep.IgnoredFindings) != "0002_rebuild_users:L015 0003_drop_msg:L010" {
			t.Errorf("%v: ignored %s", refs, labels(rep.IgnoredFindings))
		}
	}

	// An ignore that matches nothing: a warning.
	rep, err = lint.Check(ctx, history(t), lint.Options{Ignore: []lint.Ignore{{"L015", "2"}, {"L007", "4"}}})
	if err != nil {
		t.Fatal(err)
	}
	f := find(rep.Findings, "L019")
	if f == nil || f.Severity != lint.Warning || f.Version != 4 || f.Message != "ignore L007:4 matched no finding of 0004_add_level" {
		t.Errorf("stale ignore: %v", rep.Findings)
	}
	// Not stale: an ignore of a rule no chosen target runs.
	rep, err = lint.Check(ctx, history(t), lint.Options{Ignore: []lint.Ignore{{"L014", "2"}}})
	if err != nil || find(rep.Findings, "L019") != nil {
		t.Errorf("ignore of a D1 rule without d1: %v %v", err, rep.Findings)
	}

	for _, tc := range []struct {
		ig   lint.Ignore
		want string
	}{
		{lint.Ignore{"L099", "2"}, "lint: ignore L099:2: unknown rule L099"},
		{lint.Ignore{"L015", "9"}, `lint: ignore L015:9: no migration "9"`},
		{lint.Ignore{"L015", "0002_nope.sql"}, `no migration "0002_nope.sql"`},
		{lint.Ignore{"L000", "2"}, "L000 (migration-fails) cannot be ignored"},
	} {
		_, err := lint.Check(ctx, history(t), lint.Options{Ignore: []lint.Ignore{tc.ig}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.ig, err, tc.want)
		}
	}
	for _, bad := range []string{"L015", "L015:", ":3", ""} {
		if _, err := lint.ParseIgnore(bad); err == nil || !strings.Contains(err.Error(), "want CODE:MIGRATION") {
			t.Errorf("ParseIgnore(%q): %v", bad, err)
		}
	}
}

func TestSince(t *testing.T) {
	ctx := context.Background()
	rep, err := lint.Check(ctx, history(t), lint.Options{Since: 2})
	if err != nil {
		t.Fatal(err)
	}
	// 0003 and 0004 are linted against the schema 0001 and 0002 built.
	if got := labels(rep.Findings); got != "0003_drop_msg:L002 0003_drop_msg:L010" || rep.Checked != 2 || rep.Since != 2 {
		t.Errorf("--since 2: %s, %d checked", got, rep.Checked)
	}
	// An ignore of a migration at or below Since is not stale.
	rep, err = lint.Check(ctx, history(t), lint.Options{Since: 3, Ignore: []lint.Ignore{{"L015", "2"}}})
	if err != nil || len(rep.Findings) != 0 || rep.Checked != 1 {
		t.Errorf("--since 3: %v %v, %d checked", err, rep.Findings, rep.Checked)
	}
	// A failing migration at or below Since still stops lint: nothing
	// after it can be checked.
	migs := parseAll(t, "0001_a.sql", base, "0002_b.sql", "SELECT * FROM nosuch;", "0003_c.sql", "DROP TABLE logs;")
	rep, err = lint.Check(ctx, migs, lint.Options{Since: 2})
	if err != nil || labels(rep.Findings) != "0002_b:L000" {
		t.Errorf("failure below since: %v %v", err, rep.Findings)
	}
	// An ignore of a migration lint did not get to is not stale either.
	rep, err = lint.Check(ctx, migs, lint.Options{Ignore: []lint.Ignore{{"L001", "3"}}})
	if err != nil || labels(rep.Findings) != "0002_b:L000" {
		t.Errorf("ignore after a failure: %v %v", err, rep.Findings)
	}
	if _, err := lint.Check(ctx, migs, lint.Options{Since: -1}); err == nil {
		t.Error("negative Since accepted")
	}
}

func TestTargets(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []lint.Target
	}{
		{[]string{"native"}, []lint.Target{lint.Native}},
		{[]string{"d1,native", "browser"}, []lint.Target{lint.Native, lint.Browser, lint.D1}},
		{[]string{"D1", " d1 "}, []lint.Target{lint.D1}},
	} {
		got, err := lint.ParseTargets(tc.in...)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseTargets(%q) = %v, %v", tc.in, got, err)
		}
	}
	for _, bad := range []string{"workers", "native,", ""} {
		if _, err := lint.ParseTargets(bad); err == nil || !strings.Contains(err.Error(), "want native, browser or d1") {
			t.Errorf("ParseTargets(%q): %v", bad, err)
		}
	}
	rep, err := lint.Check(context.Background(), history(t), lint.Options{})
	if err != nil || !slices.Equal(rep.Targets, []lint.Target{lint.Native, lint.Browser}) {
		t.Errorf("default targets: %v %v", rep.Targets, err)
	}
	if _, err := lint.Check(context.Background(), history(t), lint.Options{Targets: []lint.Target{"mars"}}); err == nil {
		t.Error("unknown target accepted")
	}
}
