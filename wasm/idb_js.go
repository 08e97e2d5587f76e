//go:build js

package main

import (
	"context"

	"github.com/larderdb/larder/jsbridge"
)

// idbStorage is a placeholder until wasm/idb lands: never available.
func idbStorage() jsbridge.Storage {
	return vfsStorage{vfs: "idb", available: func() bool { return false },
		preopen: func(context.Context, string) error { return nil },
		release: func(string) error { return nil },
		del:     func(context.Context, string) error { return nil }}
}
