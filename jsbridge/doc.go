// Package jsbridge is the Go side of Larder's JavaScript API: it opens
// databases on a storage backend, applies migrations on open, runs the
// requests of larder.js (exec, query, transactions, export, import, reset)
// and turns their results and errors into what the JS client expects.
//
// The package has two layers. The core ([Host], [Database]) is plain Go over
// github.com/ncruces/go-sqlite3 and runs natively, so it is tested with
// `go test` on memdb. The JS layer ([Serve], only under GOOS=js) converts
// requests arriving from the worker script (jsbridge/js/larder-worker.js)
// into core calls and reports events (change, versionchange) back to the
// script.
//
// # Request protocol
//
// The worker script calls globalThis[hook].call(op, req), with op one of
// "open", "begin", "commit", "rollback", "migrations", "export", "import",
// "reset", "close" (and "warmup", below). exec and query, the calls that matter for speed, go
// through two wasm exports of larder.wasm instead (larder_buf and
// larder_run, wasm/main_js.go, [DirectRun]): the script writes the database
// name, the SQL and the parameters, encoded in one buffer
// ([StatementRequest]), into Go's memory, calls the export, and reads the
// result from Go's memory, with no syscall/js event at all (an event costs
// ~100 µs a call; bench/findings.md). Every request that names a database
// carries it and, inside a transaction, tx (the id returned by "begin").
// Because the protocol is plain messages, a tab that does not own the
// database forwards the same requests to the owner (see larder-worker.js,
// "Many tabs").
//
// # Synchronous answers
//
// Both entries run the call's work on one long-lived goroutine through a
// jsutil.Runner and wait for it: a statement on memory or OPFS (whose VFS
// never waits on JavaScript) is answered synchronously, as the function's
// return value, with no Promise, goroutine or js.FuncOf made for it. When
// the work has to wait on JavaScript (an IndexedDB transaction, a Promise,
// a retry timer, or the gate of a transaction another call holds: each
// announced with jsutil.Blocking), the function returns at once with the
// status "pending" and a call id, and the outcome arrives later through
// the script's settle(id, failed, value).
//
// # Query results
//
// A query answers with one Uint8Array in a flat encoding built in one pass
// over the rows, which the worker transfers to the page without copying and
// larder.js decodes into row objects (see [EncodeRows]).
//
// # Transactions
//
// "begin" takes the database's gate (BEGIN IMMEDIATE) and returns a
// transaction id; until "commit" or "rollback" with that id, every other
// request on the database waits for the gate, so calls made on db during a
// transaction queue instead of interleaving into it. A transaction idle for
// longer than [TxIdleTimeout] (its page died) is rolled back.
//
// # Warm-up
//
// The op "warmup" ({ms, rounds}, then {close: true}) runs a [Warmup]: the
// code of a call, on a private in-memory database, so that on the first
// visit of a larder.wasm build V8 optimises it before Chrome writes the
// module's code cache, which later visits only read. The worker script
// calls it in idle slices, once per build (larder-worker.js, Warmer).
package jsbridge
