package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// projectFile is the name of the project file.
const projectFile = "larder.toml"

// project is a larder.toml: default values for flags.
//
// Top-level keys are defaults for the flag of that name on every command
// that has it; a table named after a group ([migrate]) holds defaults for
// its commands and tables for them ([migrate.lint]); a table named after a
// command's last word ([lint], [serve]) is that command's table when the
// word names one command. An array is a repeated flag.
type project struct {
	path   string                    // the file
	dir    string                    // its directory, for relative paths
	top    map[string]any            // top-level keys
	groups map[string]map[string]any // "migrate" → its keys
	cmds   map[string]map[string]any // "migrate lint" → its keys
	where  map[string]string         // "migrate lint" → "[lint]" as written
}

// configError is a mistake in larder.toml or the environment (exit 2).
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// loadProject finds and reads larder.toml once per env; nil when there
// is none.
func (e *env) loadProject() (*project, error) {
	if !e.projectRead {
		e.projectRead = true
		e.project, e.projectErr = readProject(e)
		if e.projectErr != nil {
			e.projectErr = configError{e.projectErr}
		}
	}
	return e.project, e.projectErr
}

// findProject returns the larder.toml in wd or in the nearest parent up
// to the git root (the directory holding .git); outside a git work tree
// only wd is looked at. "" when there is none.
func findProject(wd string) string {
	var dirs []string
	inGit := false
	for d := wd; ; {
		dirs = append(dirs, d)
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			inGit = true
			break
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if !inGit {
		dirs = dirs[:1]
	}
	for _, d := range dirs {
		p := filepath.Join(d, projectFile)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

func readProject(e *env) (*project, error) {
	path := findProject(e.wd)
	if path == "" {
		return nil, nil
	}
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: line %d: %s", path, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p := &project{path: path, dir: filepath.Dir(path), top: map[string]any{},
		groups: map[string]map[string]any{}, cmds: map[string]map[string]any{}, where: map[string]string{}}
	known := knownFlags(e)
	for _, k := range sortedKeys(raw) {
		if err := p.add(known, k, raw[k]); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return p, nil
}

// add files the top-level entry k of larder.toml.
func (p *project) add(known map[string][]string, k string, v any) error {
	table, isTable := v.(map[string]any)
	if !isTable {
		if !anyHasKey(known, "", k) {
			return fmt.Errorf("unknown key %q: no command has a --%s flag", k, k)
		}
		p.top[k] = v
		return nil
	}
	if isGroup(k) {
		for _, k2 := range sortedKeys(table) {
			v2 := table[k2]
			if sub, ok := v2.(map[string]any); ok {
				name := k + " " + k2
				if commands[name] == nil {
					return fmt.Errorf("unknown table [%s.%s]: there is no command `larder %s`", k, k2, name)
				}
				if err := p.addCommand(known, name, "["+k+"."+k2+"]", sub); err != nil {
					return err
				}
				continue
			}
			if !anyHasKey(known, k+" ", k2) {
				return fmt.Errorf("unknown key %q in [%s]: no `larder %s` command has a --%s flag", k2, k, k, k2)
			}
			if p.groups[k] == nil {
				p.groups[k] = map[string]any{}
			}
			p.groups[k][k2] = v2
		}
		return nil
	}
	name := k
	if commands[name] == nil {
		var matches []string
		for n := range commands {
			if words := strings.Fields(n); words[len(words)-1] == k {
				matches = append(matches, n)
			}
		}
		sort.Strings(matches)
		switch len(matches) {
		case 0:
			return fmt.Errorf("unknown table [%s]: no command is called %s", k, k)
		case 1:
			name = matches[0]
		default:
			return fmt.Errorf("table [%s] could be any of %s: name it in full, e.g. [%s]",
				k, strings.Join(matches, ", "), strings.ReplaceAll(matches[0], " ", "."))
		}
	}
	return p.addCommand(known, name, "["+k+"]", table)
}

func (p *project) addCommand(known map[string][]string, name, where string, table map[string]any) error {
	if p.cmds[name] == nil {
		p.cmds[name] = map[string]any{}
		p.where[name] = where
	}
	for _, k := range sortedKeys(table) {
		if !slices.Contains(known[name], k) {
			return fmt.Errorf("unknown key %q in %s: `larder %s` has no --%s flag", k, where, name, k)
		}
		if _, dup := p.cmds[name][k]; dup {
			return fmt.Errorf("key %q of `larder %s` is set twice (in %s and %s)", k, name, p.where[name], where)
		}
		p.cmds[name][k] = table[k]
	}
	return nil
}

// lookup returns the larder.toml value for command name's flag (whose
// top-level key is key), and where in the file it was set.
func (p *project) lookup(name, flagName, key string) (any, string, bool) {
	if p == nil {
		return nil, "", false
	}
	if v, ok := p.cmds[name][flagName]; ok {
		return v, p.where[name] + " " + flagName, true
	}
	if group, _, two := strings.Cut(name, " "); two {
		if v, ok := p.groups[group][key]; ok {
			return v, "[" + group + "] " + key, true
		}
	}
	if v, ok := p.top[key]; ok {
		return v, key, true
	}
	return nil, "", false
}

// isGroup reports whether word is the first word of two-word commands.
func isGroup(word string) bool {
	for n := range commands {
		if strings.HasPrefix(n, word+" ") {
			return true
		}
	}
	return false
}

// anyHasKey reports whether a command whose name starts with prefix has
// a flag whose top-level key is key.
func anyHasKey(known map[string][]string, prefix, key string) bool {
	for name, flags := range known {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		for _, f := range flags {
			if configKey(name, f) == key {
				return true
			}
		}
	}
	return false
}

// knownFlags learns every command's flags by running it in probe mode:
// parseFlags reports the flag set instead of parsing.
func knownFlags(e *env) map[string][]string {
	known := map[string][]string{}
	pe := &env{stdin: e.stdin, stdout: io.Discard, stderr: io.Discard, getenv: e.getenv, wd: e.wd}
	pe.probe = func(c *command, fs *flag.FlagSet) {
		fs.VisitAll(func(f *flag.Flag) { known[c.name] = append(known[c.name], f.Name) })
	}
	for _, c := range commands {
		c.run(context.Background(), pe, []string{"-h"})
	}
	return known
}

// keyAliases are the flags whose top-level key is not their name: `db
// seed` calls its seeds directory --dir and its migrations --migrations.
var keyAliases = map[string]map[string]string{
	"db seed": {"dir": "seeds", "migrations": "dir"},
}

// configKey is the top-level larder.toml key (and, for db and dir, the
// environment variable) that sets command name's flag.
func configKey(name, flagName string) string {
	if k, ok := keyAliases[name][flagName]; ok {
		return k
	}
	return flagName
}

// envVars are the environment variables that set a top-level key.
var envVars = map[string]string{"db": "LARDER_DB", "dir": "LARDER_DIR"}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// isDir reports whether path is an existing directory.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
