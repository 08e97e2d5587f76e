//go:build js

package jsbridge

import (
	"context"
	"fmt"
	"sync"

	"github.com/larderdb/larder/engine"
	"github.com/larderdb/larder/internal/jsutil"
	"github.com/larderdb/larder/migrations"
	msqlite "github.com/larderdb/larder/migrations/sqlite"
)

// migration converts one entry of open({migrations}) (already normalised
// by the worker script: version a number, up/down a string or a function).
func migration(v jsutil.Value) (*migrations.Migration, error) {
	version := int64(v.Get("version").Float())
	name := str(v, "name")
	breaking := v.Get("breaking").Truthy()
	up, down := v.Get("up"), v.Get("down")
	if up.Type() == jsutil.TypeFunction {
		var downFn migrations.Func
		if down.Type() == jsutil.TypeFunction {
			downFn = jsMigration(down)
		}
		m := migrations.Go(version, name, jsMigration(up), downFn)
		m.Breaking = breaking
		return m, nil
	}
	e := migrations.BundleEntry{Version: version, Name: name, Up: str(v, "up"), Checksum: str(v, "checksum"), Breaking: breaking,
		NoTransaction: v.Get("noTransaction").Truthy(), DownNoTransaction: v.Get("downNoTransaction").Truthy()}
	if down.Type() == jsutil.TypeString {
		s := down.String()
		e.Down = &s
	}
	return e.Migration()
}

// jsMigration wraps a JS function migration (tx) => Promise as a Go one: it
// runs inside the worker, inside the migration's transaction, with a tx
// whose exec/query return Promises (so it may await them).
func jsMigration(fn jsutil.Value) migrations.Func {
	return func(ctx context.Context, tx migrations.Tx) error {
		stx, ok := tx.(*msqlite.Tx)
		if !ok {
			return fmt.Errorf("JS migration needs an SQLite transaction, got %T", tx)
		}
		conn := stx.Conn()
		var mu sync.Mutex
		var buf []byte
		run := func(wantRows bool) func(jsutil.Value, []jsutil.Value) (any, error) {
			return func(_ jsutil.Value, args []jsutil.Value) (any, error) {
				if len(args) == 0 || args[0].Type() != jsutil.TypeString {
					return nil, engine.Errorf(engine.CodeInvalidArgument, "tx.exec/query: want (sql, params)")
				}
				var pv jsutil.Value
				if len(args) > 1 {
					pv = args[1]
				}
				p, err := params(pv)
				if err != nil {
					return nil, err
				}
				mu.Lock()
				defer mu.Unlock()
				rows, err := engine.RunSQL(conn, args[0].String(), p, wantRows, &buf)
				if err != nil {
					return nil, err
				}
				if wantRows {
					return decodeToJS(rows), nil
				}
				o := jsutil.Object()
				o.Set("changes", conn.Changes())
				o.Set("lastInsertRowid", integer(conn.LastInsertRowID()))
				return o, nil
			}
		}
		exec := jsutil.Func(run(false), toJSError)
		query := jsutil.Func(run(true), toJSError)
		defer exec.Release()
		defer query.Release()
		t := jsutil.Object()
		t.Set("exec", exec)
		t.Set("query", query)
		r, err := jsutil.Call(jsutil.Global().Get("Reflect"), "apply", fn, jsutil.Undefined(), []any{t})
		if err != nil {
			return err
		}
		_, err = jsutil.Await(r)
		return err
	}
}

// decodeToJS builds row objects for a JS migration's tx.query (the page's
// larder.js decodes the same encoding itself; this path is rare).
func decodeToJS(b []byte) jsutil.Value {
	cols, rows, _ := engine.DecodeRows(b)
	out := jsutil.Array(len(rows))
	for i, r := range rows {
		o := jsutil.Object()
		for j, c := range cols {
			switch v := r[j].(type) {
			case nil:
				o.Set(c, jsutil.Null())
			case int64:
				o.Set(c, integer(v))
			case []byte:
				o.Set(c, jsutil.Uint8Array(v))
			default:
				o.Set(c, v)
			}
		}
		out.SetIndex(i, o)
	}
	return out
}
