//go:build js

package main

import (
	"github.com/larderdb/larder/engine"
	"github.com/larderdb/larder/wasm/idb"
)

func idbStorage() engine.Storage {
	return vfsStorage{vfs: "idb", pragmas: split(idb.RecommendedPragmas), available: idb.Available,
		preopen: idb.Preopen, release: idb.Release, del: idb.Delete}
}
