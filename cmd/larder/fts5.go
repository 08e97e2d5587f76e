package main

import (
	"errors"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"
)

// The CLI links FTS5 (https://sqlite.org/fts5.html) on every connection, so
// that migrations written for larder-fts5.wasm (`make build EXT=fts5`), such
// as the demo's web/migrations, run natively too. The browser's default
// larder.wasm leaves it out to stay small.
//
// Registering FTS5 reads the database while the connection opens, before
// the caller can set a busy timeout: without one, a process opening the file
// while another migrates it would fail at once with "database is locked".
// So the busy timeout is set first, to the one the migrate commands use. A
// file that is not a database is left for the caller's own check to report
// by name; the connection is useless anyway.
func init() {
	sqlite3.AutoExtension(func(c *sqlite3.Conn) error {
		if err := c.BusyTimeout(30 * time.Second); err != nil {
			return err
		}
		if err := fts5.Register(c); err != nil && !errors.Is(err, sqlite3.NOTADB) {
			return err
		}
		return nil
	})
}
