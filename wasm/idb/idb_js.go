//go:build js

package idb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/larderdb/larder/internal/jsutil"
	"github.com/larderdb/larder/wasm/vfscore"
)

// openTimeout bounds waiting for other connections that block an open or a
// delete (an older page that has not closed yet).
const openTimeout = 5 * time.Second

func available() bool {
	return jsutil.Global().Get("indexedDB").Truthy()
}

type platformBackend struct{}

// Acquire implements [vfscore.Backend]: it opens the IndexedDB database,
// reads the file sizes and, if the database fits the cache, all of it.
func (platformBackend) Acquire(ctx context.Context, name string) (vfscore.Files, error) {
	if !available() {
		return nil, errors.New("IndexedDB is not available in this context")
	}
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	db, err := jsutil.OpenIndexedDB(ctx, dbPrefix+name, layoutVersion, upgrade)
	if err != nil {
		var de *jsutil.DOMError
		if errors.As(err, &de) && de.Name == "VersionError" {
			return nil, fmt.Errorf("storage layout is newer than this build reads (version %d): %w", layoutVersion, err)
		}
		return nil, err
	}
	st := &idbStore{db: db}
	st.removeListener = jsutil.OnEvent(db, "versionchange", func(jsutil.Value) {
		// Another context deletes or upgrades the database: let it.
		st.closed.Store(true)
		jsutil.Call(db, "close")
	})
	sizes, err := st.sizes()
	if err != nil {
		st.close()
		return nil, err
	}
	fs := newFiles(st, sizes, st.close)
	fs.revoked = st.closed.Load
	if size := sizes["db"]; size > 0 && size <= cacheBlocks*blockSize {
		blocks, err := st.get("db", 0, divRoundUp(size, blockSize))
		if err != nil {
			st.close()
			return nil, err
		}
		fs.files[vfscore.MainDB].preload(blocks)
	}
	return fs, nil
}

// upgrade creates the object stores of layout version 1. It runs inside
// the upgradeneeded event and makes synchronous calls only; it must not
// panic there (that would kill the Go program): a failure shows later as a
// NotFoundError on the missing object store.
func upgrade(db jsutil.Value, oldVersion int) {
	if oldVersion < 1 {
		jsutil.Call(db, "createObjectStore", "blocks")
		jsutil.Call(db, "createObjectStore", "files")
	}
}

func deleteDatabase(ctx context.Context, name string) error {
	if !available() {
		return errors.New("idb: delete: IndexedDB is not available in this context")
	}
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := jsutil.DeleteIndexedDB(ctx, dbPrefix+name); err != nil {
		return vfscore.OpenError(fmt.Errorf("idb: delete %q: %w", name, err))
	}
	return nil
}

// idbStore is a [store] on an open IndexedDB connection. Every method runs
// one short IndexedDB transaction and waits for it; none stays open across
// another wait.
type idbStore struct {
	db             jsutil.Value
	closed         atomic.Bool
	removeListener func()
}

var _ store = (*idbStore)(nil)

var errClosed = errors.New("the IndexedDB connection was closed (another context is deleting or upgrading the database, or it was released)")

func (s *idbStore) transaction(stores []any, mode, durability string) (jsutil.Value, error) {
	if s.closed.Load() {
		return jsutil.Value{}, errClosed
	}
	if durability != "" {
		return jsutil.Call(s.db, "transaction", stores, mode, map[string]any{"durability": durability})
	}
	return jsutil.Call(s.db, "transaction", stores, mode)
}

func keyRange(file string, first, last float64) (jsutil.Value, error) {
	return jsutil.Call(jsutil.Global().Get("IDBKeyRange"), "bound", []any{file, first}, []any{file, last})
}

// get implements [store] with getAllKeys and getAll over a key range.
func (s *idbStore) get(file string, first, n int64) (map[int64][]byte, error) {
	tx, err := s.transaction([]any{"blocks"}, "readonly", "")
	if err != nil {
		return nil, err
	}
	objs, err := jsutil.Call(tx, "objectStore", "blocks")
	if err != nil {
		return nil, err
	}
	r, err := keyRange(file, float64(first), float64(first+n-1))
	if err != nil {
		return nil, err
	}
	kreq, err := jsutil.Call(objs, "getAllKeys", r)
	if err != nil {
		return nil, err
	}
	vreq, err := jsutil.Call(objs, "getAll", r)
	if err != nil {
		return nil, err
	}
	keys, err := jsutil.AwaitRequest(kreq)
	if err != nil {
		return nil, fmt.Errorf("read %s blocks %d+%d: %w", file, first, n, err)
	}
	vals, err := jsutil.AwaitRequest(vreq)
	if err != nil {
		return nil, fmt.Errorf("read %s blocks %d+%d: %w", file, first, n, err)
	}
	out := make(map[int64][]byte, keys.Length())
	for i := range keys.Length() {
		idx := int64(keys.Index(i).Index(1).Float())
		v := vals.Index(i)
		b := make([]byte, blockSize)
		if v.Get("byteLength").Int() != blockSize {
			return nil, fmt.Errorf("read %s block %d: stored block has %d bytes, want %d", file, idx, v.Get("byteLength").Int(), blockSize)
		}
		jsutil.CopyBytesToGo(b, v)
		out[idx] = b
	}
	return out, nil
}

// commit implements [store]: one readwrite transaction, awaited to its
// "complete" event.
func (s *idbStore) commit(file string, size, from int64, blocks map[int64][]byte, durability string) error {
	tx, err := s.transaction([]any{"blocks", "files"}, "readwrite", durability)
	if err != nil {
		return err
	}
	abort := func(err error) error {
		jsutil.Call(tx, "abort")
		return err
	}
	objs, err := jsutil.Call(tx, "objectStore", "blocks")
	if err != nil {
		return abort(err)
	}
	if from >= 0 {
		r, err := keyRange(file, float64(from), math.Inf(1))
		if err != nil {
			return abort(err)
		}
		if _, err := jsutil.Call(objs, "delete", r); err != nil {
			return abort(err)
		}
	}
	u8 := jsutil.Global().Get("Uint8Array")
	for i, b := range blocks {
		v := u8.New(blockSize)
		jsutil.CopyBytesToJS(v, b)
		if _, err := jsutil.Call(objs, "put", v, []any{file, float64(i)}); err != nil {
			return abort(err)
		}
	}
	files, err := jsutil.Call(tx, "objectStore", "files")
	if err != nil {
		return abort(err)
	}
	if _, err := jsutil.Call(files, "put", float64(size), file); err != nil {
		return abort(err)
	}
	// No tx.commit(): the transaction commits by itself once its requests
	// are done. WebKitGTK (2.50) wedges the whole database — every later
	// open, read and delete, from any context, waits forever — when a
	// worker is terminated after an explicit commit(): 1 kill in ~12 in a
	// plain-JS reproduction, none in 120 without it (docs/browsers.md).
	if err := jsutil.AwaitTransaction(tx); err != nil {
		return fmt.Errorf("commit %s: %w", file, err)
	}
	return nil
}

// sizes reads the stored size of every file.
func (s *idbStore) sizes() (map[string]int64, error) {
	tx, err := s.transaction([]any{"files"}, "readonly", "")
	if err != nil {
		return nil, err
	}
	objs, err := jsutil.Call(tx, "objectStore", "files")
	if err != nil {
		return nil, err
	}
	kreq, err := jsutil.Call(objs, "getAllKeys")
	if err != nil {
		return nil, err
	}
	vreq, err := jsutil.Call(objs, "getAll")
	if err != nil {
		return nil, err
	}
	keys, err := jsutil.AwaitRequest(kreq)
	if err != nil {
		return nil, fmt.Errorf("read file sizes: %w", err)
	}
	vals, err := jsutil.AwaitRequest(vreq)
	if err != nil {
		return nil, fmt.Errorf("read file sizes: %w", err)
	}
	out := map[string]int64{}
	for i := range keys.Length() {
		out[keys.Index(i).String()] = int64(vals.Index(i).Float())
	}
	return out, nil
}

func (s *idbStore) close() error {
	if s.closed.Swap(true) && s.removeListener == nil {
		return nil
	}
	if s.removeListener != nil {
		s.removeListener()
		s.removeListener = nil
	}
	_, err := jsutil.Call(s.db, "close")
	return err
}
