package opfs

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/larderdb/larder/wasm/vfscore"
)

// The on-disk layout, version 1: larder/<name>/{LAYOUT, db, db-journal,
// db-wal}. Any change to it bumps layoutVersion; a newer layout is refused
// with a clear error instead of being misread by older code.
const (
	rootDir       = "larder"
	layoutFile    = "LAYOUT"
	layoutVersion = 1
)

// layoutMarker is the content of the LAYOUT file.
func layoutMarker() []byte {
	return fmt.Appendf(nil, "larder-opfs %d\n", layoutVersion)
}

// checkLayout validates the content of a LAYOUT file. fresh reports an
// empty (just created) marker, which the caller then writes.
func checkLayout(b []byte) (fresh bool, err error) {
	if len(b) == 0 {
		return true, nil
	}
	// "larder-opfs N\n", read by hand: fmt's scanning half would be linked
	// for this one line.
	rest, ok := bytes.CutPrefix(b, []byte("larder-opfs "))
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	v, err := strconv.Atoi(string(line))
	if !ok || err != nil {
		return false, fmt.Errorf("unrecognised layout marker %q", bytes.TrimSpace(b))
	}
	if v != layoutVersion {
		return false, fmt.Errorf("storage layout version %d, this build reads version %d", v, layoutVersion)
	}
	return false, nil
}

// fileName is the OPFS file holding a database file of kind k.
func fileName(k vfscore.Kind) string {
	switch k {
	case vfscore.Journal:
		return "db-journal"
	case vfscore.WAL:
		return "db-wal"
	}
	return "db"
}

// kinds are the files each database keeps a sync access handle on.
var kinds = [...]vfscore.Kind{vfscore.MainDB, vfscore.Journal, vfscore.WAL}
