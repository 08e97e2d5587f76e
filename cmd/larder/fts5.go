package main

import (
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"
)

// The CLI links FTS5 (https://sqlite.org/fts5.html) on every connection, so
// that migrations written for larder-fts5.wasm (`make build EXT=fts5`), such
// as the demo's web/migrations, run natively too. The browser's default
// larder.wasm leaves it out to stay small.
func init() {
	sqlite3.AutoExtension(fts5.Register)
}
