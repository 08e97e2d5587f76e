package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/larderdb/larder/migrations/lint"
	"github.com/larderdb/larder/migrations/plan"
)

func init() {
	register(&command{name: "migrate diff",
		args:  "--dir DIR --schema FILE NAME [--rename TABLE.OLD=NEW | --rename OLD=NEW]... [--allow-destructive] [--json]",
		short: "write the next migration: what turns the migrations' schema into the schema file's", run: migrateDiff})
}

// renameList is a repeatable --rename flag.
type renameList []plan.Rename

func (l *renameList) String() string {
	s := make([]string, len(*l))
	for i, r := range *l {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

func (l *renameList) Set(v string) error {
	r, err := plan.ParseRename(v)
	if err != nil {
		return err
	}
	*l = append(*l, r)
	return nil
}

// diffJSON is `migrate diff --json`.
type diffResultJSON struct {
	Path        string         `json:"path"` // "" when there are no changes
	Changes     bool           `json:"changes"`
	Breaking    bool           `json:"breaking"`
	Destructive []string       `json:"destructive"`
	Steps       []plan.Step    `json:"steps"`
	Findings    []lint.Finding `json:"findings"`
}

func migrateDiff(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "migrate diff")
	dir := fs.String("dir", "", "migrations `DIR`ectory (missing or empty: the first migration is written)")
	schemaFile := fs.String("schema", "", "the canonical schema `FILE` (schema.sql)")
	var renames renameList
	fs.Var(&renames, "rename", "`TABLE.OLD=NEW` renames a column, OLD=NEW a table (repeatable); renames are never guessed")
	allow := fs.Bool("allow-destructive", false, "allow dropping tables and columns")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *dir == "" || *schemaFile == "" {
		return usagef("--dir and --schema are required")
	}
	if len(rest) != 1 {
		return usagef("give exactly one NAME for the migration")
	}
	path, err := plan.NextFile(*dir, rest[0], time.Now())
	if err != nil {
		return usagef("%v", err)
	}
	from, _, err := plan.FromDir(ctx, *dir)
	if err != nil {
		return err
	}
	to, err := plan.FromFile(ctx, *schemaFile)
	if err != nil {
		return err
	}
	if e.isTerminal && !*asJSON {
		// Tables first: a renamed table's columns are then compared too.
		in := bufio.NewReader(e.stdin)
		for _, columns := range []bool{false, true} {
			var ask []plan.Rename
			for _, c := range plan.RenameCandidates(from, to, renames) {
				if (c.Table != "") == columns {
					ask = append(ask, c)
				}
			}
			more, err := askRenames(e, in, ask)
			if err != nil {
				return err
			}
			renames = append(renames, more...)
		}
	}
	p, err := plan.Diff(ctx, from, to, plan.Options{Renames: renames, AllowDestructive: *allow})
	if err != nil {
		if p != nil {
			fmt.Fprintf(e.stderr, "the migration would be:\n%s\n", p.Render())
		}
		return err
	}
	res := diffResultJSON{Changes: !p.Empty(), Breaking: p.Breaking, Destructive: []string{},
		Steps: nonNilSlice(p.Up), Findings: nonNilSlice(p.Findings)}
	for _, s := range p.Destructive() {
		res.Destructive = append(res.Destructive, s.Kind+" "+s.Object)
	}
	if !p.Empty() {
		if err := writeNew(path, p.Render()); err != nil {
			return err
		}
		res.Path = path
	}
	for _, f := range p.Findings {
		if f.Severity == lint.Error {
			fmt.Fprintf(e.stderr, "lint %s %s: %s\n    fix: %s\n", f.Code, f.Name, f.Message, f.Hint)
		}
	}
	if *asJSON {
		return printJSON(e.stdout, res)
	}
	if p.Empty() {
		fmt.Fprintln(e.stdout, "no changes")
		return nil
	}
	fmt.Fprintln(e.stdout, path)
	return nil
}

// askRenames asks, on a terminal, whether each candidate is a rename. A
// yes takes both names out of the questions that follow.
func askRenames(e *env, in *bufio.Reader, candidates []plan.Rename) ([]plan.Rename, error) {
	var out []plan.Rename
	used := map[string]bool{}
	key := func(table, name string) string { return strings.ToLower(table + "." + name) }
	for _, c := range candidates {
		if used[key(c.Table, c.Old)] || used[key(c.Table, c.New)] {
			continue
		}
		what := "table " + c.Old
		if c.Table != "" {
			what = "column " + c.Table + "." + c.Old
		}
		fmt.Fprintf(e.stderr, "Was %s renamed to %s? (no: it is dropped and %s added) [y/N] ", what, c.New, c.New)
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if a := strings.ToLower(strings.TrimSpace(line)); a == "y" || a == "yes" {
			out = append(out, c)
			used[key(c.Table, c.Old)], used[key(c.Table, c.New)] = true, true
		}
	}
	return out, nil
}

// writeNew writes a new file, never over an existing one.
func writeNew(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("migrate diff: write %s: %w", path, err)
	}
	return f.Close()
}

// printJSON and nonNilSlice are copies of the CLI's writeJSON and nonNil,
// so that these commands do not depend on helpers other files may rename.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
