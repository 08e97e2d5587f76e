package main

import (
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// applyDefaults fills the flags of fs the command line did not set, in
// this order of precedence: the environment (LARDER_DB, LARDER_DIR), then
// larder.toml, then, for a migrations --dir, the directory migrations or
// db/migrations when one exists (the choice is printed on stderr).
func applyDefaults(fs *flag.FlagSet, fc *flagCtx) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true; fc.sources[f.Name] = "flag" })
	p, err := fc.e.loadProject()
	if err != nil {
		return err
	}
	var firstErr error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || firstErr != nil {
			return
		}
		key := configKey(fc.c.name, f.Name)
		if ev, ok := envVars[key]; ok && fc.e.getenv != nil {
			if v := fc.e.getenv(ev); v != "" {
				if err := fs.Set(f.Name, v); err != nil {
					firstErr = configError{fmt.Errorf("%s=%q: %v", ev, v, err)}
				}
				fc.sources[f.Name] = ev
				return
			}
		}
		if v, where, ok := p.lookup(fc.c.name, f.Name, key); ok {
			if err := p.set(fs, f, v, fc.e.wd); err != nil {
				firstErr = configError{fmt.Errorf("%s: %s: %v", p.path, where, err)}
			}
			fc.sources[f.Name] = p.path
			return
		}
		if f.Name == "dir" && key == "dir" && f.Value.String() == "" {
			if d := findMigrations(fc.e.wd, p); d != "" {
				fs.Set(f.Name, d)
				fc.sources[f.Name] = "found"
				if fc.c.name != "schema dump" { // it says so itself if it uses it
					noteDir(fc.e, d)
				}
			}
		}
	})
	return firstErr
}

// findMigrations is the first of migrations and db/migrations that is a
// directory, looked for in wd and then beside larder.toml; "" if none.
func findMigrations(wd string, p *project) string {
	bases := []string{wd}
	if p != nil && p.dir != wd {
		bases = append(bases, p.dir)
	}
	for _, b := range bases {
		for _, d := range []string{"migrations", filepath.Join("db", "migrations")} {
			if isDir(filepath.Join(b, d)) {
				return relTo(wd, filepath.Join(b, d))
			}
		}
	}
	return ""
}

// set gives flag f the larder.toml value v: a string, number or bool, or
// an array of them for a flag that may be repeated. Relative paths are
// relative to larder.toml's directory.
func (p *project) set(fs *flag.FlagSet, f *flag.Flag, v any, wd string) error {
	vals, isArray := v.([]any)
	if !isArray {
		vals = []any{v}
	} else if scalarFlag(f) {
		return fmt.Errorf("--%s takes one value, not an array", f.Name)
	}
	for _, x := range vals {
		var s string
		switch x := x.(type) {
		case string:
			s = x
			if isPathFlag(f) && s != "" && !filepath.IsAbs(s) {
				s = relTo(wd, filepath.Join(p.dir, s))
			}
		case bool:
			s = strconv.FormatBool(x)
		case int64:
			s = strconv.FormatInt(x, 10)
		case float64:
			s = strconv.FormatFloat(x, 'g', -1, 64)
		default:
			return fmt.Errorf("--%s wants a string, number or bool, not %T", f.Name, x)
		}
		if err := fs.Set(f.Name, s); err != nil {
			return fmt.Errorf("invalid value %q for --%s: %v", s, f.Name, err)
		}
	}
	return nil
}

// scalarFlag reports whether f holds one value (the flag package's own
// kinds); other flag.Values may be repeated.
func scalarFlag(f *flag.Flag) bool {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	switch g.Get().(type) {
	case string, bool, int, int64, uint, uint64, float64, time.Duration:
		return true
	}
	return false
}

// isPathFlag reports whether f names a file or directory: its placeholder
// in -h (the `NAME` in its usage) is a single word that is or ends in FILE,
// DIR, DIRECTORY or PATH, or is SEEDS ("CODE:FILE" is not a path).
func isPathFlag(f *flag.Flag) bool {
	name, _ := flag.UnquoteUsage(f)
	name = strings.ToLower(name)
	if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz") != "" {
		return false
	}
	for _, w := range []string{"file", "dir", "directory", "path", "seeds"} {
		if strings.HasSuffix(name, w) {
			return true
		}
	}
	return false
}

// relTo is path relative to wd when it is below wd, else path as it is.
func relTo(wd, path string) string {
	if r, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// noteDir says on stderr which migrations directory was found.
func noteDir(e *env, dir string) { fmt.Fprintf(e.stderr, "larder: no --dir given: using %s\n", dir) }
