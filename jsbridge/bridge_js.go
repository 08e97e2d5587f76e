//go:build js

package jsbridge

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/larderdb/larder/engine"
	"github.com/larderdb/larder/internal/jsutil"
	"github.com/larderdb/larder/migrations"
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
	if op == "warmup" { // the worker script's idle slices (see engine.Warmup)
		return s.warmup(ctx, req)
	}
	if res, ok := testHook(op, req); ok { // test builds only (testhooks_js.go)
		return res, nil
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
	case "sync": // {db, url, token, config?}: one round (client/sync.js) → {pushed, pulled, rejected, rejections, tables}
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
	start := time.Now()
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
	read := time.Now()
	d, res, err := s.h.Open(ctx, o)
	if err != nil {
		return nil, err
	}
	out := jsutil.Object()
	// The phases of this open, in ms from the call (client/host.js makes
	// them larder:migrations-read, larder:storage-open and larder:migrate).
	ms := func(t time.Time) float64 { return float64(t.Sub(start).Microseconds()) / 1000 }
	phases := jsutil.Array(3)
	phases.SetIndex(0, ms(read))
	phases.SetIndex(1, ms(res.Opened))
	phases.SetIndex(2, ms(res.Migrated))
	out.Set("phases", phases)
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
	rejections := jsutil.Array(len(n.Rejected))
	for i, r := range n.Rejected {
		ro := jsutil.Object()
		ro.Set("table", r.Table)
		ro.Set("pk", r.PK)
		ro.Set("code", r.Code)
		ro.Set("message", r.Message)
		ro.Set("dropped", r.Gone)
		rejections.SetIndex(i, ro)
	}
	o.Set("rejections", rejections)
	tables := jsutil.Array(len(n.Tables))
	for i, t := range n.Tables {
		tables.SetIndex(i, t)
	}
	o.Set("tables", tables)
	return o, nil
}
