package syncer

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Value is one SQLite value carried between devices: nil (NULL), int64
// (INTEGER), float64 (REAL), string (TEXT) or []byte (BLOB). Its JSON form
// keeps the storage class exactly, so a value survives the round trip
// through the edge byte for byte:
//
//	NULL             null
//	INTEGER          a JSON number without '.' or exponent; beyond ±(2^53−1)
//	                 (where JavaScript loses precision) {"i":"123..."}
//	REAL             a JSON number that always has a '.' or an exponent
//	                 (1.0, 2.5e-7); ±Inf as {"f":"inf"} / {"f":"-inf"}
//	TEXT             a JSON string
//	BLOB             {"b":"<standard base64>"}
type Value struct{ V any }

const maxSafeInt = 1<<53 - 1

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) { return v.appendJSON(nil) }

// appendJSON appends v's JSON form to b (by hand: see jsontext.go).
func (v Value) appendJSON(b []byte) ([]byte, error) {
	switch x := v.V.(type) {
	case nil:
		return append(b, "null"...), nil
	case int64:
		if x > maxSafeInt || x < -maxSafeInt {
			b = strconv.AppendInt(append(b, `{"i":"`...), x, 10)
			return append(b, `"}`...), nil
		}
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		switch {
		case math.IsInf(x, 1):
			return append(b, `{"f":"inf"}`...), nil
		case math.IsInf(x, -1):
			return append(b, `{"f":"-inf"}`...), nil
		case math.IsNaN(x):
			return nil, fmt.Errorf("value: NaN cannot be stored in SQLite")
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return append(b, s...), nil
	case string:
		return appendString(b, x), nil
	case []byte:
		b = base64.StdEncoding.AppendEncode(append(b, `{"b":"`...), x)
		return append(b, `"}`...), nil
	}
	return nil, fmt.Errorf("value: unsupported Go type %T", v.V)
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *Value) UnmarshalJSON(data []byte) error {
	j, err := parseJSON(data)
	if err != nil {
		return fmt.Errorf("value: %w", err)
	}
	return v.read(j)
}

// read sets v from a parsed JSON value.
func (v *Value) read(j jsonValue) error {
	switch j.kind {
	case jsonNull:
		v.V = nil
	case jsonString:
		v.V = j.text
	case jsonNumber:
		s := j.text
		if strings.ContainsAny(s, ".eE") {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return fmt.Errorf("value: REAL %s: %w", s, err)
			}
			v.V = f
			return nil
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("value: INTEGER %s: %w", s, err)
		}
		v.V = i
	case jsonObject:
		return v.tagged(j)
	default:
		return fmt.Errorf("value: a JSON %s is not a SQLite value (null, number, string, {\"i\"}, {\"f\"} or {\"b\"})", kindNames[j.kind])
	}
	return nil
}

func (v *Value) tagged(j jsonValue) error {
	m := make(map[string]jsonValue, len(j.keys))
	for i, k := range j.keys {
		m[k] = j.elems[i] // a repeated key: the last wins, as encoding/json reads it
	}
	if len(m) != 1 {
		return fmt.Errorf("value: an object value needs exactly one of the keys i, f, b")
	}
	for k, raw := range m {
		if raw.kind != jsonString {
			return fmt.Errorf("value: {%q: ...} needs a string", k)
		}
		s := raw.text
		switch k {
		case "i":
			i, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("value: INTEGER %q: %w", s, err)
			}
			v.V = i
		case "f":
			switch s {
			case "inf":
				v.V = math.Inf(1)
			case "-inf":
				v.V = math.Inf(-1)
			default:
				return fmt.Errorf("value: REAL %q: only inf and -inf are written as strings", s)
			}
		case "b":
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return fmt.Errorf("value: BLOB: %w", err)
			}
			v.V = b
		default:
			return fmt.Errorf("value: unknown key %q (want i, f or b)", k)
		}
	}
	return nil
}

// equalValues reports whether a and b hold the same storage class and bytes.
func equalValues(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	}
	return a == b
}
