package migrations

import (
	"fmt"
	"strings"
)

// A RebuildDirective is the "-- migrate:rebuild" comment block of a .sql
// migration: it turns the CREATE TABLE statement that follows it into a
// table rebuild (SQLite's 12-step procedure,
// https://sqlite.org/lang_altertable.html#otheralter) instead of a create.
//
//	-- migrate:rebuild topics
//	-- migrate:map author_name = author
//	-- migrate:map score = coalesce(votes, 0)
//	CREATE TABLE topics (
//	  id INTEGER PRIMARY KEY,
//	  title TEXT NOT NULL,
//	  author_name TEXT NOT NULL,
//	  score INTEGER NOT NULL DEFAULT 0,
//	  pinned INTEGER NOT NULL DEFAULT 0
//	);
//
// Each "-- migrate:map NEW = EXPR" line gives the value of a column of the
// new table as an SQL expression over the old table's columns (a trailing
// "-- comment" is not part of it). New columns
// without a map line are copied from the old column of the same name, or get
// their DEFAULT when the old table has none. A migration with a rebuild
// directive runs with foreign keys off ([Migration.NoForeignKeys]). Package
// migrations/rebuild carries it out.
type RebuildDirective struct {
	Table   string            // the table to rebuild, as written
	Columns map[string]string // new column -> SQL expression over the old columns
	Line    int               // 1-based line of "-- migrate:rebuild" within the text parsed
}

// ParseRebuildDirective looks for a rebuild directive in text, the comments
// that precede a statement. It returns nil, nil when there is none.
func ParseRebuildDirective(text string) (*RebuildDirective, error) {
	var d *RebuildDirective
	seen := map[string]bool{} // lower-cased mapped columns: SQL names are case-insensitive
	for i, l := range splitLines(text) {
		kind, arg := markerArg(l)
		switch kind {
		case "rebuild":
			if d != nil {
				return nil, fmt.Errorf("line %d: second -- migrate:rebuild before a statement", i+1)
			}
			name, rest, err := parseIdent(arg)
			if err != nil || strings.TrimSpace(rest) != "" {
				return nil, fmt.Errorf("line %d: want -- migrate:rebuild TABLE", i+1)
			}
			d = &RebuildDirective{Table: name, Columns: map[string]string{}, Line: i + 1}
		case "map":
			if d == nil {
				return nil, fmt.Errorf("line %d: -- migrate:map without -- migrate:rebuild before it", i+1)
			}
			col, rest, err := parseIdent(arg)
			rest = strings.TrimSpace(rest)
			if err != nil || !strings.HasPrefix(rest, "=") || strings.TrimSpace(rest[1:]) == "" {
				return nil, fmt.Errorf("line %d: want -- migrate:map COLUMN = EXPRESSION", i+1)
			}
			key := strings.ToLower(col)
			if seen[key] {
				return nil, fmt.Errorf("line %d: column %s mapped twice", i+1, col)
			}
			seen[key] = true
			d.Columns[col] = strings.TrimSpace(cutLineComment(rest[1:]))
		}
	}
	return d, nil
}

// cutLineComment drops a trailing "-- comment" from an SQL expression,
// leaving "--" inside string literals and quoted identifiers alone.
func cutLineComment(expr string) string {
	var quote byte
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote closes and reopens: same result
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '[':
			quote = ']'
		case c == '-' && i+1 < len(expr) && expr[i+1] == '-':
			return expr[:i]
		}
	}
	return expr
}

// markerArg is marker that also returns the text after the kind.
func markerArg(line string) (kind, arg string) {
	kind = marker(line)
	if kind == "" {
		return "", ""
	}
	s := strings.TrimSpace(line)
	s = strings.TrimSpace(s[2:])
	return kind, strings.TrimSpace(s[len("migrate:")+len(kind):])
}

// parseIdent reads an SQL identifier, bare or "quoted", from the start of s.
func parseIdent(s string) (name, rest string, err error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] == '"' {
				if i+1 < len(s) && s[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				if b.Len() == 0 {
					break
				}
				return b.String(), s[i+1:], nil
			}
			b.WriteByte(s[i])
		}
		return "", s, fmt.Errorf("bad quoted identifier")
	}
	i := 0
	for i < len(s) && (s[i] == '_' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' ||
		i > 0 && s[i] >= '0' && s[i] <= '9' || s[i] >= 0x80) {
		i++
	}
	if i == 0 {
		return "", s, fmt.Errorf("want an identifier")
	}
	return s[:i], s[i:], nil
}

// checkDirectives validates the rebuild directives of one migration part:
// each is well formed and directly followed by a statement.
func checkDirectives(fileName string, part string, firstLine int) error {
	var block []string
	blockStart := 0
	for i, l := range splitLines(part) {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "--") {
			if k := marker(l); k == "rebuild" || k == "map" {
				if len(block) == 0 {
					blockStart = i
				}
				block = append(block, l)
			}
			continue
		}
		if err := checkBlock(fileName, block, firstLine+blockStart); err != nil {
			return err
		}
		block = nil
	}
	if len(block) > 0 {
		return &FileError{File: fileName, Line: firstLine + blockStart, Err: ErrBadFile,
			Detail: "-- migrate:rebuild must be followed by the CREATE TABLE statement of the new shape"}
	}
	return nil
}

func checkBlock(fileName string, block []string, line int) error {
	if len(block) == 0 {
		return nil
	}
	if _, err := ParseRebuildDirective(strings.Join(block, "\n")); err != nil {
		return &FileError{File: fileName, Line: line, Err: ErrBadFile, Detail: err.Error()}
	}
	return nil
}

// hasRebuild reports whether a migration part holds a rebuild directive.
func hasRebuild(part string) bool {
	for _, l := range splitLines(part) {
		if k := marker(l); k == "rebuild" || k == "map" {
			return true
		}
	}
	return false
}
