// Package engine is Larder's database engine for the browser, in plain Go:
// what larder.wasm does with a request once package jsbridge has taken it
// out of JavaScript. It runs natively over github.com/ncruces/go-sqlite3, so
// everything here is tested with `go test` on real SQLite (memdb or files).
//
// The files, by role:
//
//   - host.go: [Host], the databases open in one larder.wasm instance,
//     storage backends ([Storage]: memory.go, and the VFS packages
//     wasm/opfs and wasm/idb), open, close, reset, events ([Event]).
//   - database.go: [Database], one SQLite connection shared by every
//     handle on it; closing.
//   - transactions.go: the gate (one call, or one transaction from Begin to
//     Commit, at a time) and the idle-transaction timer.
//   - statements.go: exec, query and run ([Database.Exec], [Database.Query],
//     [Database.Run]), parameter binding; stmtcache.go, the prepared
//     statement cache.
//   - authorizer.go: what SQLite's authorizer tells the engine while a
//     statement is prepared: the tables it writes (change events), the
//     tables it reads ([Database.ReadSet], for live queries), and
//     transaction control sent outside db.transaction (refused with
//     LARDER_INVALID_ARGUMENT).
//   - changes.go: change tracking, reported as one "change" event per
//     commit.
//   - migrate.go: migrations on open, and the check that old code does not
//     write into a schema newer than it knows.
//   - export.go, image.go, imagevfs.go: export and import of SQLite file
//     images (an import is checked on a private copy first).
//   - request.go, encode.go: the binary encodings of a statement request
//     ([DecodeStatement]) and of rows ([EncodeRows]), which the worker
//     script and larder.js write and read.
//   - errors.go: [Error] and the LARDER_* codes; [Classify].
//   - warmup.go: [Warmup], the workload that warms the code of a call.
//
// docs/engine.md describes the package for a reader; docs/ARCHITECTURE.md
// shows where it sits between the page and the storage.
package engine
