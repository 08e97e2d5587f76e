package migrations

import (
	"fmt"
	"strings"
)

// marker recognises a "-- migrate:KIND" line; words after the kind are
// options (see markerOptions).
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

// gooseAnnotation recognises a goose annotation line, "-- +goose Up", and
// returns the annotation lower-cased with single spaces ("up", "no
// transaction"). Like goose it is case-insensitive; unlike goose it also
// sees annotations indented or written "--+goose", so none is mistaken for
// a comment and run as SQL.
func gooseAnnotation(line string) (string, bool) {
	s := strings.TrimSpace(line)
	if !strings.HasPrefix(s, "--") {
		return "", false
	}
	s = strings.TrimLeft(s[2:], " \t")
	if len(s) < len("+goose") || !strings.EqualFold(s[:len("+goose")], "+goose") {
		return "", false
	}
	return strings.ToLower(strings.Join(strings.Fields(s[len("+goose"):]), " ")), true
}

// The formats a file's markers put it in.
const (
	formatPlain  = "plain"  // no marker: the whole file is the up part
	formatDbmate = "dbmate" // -- migrate:up / -- migrate:down
	formatGoose  = "goose"  // -- +goose Up / -- +goose Down
)

// parser splits one file into its parts, line by line.
type parser struct {
	file    string
	m       *Migration
	format  string
	section string // "header", "up" or "down"
	up      []string
	down    []string
	block   int // line of the open goose StatementBegin, 0 if none
}

// Parse builds a Migration from a file's name and content. The file is
// plain SQL (all up), dbmate-style ("-- migrate:up", "-- migrate:down") or
// goose-style ("-- +goose Up", "-- +goose Down"); see
// docs/migration-formats.md. A file with the markers of two tools, a
// goose file without "-- +goose Up", an unknown marker or annotation, a NUL
// byte, invalid UTF-8 or no text at all is an error (ErrBadFile) naming the
// file and the line. The .up.sql file of a pair is plain SQL; the .down.sql
// file is loaded with it by Load ([ParsePair]).
func Parse(fileName string, content []byte) (*Migration, error) {
	fn, err := parseFileName(fileName)
	if err != nil {
		return nil, err
	}
	if fn.part == "down" {
		return nil, &FileError{File: fileName, Err: ErrBadFile,
			Detail: "the down part of a pair: load it together with " + fn.stem(fileName) + ".up.sql (Load or ParsePair)"}
	}
	if err := CheckText(fileName, content, 1); err != nil {
		return nil, err
	}
	m := &Migration{Version: fn.version, Name: fn.name, Source: fileName}
	// A UTF-8 byte order mark (some Windows editors write one) is not SQL.
	text := strings.TrimPrefix(string(content), "\uFEFF")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if strings.TrimSpace(text) == "" {
		return nil, &FileError{File: fileName, Err: ErrBadFile,
			Detail: "the file is empty (a migration that does nothing on purpose says so in a comment)"}
	}
	lines := strings.Split(text, "\n")
	p := &parser{file: fileName, m: m, section: "up"}
	if p.format, err = detectFormat(fileName, lines); err != nil {
		return nil, err
	}
	if fn.part == "up" && p.format != formatPlain {
		return nil, &FileError{File: fileName, Err: ErrBadFile,
			Detail: "the .up.sql file of a pair is plain SQL; it has " + p.format + " markers"}
	}
	if p.format == formatGoose && !hasGooseUp(lines) {
		return nil, p.fail(0, "goose annotations but no -- +goose Up: a goose file needs one (the file is never run as plain SQL)")
	}
	if p.format == formatPlain {
		m.UpLine = 1
	} else {
		p.section = "header"
	}
	for i, l := range lines {
		if err := p.line(i+1, l); err != nil {
			return nil, err
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return m, nil
}

// detectFormat finds which tool's markers the file carries, refusing a
// mix.
func detectFormat(file string, lines []string) (string, error) {
	dbmateLine, gooseLine := 0, 0
	for i, l := range lines {
		if k := marker(l); (k == "up" || k == "down") && dbmateLine == 0 {
			dbmateLine = i + 1
		}
		if _, ok := gooseAnnotation(l); ok && gooseLine == 0 {
			gooseLine = i + 1
		}
	}
	switch {
	case dbmateLine > 0 && gooseLine > 0:
		return "", &FileError{File: file, Line: max(dbmateLine, gooseLine), Err: ErrBadFile,
			Detail: fmt.Sprintf("mixes dbmate markers (-- migrate:, line %d) and goose annotations (-- +goose, line %d): use one format per file",
				dbmateLine, gooseLine)}
	case dbmateLine > 0:
		return formatDbmate, nil
	case gooseLine > 0:
		return formatGoose, nil
	}
	return formatPlain, nil
}

func hasGooseUp(lines []string) bool {
	for _, l := range lines {
		if ann, _ := gooseAnnotation(l); ann == "up" {
			return true
		}
	}
	return false
}

func (p *parser) fail(line int, format string, args ...any) error {
	return &FileError{File: p.file, Line: line, Err: ErrBadFile, Detail: fmt.Sprintf(format, args...)}
}

// line handles line n (1-based) of the file.
func (p *parser) line(n int, l string) error {
	if ann, ok := gooseAnnotation(l); ok {
		boundary, err := p.goose(n, ann, l)
		if err != nil || boundary {
			return err
		}
	}
	switch kind := marker(l); kind {
	case "up", "down":
		return p.dbmate(n, l, kind)
	case "breaking":
		if p.section == "down" {
			return p.fail(n, "-- migrate:breaking belongs in the up part")
		}
		p.m.Breaking = true
	case "rebuild", "map":
		// A table rebuild (see RebuildDirective) needs foreign keys off.
		p.m.NoForeignKeys = true
	case "":
	default:
		return p.fail(n, "unknown marker -- migrate:%s (want up, down, breaking, rebuild or map)", kind)
	}
	switch p.section {
	case "up":
		p.up = append(p.up, l)
	case "down":
		p.down = append(p.down, l)
	case "header":
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
			if p.format == formatGoose {
				return p.fail(n, "statement before -- +goose Up")
			}
			return p.fail(n, "statement before -- migrate:up")
		}
	}
	return nil
}

// dbmate handles a "-- migrate:up" or "-- migrate:down" marker.
func (p *parser) dbmate(n int, l, kind string) error {
	_, arg := markerArg(l)
	noTx, err := markerOptions(arg)
	if err != nil {
		return p.fail(n, "-- migrate:%s: %v", kind, err)
	}
	if kind == "up" {
		if p.m.UpLine > 0 {
			return p.fail(n, "second -- migrate:up marker")
		}
		if p.m.HasDown {
			return p.fail(n, "-- migrate:up after -- migrate:down")
		}
		p.section, p.m.UpLine, p.m.NoTransaction = "up", n+1, noTx
		return nil
	}
	if p.m.HasDown {
		return p.fail(n, "second -- migrate:down marker")
	}
	p.section, p.m.DownLine, p.m.HasDown, p.m.DownNoTransaction = "down", n+1, true, noTx
	return nil
}

// markerOptions reads dbmate's options after a marker: "transaction:false"
// asks for no transaction. Words without a colon are comments, as for
// dbmate; an unknown option is an error, so none is silently ignored.
func markerOptions(arg string) (noTransaction bool, err error) {
	for _, w := range strings.Fields(arg) {
		key, value, ok := strings.Cut(w, ":")
		if !ok {
			continue
		}
		switch {
		case key == "transaction" && value == "false":
			noTransaction = true
		case key == "transaction" && value == "true":
			noTransaction = false
		case key == "transaction":
			return false, fmt.Errorf("option %s: want transaction:false or transaction:true", w)
		default:
			return false, fmt.Errorf("unknown option %s (want transaction:false)", w)
		}
	}
	return noTransaction, nil
}

// goose handles a goose annotation. boundary reports an Up or Down line,
// which belongs to no part; the other annotations stay in their part as
// comments (so lines keep their numbers) and checksums skip them.
func (p *parser) goose(n int, ann, l string) (boundary bool, err error) {
	switch ann {
	case "up":
		if p.m.HasDown {
			return true, p.fail(n, "-- +goose Up after -- +goose Down")
		}
		if p.m.UpLine > 0 {
			return true, p.fail(n, "second -- +goose Up")
		}
		p.section, p.m.UpLine = "up", n+1
		return true, nil
	case "down":
		if p.m.HasDown {
			return true, p.fail(n, "second -- +goose Down")
		}
		if p.block > 0 {
			return true, p.fail(n, "-- +goose Down inside the statement block opened at line %d (StatementEnd missing)", p.block)
		}
		if p.m.UpLine == 0 {
			return true, p.fail(n, "-- +goose Down before -- +goose Up")
		}
		p.section, p.m.DownLine, p.m.HasDown = "down", n+1, true
		return true, nil
	case "statementbegin":
		if p.section == "header" {
			return false, p.fail(n, "-- +goose StatementBegin before -- +goose Up")
		}
		if p.block > 0 {
			return false, p.fail(n, "-- +goose StatementBegin inside the block opened at line %d", p.block)
		}
		p.block = n
	case "statementend":
		if p.block == 0 {
			return false, p.fail(n, "-- +goose StatementEnd without StatementBegin")
		}
		p.block = 0
	case "no transaction":
		p.m.NoTransaction, p.m.DownNoTransaction = true, true
	case "envsub on":
		return false, p.fail(n, "-- +goose ENVSUB ON is not supported: Larder runs the SQL as written "+
			"and substitutes no ${VARIABLES}; write the values into the file")
	case "envsub off":
		// Substitution is off, which is all Larder does.
	default:
		return false, p.fail(n, "unknown goose annotation %q (want Up, Down, StatementBegin, StatementEnd or NO TRANSACTION)",
			strings.TrimSpace(l))
	}
	return false, nil
}

// finish checks the whole file and fills in the parts.
func (p *parser) finish() error {
	m := p.m
	if p.block > 0 {
		return p.fail(p.block, "-- +goose StatementBegin has no StatementEnd")
	}
	if m.UpLine == 0 {
		return p.fail(0, "has -- migrate:down but no -- migrate:up")
	}
	m.Up = strings.Join(p.up, "\n")
	m.Down = strings.Join(p.down, "\n")
	if err := checkDirectives(p.file, m.Up, m.UpLine); err != nil {
		return err
	}
	if err := checkDirectives(p.file, m.Down, m.DownLine); err != nil {
		return err
	}
	m.Checksum = Checksum(m.Up)
	return nil
}

// ParsePair builds one migration from a golang-migrate or sqlx pair: the
// up file (plain SQL) and the down file (plain SQL, may be empty). The
// names must be the pair's: N_name.up.sql and N_name.down.sql. As for
// golang-migrate, the version pairs them: the name parts may differ (the
// migration takes the up file's).
func ParsePair(upName string, up []byte, downName string, down []byte) (*Migration, error) {
	m, err := Parse(upName, up)
	if err != nil {
		return nil, err
	}
	fn, err := parseFileName(downName)
	if err != nil {
		return nil, err
	}
	ufn, _ := parseFileName(upName)
	if fn.part != "down" || ufn.part != "up" || fn.version != ufn.version {
		return nil, &FileError{File: downName, Err: ErrBadFile, Detail: "is not the down file of " + upName}
	}
	if err := CheckText(downName, down, 1); err != nil {
		return nil, err
	}
	text := strings.ReplaceAll(strings.TrimPrefix(string(down), "\uFEFF"), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	if f, err := detectFormat(downName, lines); err != nil {
		return nil, err
	} else if f != formatPlain {
		return nil, &FileError{File: downName, Err: ErrBadFile,
			Detail: "the .down.sql file of a pair is plain SQL; it has " + f + " markers"}
	}
	for i, l := range lines {
		switch kind := marker(l); kind {
		case "":
		case "rebuild", "map":
			m.NoForeignKeys = true
		default:
			return nil, &FileError{File: downName, Line: i + 1, Err: ErrBadFile,
				Detail: fmt.Sprintf("-- migrate:%s does not belong in a down file", kind)}
		}
	}
	if err := checkDirectives(downName, text, 1); err != nil {
		return nil, err
	}
	m.Down, m.HasDown, m.DownLine, m.DownSource = text, true, 1, downName
	return m, nil
}
