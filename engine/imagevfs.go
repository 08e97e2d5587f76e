package engine

import (
	"bytes"
	"sync"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"
)

// imageVFS serves the private copies that imports are checked
// on. Unlike "reader" (immutable: SQLite treats it like a temporary
// database) and "memdb" (an in-memory pager), it lets VACUUM INTO write
// the copy out with another page size. Nothing is written to it.
const imageVFSName = "larder-image"

var (
	imagesMu sync.Mutex
	images   = map[string]*bytes.Reader{}
)

func init() { vfs.Register(imageVFSName, imageVFS{}) }

// addImage makes b readable as "file:name?vfs=larder-image" until the
// returned func is called.
func addImage(name string, b []byte) (remove func()) {
	imagesMu.Lock()
	images[name] = bytes.NewReader(b)
	imagesMu.Unlock()
	return func() {
		imagesMu.Lock()
		delete(images, name)
		imagesMu.Unlock()
	}
}

type imageVFS struct{}

func (imageVFS) Open(name string, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	if flags&vfs.OPEN_MAIN_DB == 0 {
		return nil, flags, sqlite3.CANTOPEN // no journal: nothing is written
	}
	imagesMu.Lock()
	defer imagesMu.Unlock()
	if r, ok := images[name]; ok {
		// Opened read-write, though nothing is written (WriteAt fails):
		// on a read-only connection PRAGMA integrity_check skips CHECK
		// constraints.
		return imageFile{r}, flags, nil
	}
	return nil, flags, sqlite3.CANTOPEN
}

func (imageVFS) Delete(string, bool) error                   { return sqlite3.IOERR_DELETE }
func (imageVFS) Access(string, vfs.AccessFlag) (bool, error) { return false, nil }
func (imageVFS) FullPathname(name string) (string, error)    { return name, nil }

type imageFile struct{ r *bytes.Reader }

func (f imageFile) ReadAt(p []byte, off int64) (int, error) { return f.r.ReadAt(p, off) }
func (f imageFile) Size() (int64, error)                    { return f.r.Size(), nil }
func (imageFile) Close() error                              { return nil }
func (imageFile) WriteAt([]byte, int64) (int, error)        { return 0, sqlite3.READONLY }
func (imageFile) Truncate(int64) error                      { return sqlite3.READONLY }
func (imageFile) Sync(vfs.SyncFlag) error                   { return nil }
func (imageFile) Lock(vfs.LockLevel) error                  { return nil }
func (imageFile) Unlock(vfs.LockLevel) error                { return nil }
func (imageFile) CheckReservedLock() (bool, error)          { return false, nil }
func (imageFile) SectorSize() int                           { return 0 }
func (imageFile) DeviceCharacteristics() vfs.DeviceCharacteristic {
	return vfs.IOCAP_SUBPAGE_READ
}
