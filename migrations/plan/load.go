package plan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

// FromSQL builds the schema that the statements of a schema file create,
// in an in-memory database. name is the file's name, for errors
// ("schema.sql: line 4: …").
func FromSQL(ctx context.Context, name, text string) (*schema.Schema, error) {
	conn, err := sqlite.Open(":memory:")
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("%s: the schema file is empty", name)
	}
	if err := sqlite.Exec(ctx, conn, strings.TrimPrefix(text, "\uFEFF"), 1); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return schema.Read(ctx, conn)
}

// FromFile is FromSQL on a file.
func FromFile(ctx context.Context, path string) (*schema.Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schema file: %w", err)
	}
	return FromSQL(ctx, path, string(b))
}

// FromDir builds the schema the migrations in dir produce. A directory
// that does not exist or has no migration yet is the empty schema: the
// first `migrate diff` writes the first migration.
func FromDir(ctx context.Context, dir string) (*schema.Schema, []*migrations.Migration, error) {
	if names, err := migrationFiles(dir); err != nil {
		return nil, nil, err
	} else if len(names) == 0 {
		return &schema.Schema{}, nil, nil
	}
	migs, err := migrations.LoadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	s, err := schema.Build(ctx, migs, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("build the schema of the migrations in %s: %w", dir, err)
	}
	return s, migs, nil
}

// migrationFiles lists the NNNN_name.sql files of dir ("" entries for a
// missing directory).
func migrationFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read migrations directory: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		if _, _, err := migrations.ParseFileName(e.Name()); err == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// NextFile returns the path of the next migration file called name in
// dir, numbered like the files there: the next number at the same width
// ("0007_name.sql" after "0006_…"), or a UTC timestamp (YYYYMMDDHHMMSS)
// when the newest file is numbered with one; "0001_name.sql" in a
// directory with none.
func NextFile(dir, name string, now time.Time) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("migration name %q: want letters, digits and underscores (snake_case)", name)
	}
	files, err := migrationFiles(dir)
	if err != nil {
		return "", err
	}
	var newest int64
	width := 4
	for _, f := range files {
		v, _, _ := migrations.ParseFileName(f)
		digits, _, _ := strings.Cut(f, "_")
		if v >= newest {
			newest, width = v, max(len(digits), 4)
		}
	}
	next := newest + 1
	if width == 14 && newest >= 19700101000000 {
		if ts, _ := strconv.ParseInt(now.UTC().Format("20060102150405"), 10, 64); ts > newest {
			next = ts
		}
	}
	return filepath.Join(dir, fmt.Sprintf("%0*d_%s.sql", width, next, name)), nil
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Check compares the schema the migrations in dir produce with the one
// the schema file at path creates, returning their differences (nil when
// they agree): what `larder schema check` runs in CI.
func Check(ctx context.Context, dir, path string) ([]Difference, error) {
	have, _, err := FromDir(ctx, dir)
	if err != nil {
		return nil, err
	}
	want, err := FromFile(ctx, path)
	if err != nil {
		return nil, err
	}
	return Compare(have, want), nil
}
