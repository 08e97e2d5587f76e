//go:build js && fts5

package main

import (
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"

	"github.com/larderdb/larder/wasm/idb"
	"github.com/larderdb/larder/wasm/opfs"
)

// Built with -tags fts5 (`make build EXT=fts5`, dist/larder-fts5.wasm),
// every connection gets FTS5 (https://sqlite.org/fts5.html). It is opt-in
// because it adds about 3 MB raw / 0.7 MB gzip to the module. ncruces ships
// FTS5 as a separate translated module that ext/fts5 links into each
// connection, so it is registered as an auto extension.
//
// Registering FTS5 reads the database while the connection opens, before
// jsbridge runs the backend's pragmas. An OPFS database is in WAL mode,
// which (with no shared memory under GOOS=js) opens only under
// locking_mode=EXCLUSIVE: read earlier, an existing database fails with
// SQLITE_CANTOPEN. So the backend's own pragmas run first, here; jsbridge
// running them again right after changes nothing.
var backendPragmas = map[string]string{
	opfs.VFSName: opfs.RecommendedPragmas,
	idb.VFSName:  idb.RecommendedPragmas,
}

func init() {
	sqlite3.AutoExtension(func(c *sqlite3.Conn) error {
		if f := c.Filename(""); f != nil {
			if p := backendPragmas[f.URIParameter("vfs")]; p != "" {
				if err := c.Exec(p); err != nil {
					return err
				}
			}
		}
		return fts5.Register(c)
	})
}
