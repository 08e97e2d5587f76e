package engine_test

import (
	"slices"
	"testing"

	"github.com/larderdb/larder/engine"
	"github.com/larderdb/larder/wasm/idb"
	"github.com/larderdb/larder/wasm/opfs"
)

// Each VFS package is one storage value, as larder.wasm registers it.
var (
	_ engine.FileExporter = opfs.Storage{}
	_ engine.Storage      = idb.Storage{}
)

func TestVFSStorages(t *testing.T) {
	for _, c := range []struct {
		st      engine.Storage
		uri     string
		pragmas string
	}{
		{opfs.Storage{}, "file:app?vfs=opfs", opfs.RecommendedPragmas},
		{idb.Storage{}, "file:app?vfs=idb", idb.RecommendedPragmas},
	} {
		if got := c.st.URI("app"); got != c.uri {
			t.Errorf("URI(app) = %q, want %q", got, c.uri)
		}
		p := c.st.Pragmas()
		if len(p) < 2 || !slices.ContainsFunc(p, func(s string) bool { return s == "PRAGMA synchronous=FULL" }) {
			t.Errorf("%s: Pragmas() = %q, want the statements of %q", c.uri, p, c.pragmas)
		}
		// Natively neither backend exists: a host then falls back or
		// reports LARDER_STORAGE_UNAVAILABLE.
		if c.st.Available() {
			t.Errorf("%s: Available() outside a browser", c.uri)
		}
	}
	if !(opfs.Storage{}).ExportsFile() {
		t.Error("opfs.Storage does not export whole files")
	}
	h, err := engine.NewHost(map[string]engine.Storage{"opfs": opfs.Storage{}, "idb": idb.Storage{}}, []string{"opfs", "idb"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = h.Open(t.Context(), engine.OpenOptions{Name: "app"})
	if e := engine.Classify(err); e.Code != engine.CodeStorageUnavailable {
		t.Errorf("open with no backend available: %v (code %s), want %s", err, e.Code, engine.CodeStorageUnavailable)
	}
}
