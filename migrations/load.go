package migrations

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// Load reads every migration file in dir of fsys (an embed.FS works), in
// version order. Files that do not end in .sql are ignored, as are
// README-like files; a .sql file whose name is not NNNN_snake_name.sql is an
// error (ErrBadFileName), as are two files with one version
// (ErrDuplicateVersion) and a directory with no migrations (ErrNoMigrations).
func Load(fsys fs.FS, dir string) ([]*Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: load %s: %w", dir, err)
	}
	var list []*Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		content, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrate: load %s: %w", path.Join(dir, e.Name()), err)
		}
		m, err := Parse(e.Name(), content)
		if err != nil {
			return nil, fmt.Errorf("migrate: load: %w", err)
		}
		list = append(list, m)
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
// names and non-positive versions. It returns a new slice.
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
		if m.UpFunc == nil && strings.TrimSpace(m.Up) == "" {
			return nil, fmt.Errorf("migrate: %s: %w: the up part is empty", m.Label(), ErrBadFile)
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
