// Package jsbridge is larder.wasm's seam onto JavaScript: it takes the
// requests of the worker script (jsbridge/js/larder-worker.js) out of
// syscall/js, hands them to package engine (the plain-Go database engine,
// tested natively) and turns results, errors and events back into what the
// script expects. Everything here builds only under GOOS=js, except the
// browser tests (-tags browser), which drive the real dist/ in a browser.
//
// The files: bridge_js.go ([Serve], the ops of call), direct_js.go (exec,
// query and run through the wasm exports: [DirectRun]), migration_js.go
// (migrations passed to open, JS function migrations), values_js.go
// (events, parameters and errors between JavaScript and Go values), and
// testhooks*.go (the fault injection of test builds).
//
// # Request protocol
//
// The worker script calls globalThis[hook].call(op, req), with op one of
// "open", "begin", "commit", "rollback", "migrations", "readset", "export",
// "import", "reset", "close" (and "warmup", below). exec, query and run,
// the calls that matter for speed, go through two wasm exports of
// larder.wasm instead (larder_buf and larder_run, wasm/main_js.go,
// [DirectRun]): the script writes the database name, the SQL and the
// parameters, encoded in one buffer (engine.StatementRequest), into Go's
// memory, calls the export, and reads the result from Go's memory, with no
// syscall/js event at all (an event costs ~100 µs a call;
// bench/findings.md). Every request that names a database carries it and,
// inside a transaction, tx (the id returned by "begin"). Because the
// protocol is plain messages, a tab that does not own the database forwards
// the same requests to the owner (see larder-worker.js, "Many tabs").
// docs/PROTOCOL.md is the reference.
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
// # Results
//
// A query answers with one Uint8Array in a flat encoding built in one pass
// over the rows (engine.EncodeRows), which the worker transfers to the page
// without copying and larder.js decodes. An exec answers changes and
// lastInsertRowid (two little-endian int64s); a run answers both, followed
// by the rows.
//
// # Warm-up
//
// The op "warmup" ({ms, rounds}, then {close: true}) runs an
// engine.Warmup: the code of a call, on a private in-memory database, so
// that on the first visit of a larder.wasm build V8 optimises it before
// Chrome writes the module's code cache, which later visits only read. The
// worker script calls it in idle slices, once per build (larder-worker.js,
// Warmer).
package jsbridge
