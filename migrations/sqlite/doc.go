// Package sqlite runs Larder migrations on SQLite through
// github.com/ncruces/go-sqlite3: natively (the larder CLI, Go programs and
// tests) and inside larder.wasm in the browser, where the connection sits on
// the OPFS or IndexedDB VFS.
//
// [Store] implements migrations.Store over one *sqlite3.Conn: each migration
// runs in its own BEGIN IMMEDIATE transaction together with its _migrations
// row, and the applied set is re-read inside that transaction
// (https://sqlite.org/lang_transaction.html), so concurrent runners on one
// file apply every migration exactly once.
//
// Statements are split by SQLite itself (sqlite3_prepare_v3 with its tail,
// https://sqlite.org/c3ref/prepare.html), so triggers and string literals
// containing ";" work, and a failing statement is reported with its line in
// the migration file.
package sqlite
