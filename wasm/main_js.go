//go:build js

// Command wasm is larder.wasm: SQLite (ncruces/go-sqlite3) with Larder's
// storage backends and the Go side of the JS API. The worker script
// (jsbridge/js/larder-worker.js) instantiates it; see package jsbridge.
//
// Build it with `make build` (GOOS=js GOARCH=wasm, into dist/larder.wasm).
package main

import (
	"context"
	"os"
	"strings"
	"unsafe"

	"github.com/larderdb/larder/engine"
	"github.com/larderdb/larder/jsbridge"
	"github.com/larderdb/larder/wasm/opfs"
)

func main() {
	hook := os.Getenv("LARDER_HOOK")
	if hook == "" {
		hook = "__larder"
	}
	h, err := engine.NewHost(map[string]engine.Storage{
		"memory": engine.NewMemory(),
		"opfs":   vfsStorage{vfs: "opfs", pragmas: split(opfs.RecommendedPragmas), available: opfs.Available, preopen: opfs.Preopen, release: opfs.Release, del: opfs.Delete, wholeFile: true},
		"idb":    idbStorage(),
	}, []string{"opfs", "idb"})
	if err != nil {
		panic(err)
	}
	jsbridge.Serve(h, hook)
	select {}
}

// vfsStorage adapts a Larder VFS package (opfs, idb) to engine.Storage.
type vfsStorage struct {
	vfs       string
	pragmas   []string
	available func() bool
	preopen   func(context.Context, string) error
	release   func(string) error
	del       func(context.Context, string) error
	wholeFile bool // export reads the file in one read (engine.FileExporter)
}

func (s vfsStorage) Available() bool                                { return s.available() }
func (s vfsStorage) Preopen(ctx context.Context, name string) error { return s.preopen(ctx, name) }
func (s vfsStorage) URI(name string) string                         { return "file:" + name + "?vfs=" + s.vfs }
func (s vfsStorage) Pragmas() []string                              { return s.pragmas }
func (s vfsStorage) Release(name string) error                      { return s.release(name) }
func (s vfsStorage) Delete(ctx context.Context, name string) error  { return s.del(ctx, name) }
func (s vfsStorage) ExportsFile() bool                              { return s.wholeFile }

func split(pragmas string) []string {
	var out []string
	for _, p := range strings.Split(pragmas, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
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
