package opfs

import (
	"context"
	"errors"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"
)

func TestLayoutMarker(t *testing.T) {
	fresh, err := checkLayout(nil)
	if !fresh || err != nil {
		t.Errorf("empty marker: fresh=%v err=%v, want a fresh directory", fresh, err)
	}
	fresh, err = checkLayout(layoutMarker())
	if fresh || err != nil {
		t.Errorf("own marker %q: fresh=%v err=%v", layoutMarker(), fresh, err)
	}
	// Version 1 as written by the first release: must keep opening.
	if _, err := checkLayout([]byte("larder-opfs 1\n")); err != nil {
		t.Errorf("version 1 marker refused: %v", err)
	}
	for _, bad := range []string{"larder-opfs 2\n", "garbage", "larder-idb 1\n"} {
		if _, err := checkLayout([]byte(bad)); err == nil {
			t.Errorf("marker %q accepted", bad)
		}
	}
}

func TestRegistered(t *testing.T) {
	if vfs.Find(VFSName) == nil {
		t.Fatalf("VFS %q not registered", VFSName)
	}
}

// Outside a browser the VFS is registered but cannot open anything: the
// error says so instead of falling back to something else.
func TestUnavailableNatively(t *testing.T) {
	if Available() {
		t.Fatal("OPFS reported available outside a browser")
	}
	_, err := sqlite3.Open("file:app.db?vfs=opfs")
	if !errors.Is(err, sqlite3.CANTOPEN) {
		t.Errorf("open natively: %v, want SQLITE_CANTOPEN", err)
	}
	if err := Preopen(context.Background(), "app.db"); err == nil {
		t.Error("Preopen natively succeeded")
	}
	if err := Preopen(context.Background(), "a/b"); err == nil {
		t.Error("Preopen accepted a name with a slash")
	}
}
