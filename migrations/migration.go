package migrations

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A Migration is one step of a schema's history.
type Migration struct {
	Version  int64  // positive, unique within a set
	Name     string // snake_name from the file name, without version and extension
	Source   string // file name it was loaded from ("" for code migrations)
	Up       string // SQL of the up part
	Down     string // SQL of the down part ("" if none)
	HasDown  bool   // whether a down part exists (a down part may be empty on purpose)
	Breaking bool   // "-- migrate:breaking": incompatible with code written for older versions
	Checksum string // hex SHA-256 of the normalised up part; "" for code migrations

	// UpLine and DownLine are the 1-based file lines where the up and down
	// parts start, so errors can name the line of a failing statement.
	UpLine, DownLine int

	// UpStatements and DownStatements, when set, are Up and Down split into
	// statements by SQLite ahead of time (see BundleEntry). Runners without
	// an SQL parser (D1) need them; the SQLite store ignores them.
	UpStatements, DownStatements []Statement

	// UpFunc and DownFunc, when set, make this a code migration: they run
	// inside the migration's transaction instead of SQL.
	UpFunc, DownFunc Func

	// NoForeignKeys asks the store to turn foreign key enforcement off
	// outside the transaction (it cannot be changed inside one) and to run
	// PRAGMA foreign_key_check before commit. Table rebuilds need it.
	NoForeignKeys bool

	// NoTransaction runs the part without a transaction, for statements
	// that cannot run inside one (VACUUM, PRAGMA journal_mode): dbmate's
	// "-- migrate:up transaction:false", goose's "-- +goose NO TRANSACTION".
	// The _migrations row is still written only after the last statement
	// succeeded, but a failure leaves the statements before it applied.
	NoTransaction bool
}

// Func is a migration written in code. tx executes inside the migration's
// transaction; a returned error rolls the whole migration back.
type Func func(ctx context.Context, tx Tx) error

// Tx is what a code migration gets to run statements with. Stores pass a
// richer value (package sqlite passes a *sqlite.Tx that exposes the
// connection); type-assert to reach it.
type Tx interface {
	// Exec runs one or more statements, binding args to the first.
	Exec(ctx context.Context, query string, args ...any) error
}

// Label is "0003_add_tags", the way errors and output name a migration.
func (m *Migration) Label() string { return fmt.Sprintf("%04d_%s", m.Version, m.Name) }

// IsCode reports whether m is a code migration.
func (m *Migration) IsCode() bool { return m.UpFunc != nil }

// CanDown reports whether m can be reverted.
func (m *Migration) CanDown() bool {
	if m.IsCode() {
		return m.DownFunc != nil
	}
	return m.HasDown
}

// Go returns a code migration. down may be nil (irreversible).
func Go(version int64, name string, up, down Func) *Migration {
	return &Migration{Version: version, Name: name, UpFunc: up, DownFunc: down, HasDown: down != nil}
}

var fileNameRE = regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9_]+)\.sql$`)

// ParseFileName splits "0003_add_tags.sql" into 3 and "add_tags".
func ParseFileName(name string) (int64, string, error) {
	m := fileNameRE.FindStringSubmatch(name)
	if m == nil {
		return 0, "", &FileError{File: name, Err: ErrBadFileName,
			Detail: "want NNNN_snake_name.sql (digits, underscore, letters/digits/underscores, .sql)"}
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || v <= 0 {
		return 0, "", &FileError{File: name, Err: ErrBadFileName, Detail: "version must be a positive 64-bit integer"}
	}
	return v, m[2], nil
}

// marker recognises a "-- migrate:KIND" line; extra words after the kind
// are allowed (dbmate writes options there) and ignored.
func marker(line string) string {
	s := strings.TrimSpace(line)
	if !strings.HasPrefix(s, "--") {
		return ""
	}
	s = strings.TrimSpace(s[2:])
	if !strings.HasPrefix(s, "migrate:") {
		return ""
	}
	s = s[len("migrate:"):]
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		s = s[:i]
	}
	return s
}

// Parse builds a Migration from a file's name and content.
func Parse(fileName string, content []byte) (*Migration, error) {
	version, name, err := ParseFileName(fileName)
	if err != nil {
		return nil, err
	}
	m := &Migration{Version: version, Name: name, Source: fileName}
	// A UTF-8 byte order mark (some Windows editors write one) is not SQL.
	text := strings.TrimPrefix(string(content), "\uFEFF")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")

	var up, down []string
	section := "up" // a file with no marker is all up
	sawUp, sawDown := false, false
	hasMarkers := false
	for _, l := range lines {
		if marker(l) == "up" || marker(l) == "down" {
			hasMarkers = true
			break
		}
	}
	if hasMarkers {
		section = "header"
	}
	for i, l := range lines {
		switch kind := marker(l); kind {
		case "up":
			if sawUp {
				return nil, &FileError{File: fileName, Line: i + 1, Err: ErrBadFile, Detail: "second -- migrate:up marker"}
			}
			if sawDown {
				return nil, &FileError{File: fileName, Line: i + 1, Err: ErrBadFile, Detail: "-- migrate:up after -- migrate:down"}
			}
			sawUp, section, m.UpLine = true, "up", i+2
			continue
		case "down":
			if sawDown {
				return nil, &FileError{File: fileName, Line: i + 1, Err: ErrBadFile, Detail: "second -- migrate:down marker"}
			}
			sawDown, section, m.DownLine = true, "down", i+2
			m.HasDown = true
			continue
		case "breaking":
			if section == "down" {
				return nil, &FileError{File: fileName, Line: i + 1, Err: ErrBadFile, Detail: "-- migrate:breaking belongs in the up part"}
			}
			m.Breaking = true
		case "rebuild", "map":
			// A table rebuild (see RebuildDirective) needs foreign keys off.
			m.NoForeignKeys = true
		case "":
		default:
			return nil, &FileError{File: fileName, Line: i + 1, Err: ErrBadFile,
				Detail: fmt.Sprintf("unknown marker -- migrate:%s (want up, down, breaking, rebuild or map)", kind)}
		}
		switch section {
		case "up":
			up = append(up, l)
		case "down":
			down = append(down, l)
		case "header":
			if strings.TrimSpace(l) != "" && !strings.HasPrefix(strings.TrimSpace(l), "--") {
				return nil, &FileError{File: fileName, Line: i + 1, Err: ErrBadFile, Detail: "statement before -- migrate:up"}
			}
		}
	}
	if hasMarkers && !sawUp {
		return nil, &FileError{File: fileName, Err: ErrBadFile, Detail: "has -- migrate:down but no -- migrate:up"}
	}
	if !hasMarkers {
		m.UpLine = 1
	}
	m.Up = strings.Join(up, "\n")
	m.Down = strings.Join(down, "\n")
	if strings.TrimSpace(stripComments(m.Up)) == "" {
		return nil, &FileError{File: fileName, Err: ErrBadFile, Detail: "the up part is empty"}
	}
	if err := checkDirectives(fileName, m.Up, m.UpLine); err != nil {
		return nil, err
	}
	if err := checkDirectives(fileName, m.Down, m.DownLine); err != nil {
		return nil, err
	}
	m.Checksum = Checksum(m.Up)
	return m, nil
}

// stripComments removes whole-line "--" comments, to tell an empty part
// from one with statements.
func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// normalize is the text a checksum is computed over: LF line endings, no
// trailing whitespace on any line, no leading or trailing blank lines.
func normalize(sql string) string {
	sql = strings.ReplaceAll(sql, "\r\n", "\n")
	sql = strings.ReplaceAll(sql, "\r", "\n")
	lines := strings.Split(sql, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\f\v")
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// Checksum is the hex SHA-256 of the up part normalised: LF line endings, no
// trailing whitespace on any line, no leading or trailing blank lines.
func Checksum(up string) string {
	sum := sha256.Sum256([]byte(normalize(up)))
	return hex.EncodeToString(sum[:])
}

func splitLines(s string) []string { return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") }
