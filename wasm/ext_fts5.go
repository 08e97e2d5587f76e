//go:build fts5

package main

import (
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"
)

// Built with -tags fts5 (`make build EXT=fts5`, dist/larder-fts5.wasm),
// every connection gets FTS5 (https://sqlite.org/fts5.html). It is opt-in
// because it adds about 2.8 MB raw / 0.7 MB gzip to the module: ncruces
// ships FTS5 as a separate translated module that ext/fts5 links into
// each connection, so it is registered as an auto extension here.
func init() {
	sqlite3.AutoExtension(fts5.Register)
}
