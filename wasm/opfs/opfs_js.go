//go:build js

package opfs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/larderdb/larder/internal/jsutil"
	"github.com/larderdb/larder/wasm/vfscore"
)

// preopenTimeout bounds the retries while a previous owner's handles close.
const preopenTimeout = 5 * time.Second

// preparedHook names the global function through which a host that
// acquired a database's sync access handles before larder.wasm started
// hands them over (larder-worker.js does, while the module compiles, once
// the tabs' election has made it the owner). Called with a database name,
// it returns undefined, or a Promise of an object holding one
// FileSystemSyncAccessHandle per file of the layout ("LAYOUT", "db",
// "db-journal", "db-wal"), given up by the host: from then on they are the
// VFS's to close.
const preparedHook = "__larderOPFSPrepared"

func available() bool {
	g := jsutil.Global()
	nav := g.Get("navigator")
	if nav.IsUndefined() || nav.Get("storage").IsUndefined() ||
		nav.Get("storage").Get("getDirectory").Type() != jsutil.TypeFunction {
		return false
	}
	return g.Get("FileSystemSyncAccessHandle").Type() == jsutil.TypeFunction
}

// platformBackend opens databases in OPFS.
type platformBackend struct{}

// Acquire implements [vfscore.Backend]: it opens larder/<name>/ and a sync
// access handle on each file, retrying while another owner holds them.
func (platformBackend) Acquire(ctx context.Context, name string) (vfscore.Files, error) {
	if !available() {
		return nil, errors.New("OPFS sync access handles are not available in this context (they exist only in dedicated workers)")
	}
	fs, err := adoptPrepared(name)
	if fs != nil || err != nil {
		return fs, err
	}
	err = vfscore.Retry(ctx, preopenTimeout, vfscore.IsBusy, func() (err error) {
		fs, err = openFiles(name)
		return err
	})
	return fs, err
}

// adoptPrepared takes the handles the host prepared for database name
// (see preparedHook): nil, nil when it has none, or when preparing them
// failed, which opening them here reports or retries properly.
func adoptPrepared(name string) (*files, error) {
	g := jsutil.Global()
	if g.Get(preparedHook).Type() != jsutil.TypeFunction {
		return nil, nil
	}
	p, err := jsutil.Call(g, preparedHook, name)
	if err != nil || p.IsUndefined() || p.IsNull() {
		return nil, nil
	}
	v, err := jsutil.Await(p)
	if err != nil {
		return nil, nil
	}
	fs := &files{}
	layout, err := adoptHandle(v, layoutFile)
	if err == nil {
		err = checkLayoutHandle(layout)
		err = errors.Join(err, layout.close())
	}
	for _, k := range kinds {
		h, herr := adoptHandle(v, fileName(k))
		if herr != nil {
			err = errors.Join(err, fmt.Errorf("%s: %w", fileName(k), herr))
			continue
		}
		fs.h[k] = h
	}
	if err != nil {
		fs.Close()
		return nil, err
	}
	return fs, nil
}

// adoptHandle wraps the prepared sync access handle of file name.
func adoptHandle(prepared jsutil.Value, name string) (*handle, error) {
	sah := prepared.Get(name)
	if sah.IsUndefined() || sah.IsNull() {
		return nil, fmt.Errorf("the prepared handles lack %s", name)
	}
	return newHandle(sah)
}

func openFiles(name string) (*files, error) {
	dir, err := databaseDir(name, true)
	if err != nil {
		return nil, err
	}
	if err := ensureLayout(dir); err != nil {
		return nil, err
	}
	fs := &files{}
	for _, k := range kinds {
		h, err := openHandle(dir, fileName(k))
		if err != nil {
			fs.Close()
			return nil, fmt.Errorf("%s: %w", fileName(k), err)
		}
		fs.h[k] = h
	}
	return fs, nil
}

// databaseDir returns the directory handle of larder/<name>/.
func databaseDir(name string, create bool) (jsutil.Value, error) {
	root, err := await(jsutil.Global().Get("navigator").Get("storage"), "getDirectory")
	if err != nil {
		return jsutil.Value{}, fmt.Errorf("navigator.storage.getDirectory: %w", err)
	}
	opts := map[string]any{"create": create}
	top, err := await(root, "getDirectoryHandle", rootDir, opts)
	if err != nil {
		return jsutil.Value{}, fmt.Errorf("directory %s: %w", rootDir, err)
	}
	dir, err := await(top, "getDirectoryHandle", name, opts)
	if err != nil {
		return jsutil.Value{}, fmt.Errorf("directory %s/%s: %w", rootDir, name, err)
	}
	return dir, nil
}

// ensureLayout checks the LAYOUT marker, writing it into a new directory.
func ensureLayout(dir jsutil.Value) error {
	h, err := openHandle(dir, layoutFile)
	if err != nil {
		return fmt.Errorf("%s: %w", layoutFile, err)
	}
	defer h.close()
	return checkLayoutHandle(h)
}

// checkLayoutHandle checks the LAYOUT marker open on h, writing it if the
// file is new.
func checkLayoutHandle(h *handle) error {
	size, err := h.Size()
	if err != nil {
		return err
	}
	b := make([]byte, min(size, 256))
	if _, err := h.ReadAt(b, 0); err != nil {
		return err
	}
	fresh, err := checkLayout(b)
	if err != nil || !fresh {
		return err
	}
	m := layoutMarker()
	if n, err := h.WriteAt(m, 0); err != nil || n != len(m) {
		return errors.Join(err, vfscore.ErrQuota)
	}
	return h.Flush()
}

func openHandle(dir jsutil.Value, name string) (*handle, error) {
	fh, err := await(dir, "getFileHandle", name, map[string]any{"create": true})
	if err != nil {
		return nil, err
	}
	sah, err := await(fh, "createSyncAccessHandle")
	if err != nil {
		return nil, err
	}
	return newHandle(sah)
}

// newHandle wraps sync access handle sah; it closes it on failure.
func newHandle(sah jsutil.Value) (*handle, error) {
	h := &handle{sah: sah, at: jsutil.ValueOf(map[string]any{"at": 0})}
	r, err := jsutil.Call(sah, "getSize")
	if err != nil {
		h.close()
		return nil, err
	}
	h.size = int64(r.Float())
	return h, nil
}

// await calls v[method](args...) and awaits the returned Promise.
func await(v jsutil.Value, method string, args ...any) (jsutil.Value, error) {
	p, err := jsutil.Call(v, method, args...)
	if err != nil {
		return jsutil.Value{}, err
	}
	return jsutil.Await(p)
}

func removeDatabase(ctx context.Context, name string) error {
	nav := jsutil.Global().Get("navigator")
	if nav.IsUndefined() || nav.Get("storage").IsUndefined() || nav.Get("storage").Get("getDirectory").Type() != jsutil.TypeFunction {
		return errors.New("opfs: delete: OPFS is not available in this context")
	}
	err := vfscore.Retry(ctx, preopenTimeout, vfscore.IsBusy, func() error {
		root, err := await(jsutil.Global().Get("navigator").Get("storage"), "getDirectory")
		if err != nil {
			return err
		}
		top, err := await(root, "getDirectoryHandle", rootDir)
		if vfscore.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = await(top, "removeEntry", name, map[string]any{"recursive": true})
		if vfscore.IsNotFound(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return vfscore.OpenError(fmt.Errorf("opfs: delete %q: %w", name, err))
	}
	return nil
}

// files are the sync access handles of one database.
type files struct {
	h [len(kinds)]*handle
}

func (fs *files) Handle(k vfscore.Kind) (vfscore.Handle, error) {
	if int(k) >= len(fs.h) || fs.h[k] == nil {
		return nil, fmt.Errorf("no handle for %s", k)
	}
	return fs.h[k], nil
}

func (fs *files) Close() error {
	var errs []error
	for i, h := range fs.h {
		if h != nil {
			errs = append(errs, h.close())
			fs.h[i] = nil
		}
	}
	return errors.Join(errs...)
}

// handle adapts a FileSystemSyncAccessHandle to [vfscore.Handle]. Every call
// is synchronous: no Promise on the I/O path.
type handle struct {
	sah    jsutil.Value
	buf    jsutil.Value         // scratch Uint8Array, grown as needed
	bufLen int                  // its length
	views  map[int]jsutil.Value // buf.subarray(0, n) by n: a few sizes recur (pages, frame headers)
	at     jsutil.Value         // the reused {at: offset} options object
	// size is the file's size, kept here because getSize() costs as much
	// as a flush in Chrome and the handle is exclusive: nothing else
	// changes the file while it is open.
	size int64
}

var _ vfscore.Handle = (*handle)(nil)

// scratch returns a view of the first n bytes of the scratch buffer. The
// views of the sizes SQLite uses again and again are kept: each call into
// JavaScript costs as much as copying a page.
func (h *handle) scratch(n int) jsutil.Value {
	if v, ok := h.views[n]; ok {
		return v
	}
	if h.bufLen < n {
		h.bufLen = max(n, 64<<10)
		h.buf = jsutil.Global().Get("Uint8Array").New(h.bufLen)
		h.views = map[int]jsutil.Value{}
	}
	v := h.buf.Call("subarray", 0, n)
	if len(h.views) < 16 {
		h.views[n] = v
	}
	return v
}

// ReadAt implements [vfscore.Handle].
func (h *handle) ReadAt(p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	view := h.scratch(len(p))
	h.at.Set("at", off)
	r, err := jsutil.Call(h.sah, "read", view, h.at)
	if err != nil {
		return 0, err
	}
	n := min(r.Int(), len(p))
	jsutil.CopyBytesToGo(p[:n], view)
	return n, nil
}

// WriteAt implements [vfscore.Handle]. The count is returned as the
// browser reports it: a short (or, in Chrome, 0xFFFFFFF8) count means the
// quota is full, which the core maps to SQLITE_FULL.
func (h *handle) WriteAt(p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	view := h.scratch(len(p))
	jsutil.CopyBytesToJS(view, p)
	h.at.Set("at", off)
	r, err := jsutil.Call(h.sah, "write", view, h.at)
	if err != nil {
		h.refreshSize()
		return 0, err
	}
	n := r.Float()
	if n < 0 || n > float64(len(p)) {
		// A bogus count (Chrome's 0xFFFFFFF8 at quota): nothing reliable
		// was written, and the size is unknown until asked again.
		h.refreshSize()
		return 0, nil
	}
	if n > 0 {
		h.size = max(h.size, off+int64(n))
	}
	return int(n), nil
}

func (h *handle) refreshSize() {
	if r, err := jsutil.Call(h.sah, "getSize"); err == nil {
		h.size = int64(r.Float())
	}
}

// Truncate implements [vfscore.Handle].
func (h *handle) Truncate(size int64) error {
	if _, err := jsutil.Call(h.sah, "truncate", size); err != nil {
		h.refreshSize()
		return err
	}
	h.size = size
	return nil
}

// Size implements [vfscore.Handle] from the size kept by the handle.
func (h *handle) Size() (int64, error) { return h.size, nil }

// Flush implements [vfscore.Handle].
func (h *handle) Flush() error {
	_, err := jsutil.Call(h.sah, "flush")
	return err
}

func (h *handle) close() error {
	_, err := jsutil.Call(h.sah, "close")
	return err
}
