package plan

import (
	"strings"

	"github.com/larderdb/larder/migrations/internal/sqlutil"
)

// A token is one SQL token of a CREATE statement. Text is what compares:
// identifiers (bare or quoted) and keywords lower-cased without quotes,
// literals as written.
type token struct {
	text       string
	quoted     bool // a "quoted", `quoted` or [quoted] identifier
	start, end int  // byte offsets in the source
}

// tokenize splits sql into tokens, leaving out whitespace and comments.
func tokenize(sql string) []token {
	var out []token
	for i := sqlutil.SkipTrivia(sql, 0); i < len(sql); i = sqlutil.SkipTrivia(sql, i) {
		c := sql[i]
		switch {
		case c == '\'':
			j := quoteEnd(sql, i, '\'')
			out = append(out, token{text: sql[i:j], start: i, end: j})
			i = j
		case c == '"' || c == '`' || c == '[':
			closer := c
			if c == '[' {
				closer = ']'
			}
			j := quoteEnd(sql, i, closer)
			inner := sql[i+1 : max(i+1, j-1)]
			if closer != ']' {
				inner = strings.ReplaceAll(inner, string([]byte{closer, closer}), string(closer))
			}
			out = append(out, token{text: strings.ToLower(inner), quoted: true, start: i, end: j})
			i = j
		case isIdentByte(c):
			j := i
			for j < len(sql) && (isIdentByte(sql[j]) || sql[j] >= '0' && sql[j] <= '9' || sql[j] == '$') {
				j++
			}
			out = append(out, token{text: strings.ToLower(sql[i:j]), start: i, end: j})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(sql) && sql[i+1] >= '0' && sql[i+1] <= '9':
			j := i
			for j < len(sql) && (isIdentByte(sql[j]) || sql[j] >= '0' && sql[j] <= '9' || sql[j] == '.' ||
				(sql[j] == '+' || sql[j] == '-') && (sql[j-1] == 'e' || sql[j-1] == 'E')) {
				j++
			}
			out = append(out, token{text: strings.ToLower(sql[i:j]), start: i, end: j})
			i = j
		default:
			// Operators: the two-byte ones SQLite has, else one byte.
			n := 1
			for _, op := range []string{"||", "<=", ">=", "==", "!=", "<>", "<<", ">>", "->>", "->"} {
				if strings.HasPrefix(sql[i:], op) && len(op) > n {
					n = len(op)
				}
			}
			out = append(out, token{text: sql[i : i+n], start: i, end: i + n})
			i += n
		}
	}
	return out
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// quoteEnd returns the offset just after the quoted text starting at i.
func quoteEnd(s string, i int, closer byte) int {
	for j := i + 1; j < len(s); j++ {
		if s[j] == closer {
			if closer != ']' && j+1 < len(s) && s[j+1] == closer {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// canon is the comparable text of tokens: one space between tokens.
func canon(toks []token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.text
	}
	return strings.Join(parts, " ")
}

// canonSQL is canon of a whole statement, without a trailing ";".
func canonSQL(sql string) string {
	toks := tokenize(sql)
	if n := len(toks); n > 0 && toks[n-1].text == ";" {
		toks = toks[:n-1]
	}
	return canon(toks)
}

// A tableDef is a CREATE TABLE statement taken apart: its column
// definitions and table constraints (each as canonical text and as
// written), and the options after the closing parenthesis.
type tableDef struct {
	virtual     bool
	columns     []columnDef
	constraints []string // canonical text, in order
	options     string   // "without rowid", "strict", …
	whole       string   // canonical text of everything after the table name
}

type columnDef struct {
	name  string // as SQLite reports it (case kept)
	canon string // canonical text after the name
	raw   string // the definition as written, name included
}

// parseTable takes a CREATE TABLE statement apart. It does not check the
// statement: SQLite already accepted it.
func parseTable(sql string) tableDef {
	toks := tokenize(sql)
	var d tableDef
	// CREATE [TEMP] [VIRTUAL] TABLE [IF NOT EXISTS] [schema.]name
	i := 0
	for i < len(toks) && !(toks[i].text == "table" && !toks[i].quoted) {
		if toks[i].text == "virtual" && !toks[i].quoted {
			d.virtual = true
		}
		i++
	}
	i++
	if i+2 < len(toks) && toks[i].text == "if" && !toks[i].quoted {
		i += 3
	}
	if i+2 < len(toks) && toks[i+1].text == "." {
		i += 2
	}
	i++ // the name
	if i > len(toks) {
		return d
	}
	d.whole = canon(toks[i:])
	if d.virtual || i >= len(toks) || toks[i].text != "(" {
		return d
	}
	// The body: items split at commas of depth 1.
	depth, start := 0, i+1
	end := len(toks)
	for j := i; j < len(toks); j++ {
		switch toks[j].text {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				d.addItem(sql, toks[start:j])
				end = j
				j = len(toks)
			}
		case ",":
			if depth == 1 && !toks[j].quoted {
				d.addItem(sql, toks[start:j])
				start = j + 1
			}
		}
	}
	if end+1 < len(toks) {
		d.options = canon(toks[end+1:])
	}
	return d
}

var constraintWords = map[string]bool{"constraint": true, "primary": true, "unique": true, "check": true, "foreign": true}

func (d *tableDef) addItem(sql string, toks []token) {
	if len(toks) == 0 {
		return
	}
	if !toks[0].quoted && constraintWords[toks[0].text] {
		d.constraints = append(d.constraints, canon(toks))
		return
	}
	name := sql[toks[0].start:toks[0].end]
	if toks[0].quoted {
		name = unquote(name)
	}
	raw := sql[toks[0].start:toks[0].end]
	if len(toks) > 1 {
		raw += " " + sql[toks[1].start:toks[len(toks)-1].end]
	}
	d.columns = append(d.columns, columnDef{name: name, canon: canon(toks[1:]), raw: raw})
}

// unquote removes the quotes of a quoted identifier.
func unquote(s string) string {
	if len(s) < 2 {
		return s
	}
	switch s[0] {
	case '"', '`':
		return strings.ReplaceAll(s[1:len(s)-1], string([]byte{s[0], s[0]}), string(s[0]))
	case '[':
		return s[1 : len(s)-1]
	}
	return s
}

// column returns the definition of the column called name, or nil.
func (d *tableDef) column(name string) *columnDef {
	for i := range d.columns {
		if strings.EqualFold(d.columns[i].name, name) {
			return &d.columns[i]
		}
	}
	return nil
}

// hasWord reports whether the canonical text holds word as a token.
func hasWord(canonText, word string) bool {
	for _, f := range strings.Fields(canonText) {
		if f == word {
			return true
		}
	}
	return false
}
