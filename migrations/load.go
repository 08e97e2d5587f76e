package migrations

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
)

// Load reads every migration file in dir of fsys (an embed.FS works), in
// version order. Files that do not end in .sql are ignored, as are
// subdirectories. Each .sql file is a migration in one of the formats of
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
	downs := map[string]string{} // stem -> down file name
	var files []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		fn, err := parseFileName(e.Name())
		if err != nil {
			return nil, fmt.Errorf("migrate: load: %w", err)
		}
		if fn.part == "down" {
			downs[fn.stem(e.Name())] = e.Name()
			continue
		}
		files = append(files, e.Name())
	}
	var list []*Migration
	for _, name := range files {
		content, err := read(name)
		if err != nil {
			return nil, err
		}
		fn, _ := parseFileName(name)
		var m *Migration
		if down, ok := downs[fn.stem(name)]; ok && fn.part == "up" {
			delete(downs, fn.stem(name))
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
		stems := slices.Sorted(maps.Keys(downs))
		return nil, fmt.Errorf("migrate: load: %w", &FileError{File: downs[stems[0]], Err: ErrBadFile,
			Detail: "a .down.sql file needs its .up.sql: " + stems[0] + ".up.sql is missing"})
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("migrate: load %s: %w: no NNNN_name.sql files", dir, ErrNoMigrations)
	}
	return Sort(list)
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
