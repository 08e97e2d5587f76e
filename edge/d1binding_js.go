//go:build js

package main

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/syumai/workers/cloudflare"

	"github.com/larderdb/larder/internal/jsutil"
	"github.com/larderdb/larder/migrations/d1"
)

// d1Conn is a D1 database binding of the Worker's environment: the
// d1.Conn the migration store runs on, the one piece of it that speaks
// syscall/js.
type d1Conn struct{ db js.Value }

var _ d1.Conn = (*d1Conn)(nil)

// openD1 returns the D1 binding named name in wrangler.toml
// ([[d1_databases]] binding = "DB"). It must be called while serving a
// request (the environment is per request).
func openD1(name string) (*d1Conn, error) {
	db := cloudflare.GetBinding(name)
	if db.Type() != js.TypeObject || db.Get("batch").Type() != js.TypeFunction {
		return nil, fmt.Errorf("d1: no D1 binding %q in the Worker's environment (see wrangler.toml)", name)
	}
	return &d1Conn{db: db}, nil
}

// prepare makes the binding's prepared statement of st, its arguments
// bound.
func (b *d1Conn) prepare(st d1.Statement) (js.Value, error) {
	p, err := jsutil.Call(b.db, "prepare", st.SQL)
	if err != nil {
		return js.Value{}, d1Error(err)
	}
	if len(st.Args) == 0 {
		return p, nil
	}
	args := make([]any, len(st.Args))
	for j, a := range st.Args {
		if args[j], err = d1Param(a); err != nil {
			return js.Value{}, fmt.Errorf("d1: parameter %d: %w", j+1, err)
		}
	}
	if p, err = jsutil.Call(p, "bind", args...); err != nil {
		return js.Value{}, d1Error(err)
	}
	return p, nil
}

// Batch runs stmts with the binding's batch().
func (b *d1Conn) Batch(ctx context.Context, stmts []d1.Statement) ([][]d1.Row, error) {
	arr := js.Global().Get("Array").New(len(stmts))
	for i, st := range stmts {
		p, err := b.prepare(st)
		if err != nil {
			return nil, fmt.Errorf("d1: statement %d: %w", i+1, err)
		}
		arr.SetIndex(i, p)
	}
	pr, err := jsutil.Call(b.db, "batch", arr)
	if err != nil {
		return nil, d1Error(err)
	}
	v, err := jsutil.Await(pr)
	if err != nil {
		return nil, d1Error(err)
	}
	out := make([][]d1.Row, v.Length())
	for i := range out {
		rs := v.Index(i).Get("results")
		if rs.Type() != js.TypeObject {
			continue
		}
		rows := make([]d1.Row, rs.Length())
		for j := range rows {
			rows[j] = d1Row(rs.Index(j))
		}
		out[i] = rows
	}
	return out, nil
}

// Raw runs one statement with the binding's raw(), which answers each
// row as an array in column order (batch() answers objects keyed by
// column name, which lose duplicate names and order): the query side of
// the sync store.
func (b *d1Conn) Raw(ctx context.Context, st d1.Statement) ([][]any, error) {
	p, err := b.prepare(st)
	if err != nil {
		return nil, err
	}
	pr, err := jsutil.Call(p, "raw")
	if err != nil {
		return nil, d1Error(err)
	}
	v, err := jsutil.Await(pr)
	if err != nil {
		return nil, d1Error(err)
	}
	out := make([][]any, v.Length())
	for i := range out {
		r := v.Index(i)
		row := make([]any, r.Length())
		for j := range row {
			row[j] = d1Value(r.Index(j))
		}
		out[i] = row
	}
	return out, nil
}

func d1Error(err error) error {
	var de *jsutil.DOMError
	if errors.As(err, &de) {
		return d1.ParseError(de.Message)
	}
	return err
}

// d1Param converts a parameter. D1 numbers are JavaScript numbers: integers
// beyond 2^53 would lose precision, so they are refused.
func d1Param(a any) (any, error) {
	switch v := a.(type) {
	case nil, string, float64:
		return v, nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case []byte:
		// A BLOB: D1 binds an ArrayBuffer view as one.
		u8 := js.Global().Get("Uint8Array").New(len(v))
		js.CopyBytesToJS(u8, v)
		return u8, nil
	case int:
		return d1Param(int64(v))
	case int64:
		if v > 1<<53 || v < -(1<<53) {
			return nil, fmt.Errorf("integer %d does not fit a JavaScript number exactly", v)
		}
		return float64(v), nil
	}
	return nil, fmt.Errorf("unsupported type %T", a)
}

func d1Row(o js.Value) d1.Row {
	keys := js.Global().Get("Object").Call("keys", o)
	row := make(d1.Row, keys.Length())
	for i := 0; i < keys.Length(); i++ {
		k := keys.Index(i).String()
		row[k] = d1Value(o.Get(k))
	}
	return row
}

func d1Value(v js.Value) any {
	switch v.Type() {
	case js.TypeNumber:
		return v.Float()
	case js.TypeString:
		return v.String()
	case js.TypeBoolean:
		if v.Bool() {
			return float64(1)
		}
		return float64(0)
	case js.TypeObject:
		// Blobs come back as arrays of byte values or ArrayBuffers.
		u8 := js.Global().Get("Uint8Array").New(v)
		b := make([]byte, u8.Length())
		js.CopyBytesToGo(b, u8)
		return b
	}
	return nil
}
