//go:build js

package jsbridge

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/engine"
	"github.com/larderdb/larder/internal/jsutil"
	"github.com/larderdb/larder/migrations"
	msqlite "github.com/larderdb/larder/migrations/sqlite"
)

// CodeCrashed is the code of every call after a Go panic: the instance's
// state can no longer be trusted, so the handle is dead and says why.
const CodeCrashed = "LARDER_CRASHED"

// Serve installs the request function of the JS API as globalThis[hook]
// and returns; the caller (larder.wasm's main) then blocks forever so that
// the instance keeps serving. The object has:
//
//   - call(op, req): every request but exec and query (open, begin,
//     migrations, export, …), which go through the wasm exports instead
//     ([DirectRun]);
//   - onevent(db, detail), which the worker script sets;
//   - settle(id, failed, value), which the worker script sets.
//
// call answers synchronously when the work does not wait on JavaScript
// (see [jsutil.Runner]): the value, or with st set to 1 an Error. With st
// set to 2 the value is a call id, and settle(id, …) delivers the outcome
// later (possibly before call has returned to the script, which must
// therefore keep early settlements).
func Serve(h *engine.Host, hook string) {
	s := &server{h: h, runner: jsutil.NewRunner()}
	direct = s
	api := jsutil.Object()
	s.api = api
	api.Set("call", jsutil.SyncFunc(func(_ jsutil.Value, args []jsutil.Value) any {
		if len(args) < 2 {
			return jsutil.Undefined()
		}
		op, req := args[0].String(), args[1]
		return s.answer(func() (any, error) { return s.call(op, req) })
	}))
	h.OnEvent = s.event
	jsutil.Global().Set(hook, api)
}

type server struct {
	h      *engine.Host
	api    jsutil.Value
	dead   atomic.Pointer[engine.Error]
	runner *jsutil.Runner
	warm   *engine.Warmup // while the worker script warms up
	seq    float64        // ids of calls answered asynchronously
	dbuf   []byte         // the direct entry's buffer (header and request)
	res    []byte         // the direct entry's last result
}

// Call statuses (the api's st property).
const (
	stFailed  = 1
	stPending = 2
)

// answer runs work through the runner and answers the JS caller.
func (s *server) answer(work func() (any, error)) any {
	s.seq++
	id := s.seq
	v, err, sync := s.runner.Call(work, s.settler(id, func(v any) any { return v }))
	switch {
	case !sync:
		s.api.Set("st", stPending)
		return id
	case err != nil:
		s.api.Set("st", stFailed)
		return toJSError(err)
	}
	return v
}

// ---- the direct entry (wasm exports, see wasm/main_js.go) ----
//
// The worker script can also run an exec or a query without syscall/js:
// it writes the [StatementRequest] into a buffer of Go's memory
// ([DirectBuffer]) and calls [DirectRun] through a wasm export. A call
// into Go through a js.FuncOf function costs ~100 µs of event handling
// (measured: bench/findings.md); an export call almost nothing.
//
// The buffer starts with an 8-byte header: a sentinel word the script sets
// to 1 and DirectRun clears when it returns (an export that finds every
// goroutine idle returns early, result unset: the script then sees the
// sentinel and reports LARDER_CRASHED rather than a wrong answer), and a
// word that answers the address of the result or, when pending, the call
// id. The request follows at offset 8.

var direct *server

const directHeader = 8

// DirectBuffer returns the address of the buffer for a request of n bytes
// (at offset 8; see above). It is valid until the next DirectBuffer.
func DirectBuffer(n int32) unsafe.Pointer {
	s := direct
	if need := int(n) + directHeader; cap(s.dbuf) < need {
		s.dbuf = make([]byte, need+need/2)
	}
	return unsafe.Pointer(&s.dbuf[0])
}

// DirectRun runs the exec (kind 1), query (kind 2) or run (kind 3) whose
// request of n bytes is in the buffer, tx the open transaction (0: none),
// known the version the handle knows (-1: none). It answers the length of the result
// (its address in the header's second word; it stays valid until the next
// DirectRun), or -1 for an error (the Error is the api's err property), or
// -2 when the outcome comes later through settle (the id in the header).
func DirectRun(kind, n int32, tx, known float64) int32 {
	s := direct
	buf := s.dbuf[:directHeader+int(n)]
	defer binary.LittleEndian.PutUint32(buf[0:4], 0) // the sentinel: returned normally
	// Unlike a js.FuncOf event, which returns to JavaScript only once every
	// goroutine is idle, an export returns as soon as DirectRun does:
	// goroutines this call made runnable (a call answered pending on its
	// own goroutine, a waiter of a mutex released here) would then sit
	// until Go is next entered. Let them run first; when the runner is
	// quiet there are none.
	defer func() {
		if !s.runner.Quiet() {
			runtime.Gosched()
			runtime.Gosched()
		}
	}()
	r, derr := engine.DecodeStatement(buf[directHeader:])
	work := func() (any, error) {
		if derr != nil {
			return nil, &engine.Error{Code: engine.CodeInvalidArgument, Message: derr.Error(), Err: derr}
		}
		return s.run(int(kind), uint64(tx), int64(known), r)
	}
	s.seq++
	id := s.seq
	v, err, sync := s.runner.Call(work, s.settler(id, func(v any) any { return jsutil.Uint8Array(v.([]byte)) }))
	switch {
	case !sync:
		binary.LittleEndian.PutUint32(buf[4:8], uint32(id))
		return -2
	case err != nil:
		s.api.Set("err", toJSError(err))
		return -1
	}
	s.res = v.([]byte)
	binary.LittleEndian.PutUint32(buf[4:8], uint32(uintptr(unsafe.Pointer(unsafe.SliceData(s.res)))))
	return int32(len(s.res))
}

// settler delivers the outcome of call id, answered "pending", through the
// script's settle(id, failed, value); toJS converts a result.
func (s *server) settler(id float64, toJS func(any) any) func(any, error) {
	return func(v any, err error) {
		settle := s.api.Get("settle")
		if err != nil {
			settle.Invoke(id, true, toJSError(err))
		} else {
			settle.Invoke(id, false, toJS(v))
		}
	}
}

// Statement kinds of the direct entry.
const (
	kindExec  = 1
	kindQuery = 2
	kindRun   = 3
)

// run is an exec, a query or a run: changes and lastInsertRowid of an exec
// (two little-endian int64s), the rows of a query, or both for a run
// (engine.Database.Run).
func (s *server) run(kind int, tx uint64, known int64, r engine.StatementRequest) (res []byte, err error) {
	if d := s.dead.Load(); d != nil {
		return nil, d
	}
	op := "exec"
	switch kind {
	case kindQuery:
		op = "query"
	case kindRun:
		op = "run"
	}
	defer crash(s, op, &res, &err)
	ctx := context.Background()
	d, err := s.h.Lookup(r.DB)
	if err != nil {
		return nil, err
	}
	if known >= 0 {
		if err := d.CheckCurrent(known); err != nil {
			return nil, err
		}
	}
	switch kind {
	case kindQuery:
		return d.Query(ctx, tx, r.SQL, r.Params)
	case kindRun:
		return d.Run(ctx, tx, r.SQL, r.Params)
	case kindExec:
	default:
		return nil, engine.Errorf(engine.CodeInvalidArgument, "larder: unknown statement kind %d (want 1 exec, 2 query, 3 run)", kind)
	}
	x, err := d.Exec(ctx, tx, r.SQL, r.Params)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 16)
	binary.LittleEndian.PutUint64(out[:8], uint64(x.Changes))
	binary.LittleEndian.PutUint64(out[8:], uint64(x.LastInsertRowID))
	return out, nil
}

// crash turns a panic into LARDER_CRASHED for this and every later call:
// the instance's state can no longer be trusted.
// It must be deferred directly (recover works only there).
func crash[T any](s *server, op string, res *T, err *error) {
	if r := recover(); r != nil {
		e := &engine.Error{Code: CodeCrashed, Message: fmt.Sprintf("larder: Go panic in %s: %v; this database handle is dead, open it again", op, r)}
		s.dead.CompareAndSwap(nil, e)
		var zero T
		*res, *err = zero, e
	}
}

// call runs one request; a panic kills the instance (every later call gets
// LARDER_CRASHED) rather than leave a connection in an unknown state.
func (s *server) call(op string, req jsutil.Value) (res any, err error) {
	if d := s.dead.Load(); d != nil {
		return nil, d
	}
	defer crash(s, op, &res, &err)
	ctx := context.Background()
	if op == "open" {
		return s.open(ctx, req)
	}
	if op == "reset" {
		return nil, s.h.Reset(ctx, str(req, "db"), str(req, "storage"))
	}
	if op == "close" {
		return nil, s.h.Close(str(req, "db"))
	}
	if op == "shutdown" { // the owner stops serving the database
		return nil, s.h.Shutdown(str(req, "db"))
	}
	if op == "closeAll" { // pagehide: release every storage handle
		s.h.CloseAll()
		return nil, nil
	}
	if op == "warmup" { // the worker script's idle slices (see engine.Warmup)
		return s.warmup(ctx, req)
	}
	if testHook(op, req) { // test builds only (testhooks_js.go)
		return nil, nil
	}
	d, err := s.h.Lookup(str(req, "db"))
	if err != nil {
		return nil, err
	}
	if k := req.Get("known"); k.Type() == jsutil.TypeNumber && op != "migrations" {
		if err := d.CheckCurrent(int64(k.Float())); err != nil {
			return nil, err
		}
	}
	tx := txID(req)
	switch op {
	case "begin":
		id, err := d.Begin(ctx)
		return float64(id), err
	case "commit":
		return nil, d.Commit(tx)
	case "rollback":
		return nil, d.Rollback(tx)
	case "migrations":
		recs, err := d.Migrations(ctx, tx)
		if err != nil {
			return nil, err
		}
		out := jsutil.Array(len(recs))
		for i, r := range recs {
			o := jsutil.Object()
			o.Set("version", integer(r.Version))
			o.Set("name", r.Name)
			o.Set("checksum", r.Checksum)
			o.Set("appliedAt", r.AppliedAt.UTC().Format(migrations.TimeFormat))
			o.Set("durationMs", r.DurationMS)
			o.Set("breaking", r.Breaking)
			out.SetIndex(i, o)
		}
		return out, nil
	case "readset": // {db, sql}: the tables sql reads, for db.watch
		tables, err := d.ReadSet(ctx, tx, str(req, "sql"))
		if err != nil {
			return nil, err
		}
		out := jsutil.Array(len(tables))
		for i, t := range tables {
			out.SetIndex(i, t)
		}
		return out, nil
	case "sync": // {db, url, token, config?}: one round (client/sync.js) → {pushed, pulled, rejected, tables}
		if c := req.Get("config"); c.Type() == jsutil.TypeString {
			if err := d.InstallSync(ctx, c.String()); err != nil {
				return nil, err
			}
		}
		return syncRound(ctx, d, str(req, "url"), str(req, "token"))
	case "export":
		b, err := d.Export(ctx)
		if err != nil {
			return nil, err
		}
		return jsutil.Uint8Array(b), nil
	case "import":
		v := req.Get("bytes")
		if !jsutil.IsBytes(v) {
			return nil, engine.Errorf(engine.CodeInvalidDatabase, "import: want a Uint8Array or ArrayBuffer")
		}
		opts := engine.ImportOptions{AllowExtraSchema: req.Get("allowExtraSchema").Truthy()}
		if ms := req.Get("timeoutMs"); ms.Type() == jsutil.TypeNumber && ms.Float() > 0 {
			opts.Timeout = time.Duration(ms.Float() * float64(time.Millisecond))
		}
		if err := d.ImportWith(ctx, jsutil.Bytes(v), opts); err != nil {
			return nil, err
		}
		return float64(d.Version()), nil
	}
	return nil, engine.Errorf(engine.CodeInvalidArgument, "unknown request %q", op)
}

// warmup runs Warmup steps for req.ms milliseconds or until req.rounds
// rounds are complete, and answers the rounds completed; req.close ends it
// (the private database is freed).
func (s *server) warmup(ctx context.Context, req jsutil.Value) (any, error) {
	if req.Get("close").Truthy() {
		if s.warm == nil {
			return 0.0, nil
		}
		n := s.warm.Rounds()
		err := s.warm.Close()
		s.warm = nil
		return float64(n), err
	}
	if s.warm == nil {
		w, err := engine.NewWarmup(ctx)
		if err != nil {
			return nil, err
		}
		s.warm = w
	}
	ms, rounds := req.Get("ms"), req.Get("rounds")
	if ms.Type() != jsutil.TypeNumber || ms.Float() <= 0 || rounds.Type() != jsutil.TypeNumber {
		return nil, engine.Errorf(engine.CodeInvalidArgument, "warmup: want {ms, rounds} (numbers, ms > 0)")
	}
	n, err := s.warm.RunFor(time.Duration(ms.Float()*float64(time.Millisecond)), int(rounds.Float()))
	return float64(n), err
}

func (s *server) open(ctx context.Context, req jsutil.Value) (any, error) {
	o := engine.OpenOptions{Name: str(req, "name"), Storage: str(req, "storage")}
	if v := req.Get("allowOutOfOrder"); v.Type() == jsutil.TypeBoolean {
		o.AllowOutOfOrder = v.Bool()
	}
	if v := req.Get("sync"); v.Type() == jsutil.TypeString { // the sync.toml text (client/sync.js)
		o.Sync = v.String()
	}
	if ms := req.Get("migrations"); ms.Type() == jsutil.TypeObject {
		for i := range ms.Length() {
			m, err := migration(ms.Index(i))
			if err != nil {
				return nil, &engine.Error{Code: "LARDER_INVALID_MIGRATIONS", Message: fmt.Sprintf("open: migration %d: %v", i, err), Err: err}
			}
			o.Migrations = append(o.Migrations, m)
		}
	}
	d, res, err := s.h.Open(ctx, o)
	if err != nil {
		return nil, err
	}
	out := jsutil.Object()
	out.Set("storage", res.Storage)
	out.Set("version", integer(d.Version()))
	applied := jsutil.Array(0)
	for _, r := range res.Applied {
		if !r.Skipped {
			applied.Call("push", integer(r.Migration.Version))
		}
	}
	out.Set("applied", applied)
	return out, nil
}

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

// syncRound runs one sync round against the edge at url with the bearer
// token the page fetched for it (syncfetch_js.go).
func syncRound(ctx context.Context, d *engine.Database, url, token string) (any, error) {
	n, err := d.Sync(ctx, fetchTransport{url: url, token: token})
	if err != nil {
		return nil, err
	}
	o := jsutil.Object()
	o.Set("pushed", float64(n.Pushed))
	o.Set("pulled", float64(n.Pulled))
	o.Set("rejected", float64(len(n.Rejected)))
	tables := jsutil.Array(len(n.Tables))
	for i, t := range n.Tables {
		tables.SetIndex(i, t)
	}
	o.Set("tables", tables)
	return o, nil
}
