package syncer

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON of the device's side of the wire, written and read by hand: the
// browser's Worker pushes and pulls with these (jsbridge's fetch
// transport), and encoding/json with the reflection it brings would add
// about 670 KB to larder.wasm. The bytes written are encoding/json's for
// the same values (TestJSONTextAgreesWithEncodingJSON): the edge, which
// keeps encoding/json, reads them unchanged. The reader takes any JSON
// (RFC 8259) and matches object keys exactly, as the edge writes them;
// unknown keys are skipped.

// appendString appends s as a JSON string the way encoding/json writes it:
// <, > and & escaped for HTML, U+2028 and U+2029 escaped, invalid UTF-8 as
// U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(append(b, s[start:]...), '"')
}

// appendValues appends cols as a JSON object, keys sorted (as encoding/json
// sorts a map's keys).
func appendValues(b []byte, cols map[string]Value) ([]byte, error) {
	keys := make([]string, 0, len(cols))
	for k := range cols {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, k), ':')
		var err error
		if b, err = cols[k].appendJSON(b); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func (h Hello) appendJSON(b []byte) []byte {
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, h.Version, 10)
	b = append(b, `,"breaking":`...)
	b = strconv.AppendInt(b, h.Breaking, 10)
	return append(b, '}')
}

// MarshalJSON writes the request as encoding/json would without it.
func (r PushRequest) MarshalJSON() ([]byte, error) {
	b := append(r.Hello.appendJSON([]byte(`{"hello":`)), `,"changes":`...)
	if r.Changes == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, ch := range r.Changes {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(append(b, `{"id":`...), ch.ID)
			b = appendString(append(b, `,"table":`...), ch.Table)
			b = appendString(append(b, `,"pk":`...), ch.PK)
			b = appendString(append(b, `,"op":`...), ch.Op)
			if len(ch.Cols) > 0 {
				var err error
				if b, err = appendValues(append(b, `,"cols":`...), ch.Cols); err != nil {
					return nil, err
				}
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// MarshalJSON writes the request as encoding/json would without it.
func (r PullRequest) MarshalJSON() ([]byte, error) {
	b := append(r.Hello.appendJSON([]byte(`{"hello":`)), `,"cursor":`...)
	b = strconv.AppendInt(b, r.Cursor, 10)
	b = append(b, `,"limit":`...)
	b = strconv.AppendInt(b, int64(r.Limit), 10)
	return append(b, '}'), nil
}

// jsonKind is the type of a parsed JSON value.
type jsonKind byte

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// jsonValue is one parsed JSON value: text holds a string's value, a
// number's literal, or "true"/"false"; elems an array's items; an object's
// members are keys and elems, in order.
type jsonValue struct {
	kind  jsonKind
	text  string
	keys  []string
	elems []jsonValue
}

var kindNames = [...]string{"null", "boolean", "number", "string", "array", "object"}

// parseJSON reads data, which must hold one JSON value.
func parseJSON(data []byte) (jsonValue, error) {
	p := jsonParser{s: data}
	v, err := p.value(0)
	if err == nil {
		p.space()
		if p.i < len(p.s) {
			err = p.errorf("data after the value")
		}
	}
	return v, err
}

type jsonParser struct {
	s []byte
	i int
}

// maxDepth bounds nesting, as encoding/json does (10000).
const maxDepth = 10000

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *jsonParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *jsonParser) literal(word string) bool {
	if len(p.s)-p.i >= len(word) && string(p.s[p.i:p.i+len(word)]) == word {
		p.i += len(word)
		return true
	}
	return false
}

func (p *jsonParser) value(depth int) (jsonValue, error) {
	if depth > maxDepth {
		return jsonValue{}, p.errorf("nested too deep")
	}
	p.space()
	if p.i >= len(p.s) {
		return jsonValue{}, p.errorf("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == 'n' && p.literal("null"):
		return jsonValue{kind: jsonNull}, nil
	case c == 't' && p.literal("true"):
		return jsonValue{kind: jsonBool, text: "true"}, nil
	case c == 'f' && p.literal("false"):
		return jsonValue{kind: jsonBool, text: "false"}, nil
	case c == '"':
		s, err := p.str()
		return jsonValue{kind: jsonString, text: s}, err
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	case c == '[':
		p.i++
		v := jsonValue{kind: jsonArray}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return v, nil
		}
		for {
			e, err := p.value(depth + 1)
			if err != nil {
				return v, err
			}
			v.elems = append(v.elems, e)
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ']' {
				p.i++
				return v, nil
			}
			return v, p.errorf("want , or ] in an array")
		}
	case c == '{':
		p.i++
		v := jsonValue{kind: jsonObject}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return v, nil
		}
		for {
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return v, p.errorf("want a key (a string) in an object")
			}
			k, err := p.str()
			if err != nil {
				return v, err
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return v, p.errorf("want : after an object key")
			}
			p.i++
			e, err := p.value(depth + 1)
			if err != nil {
				return v, err
			}
			v.keys, v.elems = append(v.keys, k), append(v.elems, e)
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return v, nil
			}
			return v, p.errorf("want , or } in an object")
		}
	}
	return jsonValue{}, p.errorf("unexpected %q", p.s[p.i])
}

// number reads a number by RFC 8259's grammar; its text is the literal.
func (p *jsonParser) number() (jsonValue, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.s[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return jsonValue{}, p.errorf("a number needs digits")
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return jsonValue{}, p.errorf("a number needs digits after .")
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return jsonValue{}, p.errorf("a number needs digits in its exponent")
		}
	}
	return jsonValue{kind: jsonNumber, text: string(p.s[start:p.i])}, nil
}

// str reads a string at p.i (its opening quote): escapes decoded, invalid
// UTF-8 and lone surrogates as U+FFFD, as encoding/json reads them.
func (p *jsonParser) str() (string, error) {
	p.i++
	var b []byte
	start := p.i
	for {
		if p.i >= len(p.s) {
			return "", p.errorf("string not closed")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			b = append(b, p.s[start:p.i]...)
			p.i++
			return string(b), nil
		case c < 0x20:
			return "", p.errorf("control character in a string")
		case c == '\\':
			b = append(b, p.s[start:p.i]...)
			if p.i+1 >= len(p.s) {
				return "", p.errorf("string not closed")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.errorf(`\u needs 4 hex digits`)
				}
				if utf16.IsSurrogate(r) {
					save := p.i
					if p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
						p.i += 2
						r2, ok := p.hex4()
						if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
							b = utf8.AppendRune(b, dec)
							break
						}
					}
					p.i = save
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", p.errorf("unknown escape \\%c", e)
			}
			start = p.i
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, size := utf8.DecodeRune(p.s[p.i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, p.s[start:p.i]...)
				b = utf8.AppendRune(b, utf8.RuneError)
				p.i++
				start = p.i
				continue
			}
			p.i += size
		}
	}
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.s[p.i:p.i+4]), 16, 32)
	if err != nil || p.s[p.i] == '+' || p.s[p.i] == '-' {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}

// Readers of the parsed answer: each refuses a value of the wrong type
// with the path to it; null leaves the field as it is (encoding/json's
// rule).

var errNotJSONType = errors.New("wrong JSON type")

func typeError(path string, v jsonValue, want string) error {
	return fmt.Errorf("%s: %w: %s, want %s", path, errNotJSONType, kindNames[v.kind], want)
}

func readString(path string, v jsonValue, out *string) error {
	switch v.kind {
	case jsonNull:
		return nil
	case jsonString:
		*out = v.text
		return nil
	}
	return typeError(path, v, "a string")
}

func readInt(path string, v jsonValue, out *int64) error {
	switch v.kind {
	case jsonNull:
		return nil
	case jsonNumber:
		n, err := strconv.ParseInt(v.text, 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %s is not an integer", path, v.text)
		}
		*out = n
		return nil
	}
	return typeError(path, v, "an integer")
}

func readBool(path string, v jsonValue, out *bool) error {
	switch v.kind {
	case jsonNull:
		return nil
	case jsonBool:
		*out = v.text == "true"
		return nil
	}
	return typeError(path, v, "true or false")
}

// readObject calls field for each member of an object (null: none).
func readObject(path string, v jsonValue, field func(key string, v jsonValue) error) error {
	switch v.kind {
	case jsonNull:
		return nil
	case jsonObject:
		for i, k := range v.keys {
			if err := field(k, v.elems[i]); err != nil {
				return err
			}
		}
		return nil
	}
	return typeError(path, v, "an object")
}

// readArray calls item for each element; null is a nil slice (reset: the
// caller's field is set to nil by not calling make).
func readArray(path string, v jsonValue, item func(i int, v jsonValue) error) (n int, null bool, err error) {
	switch v.kind {
	case jsonNull:
		return 0, true, nil
	case jsonArray:
		for i, e := range v.elems {
			if err := item(i, e); err != nil {
				return 0, false, err
			}
		}
		return len(v.elems), false, nil
	}
	return 0, false, typeError(path, v, "an array")
}

func readStrings(path string, v jsonValue, out *[]string) error {
	var s []string
	_, null, err := readArray(path, v, func(i int, e jsonValue) error {
		var x string
		err := readString(fmt.Sprintf("%s[%d]", path, i), e, &x)
		s = append(s, x)
		return err
	})
	if err == nil {
		if null {
			*out = nil
		} else {
			*out = append(make([]string, 0, len(s)), s...)
		}
	}
	return err
}

// UnmarshalJSON reads a push answer.
func (r *PushResponse) UnmarshalJSON(data []byte) error {
	v, err := parseJSON(data)
	if err != nil {
		return err
	}
	return readObject("push answer", v, func(k string, e jsonValue) error {
		switch k {
		case "accepted":
			return readStrings("accepted", e, &r.Accepted)
		case "duplicate":
			return readStrings("duplicate", e, &r.Duplicate)
		case "seq":
			return readInt("seq", e, &r.Seq)
		case "rejected":
			var rs []Rejection
			_, null, err := readArray("rejected", e, func(i int, e jsonValue) error {
				var rj Rejection
				path := fmt.Sprintf("rejected[%d]", i)
				err := readObject(path, e, func(k string, e jsonValue) error {
					switch k {
					case "id":
						return readString(path+".id", e, &rj.ID)
					case "code":
						return readString(path+".code", e, &rj.Code)
					case "message":
						return readString(path+".message", e, &rj.Message)
					case "table":
						return readString(path+".table", e, &rj.Table)
					case "pk":
						return readString(path+".pk", e, &rj.PK)
					case "gone":
						return readBool(path+".gone", e, &rj.Gone)
					}
					return nil
				})
				rs = append(rs, rj)
				return err
			})
			if err == nil {
				if null {
					r.Rejected = nil
				} else {
					r.Rejected = append(make([]Rejection, 0, len(rs)), rs...)
				}
			}
			return err
		}
		return nil
	})
}

// UnmarshalJSON reads a pull answer.
func (r *PullResponse) UnmarshalJSON(data []byte) error {
	v, err := parseJSON(data)
	if err != nil {
		return err
	}
	return readObject("pull answer", v, func(k string, e jsonValue) error {
		switch k {
		case "cursor":
			return readInt("cursor", e, &r.Cursor)
		case "more":
			return readBool("more", e, &r.More)
		case "rows":
			var rows []RowState
			_, null, err := readArray("rows", e, func(i int, e jsonValue) error {
				var row RowState
				path := fmt.Sprintf("rows[%d]", i)
				err := readObject(path, e, func(k string, e jsonValue) error {
					switch k {
					case "table":
						return readString(path+".table", e, &row.Table)
					case "pk":
						return readString(path+".pk", e, &row.PK)
					case "seq":
						return readInt(path+".seq", e, &row.Seq)
					case "deleted":
						return readBool(path+".deleted", e, &row.Deleted)
					case "cols":
						return readObject(path+".cols", e, func(k string, e jsonValue) error {
							if row.Cols == nil {
								row.Cols = map[string]Value{}
							}
							var val Value
							if err := val.read(e); err != nil {
								return fmt.Errorf("%s.cols.%s: %w", path, k, err)
							}
							row.Cols[k] = val
							return nil
						})
					case "clocks":
						return readObject(path+".clocks", e, func(k string, e jsonValue) error {
							if row.Clocks == nil {
								row.Clocks = map[string]string{}
							}
							var s string
							err := readString(path+".clocks."+k, e, &s)
							row.Clocks[k] = s
							return err
						})
					}
					return nil
				})
				rows = append(rows, row)
				return err
			})
			if err == nil {
				if null {
					r.Rows = nil
				} else {
					r.Rows = append(make([]RowState, 0, len(rows)), rows...)
				}
			}
			return err
		}
		return nil
	})
}

// UnmarshalJSON reads an error answer.
func (e *ErrorBody) UnmarshalJSON(data []byte) error {
	v, err := parseJSON(data)
	if err != nil {
		return err
	}
	return readObject("error answer", v, func(k string, v jsonValue) error {
		if k != "error" {
			return nil
		}
		return readObject("error", v, func(k string, v jsonValue) error {
			switch k {
			case "code":
				return readString("error.code", v, &e.Error.Code)
			case "message":
				return readString("error.message", v, &e.Error.Message)
			}
			return nil
		})
	})
}
