package syncer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
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
func (v Value) MarshalJSON() ([]byte, error) {
	switch x := v.V.(type) {
	case nil:
		return []byte("null"), nil
	case int64:
		if x > maxSafeInt || x < -maxSafeInt {
			return json.Marshal(map[string]string{"i": strconv.FormatInt(x, 10)})
		}
		return strconv.AppendInt(nil, x, 10), nil
	case float64:
		switch {
		case math.IsInf(x, 1):
			return []byte(`{"f":"inf"}`), nil
		case math.IsInf(x, -1):
			return []byte(`{"f":"-inf"}`), nil
		case math.IsNaN(x):
			return nil, fmt.Errorf("value: NaN cannot be stored in SQLite")
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return []byte(s), nil
	case string:
		return json.Marshal(x)
	case []byte:
		return json.Marshal(map[string]string{"b": base64.StdEncoding.EncodeToString(x)})
	}
	return nil, fmt.Errorf("value: unsupported Go type %T", v.V)
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *Value) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("value: %w", err)
	}
	switch x := raw.(type) {
	case nil:
		v.V = nil
	case string:
		v.V = x
	case json.Number:
		s := string(x)
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
	case map[string]any:
		return v.tagged(x)
	default:
		return fmt.Errorf("value: %s is not a SQLite value (null, number, string, {\"i\"}, {\"f\"} or {\"b\"})", data)
	}
	return nil
}

func (v *Value) tagged(m map[string]any) error {
	if len(m) != 1 {
		return fmt.Errorf("value: an object value needs exactly one of the keys i, f, b")
	}
	for k, raw := range m {
		s, ok := raw.(string)
		if !ok {
			return fmt.Errorf("value: {%q: ...} needs a string", k)
		}
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
