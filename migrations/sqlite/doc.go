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
// Every SQL migration runs with foreign key enforcement switched off
// outside its transaction and checked before COMMIT (PRAGMA
// foreign_key_check, and no foreign key left pointing at a table the
// migration renamed or dropped: ErrDanglingForeignKey), as SQLite's table
// rebuild procedure requires (https://sqlite.org/lang_altertable.html#otheralter).
// PRAGMA foreign_keys statements in a migration are not run; they come
// back as notices (migrations.Result.Notices), as does a BEGIN … COMMIT
// around the whole part (a golang-migrate file's own transaction), which is
// left out ([migrations.TxWrapper]); any other BEGIN, COMMIT or ROLLBACK is
// ErrTransactionControl. The connection's pragmas
// and temp objects are put back after each migration, so every migration
// starts from the same state. A part with Migration.NoTransaction runs in
// autocommit mode, claimed in _migrations_running so that it still runs
// once across processes. See docs/migrations-foreign-keys.md.
//
// Statements are split by SQLite itself (sqlite3_prepare_v3 with its tail,
// https://sqlite.org/c3ref/prepare.html), so triggers and string literals
// containing ";" work, and a failing statement is reported with its line in
// the migration file.
package sqlite
