package syncer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The part of TOML (https://toml.io/en/v1.0.0) that a sync.toml can use,
// read by hand: the Worker's module parses the declaration it is opened
// with, and a general TOML decoder (reflection, every value type) would
// add about 430 KB to larder.wasm. Read here: comments, [table] headers,
// dotted and quoted keys, inline tables, and the four kinds of string
// (basic, literal, and their multi-line forms) with every escape. A
// declaration holds only strings and tables, so any other value (number,
// boolean, date, array, array of tables) is refused with the line it is
// on, as a general decoder would refuse it when filling Config. Native and
// Worker read a declaration the same way; TestTOMLAgreesWithBurntSushi
// checks the result against a full TOML decoder.

// tomlTable is a parsed table: each value is a string or a *tomlTable.
type tomlTable struct {
	keys   []string // in the order they were defined
	vals   map[string]any
	header bool // defined by a [header]: takes no second header, no dotted keys from its parent
	dotted bool // made by dotted keys (a.b = ...): takes no header, only sub-tables
	inline bool // an inline table { ... }: closed
}

func newTable() *tomlTable { return &tomlTable{vals: map[string]any{}} }

func (t *tomlTable) set(k string, v any) {
	t.keys = append(t.keys, k)
	t.vals[k] = v
}

type tomlParser struct {
	s    string
	pos  int
	line int
}

// parseTOML reads text into its root table. Errors say "line N: what".
func parseTOML(text string) (*tomlTable, error) {
	p := &tomlParser{s: strings.TrimPrefix(text, "\ufeff"), line: 1} // a byte order mark (editors on Windows) is not text
	root := newTable()
	cur := root
	for {
		p.skipSpace()
		if p.eof() {
			return root, nil
		}
		switch c := p.s[p.pos]; {
		case c == '\n' || c == '\r' || c == '#':
			if err := p.endLine(); err != nil {
				return nil, err
			}
			continue
		case c == '[':
			p.pos++
			if p.peek() == '[' {
				return nil, p.errorf("arrays of tables ([[...]]) are not part of a sync declaration")
			}
			path, err := p.key()
			if err != nil {
				return nil, err
			}
			p.skipSpace()
			if p.peek() != ']' {
				return nil, p.errorf("want ] after the table name")
			}
			p.pos++
			if cur, err = p.header(root, path); err != nil {
				return nil, err
			}
		default:
			if err := p.keyValue(cur); err != nil {
				return nil, err
			}
		}
		p.skipSpace()
		if err := p.endLine(); err != nil {
			return nil, err
		}
	}
}

func (p *tomlParser) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s", p.line, fmt.Sprintf(format, args...))
}

func (p *tomlParser) eof() bool { return p.pos >= len(p.s) }

func (p *tomlParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.pos]
}

func (p *tomlParser) skipSpace() {
	for !p.eof() && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// endLine consumes an optional comment and the end of the line (or text).
func (p *tomlParser) endLine() error {
	if p.peek() == '#' {
		for !p.eof() && p.s[p.pos] != '\n' {
			if c := p.s[p.pos]; c < 0x20 && c != '\t' && c != '\r' || c == 0x7f {
				return p.errorf("control character %U in a comment", rune(c))
			}
			p.pos++
		}
	}
	switch {
	case p.eof():
		return nil
	case p.s[p.pos] == '\n':
		p.pos++
	case strings.HasPrefix(p.s[p.pos:], "\r\n"):
		p.pos += 2
	default:
		return p.errorf("unexpected %q: want a new line", p.rest())
	}
	p.line++
	return nil
}

// rest is what remains of the line, for error messages.
func (p *tomlParser) rest() string {
	r := p.s[p.pos:]
	if i := strings.IndexAny(r, "\r\n"); i >= 0 {
		r = r[:i]
	}
	return r
}

// header opens the table [path], creating the tables on the way.
func (p *tomlParser) header(root *tomlTable, path []string) (*tomlTable, error) {
	t := root
	for i, k := range path {
		switch v := t.vals[k].(type) {
		case nil:
			nt := newTable()
			t.set(k, nt)
			t = nt
		case *tomlTable:
			if v.inline || i == len(path)-1 && (v.header || v.dotted) {
				return nil, p.errorf("table %s is defined twice", keyString(path[:i+1]))
			}
			t = v
		default:
			return nil, p.errorf("%s is a string, not a table", keyString(path[:i+1]))
		}
	}
	t.header = true
	return t, nil
}

// keyValue reads `key = value` into t.
func (p *tomlParser) keyValue(t *tomlTable) error {
	path, err := p.key()
	if err != nil {
		return err
	}
	p.skipSpace()
	if p.peek() != '=' {
		return p.errorf("want = after the key %s", keyString(path))
	}
	p.pos++
	p.skipSpace()
	for i, k := range path[:len(path)-1] {
		switch v := t.vals[k].(type) {
		case nil:
			nt := newTable()
			nt.dotted = true
			t.set(k, nt)
			t = nt
		case *tomlTable:
			if v.inline { // (into a [header] table: refused by TOML 1.0, read by BurntSushi/toml, which Parse used)
				return p.errorf("table %s is defined already", keyString(path[:i+1]))
			}
			t = v
		default:
			return p.errorf("%s is a string, not a table", keyString(path[:i+1]))
		}
	}
	k := path[len(path)-1]
	if _, dup := t.vals[k]; dup {
		return p.errorf("key %s is defined twice", keyString(path))
	}
	v, err := p.value()
	if err != nil {
		return fmt.Errorf("%w (key %s)", err, keyString(path))
	}
	t.set(k, v)
	return nil
}

// key reads a dotted key: bare or quoted parts, with space around dots.
func (p *tomlParser) key() ([]string, error) {
	var path []string
	for {
		p.skipSpace()
		var k string
		switch c := p.peek(); {
		case c == '"':
			s, err := p.basicString()
			if err != nil {
				return nil, err
			}
			k = s
		case c == '\'':
			s, err := p.literalString()
			if err != nil {
				return nil, err
			}
			k = s
		case isBare(c):
			start := p.pos
			for !p.eof() && isBare(p.s[p.pos]) {
				p.pos++
			}
			k = p.s[start:p.pos]
		default:
			return nil, p.errorf("want a key, found %q", p.rest())
		}
		path = append(path, k)
		p.skipSpace()
		if p.peek() != '.' {
			return path, nil
		}
		p.pos++
	}
}

func isBare(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// value reads a string or an inline table.
func (p *tomlParser) value() (any, error) {
	switch {
	case strings.HasPrefix(p.s[p.pos:], `"""`):
		return p.multiString(`"""`)
	case strings.HasPrefix(p.s[p.pos:], `'''`):
		return p.multiString(`'''`)
	case p.peek() == '"':
		return p.basicString()
	case p.peek() == '\'':
		return p.literalString()
	case p.peek() == '{':
		return p.inlineTable()
	case p.eof() || p.peek() == '\n' || p.peek() == '\r' || p.peek() == '#':
		return nil, p.errorf("no value after =")
	}
	return nil, p.errorf("value %s: a sync declaration holds only strings (in quotes) and tables", p.rest())
}

// inlineTable reads { k = v, ... } (new lines and a trailing comma allowed,
// as TOML 1.1 does).
func (p *tomlParser) inlineTable() (*tomlTable, error) {
	p.pos++ // {
	t := newTable()
	for first := true; ; first = false {
		if err := p.skipInline(); err != nil {
			return nil, err
		}
		if p.peek() == '}' {
			p.pos++
			break
		}
		if !first {
			if p.peek() != ',' {
				return nil, p.errorf("want , or } in an inline table, found %q", p.rest())
			}
			p.pos++
			if err := p.skipInline(); err != nil {
				return nil, err
			}
			if p.peek() == '}' {
				p.pos++
				break
			}
		}
		if p.eof() {
			return nil, p.errorf("inline table not closed with }")
		}
		if err := p.keyValue(t); err != nil {
			return nil, err
		}
	}
	markInline(t)
	return t, nil
}

// markInline closes an inline table and the tables its dotted keys made.
func markInline(t *tomlTable) {
	t.inline = true
	for _, v := range t.vals {
		if sub, ok := v.(*tomlTable); ok {
			markInline(sub)
		}
	}
}

// skipInline skips space, new lines and comments inside an inline table.
func (p *tomlParser) skipInline() error {
	for {
		p.skipSpace()
		if c := p.peek(); c != '\n' && c != '\r' && c != '#' {
			return nil
		}
		if err := p.endLine(); err != nil {
			return err
		}
		if p.eof() {
			return p.errorf("inline table not closed with }")
		}
	}
}

// basicString reads "..." with escapes.
func (p *tomlParser) basicString() (string, error) {
	p.pos++ // "
	var b strings.Builder
	for {
		if p.eof() || p.s[p.pos] == '\n' || p.s[p.pos] == '\r' {
			return "", p.errorf(`string not closed with " on its line`)
		}
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c == '\\':
			if err := p.escape(&b); err != nil {
				return "", err
			}
		case c < 0x20 && c != '\t' || c == 0x7f:
			return "", p.errorf("control character %U in a string: write it as an escape", rune(c))
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
}

// literalString reads '...': no escapes.
func (p *tomlParser) literalString() (string, error) {
	p.pos++ // '
	start := p.pos
	for {
		if p.eof() || p.s[p.pos] == '\n' || p.s[p.pos] == '\r' {
			return "", p.errorf("string not closed with ' on its line")
		}
		c := p.s[p.pos]
		if c == '\'' {
			p.pos++
			return p.s[start : p.pos-1], nil
		}
		if c < 0x20 && c != '\t' || c == 0x7f {
			return "", p.errorf("control character %U in a string", rune(c))
		}
		p.pos++
	}
}

// multiString reads """...""" (escapes, and a backslash at the end of a
// line joins it to the next non-blank text) or ”'...”' (none). A new
// line right after the opening quotes is not part of the string; up to two
// quotes may end it before the closing three.
func (p *tomlParser) multiString(quote string) (string, error) {
	p.pos += 3
	if strings.HasPrefix(p.s[p.pos:], "\r\n") {
		p.pos += 2
		p.line++
	} else if p.peek() == '\n' {
		p.pos++
		p.line++
	}
	basic := quote == `"""`
	var b strings.Builder
	for {
		if p.eof() {
			return "", p.errorf("string not closed with %s", quote)
		}
		if strings.HasPrefix(p.s[p.pos:], quote) {
			p.pos += 3
			for i := 0; i < 2 && p.peek() == quote[0]; i++ {
				b.WriteByte(quote[0])
				p.pos++
			}
			return b.String(), nil
		}
		c := p.s[p.pos]
		switch {
		case c == '\n':
			b.WriteByte(c)
			p.pos++
			p.line++
		case c == '\r' && strings.HasPrefix(p.s[p.pos:], "\r\n"):
			b.WriteString("\r\n")
			p.pos += 2
			p.line++
		case basic && c == '\\' && p.lineEndingBackslash():
		case basic && c == '\\':
			if err := p.escape(&b); err != nil {
				return "", err
			}
		case c < 0x20 && c != '\t' || c == 0x7f:
			return "", p.errorf("control character %U in a string", rune(c))
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
}

// lineEndingBackslash skips a backslash followed by nothing but space up to
// the end of its line, and all space and new lines after it.
func (p *tomlParser) lineEndingBackslash() bool {
	i := p.pos + 1
	for i < len(p.s) && (p.s[i] == ' ' || p.s[i] == '\t') {
		i++
	}
	if !strings.HasPrefix(p.s[i:], "\n") && !strings.HasPrefix(p.s[i:], "\r\n") {
		return false
	}
	p.pos = i
	for !p.eof() {
		switch {
		case p.s[p.pos] == ' ' || p.s[p.pos] == '\t':
			p.pos++
		case p.s[p.pos] == '\n':
			p.pos++
			p.line++
		case strings.HasPrefix(p.s[p.pos:], "\r\n"):
			p.pos += 2
			p.line++
		default:
			return true
		}
	}
	return true
}

// escape reads one escape sequence at p.pos (the backslash).
func (p *tomlParser) escape(b *strings.Builder) error {
	if p.pos+1 >= len(p.s) {
		return p.errorf("string ends in a backslash")
	}
	c := p.s[p.pos+1]
	p.pos += 2
	simple := map[byte]byte{'b': '\b', 't': '\t', 'n': '\n', 'f': '\f', 'r': '\r', '"': '"', '\\': '\\', 'e': 0x1b}
	if r, ok := simple[c]; ok {
		b.WriteByte(r)
		return nil
	}
	n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	if n == 0 {
		return p.errorf(`unknown escape \%c in a string`, c)
	}
	if p.pos+n > len(p.s) {
		return p.errorf(`escape \%c needs %d hex digits`, c, n)
	}
	v, err := strconv.ParseUint(p.s[p.pos:p.pos+n], 16, 32)
	if err != nil || !utf8.ValidRune(rune(v)) {
		return p.errorf(`escape \%c%s is not a Unicode scalar value`, c, p.s[p.pos:p.pos+n])
	}
	p.pos += n
	b.WriteRune(rune(v))
	return nil
}

// keyString writes a key path as TOML does: parts that are not bare keys
// in quotes.
func keyString(path []string) string {
	parts := make([]string, len(path))
	for i, k := range path {
		parts[i] = k
		if k == "" || strings.ContainsFunc(k, func(r rune) bool { return r >= utf8.RuneSelf || !isBare(byte(r)) }) {
			parts[i] = strconv.Quote(k)
		}
	}
	return strings.Join(parts, ".")
}

// decodeConfig fills c from the parsed declaration and returns the keys
// that are not part of it.
func decodeConfig(root *tomlTable, c *Config) (unknown []string, err error) {
	for _, k := range root.keys {
		if k != "tables" {
			unknown = appendKeys(unknown, []string{k}, root.vals[k])
			continue
		}
		tables, ok := root.vals[k].(*tomlTable)
		if !ok {
			return nil, fmt.Errorf("tables is a string: want [tables.NAME] tables")
		}
		c.Tables = make(map[string]*TableRule, len(tables.keys))
		for _, name := range tables.keys {
			t, ok := tables.vals[name].(*tomlTable)
			if !ok {
				return nil, fmt.Errorf("%s is a string: want a table with owner or where", keyString([]string{"tables", name}))
			}
			r := &TableRule{}
			for _, f := range t.keys {
				path := []string{"tables", name, f}
				s, isString := t.vals[f].(string)
				switch {
				case (f == "owner" || f == "where") && !isString:
					return nil, fmt.Errorf("%s is a table: want a string", keyString(path))
				case f == "owner":
					r.Owner = s
				case f == "where":
					r.Where = s
				default:
					unknown = appendKeys(unknown, path, t.vals[f])
				}
			}
			c.Tables[name] = r
		}
	}
	return unknown, nil
}

// appendKeys appends the key path of v and of every value in it (a
// table), except tables made by dotted keys, which BurntSushi/toml (that
// Parse used) did not list.
func appendKeys(keys, path []string, v any) []string {
	t, ok := v.(*tomlTable)
	if !ok || !t.dotted {
		keys = append(keys, keyString(path))
	}
	if ok {
		for _, k := range t.keys {
			keys = appendKeys(keys, append(slices.Clip(path), k), t.vals[k])
		}
	}
	return keys
}
