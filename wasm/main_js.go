//go:build js

// Command wasm is larder.wasm: SQLite (ncruces/go-sqlite3) with Larder's
// storage backends and the Go side of the JS API. The worker script
// (jsbridge/js/larder-worker.js) instantiates it; see package jsbridge.
//
// Build it with `make build` (GOOS=js GOARCH=wasm, into dist/larder.wasm).
package main

import (
	"os"
	"unsafe"

	"github.com/larderdb/larder/engine"
	"github.com/larderdb/larder/jsbridge"
	"github.com/larderdb/larder/wasm/idb"
	"github.com/larderdb/larder/wasm/opfs"
)

func main() {
	hook := os.Getenv("LARDER_HOOK")
	if hook == "" {
		hook = "__larder"
	}
	h, err := engine.NewHost(map[string]engine.Storage{
		"memory": engine.NewMemory(),
		"opfs":   opfs.Storage{},
		"idb":    idb.Storage{},
	}, []string{"opfs", "idb"})
	if err != nil {
		panic(err)
	}
	jsbridge.Serve(h, hook)
	select {}
}

// The direct entry of exec and query (see jsbridge.DirectRun): wasm
// exports the worker script calls without going through syscall/js.

//go:wasmexport larder_buf
func larderBuf(n int32) unsafe.Pointer { return jsbridge.DirectBuffer(n) }

// larder_features tells the worker script what this build does, as bits:
// 1, the OPFS VFS adopts sync access handles the script opened before Go
// started (see package opfs). A script newer than the build closes them
// instead when the bit is missing. 2, a test build with fault-injection
// hooks (jsbridge.TestHooks, build tag larder_test_hooks): the script
// passes "__" ops to it only then.
//
//go:wasmexport larder_features
func larderFeatures() int32 {
	if jsbridge.TestHooks {
		return 1 | 2
	}
	return 1
}

//go:wasmexport larder_run
func larderRun(kind, n int32, tx, known float64) int32 {
	return jsbridge.DirectRun(kind, n, tx, known)
}
