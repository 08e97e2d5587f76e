package rebuild

import (
	"fmt"
	"strings"

	"github.com/larderdb/larder/migrations/internal/sqlutil"
)

// renameCreate replaces the table name of a CREATE TABLE statement with
// name, returning the new text and the name it had. Only the statement's
// head is read (CREATE TABLE [IF NOT EXISTS] [schema.]name); SQLite parses
// the rest.
func renameCreate(sql, name string) (string, string, error) {
	pos := 0
	next := func() (tok string, start, end int) {
		pos = sqlutil.SkipTrivia(sql, pos)
		start = pos
		if pos >= len(sql) {
			return "", start, start
		}
		switch c := sql[pos]; c {
		case '"', '`', '[':
			closer := c
			if c == '[' {
				closer = ']'
			}
			i := pos + 1
			for i < len(sql) {
				if sql[i] == closer {
					if closer != ']' && i+1 < len(sql) && sql[i+1] == closer {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
			pos = i
		case '.', '(':
			pos++
		default:
			for pos < len(sql) && isIdentByte(sql[pos]) {
				pos++
			}
			if pos == start {
				pos++
			}
		}
		return sql[start:pos], start, pos
	}
	want := func(words ...string) error {
		for _, w := range words {
			if tok, _, _ := next(); !strings.EqualFold(tok, w) {
				return fmt.Errorf("%w: want CREATE TABLE, found %q", ErrBadDefinition, tok)
			}
		}
		return nil
	}
	if err := want("CREATE"); err != nil {
		return "", "", err
	}
	tok, _, _ := next()
	if strings.EqualFold(tok, "TEMP") || strings.EqualFold(tok, "TEMPORARY") {
		return "", "", fmt.Errorf("%w: a rebuild cannot create a TEMP table", ErrBadDefinition)
	}
	if !strings.EqualFold(tok, "TABLE") {
		return "", "", fmt.Errorf("%w: want CREATE TABLE, found CREATE %s", ErrBadDefinition, tok)
	}
	save := pos
	if tok, _, _ := next(); strings.EqualFold(tok, "IF") {
		if err := want("NOT", "EXISTS"); err != nil {
			return "", "", err
		}
	} else {
		pos = save
	}
	tok, start, end := next()
	save = pos
	if dot, _, _ := next(); dot == "." {
		if !strings.EqualFold(unquote(tok), "main") {
			return "", "", fmt.Errorf("%w: a rebuild works on the main schema, not %s", ErrBadDefinition, tok)
		}
		tok, _, end = next()
	} else {
		pos = save
	}
	if tok == "" || tok == "(" || tok == "." {
		return "", "", fmt.Errorf("%w: no table name after CREATE TABLE", ErrBadDefinition)
	}
	return sql[:start] + sqlutil.Quote(name) + sql[end:], unquote(tok), nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func unquote(tok string) string {
	if len(tok) >= 2 {
		switch tok[0] {
		case '"', '`':
			q := tok[:1]
			return strings.ReplaceAll(tok[1:len(tok)-1], q+q, q)
		case '[':
			return tok[1 : len(tok)-1]
		}
	}
	return tok
}
