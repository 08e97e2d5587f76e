// Package jsbridge is the Go side of Larder's JavaScript API: it opens
// databases on a storage backend, applies migrations on open, runs the
// requests of larder.js (exec, query, transactions, export, import, reset)
// and turns their results and errors into what the JS client expects.
//
// The package has two layers. The core ([Host], [Database]) is plain Go over
// github.com/ncruces/go-sqlite3 and runs natively, so it is tested with
// `go test` on memdb. The JS layer ([Serve], only under GOOS=js) converts
// requests arriving from the worker script (jsbridge/js/larder-worker.js)
// into core calls, each on its own goroutine answered through a Promise, and
// reports events (change, versionchange) back to the script.
//
// # Request protocol
//
// The worker script calls one function, globalThis.__larder.call(op, req),
// with op one of "open", "exec", "query", "begin", "commit", "rollback",
// "migrations", "export", "import", "reset", "close". Every request that
// names a database carries db (the database name) and, inside a
// transaction, tx (the id returned by "begin"). Because the protocol is
// plain messages, a tab that does not own the database forwards the same
// requests to the owner (see larder.js, "Many tabs").
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
package jsbridge
