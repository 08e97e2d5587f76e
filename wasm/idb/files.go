package idb

import (
	"fmt"

	"github.com/larderdb/larder/wasm/vfscore"
)

// dbFiles are the files of one database over one store.
type dbFiles struct {
	files   [3]*blockFile
	close   func() error
	revoked func() bool // nil: never
}

var _ vfscore.Revocable = (*dbFiles)(nil)

// Revoked implements [vfscore.Revocable].
func (fs *dbFiles) Revoked() bool { return fs.revoked != nil && fs.revoked() }

// newFiles builds the files of a database from their stored sizes.
func newFiles(st store, sizes map[string]int64, closeFn func() error) *dbFiles {
	fs := &dbFiles{close: closeFn}
	for _, k := range []vfscore.Kind{vfscore.MainDB, vfscore.Journal, vfscore.WAL} {
		fs.files[k] = newBlockFile(st, k.String(), sizes[k.String()], cacheBlocks)
	}
	return fs
}

func (fs *dbFiles) Handle(k vfscore.Kind) (vfscore.Handle, error) {
	if int(k) < 0 || int(k) >= len(fs.files) {
		return nil, fmt.Errorf("no file of kind %s", k)
	}
	return fs.files[k], nil
}

func (fs *dbFiles) Close() error {
	if fs.close == nil {
		return nil
	}
	err := fs.close()
	fs.close = nil
	return err
}
