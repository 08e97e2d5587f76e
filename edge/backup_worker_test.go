//go:build !js && workerd

package main

// The backup routes in workerd (see worker_test.go): uploads the Worker
// must refuse, and nothing of them reaching R2.

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWorkerRefusesBadBackupsAndStoresNothing(t *testing.T) {
	state := t.TempDir()
	w := startAuthedWorker(t, buildWorker(t, bundleOf(t, appMigrations, "")), state, 1, "BACKUP_MAX_BYTES=1048576")
	good := realImage(t)
	notSQLite := []byte(strings.Repeat("this is not a database\n", 200))
	badPage := bytes.Clone(good)
	binary.BigEndian.PutUint16(badPage[16:], 1000)
	for _, c := range []struct {
		name, path string
		body       []byte
		status     int
		code       string
	}{
		{"text", "/api/backup/b1", notSQLite, 400, "LARDER_INVALID_DATABASE"},
		{"empty", "/api/backup/b1", nil, 400, "LARDER_INVALID_DATABASE"},
		{"bad page size", "/api/backup/b1", badPage, 400, "LARDER_INVALID_DATABASE"},
		{"truncated", "/api/backup/b1", good[:len(good)-1000], 400, "LARDER_INVALID_DATABASE"},
		{"over the limit", "/api/backup/b1", append(bytes.Clone(good), make([]byte, 1<<20)...), 413, "LARDER_TOO_LARGE"},
		{"bad name", "/api/backup/.hidden", good, 400, "LARDER_INVALID_NAME"},
		{"name with a space", "/api/backup/a%20b", good, 400, "LARDER_INVALID_NAME"},
		{"escaping name", "/api/backup/..%2F..%2Fu%2Fx", good, 400, "LARDER_INVALID_NAME"},
		{"name with a slash", "/api/backup/a%2Fb", good, 400, "LARDER_INVALID_NAME"},
		{"name with NUL", "/api/backup/a%00b", good, 400, "LARDER_INVALID_NAME"},
		{"name with a newline", "/api/backup/a%0Ab", good, 400, "LARDER_INVALID_NAME"},
		{"dot dot", "/api/backup/a..b", good, 400, "LARDER_INVALID_NAME"},
		{"name too long", "/api/backup/" + strings.Repeat("n", 129), good, 400, "LARDER_INVALID_NAME"},
	} {
		r := w.do(t, "PUT", c.path, "", c.body, "If-None-Match", "*")
		var e errorBody
		r.JSON(t, &e)
		if r.Status != c.status || e.Error.Code != c.code || e.Error.Message == "" {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
	}
	r := w.do(t, "GET", "/api/backups", "", nil)
	if r.Status != 200 || strings.TrimSpace(string(r.Body)) != "[]" {
		t.Errorf("backups after refused uploads: %d %s", r.Status, r.Body)
	}
	if r := w.do(t, "GET", "/api/backup/b1", "", nil); r.Status != 404 {
		t.Errorf("GET of a refused backup: %d %s", r.Status, r.Body)
	}
	w.stop(t)
	// Nothing reached the bucket's storage either.
	var blobs []string
	filepath.WalkDir(filepath.Join(state, "r2"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "blobs") {
			blobs = append(blobs, p)
		}
		return nil
	})
	if len(blobs) != 0 {
		t.Errorf("refused uploads left blobs in R2: %q", blobs)
	}
}
