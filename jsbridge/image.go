package jsbridge

import (
	"bytes"
	"fmt"
	"sync/atomic"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs/memdb"
)

const sqliteHeader = "SQLite format 3\x00"

var imageSeq atomic.Uint64

// CheckImage validates b as an SQLite database file before an import: the
// header, then PRAGMA integrity_check on a copy opened in memory. It returns
// the image to restore, with a WAL-mode header turned back into a rollback
// journal one (bytes 18 and 19 set to 1), since Larder's VFSes do not do
// WAL. Failures are LARDER_INVALID_DATABASE.
func CheckImage(b []byte) ([]byte, error) {
	if len(b) < 512 || !bytes.HasPrefix(b, []byte(sqliteHeader)) {
		return nil, errorf(CodeInvalidDatabase, "import: not an SQLite database (%d bytes, header %q)", len(b), printable(b[:min(len(b), 16)]))
	}
	img := bytes.Clone(b)
	if img[18] == 2 || img[19] == 2 {
		img[18], img[19] = 1, 1
	}
	name := fmt.Sprintf("larder-import-%d", imageSeq.Add(1))
	memdb.Create(name, bytes.Clone(img))
	defer memdb.Delete(name)
	conn, err := sqlite3.OpenFlags("file:/"+name+"?vfs=memdb", sqlite3.OPEN_READONLY|sqlite3.OPEN_URI)
	if err != nil {
		return nil, &Error{Code: CodeInvalidDatabase, Message: "import: " + err.Error(), Err: err}
	}
	defer conn.Close()
	stmt, _, err := conn.Prepare("PRAGMA integrity_check")
	if err != nil {
		return nil, &Error{Code: CodeInvalidDatabase, Message: "import: integrity_check: " + err.Error(), Err: err}
	}
	defer stmt.Close()
	var problems []string
	for stmt.Step() {
		if r := stmt.ColumnText(0); r != "ok" {
			problems = append(problems, r)
		}
	}
	if err := stmt.Err(); err != nil {
		return nil, &Error{Code: CodeInvalidDatabase, Message: "import: integrity_check: " + err.Error(), Err: err}
	}
	if len(problems) > 0 {
		return nil, errorf(CodeInvalidDatabase, "import: integrity_check failed: %v", problems[:min(len(problems), 5)])
	}
	return img, nil
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}
