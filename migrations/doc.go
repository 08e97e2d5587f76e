// Package migrations is Larder's migration engine: it loads ordered schema
// migrations, validates them against what a database has already applied,
// and applies or reverts them one atomic step at a time. The same engine runs
// natively (the larder CLI, Go programs), in the browser (larder.wasm) and on
// Cloudflare D1 (the edge Worker).
//
// # Files
//
// A migration is a file named NNNN_snake_name.sql: NNNN is a positive integer
// of any width, ordered numerically. dbmate-style markers split the file:
//
//	-- migrate:up
//	CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT);
//	-- migrate:down
//	DROP TABLE note;
//
// Lines after "-- migrate:up" are the up part, lines after "-- migrate:down"
// the down part; a file with neither marker is all up and has no down part.
// "-- migrate:breaking" anywhere in the up part marks the migration as
// breaking for code written against older versions. Migrations can also be Go
// functions ([Go]).
//
// Other tools' files load as those tools mean them ([Load], [Parse],
// [ParsePair]): goose files ("-- +goose Up", StatementBegin/End, NO
// TRANSACTION), golang-migrate and sqlx pairs (N_name.up.sql with
// N_name.down.sql), dbmate's "-- migrate:up transaction:false", names with
// hyphens and refinery's V1__name.sql. A file with another tool's markers is
// never run as plain SQL; files with NUL bytes or invalid UTF-8 are refused
// ([CheckText]). docs/migration-formats.md describes every format.
//
// # Checksums
//
// The checksum is the hex SHA-256 of the up part after normalising line
// endings to LF, trimming trailing whitespace on every line, dropping goose
// annotation lines and leading and trailing blank lines, so an editor's
// whitespace reformatting does not change it while any change to a statement
// does. Only the up part counts, without the markers around it, so the same
// up SQL has the same checksum in every file format.
//
// # Tracking
//
// Applied migrations are rows of the _migrations table ([TrackingTableSQL]).
// A [Store] applies one migration and its row atomically (BEGIN IMMEDIATE on
// SQLite, one batch() on D1) and re-reads the applied set inside that
// transaction, so two runners racing never apply a migration twice.
//
// # Validation
//
// Before applying anything a [Provider] checks the applied rows against the
// known migrations and refuses, applying nothing, when a migration was edited
// after it ran ([ErrChecksumMismatch]), an applied migration has no file
// ([ErrMissingMigration]), the database is newer than the code
// ([ErrDatabaseNewer]) or an unapplied migration is numbered below the newest
// applied one ([ErrOutOfOrder], unless allowed). A database that newer code
// migrated further is accepted with [Options].AllowNewerNonBreaking when every
// migration above the known ones is non-breaking (the browser's rule).
//
// Reading is read-only: Status, Validate, Version, PlanUp, PlanDown and Down
// never create the tracking table; Up and Stamp do, before they write.
//
// The package has no SQLite dependency; package
// github.com/larderdb/larder/migrations/sqlite provides the [Store] for
// SQLite databases.
package migrations
