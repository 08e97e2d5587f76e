package migrations

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Load reads every migration file in dir of fsys (an embed.FS works), in
// version order. Files that do not end in .sql are ignored, as are
// subdirectories, except goose Go migration files (NNNN_name.go): each is
// listed as a migration that fails with ErrGoMigrationFile, so that `up`
// stops before it rather than running the migrations after it without it. Each .sql file is a migration in one of the formats of
// [Parse]; a golang-migrate or sqlx pair (N_name.up.sql and N_name.down.sql)
// is one migration ([ParsePair]). A .sql file whose name is not a migration
// name is an error (ErrBadFileName), as are a .down.sql file without its
// .up.sql, two files with one version (ErrDuplicateVersion, naming both)
// and a directory with no migrations (ErrNoMigrations). Errors name the
// files as they are on disk.
func Load(fsys fs.FS, dir string) ([]*Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: load %s: %w", dir, err)
	}
	read := func(name string) ([]byte, error) {
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("migrate: load %s: %w", path.Join(dir, name), err)
		}
		return b, nil
	}
	downs := map[int64]string{} // version -> down file name (golang-migrate pairs by version)
	var files []string
	var list []*Migration
	for _, e := range entries {
		if m := goFile(e); m != nil {
			list = append(list, m)
			continue
		}
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		fn, err := parseFileName(e.Name())
		if err != nil {
			return nil, fmt.Errorf("migrate: load: %w", err)
		}
		if fn.part == "down" {
			if other, dup := downs[fn.version]; dup {
				return nil, fmt.Errorf("migrate: %w %d: %s and %s", ErrDuplicateVersion, fn.version, other, e.Name())
			}
			downs[fn.version] = e.Name()
			continue
		}
		files = append(files, e.Name())
	}
	for _, name := range files {
		content, err := read(name)
		if err != nil {
			return nil, err
		}
		fn, _ := parseFileName(name)
		var m *Migration
		if down, ok := downs[fn.version]; ok && fn.part == "up" {
			delete(downs, fn.version)
			var downContent []byte
			if downContent, err = read(down); err != nil {
				return nil, err
			}
			m, err = ParsePair(name, content, down, downContent)
		} else {
			m, err = Parse(name, content)
		}
		if err != nil {
			return nil, fmt.Errorf("migrate: load: %w", err)
		}
		list = append(list, m)
	}
	if len(downs) > 0 {
		first := downs[slices.Min(slices.Collect(maps.Keys(downs)))]
		fn, _ := parseFileName(first)
		return nil, fmt.Errorf("migrate: load: %w", &FileError{File: first, Err: ErrBadFile,
			Detail: "a .down.sql file needs its .up.sql: " + fn.stem(first) + ".up.sql is missing"})
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("migrate: load %s: %w: no NNNN_name.sql files", dir, ErrNoMigrations)
	}
	return Sort(list)
}

// matchGoFile takes the name of a goose Go migration file apart:
// ^([0-9]+)_([A-Za-z0-9_.-]+)\.go$ (see names.go for why not regexp).
func matchGoFile(file string) (version, name string, ok bool) {
	version, rest, ok := digitsThen(file, "_")
	if !ok {
		return "", "", false
	}
	name, found := strings.CutSuffix(rest, ".go")
	if !found || name == "" || !allNameChars(name, true) {
		return "", "", false
	}
	return version, name, true
}

// goFile returns the stand-in for a goose Go migration file
// ("20241226183416_sync_children.go"), or nil for any other entry. Its up
// and down fail with ErrGoMigrationFile: goose's CLI stops there too.
func goFile(e fs.DirEntry) *Migration {
	version, name, ok := matchGoFile(e.Name())
	if e.IsDir() || !ok || strings.HasSuffix(e.Name(), "_test.go") {
		return nil
	}
	v, err := strconv.ParseInt(version, 10, 64)
	if err != nil || v <= 0 {
		return nil
	}
	fail := func(context.Context, Tx) error { return ErrGoMigrationFile }
	return &Migration{Version: v, Name: name, Source: e.Name(), UpFunc: fail, DownFunc: fail, HasDown: true, GoFile: true}
}

// LoadDir is Load on a directory of the operating system.
func LoadDir(dir string) ([]*Migration, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("migrate: load: migrations directory %s does not exist", dir)
		}
		return nil, fmt.Errorf("migrate: load: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("migrate: load: %s is not a directory", dir)
	}
	return Load(os.DirFS(dir), ".")
}

// Sort orders migrations by version and rejects duplicate versions, empty
// names and non-positive versions. An SQL migration whose up part is empty
// or only comments is a valid no-op. It returns a new slice.
func Sort(list []*Migration) ([]*Migration, error) {
	out := slices.Clone(list)
	slices.SortStableFunc(out, func(a, b *Migration) int { return cmp.Compare(a.Version, b.Version) })
	// A Go migration replaces the goose Go file of its version.
	out = slices.DeleteFunc(out, func(m *Migration) bool {
		return m.GoFile && slices.ContainsFunc(out, func(o *Migration) bool { return o.Version == m.Version && o.IsCode() && !o.GoFile })
	})
	for i, m := range out {
		if m.Version <= 0 {
			return nil, fmt.Errorf("migrate: %s: %w: version must be positive", m.Label(), ErrBadFileName)
		}
		if m.Name == "" {
			return nil, fmt.Errorf("migrate: version %d: %w: empty name", m.Version, ErrBadFileName)
		}
		if i > 0 && out[i-1].Version == m.Version {
			return nil, fmt.Errorf("migrate: %w %d: %s and %s", ErrDuplicateVersion, m.Version,
				source(out[i-1]), source(m))
		}
	}
	return out, nil
}

func source(m *Migration) string {
	if m.Source != "" {
		return m.Source
	}
	return m.Label() + " (code)"
}
