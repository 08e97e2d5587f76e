//go:build js

package jsbridge

import (
	"context"
	"encoding/binary"
	"runtime"
	"unsafe"

	"github.com/larderdb/larder/engine"
	"github.com/larderdb/larder/internal/jsutil"
)

// The direct entry (wasm exports, see wasm/main_js.go).
//
// The worker script runs an exec, a query or a run without syscall/js:
// it writes the [engine.StatementRequest] into a buffer of Go's memory
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
