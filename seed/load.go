// Package seed applies seed and fixture data to a Larder database: SQL
// files named NNNN_name.sql, kept beside the migrations (db/seeds/), run in
// order, each once, after the schema is migrated.
//
// # Files and environments
//
// A seeds directory holds the common seeds; a subdirectory per environment
// (seeds/dev/, seeds/test/) holds seeds for that environment only. Seeding
// with an environment runs the common seeds first, in version order, then
// the environment's, in version order. Versions are numbered per directory:
// seeds/0001_users.sql and seeds/dev/0001_demo_notes.sql are distinct seeds.
// A seed file is SQL, split into statements by SQLite itself, like the up
// part of a migration (it may start with "-- migrate:up"; a down part is an
// error, since seeds are not reverted).
//
// # Tracking
//
// Each seed runs in its own BEGIN IMMEDIATE transaction together with its
// row in the _seeds table ([TrackingTableSQL]), keyed by environment ("" for
// the common seeds) and version, and re-reads that row inside the
// transaction, so running the seeds twice, or from two processes at once,
// applies each once. The checksum is the migration engine's
// ([migrations.Checksum]): a seed whose file changed after it ran is
// reported with [ErrSeedChanged] and nothing runs, unless
// [Options.Reapply] asks to run the changed seeds again.
//
// # Migrations first
//
// Seeds assume the schema they were written for, so a [Seeder] refuses
// ([ErrNotMigrated]) to run against a database whose migrations, compared
// with the migration files it is given, are not all applied and unmodified.
package seed

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/larderdb/larder/migrations"
)

// A Seed is one seed file.
type Seed struct {
	Env      string // "" for a common seed, else its environment (subdirectory)
	Version  int64
	Name     string
	Source   string // file path, for messages
	SQL      string
	Line     int    // 1-based line of the file where SQL starts
	Checksum string // hex SHA-256 of the normalised SQL, as for migrations
}

// File names a seed as its file is called on disk, with its environment:
// "001_users.sql", "dev/0002_demo_notes.sql".
func (s *Seed) File() string {
	if s.Source == "" {
		return s.Label()
	}
	f := path.Base(s.Source)
	if s.Env != "" {
		f = s.Env + "/" + f
	}
	return f
}

// Label names a seed in messages: "0001_users", "dev/0002_demo_notes".
func (s *Seed) Label() string {
	l := fmt.Sprintf("%04d_%s", s.Version, s.Name)
	if s.Env != "" {
		l = s.Env + "/" + l
	}
	return l
}

// ErrNoSeeds is returned by Load when there is no seed file to run.
var ErrNoSeeds = errors.New("no seed files")

// validEnv reports whether env is a directory name:
// ^[A-Za-z0-9][A-Za-z0-9_.-]*$ (by hand: package regexp is large in
// larder.wasm, which links this package through internal/imagecheck).
func validEnv(env string) bool {
	for i := 0; i < len(env); i++ {
		c := env[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return env != ""
}

// Load reads the seeds of dir in fsys: the common ones in dir, then, when
// env is not "", those in dir/env, which must exist. File names and
// checksums follow the migration rules ([migrations.Parse]).
func Load(fsys fs.FS, dir, env string) ([]*Seed, error) {
	if env != "" && !validEnv(env) {
		return nil, fmt.Errorf("seed: environment %q: want a directory name (letters, digits, _ . -)", env)
	}
	common, err := loadOne(fsys, dir, "")
	if err != nil {
		return nil, err
	}
	seeds := common
	if env != "" {
		sub := path.Join(dir, env)
		if fi, err := fs.Stat(fsys, sub); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("seed: environment %q: no directory %s", env, sub)
		}
		envSeeds, err := loadOne(fsys, sub, env)
		if err != nil {
			return nil, err
		}
		seeds = append(seeds, envSeeds...)
	}
	if len(seeds) == 0 {
		where := dir
		if env != "" {
			where += " or " + path.Join(dir, env)
		}
		return nil, fmt.Errorf("seed: load %s: %w (want NNNN_name.sql files)", where, ErrNoSeeds)
	}
	return seeds, nil
}

// LoadDir is Load on a directory of the operating system.
func LoadDir(dir, env string) ([]*Seed, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("seed: seeds directory %s does not exist", dir)
		}
		return nil, fmt.Errorf("seed: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("seed: %s is not a directory", dir)
	}
	seeds, err := Load(os.DirFS(dir), ".", env)
	for _, s := range seeds {
		s.Source = path.Join(dir, s.Source)
	}
	return seeds, err
}

// loadOne reads the seed files directly in dir, in version order, with the
// migration engine's parser.
func loadOne(fsys fs.FS, dir, env string) ([]*Seed, error) {
	migs, err := migrations.Load(fsys, dir)
	if errors.Is(err, migrations.ErrNoMigrations) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	seeds := make([]*Seed, 0, len(migs))
	for _, m := range migs {
		src := path.Join(dir, m.Source)
		if m.HasDown {
			return nil, fmt.Errorf("seed: %s: %w: seeds have no -- migrate:down part", src, migrations.ErrBadFile)
		}
		seeds = append(seeds, &Seed{Env: env, Version: m.Version, Name: m.Name, Source: src,
			SQL: m.Up, Line: m.UpLine, Checksum: m.Checksum})
	}
	return seeds, nil
}
