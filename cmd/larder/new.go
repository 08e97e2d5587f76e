package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func init() {
	register(&command{name: "migrate new", args: "--dir DIR NAME",
		short: "create the next migration file, numbered and formatted like the directory's",
		long: `Numbering follows the newest file: a 14-digit YYYYMMDDHHMMSS version gets
the current UTC time, a 10-digit Unix-seconds version the current Unix
time, any other the next number with the same width (0004 after 0003; 0001
in an empty directory). The format follows the files when they all share
one: golang-migrate pairs get N_name.up.sql and N_name.down.sql, goose
files -- +goose Up / Down; otherwise -- migrate:up / -- migrate:down.`,
		run: migrateNew})
}

var (
	snakeName   = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)
	leadVersion = regexp.MustCompile(`^([0-9]+)[_-]`)
	pairFile    = regexp.MustCompile(`\.(up|down)\.sql$`)
)

// fileStyle is how a directory's files are numbered and written.
type fileStyle struct {
	newest int64
	digits string // the newest file's version as written
	format string // "dbmate", "goose" or "pair"
}

func migrateNew(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "migrate new")
	dir := fs.String("dir", "", "migrations `DIR`ectory (created if missing)")
	rest, err := parse(fs, args, "NAME")
	if err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--dir is required (or LARDER_DIR, or dir in larder.toml)")
	}
	name := strings.ToLower(strings.NewReplacer("-", "_", " ", "_").Replace(rest[0]))
	if !snakeName.MatchString(name) {
		return usagef("NAME %q must be snake_case letters and digits", rest[0])
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	st, err := readStyle(*dir)
	if err != nil {
		return err
	}
	version := st.next(time.Now())
	files := map[string]string{version + "_" + name + ".sql": "-- migrate:up\n\n\n-- migrate:down\n\n"}
	switch st.format {
	case "goose":
		files = map[string]string{version + "_" + name + ".sql": "-- +goose Up\n\n\n-- +goose Down\n\n"}
	case "pair":
		files = map[string]string{version + "_" + name + ".up.sql": "\n", version + "_" + name + ".down.sql": "\n"}
	}
	for _, n := range sortedKeys(files) {
		p := filepath.Join(*dir, n)
		fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("new: %w", err)
		}
		_, err = fh.WriteString(files[n])
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("new: %w", err)
		}
		fmt.Fprintln(e.stdout, p)
	}
	return nil
}

// readStyle looks at dir's .sql files: the newest version and the format
// they share ("dbmate" when they share none).
func readStyle(dir string) (fileStyle, error) {
	st := fileStyle{format: "dbmate"}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return st, fmt.Errorf("new: %w", err)
	}
	formats := map[string]bool{}
	for _, en := range entries {
		n := en.Name()
		m := leadVersion.FindStringSubmatch(n)
		if en.IsDir() || !strings.HasSuffix(n, ".sql") || m == nil {
			continue
		}
		if v, err := strconv.ParseInt(m[1], 10, 64); err == nil && v >= st.newest {
			st.newest, st.digits = v, m[1]
		}
		switch {
		case pairFile.MatchString(n):
			formats["pair"] = true
		default:
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				return st, fmt.Errorf("new: %w", err)
			}
			if bytes.Contains(b, []byte("-- +goose Up")) {
				formats["goose"] = true
			} else {
				formats["dbmate"] = true
			}
		}
	}
	if len(formats) == 1 {
		for f := range formats {
			st.format = f
		}
	}
	return st, nil
}

// next is the version of a new file created at now, in the style of the
// newest one.
func (st fileStyle) next(now time.Time) string {
	now = now.UTC()
	if len(st.digits) == 14 {
		if _, err := time.Parse("20060102150405", st.digits); err == nil {
			v, _ := strconv.ParseInt(now.Format("20060102150405"), 10, 64)
			if v <= st.newest {
				v = st.newest + 1
			}
			return strconv.FormatInt(v, 10)
		}
	}
	if len(st.digits) == 10 && st.newest >= 1_000_000_000 {
		return strconv.FormatInt(max(now.Unix(), st.newest+1), 10)
	}
	width := len(st.digits)
	if width == 0 {
		width = 4
	}
	return fmt.Sprintf("%0*d", width, st.newest+1)
}
