//go:build js

package main

import (
	"github.com/larderdb/larder/jsbridge"
	"github.com/larderdb/larder/wasm/idb"
)

func idbStorage() jsbridge.Storage {
	return vfsStorage{vfs: "idb", pragmas: split(idb.RecommendedPragmas), available: idb.Available,
		preopen: idb.Preopen, release: idb.Release, del: idb.Delete}
}
