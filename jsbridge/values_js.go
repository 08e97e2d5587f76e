//go:build js

package jsbridge

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/engine"
	"github.com/larderdb/larder/internal/jsutil"
)

// Values across the seam: events, request fields, parameters and errors
// between JavaScript values and engine's Go types.

// event sends an event to the worker script's onevent(db, detail).
func (s *server) event(db string, ev engine.Event) {
	fn := s.api.Get("onevent")
	if fn.Type() != jsutil.TypeFunction {
		return
	}
	o := jsutil.Object()
	o.Set("type", ev.Type)
	switch ev.Type {
	case "change":
		tables := jsutil.Array(len(ev.Tables))
		for i, t := range ev.Tables {
			tables.SetIndex(i, t)
		}
		o.Set("tables", tables)
	case "versionchange":
		o.Set("from", integer(ev.From))
		o.Set("to", integer(ev.To))
		o.Set("breaking", ev.Breaking)
	}
	fn.Invoke(db, o)
}

func str(v jsutil.Value, key string) string {
	f := v.Get(key)
	if f.Type() == jsutil.TypeString {
		return f.String()
	}
	return ""
}

func txID(req jsutil.Value) uint64 {
	v := req.Get("tx")
	if v.Type() == jsutil.TypeNumber {
		return uint64(v.Float())
	}
	return 0
}

// integer is an int64 as JS sees it: a number within ±(2^53−1), else BigInt.
func integer(v int64) any {
	if v >= -engine.MaxSafeInteger && v <= engine.MaxSafeInteger {
		return float64(v)
	}
	return jsutil.BigInt(strconv.FormatInt(v, 10))
}

func params(v jsutil.Value) (engine.Params, error) {
	if v.IsUndefined() || v.IsNull() {
		return engine.Params{}, nil
	}
	if jsutil.TypeOf(v) != "object" || jsutil.IsBytes(v) {
		return engine.Params{}, engine.Errorf(engine.CodeInvalidArgument, "params: want an array or an object")
	}
	if jsutil.IsArray(v) {
		out := make([]any, v.Length())
		for i := range out {
			x, err := value(v.Index(i))
			if err != nil {
				return engine.Params{}, fmt.Errorf("params[%d]: %w", i, err)
			}
			out[i] = x
		}
		return engine.Params{Positional: out}, nil
	}
	named := map[string]any{}
	for _, k := range jsutil.Keys(v) {
		x, err := value(v.Get(k))
		if err != nil {
			return engine.Params{}, fmt.Errorf("params.%s: %w", k, err)
		}
		named[k] = x
	}
	return engine.Params{Named: named}, nil
}

// value converts one parameter. typeof first: Value.Type panics on BigInt.
func value(v jsutil.Value) (any, error) {
	switch jsutil.TypeOf(v) {
	case "undefined":
		return nil, nil
	case "boolean":
		return v.Bool(), nil
	case "number":
		f := v.Float()
		if f == math.Trunc(f) && math.Abs(f) <= engine.MaxSafeInteger {
			return int64(f), nil
		}
		return f, nil
	case "bigint":
		s := jsutil.Global().Get("String").Invoke(v).String()
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, engine.Errorf("SQLITE_RANGE", "bigint %s does not fit in a 64-bit INTEGER", s)
		}
		return i, nil
	case "string":
		return v.String(), nil
	case "object":
		if v.IsNull() {
			return nil, nil
		}
		if jsutil.IsBytes(v) {
			return jsutil.Bytes(v), nil
		}
		if v.InstanceOf(jsutil.Global().Get("Date")) {
			return v.Call("toISOString").String(), nil
		}
	}
	return nil, engine.Errorf("SQLITE_MISMATCH", "unsupported parameter type %s", jsutil.TypeOf(v))
}

// toJSError builds the Error a Promise rejects with: message, code (SQLite's
// extended code name or a LARDER_* code) and, for a failed migration,
// migration: {version, name}.
func toJSError(err error) jsutil.Value {
	e := engine.Classify(err)
	var se *sqlite3.Error
	msg := e.Message
	if errors.As(err, &se) && msg == "" {
		msg = se.Error()
	}
	o := jsutil.Global().Get("Error").New(msg)
	o.Set("code", e.Code)
	if e.Migration != nil {
		m := jsutil.Object()
		m.Set("version", integer(e.Migration.Version))
		m.Set("name", e.Migration.Name)
		o.Set("migration", m)
	}
	return o
}
