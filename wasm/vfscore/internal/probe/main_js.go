//go:build js

// Command probe is a test program for the opfs and idb VFSes in a real
// browser: the browser test of this package builds it to wasm and drives
// it from a dedicated worker and a service worker. It is not part of
// larder.wasm.
package main

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"
	"time"

	"github.com/larderdb/larder/wasm/idb"
	"github.com/larderdb/larder/wasm/opfs"
	"github.com/ncruces/go-sqlite3"
)

type backend struct {
	pragmas   string
	available func() bool
	preopen   func(context.Context, string) error
	release   func(string) error
	del       func(context.Context, string) error
}

var backends = map[string]backend{
	"opfs": {opfs.RecommendedPragmas, opfs.Available, opfs.Preopen, opfs.Release, opfs.Delete},
	"idb":  {idb.RecommendedPragmas, idb.Available, idb.Preopen, idb.Release, idb.Delete},
}

func main() {
	js.Global().Set("probe", js.FuncOf(func(_ js.Value, args []js.Value) any {
		op, vfsName, name, n := args[0].String(), args[1].String(), args[2].String(), args[3].Int()
		return promise(func() (any, error) { return run(op, vfsName, name, n) })
	}))
	js.Global().Set("probeReady", true)
	select {}
}

func run(op, vfsName, name string, n int) (any, error) {
	ctx := context.Background()
	b, ok := backends[vfsName]
	if !ok && op != "avail" {
		return nil, fmt.Errorf("unknown vfs %q", vfsName)
	}
	switch op {
	case "avail":
		return map[string]any{"opfs": opfs.Available(), "idb": idb.Available()}, nil
	case "preopen":
		t0 := time.Now()
		err := b.preopen(ctx, name)
		if err != nil {
			return nil, err
		}
		return time.Since(t0).Milliseconds(), nil
	case "release":
		return nil, b.release(name)
	case "delete":
		return nil, b.del(ctx, name)
	case "longtx":
		// One transaction of n steps of 1000 rows each, reporting each
		// step, so that the page can kill the worker in the middle.
		conn, err := sqlite3.Open("file:" + name + "?vfs=" + vfsName)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		if err := conn.Exec(b.pragmas + "BEGIN IMMEDIATE; CREATE TABLE big(i INTEGER PRIMARY KEY, pad TEXT)"); err != nil {
			return nil, err
		}
		for k := range n {
			if err := conn.Exec(fmt.Sprintf("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000) INSERT INTO big SELECT i + %d, printf('%%0100d', i) FROM c", k*1000)); err != nil {
				return nil, err
			}
			js.Global().Call("postMessage", map[string]any{"step": k + 1})
			time.Sleep(time.Millisecond) // let the page's kill arrive
		}
		return nil, conn.Exec("COMMIT")
	case "bigcount":
		conn, err := sqlite3.Open("file:" + name + "?vfs=" + vfsName)
		if err != nil {
			return nil, err
		}
		defer func() {
			conn.Close()
			b.release(name)
		}()
		if err := conn.Exec(b.pragmas); err != nil {
			return nil, err
		}
		ic, err := scalar(conn, "PRAGMA integrity_check")
		if err != nil {
			return nil, err
		}
		count, err := scalar(conn, "SELECT count(*) FROM sqlite_schema WHERE name = 'big'")
		if err == nil && count == "1" {
			count, err = scalar(conn, "SELECT count(*) FROM big")
		} else if err == nil {
			count = "no table"
		}
		return map[string]any{"integrity": ic, "count": count}, err
	case "insert", "loop", "check":
		conn, err := sqlite3.Open("file:" + name + "?vfs=" + vfsName)
		if err != nil {
			return nil, err
		}
		defer func() {
			conn.Close()
			b.release(name)
		}()
		if err := conn.Exec(b.pragmas + "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
			return nil, err
		}
		base := 0
		if op == "loop" {
			c, err := scalar(conn, "SELECT count(*) FROM t")
			if err != nil {
				return nil, err
			}
			fmt.Sscan(c, &base)
		}
		for i := 0; op == "loop" || i < n; i++ {
			if op == "check" {
				break
			}
			if err := conn.Exec(fmt.Sprintf("INSERT INTO t(v) VALUES (printf('%%0500d', %d))", i)); err != nil {
				return nil, fmt.Errorf("insert %d: %w", i, err)
			}
			if op == "loop" {
				// The commit returned: report the rows acknowledged so far.
				js.Global().Call("postMessage", map[string]any{"acked": base + i + 1})
			}
		}
		ic, err := scalar(conn, "PRAGMA integrity_check")
		if err != nil {
			return nil, err
		}
		count, err := scalar(conn, "SELECT count(*) FROM t")
		return map[string]any{"integrity": ic, "count": count}, err
	}
	return nil, fmt.Errorf("unknown op %q", op)
}

func scalar(conn *sqlite3.Conn, sql string) (string, error) {
	stmt, _, err := conn.Prepare(sql)
	if err != nil {
		return "", err
	}
	defer stmt.Close()
	if !stmt.Step() {
		return "", errors.Join(stmt.Err(), errors.New("no row"))
	}
	return stmt.ColumnText(0), nil
}

// promise runs work on a goroutine and settles a Promise with its result.
func promise(work func() (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			v, err := work()
			if err != nil {
				reject.Invoke(js.Global().Get("Error").New(err.Error()))
				return
			}
			resolve.Invoke(js.ValueOf(v))
		}()
		return nil
	})
	p := js.Global().Get("Promise").New(executor)
	executor.Release()
	return p
}
