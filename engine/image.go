package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/serdes"
	"github.com/ncruces/go-sqlite3/vfs/memdb"

	"github.com/larderdb/larder/internal/imagecheck"
	"github.com/larderdb/larder/migrations"
)

var imageSeq atomic.Uint64

// ImportOptions are the options of db.import(bytes, options).
type ImportOptions struct {
	// Timeout bounds the checks (timeoutMs; 0 means
	// imagecheck.DefaultTimeout, 5s): a file too expensive to check is
	// refused.
	Timeout time.Duration
	// AllowExtraSchema accepts schema objects the migrations do not build
	// (allowExtraSchema).
	AllowExtraSchema bool
}

// CheckImage validates b as a database to import into a database whose
// known migrations are known and whose page size is pageSize, and returns
// the image to copy in. The checks (package imagecheck: header,
// _migrations against known, schema, integrity) run once, on a private
// copy in memory opened with defensive settings, under o.Timeout. The
// image returned is a rollback-journal file (header bytes 18/19 = 1: the
// VFSes do their own WAL) with pageSize-byte pages (VACUUM on the copy
// when b has another size: the backup API cannot change the page size of
// a WAL or in-memory database). Failures are LARDER_INVALID_DATABASE.
func CheckImage(ctx context.Context, b []byte, known []*migrations.Migration, pageSize int, o ImportOptions) ([]byte, error) {
	h, err := imagecheck.ParseHeader(b, int64(len(b)))
	if err != nil {
		return nil, invalidImport(err)
	}
	img := bytes.Clone(b)
	img[18], img[19] = 1, 1
	seq := imageSeq.Add(1)
	// The checks only read the private copy (see imageVFS).
	name := fmt.Sprintf("larder-import-%d.db", seq)
	defer addImage(name, img)()
	conn, err := imagecheck.Open("file:"+name+"?vfs="+imageVFSName, sqlite3.OPEN_READWRITE|sqlite3.OPEN_URI)
	if err != nil {
		return nil, invalidImport(err)
	}
	defer conn.Close()
	budget, cancel := imagecheck.Budget(ctx, o.Timeout)
	defer cancel()
	if _, err := imagecheck.Check(budget, conn, imagecheck.Options{Migrations: known, AllowExtraSchema: o.AllowExtraSchema}); err != nil {
		return nil, invalidImport(err)
	}
	if pageSize <= 0 || h.PageSize == pageSize {
		return img, nil
	}
	out := fmt.Sprintf("larder-import-%d-out.db", seq)
	memdb.Create(out, nil) // opened as file:/NAME
	defer memdb.Delete(out)
	old := conn.SetInterrupt(budget)
	err = conn.Exec(fmt.Sprintf("PRAGMA temp_store=MEMORY; PRAGMA page_size=%d; VACUUM INTO 'file:/%s?vfs=memdb'", pageSize, out))
	conn.SetInterrupt(old)
	if err != nil {
		return nil, invalidImport(&imagecheck.Error{Err: err, Timeout: budget.Err() != nil,
			Reason: fmt.Sprintf("cannot change its page size from %d to %d bytes (VACUUM INTO): %v", h.PageSize, pageSize, err)})
	}
	oc, err := sqlite3.OpenFlags("file:/"+out+"?vfs=memdb", sqlite3.OPEN_READONLY|sqlite3.OPEN_URI)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer oc.Close()
	if got, err := pragmaInt(oc, "PRAGMA page_size"); err != nil || got != int64(pageSize) {
		return nil, errors.Join(err, fmt.Errorf("import: VACUUM INTO made %d-byte pages, want %d", got, pageSize))
	}
	img, err = serdes.Serialize(oc, "main")
	if err != nil {
		return nil, invalidImport(&imagecheck.Error{Reason: "cannot copy it: " + err.Error(), Err: err})
	}
	if len(img) >= 100 {
		img[18], img[19] = 1, 1
	}
	return img, nil
}

func invalidImport(err error) error {
	var ie *imagecheck.Error
	if errors.As(err, &ie) {
		return &Error{Code: CodeInvalidDatabase, Message: "import: " + ie.Reason, Err: err}
	}
	return &Error{Code: CodeInvalidDatabase, Message: "import: " + err.Error(), Err: err}
}
